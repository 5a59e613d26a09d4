"""Filters of the 2FA users report."""

import django_filters
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.widgets.boolean_radio_select import BooleanRadioSelect

from . import stats, twofactor
from .models import SessionRecord

ANY_METHOD = "any"
NO_METHOD = "none"
SUPERUSER = "superuser"
NO_ROLE = "none"


def method_choices():
    choices = [(ANY_METHOD, _("Any method")), (NO_METHOD, _("Not set"))]
    choices.extend(
        (model._meta.label_lower, twofactor.method_label(model._meta.app_label))
        for model in twofactor.device_models()
    )
    return choices


def role_choices():
    choices = [(SUPERUSER, _("Superuser")), (NO_ROLE, _("No role"))]
    choices.extend((str(pk), name) for pk, name in Group.objects.order_by("name").values_list())
    return choices


# What the 2FA users report searches, and what "select all" of a bulk action on it or
# on Wagtail's Users listing matches the search text against.
USER_SEARCH_FIELDS = ("username", "first_name", "last_name", "email")


class TwoFactorUserFilterSet(WagtailFilterSet):
    two_factor = django_filters.ChoiceFilter(
        label=_("2FA type"), choices=method_choices, method="filter_two_factor"
    )
    role = django_filters.ChoiceFilter(label=_("Role"), choices=role_choices, method="filter_role")
    sessions = django_filters.ChoiceFilter(
        label=_("Sessions"),
        choices=[
            ("active", _("Has active sessions")),
            ("none", _("No active sessions")),
            ("expiring_today", _("A session expiring today")),
        ],
        method="filter_sessions",
    )
    is_active = django_filters.BooleanFilter(label=_("Active account"), widget=BooleanRadioSelect)

    class Meta:
        model = get_user_model()
        fields = []

    def filter_two_factor(self, queryset, name, value):
        if value == ANY_METHOD:
            return queryset.filter(twofactor.has_2fa_q())
        if value == NO_METHOD:
            return queryset.exclude(twofactor.has_2fa_q())
        for model in twofactor.device_models():
            if model._meta.label_lower == value:
                return queryset.filter(twofactor.has_device_q(model))
        return queryset

    def filter_role(self, queryset, name, value):
        if value == SUPERUSER:
            return queryset.filter(is_superuser=True)
        if value == NO_ROLE:
            return queryset.filter(is_superuser=False, groups__isnull=True)
        return queryset.filter(Exists(Group.objects.filter(pk=value, user=OuterRef("pk"))))

    def filter_sessions(self, queryset, name, value):
        active = SessionRecord.objects.active().filter(user=OuterRef("pk"))
        if value == "active":
            return queryset.filter(Exists(active))
        if value == "none":
            return queryset.filter(~Exists(active))
        if value == "expiring_today":
            return queryset.filter(Exists(active.filter(expires_at__lt=stats.end_of_today())))
        return queryset

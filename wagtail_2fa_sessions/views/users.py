"""The 2FA users report: every registered user, their 2FA methods and sessions.

Built on Wagtail's generic ``IndexView`` (search, filters, ordering, pagination, CSV and
XLSX export, bulk actions). Every per-user figure is an annotation (see
:func:`reports.annotate_users`): a page costs the same number of queries at 20 users
as at 20,000.
"""

from django.contrib.auth import get_user_model
from django.db.models import F
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import (
    BooleanColumn,
    BulkActionsCheckboxColumn,
    Column,
    DateColumn,
    TitleColumn,
)
from wagtail.admin.utils import get_user_display_name
from wagtail.admin.views import generic
from wagtail.admin.widgets.button import Button

from .. import permissions, reports
from ..filters import USER_SEARCH_FIELDS, TwoFactorUserFilterSet

User = get_user_model()

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value):
    """Keep a spreadsheet from running a user-supplied value as a formula (CSV injection):
    a leading quote makes it text. Wagtail does the same for XLSX cells itself."""
    if value and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class ListColumn(Column):
    """A list of short labels as status tags, or a placeholder when empty."""

    cell_template_name = "wagtail_2fa_sessions/tables/labels_cell.html"

    def __init__(self, name, *, placeholder="", **kwargs):
        super().__init__(name, **kwargs)
        self.placeholder = placeholder

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["labels"] = self.get_value(instance)
        context["placeholder"] = self.placeholder
        return context


class UserTitleColumn(TitleColumn):
    """The name, linking to the user's sessions, with the username below it."""

    cell_template_name = "wagtail_2fa_sessions/tables/user_title_cell.html"


class UsersReportView(permissions.PermissionRequiredMixin, generic.IndexView):
    model = User
    any_permission_required = None  # the plugin's own permission, checked by the mixin
    template_name = "wagtail_2fa_sessions/users/index.html"
    results_template_name = "wagtail_2fa_sessions/users/index_results.html"
    index_url_name = "wagtail_2fa_sessions:users"
    index_results_url_name = "wagtail_2fa_sessions:users_results"
    page_title = _("2FA users")
    header_icon = "key"
    filterset_class = TwoFactorUserFilterSet
    search_fields = list(USER_SEARCH_FIELDS)
    search_backend_name = None  # plain icontains on the user table, whatever the search backend
    default_ordering = "name"
    paginate_by = 50
    export_filename = "2fa-users"
    list_export = [
        "username",
        "full_name",
        "email",
        "roles",
        "methods",
        "active_session_count",
        "device_count",
        "last_activity",
        "last_2fa_use",
        "is_active",
    ]
    custom_value_preprocess = {
        **generic.IndexView.custom_value_preprocess,
        str: {generic.IndexView.FORMAT_CSV: neutralise_formula},
    }
    export_headings = {
        "username": _("Username"),
        "full_name": _("Name"),
        "email": _("Email"),
        "roles": _("Role"),
        "methods": _("2FA type"),
        "active_session_count": _("Active sessions"),
        "device_count": _("Devices"),
        "last_activity": _("Last activity"),
        "last_2fa_use": _("Last 2FA use"),
        "is_active": _("Active account"),
    }

    @cached_property
    def breadcrumbs_items(self):
        return [
            {"url": reverse("wagtailadmin_home"), "label": _("Home")},
            {"url": reverse("wagtail_2fa_sessions:dashboard"), "label": _("2FA & Sessions")},
        ]

    @cached_property
    def columns(self):
        return [
            BulkActionsCheckboxColumn("bulk_actions", obj_type="user"),
            self._get_title_column_class(UserTitleColumn)(
                "name",
                label=_("Name / username"),
                width="18%",
                accessor=get_user_display_name,
                sort_key="name",
                get_url=lambda user: reverse("wagtail_2fa_sessions:user_sessions", args=[user.pk]),
            ),
            Column("email", label=_("Email"), sort_key="email"),
            ListColumn("role", accessor=reports.roles_of, label=_("Role"), sort_key="role"),
            ListColumn(
                "methods",
                accessor=reports.methods_of,
                label=_("2FA type"),
                sort_key="method_count",
                placeholder=_("Not set"),
            ),
            Column(
                "active_session_count", label=_("Active sessions"), sort_key="active_session_count"
            ),
            Column("device_count", label=_("Devices"), sort_key="device_count"),
            DateColumn("last_activity", label=_("Last activity"), sort_key="last_activity"),
            DateColumn("last_2fa_use", label=_("Last 2FA use"), sort_key="last_2fa_use"),
            BooleanColumn("is_active", label=_("Active"), sort_key="is_active"),
        ]

    def get_base_queryset(self):
        return reports.annotate_users(User._default_manager.all())

    def order_queryset(self, queryset):
        descending = self.ordering.startswith("-")
        key = self.ordering.lstrip("-")
        if key == "name":
            fields = ["last_name", "first_name", "username"]
        elif key == "role":
            fields = ["-is_superuser", "first_group"]
            if descending:
                return queryset.order_by(
                    "is_superuser", F("first_group").desc(nulls_last=True), "-pk"
                )
            return queryset.order_by(*fields, "username", "pk")
        else:
            fields = [key]
        expressions = [
            F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
            for field in fields
        ]
        return queryset.order_by(*expressions, "-pk" if descending else "pk")

    def get_edit_url(self, instance):
        return reverse("wagtail_2fa_sessions:user_sessions", args=[instance.pk])

    def get_list_more_buttons(self, instance):
        buttons = [
            Button(
                _("Sessions and 2FA"),
                url=reverse("wagtail_2fa_sessions:user_sessions", args=[instance.pk]),
                icon_name="key",
                priority=10,
            )
        ]
        if self.request.user.has_perm(f"{User._meta.app_label}.change_{User._meta.model_name}"):
            buttons.append(
                Button(
                    _("Edit user"),
                    url=reverse("wagtailusers_users:edit", args=[instance.pk]),
                    icon_name="edit",
                    priority=20,
                )
            )
        return buttons

    def to_row_dict(self, item):
        row = {
            "username": item.get_username(),
            "full_name": item.get_full_name() if hasattr(item, "get_full_name") else "",
            "email": getattr(item, "email", ""),
            "roles": ", ".join(reports.roles_of(item)),
            "methods": ", ".join(reports.methods_of(item)) or str(_("Not set")),
            "active_session_count": item.active_session_count,
            "device_count": item.device_count,
            "last_activity": item.last_activity,
            "last_2fa_use": item.last_2fa_use,
            "is_active": item.is_active,
        }
        return {field: row[field] for field in self.list_export}

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["can_reset_2fa"] = permissions.can_reset_2fa(self.request.user)
        if context["can_reset_2fa"]:
            context["delete_all_2fa_url"] = reverse(
                "wagtail_2fa_sessions:maintenance_confirm", args=["reset_all_2fa"]
            )
        return context

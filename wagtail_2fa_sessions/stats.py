"""The dashboard's numbers, each one aggregate query."""

from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone

from . import twofactor
from .models import SessionRecord


def end_of_today(now=None):
    """The next midnight in the site's ``TIME_ZONE`` (not the viewing admin's own time
    zone, which Wagtail activates per request), as an aware datetime."""
    site_zone = timezone.get_default_timezone()
    local = timezone.localtime(now or timezone.now(), site_zone)
    tomorrow = local.date() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(tomorrow, time.min), site_zone)


def session_figures(now=None):
    now = now or timezone.now()
    return SessionRecord.objects.active(now).aggregate(
        active_sessions=Count("pk"),
        active_users=Count("user", distinct=True),
        unique_devices=Count("device_id", distinct=True),
        expiring_today=Count("pk", filter=Q(expires_at__lt=end_of_today(now))),
    )


def user_figures():
    users = get_user_model()._default_manager.all()
    return users.aggregate(
        users_total=Count("pk"),
        users_with_2fa=Count("pk", filter=twofactor.has_2fa_q()),
    )


def summary(now=None):
    return {**session_figures(now), **user_figures()}

"""The periodic Clean Up Expired, as a django-q2 ``Schedule`` the admin can edit."""

from datetime import datetime, time, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django_q.conf import croniter
from django_q.models import Schedule

from . import conf
from .models import ScheduleMarker

NAME = "wagtail_2fa_sessions: clean up expired sessions"
FUNC = "wagtail_2fa_sessions.jobs.scheduled_cleanup"
TYPES = {"hourly": Schedule.HOURLY, "daily": Schedule.DAILY, "weekly": Schedule.WEEKLY}
# Daily and weekly runs start at this local time (TIME_ZONE), away from peak hours.
RUN_AT = time(3, 30)


def schedule_fields(spec=None, now=None):
    """The Schedule fields for a ``CLEANUP_SCHEDULE`` value; None when it is disabled."""
    spec = conf.get("CLEANUP_SCHEDULE") if spec is None else spec
    if not spec:
        return None
    now = now or timezone.now()
    local = timezone.localtime(now)
    key = str(spec).strip().lower()
    if key in TYPES:
        if key == "hourly":
            next_run = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        else:
            next_run = timezone.make_aware(datetime.combine(local.date(), RUN_AT), local.tzinfo)
            if next_run <= local:
                next_run += timedelta(days=1)
        return {"schedule_type": TYPES[key], "cron": None, "next_run": next_run}
    if croniter is None:
        raise ImproperlyConfigured(
            "WAGTAIL_2FA_SESSIONS_CLEANUP_SCHEDULE is a cron string, which needs the 'croniter' "
            "package; install it or use 'hourly', 'daily' or 'weekly'."
        )
    if not croniter.is_valid(spec):
        raise ImproperlyConfigured(f"WAGTAIL_2FA_SESSIONS_CLEANUP_SCHEDULE: bad cron {spec!r}")
    return {
        "schedule_type": Schedule.CRON,
        "cron": spec,
        "next_run": croniter(spec, local).get_next(datetime),
    }


def ensure_schedule(*, using="default", recreate=False, reset=False):
    """Create the cleanup schedule unless the plugin did so once before.

    Returns ``(schedule or None, what)`` where ``what`` is "created", "reset", "exists",
    "left alone" (created once before, then deleted by an admin) or "disabled".

    After migrate it runs with the defaults: an admin who edited or deleted the schedule
    is not overridden. ``recreate`` creates it again if it was deleted; ``reset`` also
    puts an edited schedule back to the setting."""
    fields = schedule_fields()
    if fields is None:
        return None, "disabled"
    with transaction.atomic(using=using):
        schedules = Schedule.objects.using(using)
        existing = schedules.filter(name=NAME).order_by("pk").first()
        marker_exists = ScheduleMarker.objects.using(using).filter(name=NAME).exists()
        if existing is not None:
            ScheduleMarker.objects.using(using).get_or_create(name=NAME)
            if not reset:
                return existing, "exists"
            for field, value in {**fields, "func": FUNC, "repeats": -1}.items():
                setattr(existing, field, value)
            existing.save(using=using)
            return existing, "reset"
        if marker_exists and not (recreate or reset):
            return None, "left alone"
        schedule = schedules.create(name=NAME, func=FUNC, repeats=-1, **fields)
        ScheduleMarker.objects.using(using).get_or_create(name=NAME)
        return schedule, "created"


def on_post_migrate(sender, using="default", **kwargs):
    """Create the schedule once, after the migrations that make its tables have run."""
    ensure_schedule(using=using)

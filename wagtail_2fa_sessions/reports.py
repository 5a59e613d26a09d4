"""Set-based queries behind the admin pages: the users report's annotations, 2FA
adoption, recent logins and the chart series. No query per row, no query per day.

The summary figures themselves live in :mod:`stats` (through ``api.summary()``); the
active-session definition lives in ``SessionRecordQuerySet.active()`` and is used here,
never restated.
"""

from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import (
    Count,
    DateTimeField,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Greatest, NullIf, TruncDate
from django.utils import timezone

from . import twofactor
from .models import EPOCH, SessionRecord


def _count(queryset, expression):
    """A correlated scalar subquery counting ``expression`` over ``queryset``, 0 when empty."""
    counted = queryset.order_by().values("user").annotate(total=expression).values("total")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def method_field(model):
    """The annotation name saying whether a user has a confirmed device of ``model``."""
    return f"has_{model._meta.app_label}_{model._meta.model_name}"


def _latest_per_user(queryset, field):
    """The newest ``field`` of ``queryset``'s rows for the outer user, as a subquery."""
    return Subquery(
        queryset.filter(user=OuterRef("pk"))
        .order_by()
        .values("user")
        .annotate(latest=Max(field))
        .values("latest"),
        output_field=DateTimeField(),
    )


def _last_2fa_use():
    """The latest 2FA verification: a session verified by a device, or a device's own
    ``last_used_at`` where the device model keeps one."""
    candidates = [_latest_per_user(SessionRecord.objects.all(), "verified_at")]
    for model in twofactor.device_models():
        if any(field.name == "last_used_at" for field in model._meta.get_fields()):
            candidates.append(_latest_per_user(model._default_manager.all(), "last_used_at"))
    if len(candidates) == 1:
        return candidates[0]
    # Greatest() returns NULL on SQLite when any argument is NULL: compare against the epoch.
    epoch = Value(EPOCH, output_field=DateTimeField())
    return NullIf(Greatest(*(Coalesce(c, epoch) for c in candidates)), epoch)


def annotate_users(queryset, now=None):
    """Every per-user figure of the 2FA users report, as annotations on ``queryset``."""
    now = now or timezone.now()
    active = SessionRecord.objects.active(now).filter(user=OuterRef("pk"))
    annotations = {
        "active_session_count": _count(active, Count("pk")),
        "device_count": _count(active, Count("device_id", distinct=True)),
        "last_activity": Subquery(
            SessionRecord.objects.filter(user=OuterRef("pk"))
            .order_by("-last_activity")
            .values("last_activity")[:1]
        ),
        "last_2fa_use": _last_2fa_use(),
        # Sorting by role: superusers first, then by the first group's name.
        "first_group": Subquery(
            Group.objects.filter(user=OuterRef("pk")).order_by("name").values("name")[:1]
        ),
    }
    method_count = Value(0)
    for model in twofactor.device_models():
        name = method_field(model)
        annotations[name] = twofactor.has_device_q(model)
    queryset = queryset.annotate(**annotations)
    for model in twofactor.device_models():
        method_count = method_count + Cast(F(method_field(model)), IntegerField())
    return queryset.annotate(method_count=method_count).prefetch_related("groups")


def methods_of(user):
    """The labels of the 2FA methods an annotated user has set up."""
    return [
        str(twofactor.method_label(model._meta.app_label))
        for model in twofactor.device_models()
        if getattr(user, method_field(model), False)
    ]


def roles_of(user):
    """Superuser first, then the user's Wagtail groups (prefetched)."""
    roles = ["Superuser"] if user.is_superuser else []
    roles.extend(sorted(group.name for group in user.groups.all()))
    return roles


def adoption():
    """2FA adoption among active accounts: ``{"with_2fa", "total", "percent"}``."""
    figures = (
        get_user_model()
        ._default_manager.filter(is_active=True)
        .aggregate(total=Count("pk"), with_2fa=Count("pk", filter=twofactor.has_2fa_q()))
    )
    total, with_2fa = figures["total"], figures["with_2fa"]
    figures["percent"] = round(100 * with_2fa / total) if total else 0
    return figures


def adoption_by_role():
    """2FA adoption per role among active accounts, in one query per kind of role:
    ``[(label, with_2fa, total), ...]``, superusers first, then groups by name."""
    users = get_user_model()._default_manager.filter(is_active=True)
    superusers = users.filter(is_superuser=True).aggregate(
        total=Count("pk"), with_2fa=Count("pk", filter=twofactor.has_2fa_q())
    )
    rows = []
    if superusers["total"]:
        rows.append(("Superusers", superusers["with_2fa"], superusers["total"]))
    groups = (
        Group.objects.annotate(
            total=Count("user", filter=Q(user__is_active=True), distinct=True),
            with_2fa=Count(
                "user",
                filter=Q(user__is_active=True) & twofactor.has_2fa_q("user"),
                distinct=True,
            ),
        )
        .filter(total__gt=0)
        .order_by("name")
    )
    rows.extend((group.name, group.with_2fa, group.total) for group in groups)
    no_role = users.filter(is_superuser=False, groups__isnull=True).aggregate(
        total=Count("pk"), with_2fa=Count("pk", filter=twofactor.has_2fa_q())
    )
    if no_role["total"]:
        rows.append(("No role", no_role["with_2fa"], no_role["total"]))
    return rows


def recent_logins(limit=10):
    return SessionRecord.objects.select_related("user").order_by("-created_at")[:limit]


def local_days(days, now=None):
    """The last ``days`` dates in the site's time zone, oldest first, ending today."""
    today = timezone.localdate(now or timezone.now())
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def logins_per_day(days=30, now=None):
    """``[(date, logins), ...]`` for the last ``days`` days, one GROUP BY query."""
    dates = local_days(days, now)
    start = timezone.make_aware(datetime.combine(dates[0], time.min))
    counts = dict(
        SessionRecord.objects.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .order_by()
        .values("day")
        .annotate(total=Count("pk"))
        .values_list("day", "total")
    )
    return [(day, counts.get(day, 0)) for day in dates]


def active_sessions_per_day(days=30, now=None):
    """``[(date, sessions), ...]``: sessions alive at the end of each day (today: now),
    all days in one aggregate query.

    Today's point is exactly the dashboard's Active Sessions. Earlier points count the
    records open at that instant (logged in before it, not yet logged out, revoked or
    expired); records deleted since then are gone from history."""
    now = now or timezone.now()
    dates = local_days(days, now)
    aggregates = {}
    for index, day in enumerate(dates[:-1]):
        instant = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
        aggregates[f"d{index}"] = Count(
            "pk",
            filter=Q(created_at__lt=instant, expires_at__gt=instant)
            & (Q(ended_at__isnull=True) | Q(ended_at__gt=instant))
            & (Q(revoked_at__isnull=True) | Q(revoked_at__gt=instant)),
        )
    past = SessionRecord.objects.aggregate(**aggregates) if aggregates else {}
    series = [(day, past[f"d{index}"]) for index, day in enumerate(dates[:-1])]
    series.append((dates[-1], SessionRecord.objects.active(now).count()))
    return series


def audit_trail(user=None, limit=10):
    """The plugin's latest entries in Wagtail's history (``ModelLogEntry``), all of them
    or those about one user: entries logged on the user, and on the user's sessions."""
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import ModelLogEntry

    entries = ModelLogEntry.objects.filter(action__startswith="wagtail_2fa_sessions.")
    if user is not None:
        user_type = ContentType.objects.get_for_model(user, for_concrete_model=False)
        entries = entries.filter(
            Q(content_type=user_type, object_id=str(user.pk)) | Q(data__user_id=user.pk)
        )
    return entries.select_related("user").order_by("-timestamp", "-pk")[:limit]

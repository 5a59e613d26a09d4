"""Who must use two-factor authentication, and the gate in front of the Wagtail admin.

:func:`gate` is called by :class:`~wagtail_2fa_sessions.middleware.SessionTrackingMiddleware`
for every request. It costs no query for a session that is already verified (django-otp's
``OTPMiddleware`` has loaded its device) and none for a user without a device who is not
required to have one (the answer is cached in the session, re-checked once per
``ACTIVITY_INTERVAL`` per process, and the session is written only when it changes).

A user's status (:func:`status_for`, :func:`annotate_status`) is one of:

- ``enrolled``: has at least one confirmed device;
- ``exempt``: no device, and the requirement does not apply;
- ``grace``: no device, required, still inside the grace period;
- ``overdue``: no device, required, grace period over (or 2FA was reset): the user is
  sent to enrolment before anything else.
"""

import functools
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Permission
from django.db import models
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.http import HttpResponseRedirect
from django.urls import (
    NoReverseMatch,
    Resolver404,
    get_script_prefix,
    get_urlconf,
    resolve,
    reverse,
)
from django.utils import timezone

from . import conf, twofactor
from .models import TwoFactorRequirement

ENROLLED = "enrolled"
EXEMPT = "exempt"
GRACE = "grace"
OVERDUE = "overdue"
STATUSES = (ENROLLED, EXEMPT, GRACE, OVERDUE)

# Cached answer for an unverified session without a device: {"user", "status", "deadline"}.
STATE_SESSION_KEY = "_wagtail_2fa_sessions_gate"
# Marks a half-logged-in session: {"user", "at"} (when the gate first saw it).
HALF_SESSION_KEY = "_wagtail_2fa_sessions_half"

# What a half-logged-in session (password done, second factor not) may reach.
VERIFY_URL_NAMES = {
    "wagtailadmin_login",
    "wagtailadmin_logout",
    "wagtailadmin_javascript_catalog",
    "wagtailadmin_sprite",
    "wagtail_2fa_sessions:verify",
}
# What an overdue user without a device may reach: the above and adding a first device.
ENROL_URL_NAMES = VERIFY_URL_NAMES | {
    "wagtail_2fa_sessions:twofactor",
    "wagtail_2fa_sessions:reauth",
    "wagtail_2fa_sessions:enrol_totp",
    "wagtail_2fa_sessions:enrol_email",
}


@dataclass(frozen=True)
class Status:
    status: str
    deadline: datetime | None = None

    @property
    def days_left(self):
        if self.status != GRACE or self.deadline is None:
            return None
        seconds = (self.deadline - timezone.now()).total_seconds()
        return math.ceil(max(0.0, seconds) / 86400)


def _grace():
    return timedelta(days=conf.get("GRACE_DAYS") or 0)


def _required_groups():
    policy = conf.get("REQUIRE_2FA")
    if policy in (None, False, True, "", "all"):
        return None
    if isinstance(policy, str):
        return [policy]
    return list(policy)


def _admin_permission():
    return Permission.objects.filter(
        codename="access_admin", content_type__app_label="wagtailadmin"
    )


def is_required(user):
    """True when the configured policy demands 2FA of ``user``."""
    if not user.is_active:
        return False
    if user.is_superuser and conf.get("REQUIRE_2FA_SUPERUSERS"):
        return True
    policy = conf.get("REQUIRE_2FA")
    if not policy:
        return False
    groups = _required_groups()
    if groups is None:
        return user.has_perm("wagtailadmin.access_admin")
    return user.groups.filter(name__in=groups).exists()


def required_q():
    """:func:`is_required` as a filter on a user queryset."""
    condition = Q(pk__in=[])
    if conf.get("REQUIRE_2FA_SUPERUSERS"):
        condition |= Q(is_superuser=True)
    if conf.get("REQUIRE_2FA"):
        User = get_user_model()
        memberships = User.groups.through.objects.filter(user=OuterRef("pk"))
        groups = _required_groups()
        if groups is None:
            granted = _admin_permission()
            direct = User.user_permissions.through.objects.filter(
                user=OuterRef("pk"), permission__in=granted
            )
            condition |= Q(is_superuser=True)
            condition |= Q(Exists(direct))
            condition |= Q(Exists(memberships.filter(group__permissions__in=granted)))
        else:
            condition |= Q(Exists(memberships.filter(group__name__in=groups)))
    return condition & Q(is_active=True)


def annotate_status(queryset):
    """Annotate a user queryset with ``twofactor_status`` (one of :data:`STATUSES`) and
    ``twofactor_deadline`` (end of the grace period, or None), in one query."""
    deadline = F("twofactor_requirement__required_since") + Value(_grace())
    return queryset.annotate(
        twofactor_deadline=Case(
            When(
                twofactor_requirement__reset_at__isnull=False,
                then=F("twofactor_requirement__reset_at"),
            ),
            default=deadline,
            output_field=models.DateTimeField(),
        ),
        twofactor_status=Case(
            When(twofactor.has_2fa_q(), then=Value(ENROLLED)),
            When(~required_q(), then=Value(EXEMPT)),
            When(twofactor_requirement__reset_at__isnull=False, then=Value(OVERDUE)),
            When(twofactor_requirement__required_since__isnull=True, then=Value(GRACE)),
            When(
                twofactor_requirement__required_since__gt=timezone.now() - _grace(),
                then=Value(GRACE),
            ),
            default=Value(OVERDUE),
            output_field=models.CharField(),
        ),
    )


def _requirement_status(user, *, start):
    """Status of a required user without a device; ``start`` records the grace start."""
    requirement = TwoFactorRequirement.objects.filter(user=user).first()
    if requirement is not None and requirement.reset_at is not None:
        return Status(OVERDUE, requirement.reset_at)
    if requirement is None or requirement.required_since is None:
        if not start:
            return Status(GRACE, None)
        now = timezone.now()
        requirement, _ = TwoFactorRequirement.objects.update_or_create(
            user=user, defaults={"required_since": now}
        )
    deadline = requirement.required_since + _grace()
    return Status(GRACE if deadline > timezone.now() else OVERDUE, deadline)


def status_for(user, *, start=False):
    """The :class:`Status` of one user. With ``start``, a required user's grace period
    starts now if it has not started yet (the gate does this at their first request)."""
    if twofactor.has_device(user):
        return Status(ENROLLED)
    if not is_required(user):
        return Status(EXEMPT)
    return _requirement_status(user, start=start)


def note_reset(user):
    """After an admin reset: a required user must enrol again before anything else."""
    TwoFactorRequirement.objects.update_or_create(user=user, defaults={"reset_at": timezone.now()})


def note_enrolled(user):
    """A confirmed device ends a reset's immediate enrolment demand."""
    TwoFactorRequirement.objects.filter(user=user, reset_at__isnull=False).update(reset_at=None)


def forget(request):
    """Drop the cached gate answer (after this session adds or removes a device)."""
    request.session.pop(STATE_SESSION_KEY, None)
    request.session.pop(HALF_SESSION_KEY, None)
    _checked.pop((request.user.pk, request.session.session_key), None)


@functools.lru_cache(maxsize=16)
def _admin_prefix_for(urlconf, script_prefix):
    try:
        return reverse("wagtailadmin_home", urlconf=urlconf)
    except NoReverseMatch:
        return None


def _admin_prefix():
    """Where the Wagtail admin is mounted, script prefix included (compare with
    ``request.path``), reversed once per URLconf and prefix (it is on the hot path)."""
    return _admin_prefix_for(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())


def _in_admin(request):
    prefix = _admin_prefix()
    return prefix is not None and request.path.startswith(prefix)


def _url_name(request):
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return ""
    return match.view_name


def _redirect(request, url_name):
    url = reverse(url_name)
    if request.method == "GET":
        url += "?" + urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(url)


# When this process last re-checked a session's cached no-device answer, by (user pk,
# session key). Kept out of the session so that a check that finds nothing new writes
# nothing; at worst each process re-checks once per ACTIVITY_INTERVAL.
_checked = {}
_CHECKED_MAX = 10000


def _cached_state(request, user, *, start=True):
    """The no-device answer for this session (None when the user has a device),
    re-checked once per ACTIVITY_INTERVAL; the session is written only when it changes.
    With ``start`` (inside the admin) a required user's grace period starts now."""
    session = request.session
    state = session.get(STATE_SESSION_KEY)
    now = time.time()
    key = (user.pk, session.session_key)
    if (
        state is not None
        and state.get("user") == user.pk
        and now - _checked.get(key, 0) < conf.seconds("ACTIVITY_INTERVAL")
        and not (state["status"] == GRACE and state["deadline"] and state["deadline"] <= now)
        and not (start and state["status"] == GRACE and state["deadline"] is None)
    ):
        return state
    status = status_for(user, start=start)
    if len(_checked) >= _CHECKED_MAX:
        _checked.clear()
    _checked[key] = now
    if status.status == ENROLLED:
        if state is not None:
            del session[STATE_SESSION_KEY]
        return None
    fresh = {
        "user": user.pk,
        "status": status.status,
        "deadline": status.deadline.timestamp() if status.deadline else None,
    }
    if fresh != state:
        session[STATE_SESSION_KEY] = fresh
    return fresh


def _reset_since(user, since):
    return TwoFactorRequirement.objects.filter(
        user=user, reset_at__gte=datetime.fromtimestamp(since, tz=UTC)
    ).exists()


def needs_verification(request, user, *, start=True):
    """True when this session is half logged in: password done, second factor not.

    The first time the gate sees such a session it marks it, so that deleting the user's
    devices (by any path) does not unlock it: only verifying, logging out, or an
    administrator's 2FA reset (which sends the user to enrolment) ends the state."""
    session = request.session
    mark = session.get(HALF_SESSION_KEY)
    if mark is not None and mark.get("user") == user.pk:
        if twofactor.has_device(user) or not _reset_since(user, mark["at"]):
            return True
        del session[HALF_SESSION_KEY]
        return False
    if _cached_state(request, user, start=start) is not None:
        return False
    session[HALF_SESSION_KEY] = {"user": user.pk, "at": time.time()}
    return True


def _serve_as_anonymous(request):
    anonymous = AnonymousUser()

    async def auser():
        return anonymous

    request.user = anonymous
    request.auser = auser


def gate(request):
    """A redirect that stops the request, or None to let it through.

    Inside the Wagtail admin a half-logged-in session is sent to the verify step and an
    overdue user to enrolment. Anywhere else (Django's admin, private pages, your own
    views) a half-logged-in session is served as anonymous; its session is kept so that
    the user can still finish verification in the admin."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    is_verified = getattr(user, "is_verified", None)
    if is_verified is None or is_verified():
        return None
    in_admin = _in_admin(request)
    if needs_verification(request, user, start=in_admin):
        if not in_admin:
            _serve_as_anonymous(request)
            return None
        if _url_name(request) in VERIFY_URL_NAMES:
            return None
        return _redirect(request, "wagtail_2fa_sessions:verify")
    if not in_admin:
        return None
    state = _cached_state(request, user)
    if state is not None and state["status"] == OVERDUE:
        if _url_name(request) in ENROL_URL_NAMES:
            return None
        return _redirect(request, "wagtail_2fa_sessions:twofactor")
    return None


def grace_state(request):
    """The cached gate answer of this session when it is in its grace period, else None
    (read by the dashboard banner without a query)."""
    state = request.session.get(STATE_SESSION_KEY)
    if state and state.get("status") == GRACE and state.get("user") == request.user.pk:
        return state
    return None

"""Recording sessions: at login, at logout, and on the requests in between.

The middleware calls :func:`check_request` before the view and :func:`after_response`
after it; the signal receivers call :func:`record_login` and :func:`record_logout`.
"""

import logging
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.sessions.backends import signed_cookies
from django.db import DatabaseError
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from . import clients, conf
from .models import GlobalRevocation, SessionRecord, latest_cutoff

logger = logging.getLogger(__name__)

# Where the session remembers its record. Signed_cookies sessions are signed, so a
# client cannot point its session at somebody else's record.
RECORD_SESSION_KEY = "_wagtail_2fa_sessions_record"
# Set on the request when the device cookie must be (re)sent with the response.
DEVICE_COOKIE_ATTR = "_wagtail_2fa_sessions_device"
# Set on the request when the middleware logs a session out, so record_logout leaves
# the record as revoked rather than marking it a normal logout.
FORCED_LOGOUT_ATTR = "_wagtail_2fa_sessions_forced_logout"

# The record of the session serving the current request, so a password change made in
# that request can keep it (Django's update_session_auth_hash does the same).
current_record_id = ContextVar("wagtail_2fa_sessions_current_record", default=None)

_FIELDS = (
    "pk",
    "user_id",
    "session_key",
    "device_id",
    "created_at",
    "valid_since",
    "last_activity",
    "expires_at",
    "ended_at",
    "revoked_at",
    "verified_at",
    "user_agent",
)


@dataclass
class Snapshot:
    """What the request phase read of the record, for the response phase."""

    pk: int
    user_id: int
    session_key: str
    device_id: str
    created_at: datetime
    valid_since: datetime
    last_activity: datetime
    expires_at: datetime
    ended_at: datetime | None
    revoked_at: datetime | None
    verified_at: datetime | None
    user_agent: str
    cutoff: datetime


def session_record_id(request):
    """The id of the record of the session serving ``request`` (None when untracked):
    what "keep my own session" and "this session" mean in the views."""
    return request.session.get(RECORD_SESSION_KEY)


def server_side_key(session):
    """The store key worth remembering, or "" for engines that keep nothing server-side."""
    if isinstance(session, signed_cookies.SessionStore):
        return ""
    return session.session_key or ""


def effective_expiry(session, created_at, last_activity):
    """The earliest of the engine's expiry and the plugin's optional timeouts."""
    candidates = [session.get_expiry_date()]
    idle = conf.seconds("IDLE_TIMEOUT")
    if idle:
        candidates.append(last_activity + timedelta(seconds=idle))
    absolute = conf.seconds("ABSOLUTE_TIMEOUT")
    if absolute:
        candidates.append(created_at + timedelta(seconds=absolute))
    return min(candidates)


def verified_device_type(session):
    """The django-otp app label of the device that verified this session, or ""."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) or ""
    model_path = persistent_id.split("/", 1)[0]
    return model_path.split(".")[-2] if model_path.count(".") >= 1 else ""


def _remember_device(request):
    device_id = clients.device_id_from_cookie(request) or clients.new_device_id()
    setattr(request, DEVICE_COOKIE_ATTR, device_id)
    return device_id


def record_login(request, user):
    """Create the record of a new login and point the session at it."""
    session = request.session
    previous = session.get(RECORD_SESSION_KEY)
    if previous:
        # A second login inside the same session (Django keeps the session for the same user).
        SessionRecord.objects.filter(pk=previous, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )
    if session.session_key is None and not isinstance(session, signed_cookies.SessionStore):
        # login() flushed the old session; create the new key now so the record knows it.
        session.save()
    now = timezone.now()
    user_agent = clients.truncated_user_agent(request)
    device_type = verified_device_type(session)
    record = SessionRecord.objects.create(
        user=user,
        session_key=server_side_key(session),
        device_id=_remember_device(request),
        ip_address=clients.client_ip(request),
        user_agent=user_agent,
        **clients.describe_user_agent(user_agent),
        created_at=now,
        valid_since=now,
        last_activity=now,
        expires_at=effective_expiry(session, now, now),
        verified_at=now if device_type else None,
        verified_device_type=device_type,
    )
    session[RECORD_SESSION_KEY] = record.pk
    return record


def record_logout(request):
    if request is None or getattr(request, FORCED_LOGOUT_ATTR, False):
        return
    record_id = request.session.get(RECORD_SESSION_KEY)
    if record_id:
        SessionRecord.objects.filter(pk=record_id, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )


def adopt(request):
    """Start tracking a session that began before the plugin was installed.

    Once any Revoke All or Delete All has happened, or any session of this user has been
    revoked, an untracked session cannot be told apart from one that should have died
    with it (a replayed signed cookie, say), so it is logged out instead."""
    revoked_before = SessionRecord.objects.filter(user=request.user, revoked_at__isnull=False)
    if GlobalRevocation.objects.exists() or revoked_before.exists():
        force_logout(request)
        return None
    return record_login(request, request.user)


def read_snapshot(record_id):
    row = (
        SessionRecord.objects.filter(pk=record_id)
        .annotate(cutoff=latest_cutoff())
        .values(*_FIELDS, "cutoff")
        .first()
    )
    return Snapshot(**row) if row else None


def is_dead(snapshot, user, now):
    if snapshot is None or snapshot.user_id != user.pk:
        return True
    if snapshot.ended_at or snapshot.revoked_at or snapshot.valid_since < snapshot.cutoff:
        return True
    idle = conf.seconds("IDLE_TIMEOUT")
    if idle and snapshot.last_activity + timedelta(seconds=idle) <= now:
        return True
    absolute = conf.seconds("ABSOLUTE_TIMEOUT")
    return bool(absolute and snapshot.created_at + timedelta(seconds=absolute) <= now)


def force_logout(request):
    setattr(request, FORCED_LOGOUT_ATTR, True)
    logout(request)
    try:
        from django.contrib import messages

        messages.warning(
            request,
            "Your session has ended. Please log in again.",
            fail_silently=True,
        )
    except Exception:  # a message is a courtesy; never fail the logout for it
        logger.debug("Could not add the logout message", exc_info=True)


def check_request(request):
    """Before the view: log a dead session out, adopt an untracked one.

    Returns the snapshot of a live tracked session, or None. Raises DatabaseError when
    the record cannot be read (the middleware then refuses the request)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    record_id = request.session.get(RECORD_SESSION_KEY)
    if record_id is None:
        adopt(request)
        return None
    snapshot = read_snapshot(record_id)
    if is_dead(snapshot, user, timezone.now()):
        force_logout(request)
        return None
    return snapshot


def after_response(request, response, snapshot):
    """After the view: keep the record current with at most one conditional UPDATE."""
    device_id = getattr(request, DEVICE_COOKIE_ATTR, None)
    if snapshot is not None and request.session.get(RECORD_SESSION_KEY) == snapshot.pk:
        _update_record(request, snapshot)
        if clients.device_id_from_cookie(request) != snapshot.device_id:
            device_id = snapshot.device_id
    if device_id:
        clients.set_device_cookie(response, request, device_id)


def _update_record(request, snapshot):
    session = request.session
    now = timezone.now()
    changes = {}
    key = server_side_key(session)
    if key and key != snapshot.session_key:
        changes["session_key"] = key
    device_type = verified_device_type(session)
    if device_type and not snapshot.verified_at:
        changes.update(verified_at=now, verified_device_type=device_type)
    elif not device_type and snapshot.verified_at:
        changes.update(verified_at=None, verified_device_type="")
    if not snapshot.user_agent:
        # Logged in without a browser (Client.login, a script): describe the first one seen.
        user_agent = clients.truncated_user_agent(request)
        if user_agent:
            changes.update(user_agent=user_agent, **clients.describe_user_agent(user_agent))
    stale_before = now - timedelta(seconds=conf.seconds("ACTIVITY_INTERVAL"))
    if not changes and snapshot.last_activity > stale_before:
        return
    changes["last_activity"] = now
    if session.modified or settings.SESSION_SAVE_EVERY_REQUEST:
        # SessionMiddleware saves the session after us: the engine's expiry moves now.
        changes["expires_at"] = effective_expiry(session, snapshot.created_at, now)
    elif conf.seconds("IDLE_TIMEOUT"):
        changes["expires_at"] = min(
            snapshot.expires_at + (now - snapshot.last_activity),
            effective_expiry(session, snapshot.created_at, now),
        )
    records = SessionRecord.objects.filter(pk=snapshot.pk)
    if set(changes) <= {"last_activity", "expires_at"}:
        # Concurrent requests of one session race here; only the first one writes.
        records = records.filter(last_activity__lte=stale_before)
    try:
        records.update(**changes)
    except DatabaseError:
        logger.exception("Could not update session record %s", snapshot.pk)

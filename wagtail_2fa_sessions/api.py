"""The public Python API of wagtail-2fa-sessions.

Admin views, bulk actions, management commands, django-q2 tasks and other apps call
these functions and nothing deeper. Mutating functions return the number of records
they changed. Definitions (active session, device, revoke, delete) are in the docs.
"""

from . import enforcement, enrolment, operations, stats, twofactor, verification
from .models import SessionRecord

__all__ = [
    "active_sessions",
    "backup_codes_left",
    "begin_delete_all",
    "begin_revoke_all",
    "check_password",
    "check_second_factor",
    "cleanup_expired",
    "confirm_device",
    "delete_all",
    "find_device",
    "generate_backup_codes",
    "maintenance_pending",
    "pending_email_device",
    "pending_totp_device",
    "remove_device",
    "reset_2fa",
    "reset_all_2fa",
    "revoke_all",
    "revoke_session",
    "revoke_user_sessions",
    "second_factor_methods",
    "send_email_code",
    "summary",
    "twofactor_status",
    "user_devices",
    "user_session",
]


def summary():
    """The dashboard figures as a dict: ``active_sessions``, ``active_users``,
    ``unique_devices``, ``expiring_today``, ``users_total``, ``users_with_2fa``."""
    return stats.summary()


def active_sessions(user=None):
    """A queryset of active session records (not ended, not revoked, not expired, not
    caught by a Revoke All), of one user when ``user`` is given."""
    queryset = SessionRecord.objects.active().select_related("user")
    if user is not None:
        queryset = queryset.filter(user=user)
    return queryset


def revoke_session(record, *, by=None, reason=""):
    """Revoke one session record: the session is logged out at its very next request on
    every session engine and its data is dropped from the store. Returns 1, or 0 if it
    was already revoked or ended."""
    return operations.revoke_session(record, by=by, reason=reason)


def revoke_user_sessions(user, *, by=None, reason="", keep=None):
    """Revoke all active sessions of ``user``; ``keep`` (records or ids) survive.
    Returns how many were revoked."""
    return operations.revoke_user_sessions(user, by=by, reason=reason, keep=keep)


def revoke_all(*, by=None, keep=None, revocation=None, on_progress=None):
    """Revoke every active session; ``keep`` (records or ids, e.g. the admin's own)
    survive. Everyone else is logged out at once and must log in and pass 2FA again.
    ``revocation`` (from :func:`begin_revoke_all`) finishes that Revoke All instead of
    starting one; ``on_progress(done)`` follows each batch. Returns how many were revoked."""
    return operations.revoke_all(by=by, keep=keep, revocation=revocation, on_progress=on_progress)


def begin_revoke_all(*, by=None, keep=None):
    """The constant-time first step of :func:`revoke_all`: everyone but ``keep`` is logged
    out at their next request from now on. Returns the cutoff to pass to
    :func:`revoke_all` for the per-record bookkeeping."""
    return operations.begin_revoke_all(by=by, keep=keep)


def delete_all(*, by=None, revocation=None, on_progress=None):
    """Delete every session record and all session data the store keeps. Returns the
    number of records deleted. ``revocation`` (from :func:`begin_delete_all`) finishes
    that Delete All; sessions logged in after it are spared."""
    return operations.delete_all(by=by, revocation=revocation, on_progress=on_progress)


def begin_delete_all(*, by=None):
    """The constant-time first step of :func:`delete_all`: everyone is logged out."""
    return operations.begin_delete_all(by=by)


def cleanup_expired(*, on_progress=None):
    """Delete records of sessions that ended, were revoked or expired longer than
    ``WAGTAIL_2FA_SESSIONS_RETENTION`` ago, and the session store's expired data.
    Returns the number of records deleted."""
    return operations.cleanup_expired(on_progress=on_progress)


def maintenance_pending(action, *, revocation=None, keep=None):
    """How many records ``action`` (``cleanup``, ``revoke_all``, ``delete_all``) would
    change now, or for ``reset_all_2fa`` how many users have 2FA."""
    return operations.pending(action, revocation=revocation, keep=keep)


def reset_2fa(user, *, by=None):
    """Delete all of ``user``'s 2FA devices; their sessions lose the verified state at
    once. Returns the number of devices deleted."""
    return operations.reset_2fa(user, by=by)


def reset_all_2fa(*, by=None, on_progress=None):
    """:func:`reset_2fa` for every user, in batches of users (``on_progress(users_done)``
    follows each). Returns the number of devices deleted."""
    return operations.reset_all_2fa(by=by, on_progress=on_progress)


# --- Two-factor authentication: enrolment, verification, status ---


def twofactor_status(user):
    """The user's 2FA status under the configured policy: an object with ``status``
    (``enrolled``, ``exempt``, ``grace`` or ``overdue``), ``deadline`` and ``days_left``.
    For listings, :func:`wagtail_2fa_sessions.enforcement.annotate_status` does the same
    set-wise."""
    return enforcement.status_for(user)


def user_devices(user):
    """Every confirmed 2FA device of ``user`` (all device types)."""
    return twofactor.confirmed_devices(user)


def find_device(user, app_label, pk):
    """The device ``app_label``/``pk`` when it belongs to ``user``, else None."""
    return enrolment.find_device(user, app_label, pk)


def pending_totp_device(user):
    """The user's unconfirmed authenticator-app device (the same one until confirmed)."""
    return enrolment.pending_totp(user)


def pending_email_device(user):
    """The user's unconfirmed email device (the same one until confirmed)."""
    return enrolment.pending_email(user)


def confirm_device(user, device, token):
    """Confirm a pending device of ``user`` with a valid code; logs and notifies.
    Returns True when the device now counts."""
    return enrolment.confirm(user, device, token)


def generate_backup_codes(user):
    """Replace all of ``user``'s backup codes; returns the new codes (show them once)."""
    return enrolment.generate_backup_codes(user)


def backup_codes_left(user):
    """How many unused backup codes ``user`` has."""
    return enrolment.backup_codes_left(user)


def remove_device(user, device):
    """Delete one of ``user``'s devices; logs and notifies. Returns 1, or 0 if not theirs."""
    return enrolment.remove(user, device)


def second_factor_methods(user):
    """The verification methods ``user`` has (``totp``, ``email``, ``passkey``, ``static``)."""
    return verification.methods_for(user)


def check_second_factor(user, method, token):
    """Check a code; ``(device, None)`` on success, ``(None, message)`` on failure.
    Throttled per device and per account per hour; failures are logged."""
    return verification.check(user, method, token)


def check_password(user, password):
    """Re-authentication by password: ``(True, None)`` or ``(False, message)``. Failures
    count towards the same hourly cap as codes and are logged."""
    return verification.check_password(user, password)


def send_email_code(user, *, device=None):
    """Email a code to ``user`` (or to a pending ``device``); ``(sent, message)``."""
    return verification.send_email_code(user, device=device)


def user_session(user, pk):
    """One active session record of ``user`` by id, or None (never another user's)."""
    return active_sessions(user).filter(pk=pk).first()

"""Audit-trail entries in Wagtail's history, one action name per operation."""

from django.utils.functional import LazyObject, empty
from wagtail.log_actions import log

REVOKE_SESSION = "wagtail_2fa_sessions.revoke_session"
REVOKE_USER_SESSIONS = "wagtail_2fa_sessions.revoke_user_sessions"
REVOKE_ALL = "wagtail_2fa_sessions.revoke_all"
DELETE_ALL = "wagtail_2fa_sessions.delete_all"
CLEANUP = "wagtail_2fa_sessions.cleanup"
RESET_2FA = "wagtail_2fa_sessions.reset_2fa"
RESET_ALL_2FA = "wagtail_2fa_sessions.reset_all_2fa"
MAINTENANCE_FINISHED = "wagtail_2fa_sessions.maintenance_finished"
MAINTENANCE_FAILED = "wagtail_2fa_sessions.maintenance_failed"
# Two-factor verification and enrolment.
VERIFY_FAILED = "wagtail_2fa_sessions.verify_failed"
DEVICE_ADDED = "wagtail_2fa_sessions.device_added"
DEVICE_REMOVED = "wagtail_2fa_sessions.device_removed"
BACKUP_CODES_GENERATED = "wagtail_2fa_sessions.backup_codes_generated"

LABELS = {
    REVOKE_SESSION: ("Revoke session", "Revoked a session"),
    REVOKE_USER_SESSIONS: ("Revoke user's sessions", "Revoked sessions of a user"),
    REVOKE_ALL: ("Revoke all sessions", "Revoked all active sessions"),
    DELETE_ALL: ("Delete all sessions", "Deleted all sessions"),
    CLEANUP: ("Clean up expired sessions", "Cleaned up expired sessions"),
    RESET_2FA: ("Reset 2FA", "Reset two-factor authentication"),
    RESET_ALL_2FA: ("Reset all 2FA", "Reset two-factor authentication for every user"),
    MAINTENANCE_FINISHED: ("Maintenance finished", "Session maintenance job finished"),
    MAINTENANCE_FAILED: ("Maintenance failed", "Session maintenance job failed"),
    VERIFY_FAILED: ("2FA verification failed", "Failed a two-factor verification"),
    DEVICE_ADDED: ("Add 2FA device", "Added a two-factor device"),
    DEVICE_REMOVED: ("Remove 2FA device", "Removed a two-factor device"),
    BACKUP_CODES_GENERATED: ("Generate backup codes", "Generated new backup codes"),
}


def unwrap(obj):
    """The real object behind ``request.user``: django-otp wraps Django's lazy user in a
    second lazy object, which Wagtail's log registry cannot see through."""
    while isinstance(obj, LazyObject):
        if obj._wrapped is empty:
            obj._setup()
        obj = obj._wrapped
    return obj


def record(instance, action, by=None, **data):
    """Log ``action`` on ``instance``; ``by`` may be None for commands and schedules."""
    instance, by = unwrap(instance), unwrap(by)
    user = by if getattr(by, "pk", None) else None
    return log(instance=instance, action=action, user=user, data=data)

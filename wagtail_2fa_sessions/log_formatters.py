"""Readable Site history messages for the plugin's audit entries, from the numbers each
operation records (``audit.record(..., count=..., devices=..., reason=...)``)."""

from django.utils.translation import ngettext
from wagtail.log_actions import LogFormatter

from . import audit


def _count_message(singular, plural, key):
    def describe(data, default):
        count = data.get(key)
        if count is None:
            return default
        return ngettext(singular, plural, count) % {"count": count}

    return describe


DESCRIBE = {
    audit.REVOKE_USER_SESSIONS: _count_message(
        "Revoked %(count)d session of a user", "Revoked %(count)d sessions of a user", "count"
    ),
    audit.REVOKE_ALL: _count_message(
        "Revoked all active sessions (%(count)d session)",
        "Revoked all active sessions (%(count)d sessions)",
        "count",
    ),
    audit.DELETE_ALL: _count_message(
        "Deleted all sessions (%(count)d record)",
        "Deleted all sessions (%(count)d records)",
        "count",
    ),
    audit.CLEANUP: _count_message(
        "Cleaned up %(count)d expired session", "Cleaned up %(count)d expired sessions", "count"
    ),
    audit.RESET_2FA: _count_message(
        "Reset two-factor authentication: %(count)d device deleted",
        "Reset two-factor authentication: %(count)d devices deleted",
        "devices",
    ),
}


class AuditFormatter(LogFormatter):
    action = ""

    def format_message(self, log_entry):
        data = log_entry.data or {}
        describe = DESCRIBE.get(self.action)
        message = describe(data, self.message) if describe else self.message
        reason = data.get("reason")
        if reason:
            message = f"{message} ({reason})"
        return message


def formatter_classes():
    """One formatter class per audited action, for ``register_log_actions``."""
    for action, (label, message) in audit.LABELS.items():
        yield (
            action,
            type(
                "AuditFormatter",
                (AuditFormatter,),
                {"action": action, "label": label, "message": message},
            ),
        )

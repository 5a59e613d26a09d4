"""Checking a second factor.

Two layers of throttling: django-otp's per-device ``ThrottlingMixin`` (exponential back-off
after each failure) and a cap of ``VERIFY_FAILURES_PER_HOUR`` failures per account, counted
from the audit trail so it holds across processes and servers. A TOTP code is accepted at
most once (django-otp keeps ``last_t``); the device row is locked while a code is checked so
two concurrent requests cannot both spend it.
"""

import logging
from datetime import timedelta

from django.apps import apps
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import registry

from . import audit, conf, twofactor

logger = logging.getLogger(__name__)

# Verification method -> django-otp app label, in the order the verify page offers them.
METHODS = {
    "totp": "otp_totp",
    "email": "otp_email",
    "passkey": "otp_webauthn",
    "static": "otp_static",
}
# Methods whose code is typed into the verify form (a passkey answers in the browser).
TYPED_METHODS = ("totp", "email", "static")

INVALID = _("That code is not valid. Check it and try again.")
THROTTLED = _("Too many failed attempts. Wait a moment and try again.")
CAPPED = _("Too many failed attempts for this account. Try again in an hour.")


def passkeys_available():
    return apps.is_installed("django_otp_webauthn")


def devices_for(user, method):
    """The user's confirmed devices of one method."""
    app_label = METHODS.get(method)
    if app_label is None or (method == "passkey" and not passkeys_available()):
        return []
    return [
        device
        for device in twofactor.confirmed_devices(user)
        if device._meta.app_label == app_label
    ]


def methods_for(user):
    """The methods ``user`` can verify with, in display order."""
    labels = {device._meta.app_label for device in twofactor.confirmed_devices(user)}
    return [
        method
        for method, app_label in METHODS.items()
        if app_label in labels and (method != "passkey" or passkeys_available())
    ]


def failures_last_hour(user):
    since = timezone.now() - timedelta(hours=1)
    return (
        registry.get_logs_for_instance(audit.unwrap(user))
        .filter(action=audit.VERIFY_FAILED, timestamp__gte=since)
        .count()
    )


def _normalise(token):
    return "".join((token or "").split())


def _record_failure(user, method, reason):
    logger.warning("Two-factor verification failed for user %s (%s: %s)", user.pk, method, reason)
    audit.record(user, audit.VERIFY_FAILED, by=user, method=method, reason=reason)


def check(user, method, token):
    """Check ``token`` against the user's devices of ``method``.

    Returns ``(device, None)`` on success, ``(None, message)`` on failure. Every failure is
    logged and counts towards the hourly cap."""
    if method not in TYPED_METHODS:
        return None, INVALID
    if failures_last_hour(user) >= conf.get("VERIFY_FAILURES_PER_HOUR"):
        _record_failure(user, method, "hourly cap")
        return None, CAPPED
    token = _normalise(token)
    throttled = False
    if token:
        for candidate in devices_for(user, method):
            with transaction.atomic():
                device = type(candidate)._default_manager.select_for_update().get(pk=candidate.pk)
                allowed, _info = device.verify_is_allowed()
                if not allowed:
                    throttled = True
                    continue
                if device.verify_token(token):
                    return device, None
    _record_failure(user, method, "throttled" if throttled else "invalid code")
    return None, THROTTLED if throttled else INVALID


def check_password(user, password):
    """Re-authentication by password, under the same hourly cap as codes.

    Returns ``(True, None)`` or ``(False, message)``; failures are logged."""
    if failures_last_hour(user) >= conf.get("VERIFY_FAILURES_PER_HOUR"):
        _record_failure(user, "password", "hourly cap")
        return False, CAPPED
    if password and user.check_password(password):
        return True, None
    _record_failure(user, "password", "wrong password")
    return False, INVALID


def send_email_code(user, *, device=None):
    """Email a fresh code to the user's email device (respecting django-otp's cooldown).

    Returns ``(sent, message)``."""
    if device is None:
        devices = devices_for(user, "email")
        if not devices:
            return False, str(_("No email device is set up for this account."))
        device = devices[0]
    allowed, _info = device.generate_is_allowed()
    message = device.generate_challenge()
    return allowed, str(message)

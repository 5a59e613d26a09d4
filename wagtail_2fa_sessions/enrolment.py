"""Adding and removing a user's second factors.

A new authenticator app or email device is kept unconfirmed (``confirmed=False``) until the
user proves it works with a valid code, so reloading the setup page shows the same secret.
Every change is logged in Wagtail's history and the user is told by email.
"""

import logging
import secrets

import segno
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import audit, conf, enforcement, twofactor

logger = logging.getLogger(__name__)

TOTP_NAME = "Authenticator app"
EMAIL_NAME = "Email"
BACKUP_NAME = "Backup codes"


def notify(user, change, device_label):
    """Tell the user by email that a factor was added or removed (never fails the change)."""
    if not user.email:
        return
    context = {"user": user, "change": change, "device_label": device_label}
    try:
        send_mail(
            render_to_string("wagtail_2fa_sessions/otp/email/factor_changed_subject.txt", context)
            .strip()
            .replace("\n", " "),
            render_to_string("wagtail_2fa_sessions/otp/email/factor_changed.txt", context),
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )
    except Exception:
        logger.exception("Could not send the 2FA change notice to user %s", user.pk)


def pending_totp(user):
    """The user's unconfirmed authenticator-app device, created on first call only."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def totp_secret(device):
    """The base32 secret for manual entry, grouped by four for reading."""
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_svg(device):
    """The otpauth:// URL as an inline SVG QR code, drawn locally."""
    return segno.make(device.config_url, error="m").svg_inline(scale=5, border=2)


def pending_email(user):
    device = EmailDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = EmailDevice.objects.create(user=user, name=EMAIL_NAME, confirmed=False)
    return device


def confirm(user, device, token):
    """Confirm a pending device with a valid code; returns True when it now counts."""
    if device.user_id != user.pk or device.confirmed:
        return False
    token = "".join((token or "").split())
    if not token or not device.verify_token(token):
        return False
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        enforcement.note_enrolled(user)
    audit.record(
        user, audit.DEVICE_ADDED, by=user, device=twofactor.method_label(device._meta.app_label)
    )
    notify(user, "added", twofactor.method_label(device._meta.app_label))
    return True


def generate_backup_codes(user):
    """Replace all the user's backup codes with a fresh set; returns the new codes."""
    count = conf.get("BACKUP_CODES")
    codes = [secrets.token_hex(5) for _ in range(count)]
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=BACKUP_NAME, confirmed=True)
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    audit.record(user, audit.BACKUP_CODES_GENERATED, by=user, count=count)
    notify(user, "backup_codes", twofactor.method_label("otp_static"))
    return codes


def backup_codes_left(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def find_device(user, app_label, pk):
    """The confirmed device ``app_label``/``pk`` if it belongs to ``user``, else None."""
    for model in twofactor.device_models():
        if model._meta.app_label == app_label:
            return model._default_manager.filter(user=user, pk=pk).first()
    return None


def remove(user, device):
    """Delete one of the user's devices."""
    if device.user_id != user.pk:
        return 0
    label = twofactor.method_label(device._meta.app_label)
    with transaction.atomic():
        device.delete()
        if not twofactor.has_device(user) and enforcement.is_required(user):
            # Removing the last factor does not buy a new grace period.
            enforcement.note_reset(user)
    audit.record(user, audit.DEVICE_REMOVED, by=user, device=label)
    notify(user, "removed", label)
    return 1


def describe(device):
    """Human label for one device, for listings."""
    return _("%(method)s: %(name)s") % {
        "method": twofactor.method_label(device._meta.app_label),
        "name": device.name,
    }

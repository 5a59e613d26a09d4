"""Helpers shared by the two-factor tests: devices and codes, computed like an app would."""

import time

from django_otp.oath import TOTP
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

VERIFY_URL = "/admin/2fa-sessions/2fa/verify/"
TWOFACTOR_URL = "/admin/2fa-sessions/2fa/"
REAUTH_URL = "/admin/2fa-sessions/2fa/confirm-password/"
TOTP_URL = "/admin/2fa-sessions/2fa/authenticator-app/"
EMAIL_URL = "/admin/2fa-sessions/2fa/email/"
BACKUP_URL = "/admin/2fa-sessions/2fa/backup-codes/"
SESSIONS_URL = "/admin/2fa-sessions/2fa/sessions/"


def totp_code(device, steps_ahead=0):
    """The code an authenticator app shows now (or ``steps_ahead`` steps later)."""
    generator = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    generator.time = time.time() + steps_ahead * device.step
    return f"{generator.token():0{device.digits}d}"


def add_totp(user, confirmed=True):
    return TOTPDevice.objects.create(user=user, name="Phone", confirmed=confirmed)


def add_email(user):
    return EmailDevice.objects.create(user=user, name="Email", confirmed=True)


def add_backup_codes(user, codes=("aaaa1111bb", "cccc2222dd")):
    device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    for code in codes:
        StaticToken.objects.create(device=device, token=code)
    return device


def verify(client, method, token, next_url=None):
    data = {"method": method, "token": token}
    if next_url is not None:
        data["next"] = next_url
    return client.post(VERIFY_URL, data)

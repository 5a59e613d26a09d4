"""The django-otp devices behind each user's 2FA, found set-wise across device models."""

from django.apps import apps
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device

# django-otp app label -> what the dashboard calls it.
METHOD_LABELS = {
    "otp_totp": _("Authenticator App"),
    "otp_email": _("Email OTP"),
    "otp_static": _("Backup codes"),
    "otp_hotp": _("Hardware token"),
    "otp_webauthn": _("Passkey"),
}


def method_label(app_label):
    return METHOD_LABELS.get(app_label, app_label.replace("_", " ").title() if app_label else "")


def device_models():
    """Every installed concrete django-otp device model (TOTP, static, email, passkeys...)."""
    return [
        model
        for model in apps.get_models()
        if issubclass(model, Device) and not model._meta.abstract and not model._meta.proxy
    ]


def _confirmed(model):
    manager = model._default_manager
    if any(field.name == "confirmed" for field in model._meta.get_fields()):
        return manager.filter(confirmed=True)
    return manager.all()


def has_device_q(model, user_ref="pk"):
    return Exists(_confirmed(model).filter(user=OuterRef(user_ref)))


def has_2fa_q(user_ref="pk"):
    """A filter for users with at least one confirmed device of any kind."""
    condition = Q(pk__in=[])
    for model in device_models():
        condition |= Q(has_device_q(model, user_ref))
    return condition


def has_device(user):
    """True when ``user`` has a confirmed device of any kind (one query per device model
    at most, stopping at the first hit)."""
    return any(_confirmed(model).filter(user=user).exists() for model in device_models())


def confirmed_devices(user):
    """Every confirmed device of ``user``, across device models, oldest first per model."""
    devices = []
    for model in device_models():
        devices.extend(_confirmed(model).filter(user=user).order_by("pk"))
    return devices

"""A site that also installs django-otp's HOTP plugin (hardware tokens), which the verify
step cannot check. Used by ``test_twofactor_unusable_device`` through a separate pytest run."""

from sandbox.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "django_otp.plugins.otp_hotp"]  # noqa: F405

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Wagtail2FASessionsAppConfig(AppConfig):
    name = "wagtail_2fa_sessions"
    label = "wagtail_2fa_sessions"
    verbose_name = _("2FA & Sessions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks, signals  # noqa: F401  (checks register on import)

        signals.connect()

        from django.db.models.signals import post_migrate

        from .schedule import on_post_migrate

        post_migrate.connect(
            on_post_migrate, sender=self, dispatch_uid="wagtail_2fa_sessions.schedule"
        )

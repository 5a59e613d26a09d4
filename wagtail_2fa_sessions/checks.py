"""``manage.py check`` catches the installation mistakes that would silently disable
revocation: a missing or misplaced middleware, a missing app."""

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

MIDDLEWARE = "wagtail_2fa_sessions.middleware.SessionTrackingMiddleware"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
OTP_MIDDLEWARE = "django_otp.middleware.OTPMiddleware"
REQUIRED_APPS = ("django.contrib.sessions", "django_otp", "django_q")


@register(Tags.security, Tags.compatibility)
def check_middleware(app_configs, **kwargs):
    middleware = list(settings.MIDDLEWARE)
    if MIDDLEWARE not in middleware:
        return [
            Error(
                "SessionTrackingMiddleware is not in MIDDLEWARE, so revoked sessions keep working.",
                hint=f"Add '{MIDDLEWARE}' after '{OTP_MIDDLEWARE}'.",
                id="wagtail_2fa_sessions.E001",
            )
        ]
    errors = []
    position = middleware.index(MIDDLEWARE)
    for required, code in ((AUTH_MIDDLEWARE, "E002"), (OTP_MIDDLEWARE, "E003")):
        if required not in middleware:
            errors.append(
                Error(
                    f"'{required}' is not in MIDDLEWARE.",
                    hint=f"Add it before '{MIDDLEWARE}'.",
                    id=f"wagtail_2fa_sessions.{code}",
                )
            )
        elif middleware.index(required) > position:
            errors.append(
                Error(
                    f"'{MIDDLEWARE}' must come after '{required}'.",
                    hint="Move SessionTrackingMiddleware below it in MIDDLEWARE.",
                    id=f"wagtail_2fa_sessions.{code}",
                )
            )
    return errors


@register(Tags.compatibility)
def check_apps(app_configs, **kwargs):
    errors = [
        Error(
            f"'{app}' must be in INSTALLED_APPS for wagtail_2fa_sessions.",
            id="wagtail_2fa_sessions.E004",
        )
        for app in REQUIRED_APPS
        if not apps.is_installed(app)
    ]
    names = [config.name for config in apps.get_app_configs()]
    ours = names.index("wagtail_2fa_sessions")
    for later in ("wagtail.admin", "wagtail.users"):
        if later in names and names.index(later) < ours:
            errors.append(
                Warning(
                    f"'wagtail_2fa_sessions' should come before '{later}' in INSTALLED_APPS.",
                    hint="Its templates extend Wagtail's; listed later, they are not used.",
                    id="wagtail_2fa_sessions.W001",
                )
            )
    return errors


@register(Tags.compatibility)
def check_q_cluster(app_configs, **kwargs):
    """django-q2 hands a task out again after ``retry`` seconds: with ``retry`` not above
    ``timeout``, a maintenance job still running would be started a second time."""
    conf = getattr(settings, "Q_CLUSTER", {}) or {}
    timeout, retry = conf.get("timeout"), conf.get("retry", 60)
    if timeout is None and retry is not None:
        # django-q2's default: no time limit, yet a task is handed out again after retry.
        return [
            Warning(
                f"Q_CLUSTER['timeout'] is not set: a maintenance job running longer than "
                f"Q_CLUSTER['retry'] ({retry} s) would be handed out twice.",
                hint="Set Q_CLUSTER['timeout'] (e.g. 600) and Q_CLUSTER['retry'] above it "
                "(e.g. 660).",
                id="wagtail_2fa_sessions.W002",
            )
        ]
    if timeout is not None and retry is not None and retry <= timeout:
        return [
            Warning(
                f"Q_CLUSTER['retry'] ({retry}) must be larger than Q_CLUSTER['timeout'] "
                f"({timeout}).",
                hint="Maintenance jobs would be handed out twice; e.g. set retry to timeout + 60.",
                id="wagtail_2fa_sessions.W002",
            )
        ]
    return []


# --- Two-factor authentication ---


@register(Tags.security)
def check_twofactor_settings(app_configs, **kwargs):
    from . import conf

    problems = []
    policy = conf.get("REQUIRE_2FA")
    if not (
        isinstance(policy, bool | str)
        or policy is None
        or (isinstance(policy, list | tuple | set) and all(isinstance(g, str) for g in policy))
    ):
        problems.append(
            Error(
                "WAGTAIL_2FA_SESSIONS_REQUIRE_2FA must be False, True or a list of group names.",
                id="wagtail_2fa_sessions.E050",
            )
        )
    validity = getattr(settings, "OTP_EMAIL_TOKEN_VALIDITY", 300)
    if apps.is_installed("django_otp.plugins.otp_email") and validity > 600:
        problems.append(
            Warning(
                f"OTP_EMAIL_TOKEN_VALIDITY is {validity} seconds; email codes should expire "
                "within 10 minutes.",
                hint="Set OTP_EMAIL_TOKEN_VALIDITY to 600 or less.",
                id="wagtail_2fa_sessions.W050",
            )
        )
    return problems

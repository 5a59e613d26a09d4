"""``manage.py check`` catches installations that would silently disable revocation."""

from django.core.checks import run_checks

from wagtail_2fa_sessions.checks import check_apps, check_middleware

OURS = "wagtail_2fa_sessions.middleware.SessionTrackingMiddleware"


def _ids(messages):
    return sorted(message.id for message in messages)


def test_the_sandbox_is_correctly_installed():
    assert [m for m in run_checks() if m.id.startswith("wagtail_2fa_sessions")] == []


def test_missing_middleware(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != OURS]
    assert _ids(check_middleware(None)) == ["wagtail_2fa_sessions.E001"]


def test_middleware_before_authentication(settings):
    stack = [m for m in settings.MIDDLEWARE if m != OURS]
    settings.MIDDLEWARE = [OURS, *stack]
    assert _ids(check_middleware(None)) == [
        "wagtail_2fa_sessions.E002",
        "wagtail_2fa_sessions.E003",
    ]


def test_middleware_before_otp(settings):
    stack = [m for m in settings.MIDDLEWARE if m != OURS]
    position = stack.index("django_otp.middleware.OTPMiddleware")
    stack.insert(position, OURS)
    settings.MIDDLEWARE = stack
    assert _ids(check_middleware(None)) == ["wagtail_2fa_sessions.E003"]


def test_otp_middleware_missing(settings):
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "django_otp.middleware.OTPMiddleware"
    ]
    assert _ids(check_middleware(None)) == ["wagtail_2fa_sessions.E003"]


def test_required_apps_are_installed():
    assert check_apps(None) == []

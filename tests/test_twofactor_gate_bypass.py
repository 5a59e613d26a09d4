"""Outside the Wagtail admin a half-logged-in session is anonymous, and deleting its devices
does not unlock it."""

import pytest
from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from wagtail_2fa_sessions import api
from wagtail_2fa_sessions.models import SessionRecord, TwoFactorRequirement

from .conftest import admin_login
from .twofactor_helpers import VERIFY_URL, add_totp, totp_code, verify

pytestmark = pytest.mark.django_db


def half_logged_in(make_user, browser_client):
    user = make_user("boss", superuser=True)
    device = add_totp(user)
    client = browser_client()
    admin_login(client, user)
    return user, device, client


def test_half_logged_in_session_cannot_use_the_django_admin(make_user, browser_client):
    user, device, client = half_logged_in(make_user, browser_client)
    response = client.get("/django-admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/django-admin/login/")
    assert not response.wsgi_request.user.is_authenticated
    delete_url = f"/django-admin/otp_totp/totpdevice/{device.pk}/delete/"
    response = client.post(delete_url, {"post": "yes"})
    assert response.status_code == 302
    assert response["Location"].startswith("/django-admin/login/")
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    # The session is kept: the user can still finish verification in the Wagtail admin.
    assert client.get("/admin/")["Location"].startswith(VERIFY_URL)
    verify(client, "totp", totp_code(device))
    assert client.get("/admin/").status_code == 200
    # Verified, the same session is the user everywhere again.
    assert client.get("/django-admin/").wsgi_request.user == user


def test_half_logged_in_session_is_anonymous_on_the_site(make_user, browser_client):
    _user, _device, client = half_logged_in(make_user, browser_client)
    response = client.get("/")
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated


def test_half_logged_in_session_can_still_log_out(make_user, browser_client):
    _user, _device, client = half_logged_in(make_user, browser_client)
    client.get("/django-admin/")
    response = client.post("/admin/logout/")
    assert response.status_code == 302
    assert SessionRecord.objects.get().ended_at is not None
    assert (
        settings.SESSION_COOKIE_NAME not in client.cookies
        or not client.cookies[settings.SESSION_COOKIE_NAME].value
    )


def test_deleting_the_devices_does_not_unlock_a_half_logged_in_session(make_user, browser_client):
    user, _device, client = half_logged_in(make_user, browser_client)
    assert client.get("/admin/")["Location"].startswith(VERIFY_URL)
    # The devices go away by some other path (another session, a shell, Django's admin).
    TOTPDevice.objects.filter(user=user).delete()
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY_URL)
    assert not client.get("/django-admin/").wsgi_request.user.is_authenticated
    # The verify page says what to do instead of sending the user round in circles.
    response = client.get(VERIFY_URL, follow=True)
    assert response.status_code == 200
    assert b"No usable verification method" in response.content
    assert b'action="/admin/logout/"' in response.content


def test_an_administrator_reset_sends_a_half_logged_in_session_to_enrolment(
    make_user, browser_client, settings
):
    settings.WAGTAIL_2FA_SESSIONS_REQUIRE_2FA = True
    user, _device, client = half_logged_in(make_user, browser_client)
    assert client.get("/admin/")["Location"].startswith(VERIFY_URL)
    admin = make_user("admin", superuser=True)
    api.reset_2fa(user, by=admin)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/2fa-sessions/2fa/" in response["Location"]
    assert not response["Location"].startswith(VERIFY_URL)


def test_the_grace_period_starts_in_the_admin_not_on_the_site(make_user, browser_client, settings):
    settings.WAGTAIL_2FA_SESSIONS_REQUIRE_2FA = True
    settings.WAGTAIL_2FA_SESSIONS_GRACE_DAYS = 7
    user = make_user("editor")
    client = browser_client()
    admin_login(client, user)
    response = client.get("/")
    assert response.status_code == 200
    assert response.wsgi_request.user == user
    assert not TwoFactorRequirement.objects.filter(user=user).exists()
    assert b"Set it up within 7 days" in client.get("/admin/").content
    assert TwoFactorRequirement.objects.get(user=user).required_since is not None

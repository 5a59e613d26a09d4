"""Run by ``test_twofactor_unusable_device`` with ``--ds=tests.hotp_settings``: a user whose
only device is a hardware token gets a clear page at the verify step, not a redirect loop."""

import pytest
from django.conf import settings

from .conftest import admin_login

pytestmark = pytest.mark.django_db


def test_hotp_only_user_gets_a_clear_page_not_a_loop(make_user, browser_client):
    assert "django_otp.plugins.otp_hotp" in settings.INSTALLED_APPS
    from django_otp.plugins.otp_hotp.models import HOTPDevice

    user = make_user("token_user")
    HOTPDevice.objects.create(user=user, name="YubiKey", confirmed=True)
    client = browser_client()
    admin_login(client, user)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith("/admin/2fa-sessions/2fa/verify/")
    assert b"No usable verification method" in response.content
    assert b"Ask an administrator to reset your two-factor authentication" in response.content
    assert b'action="/admin/logout/"' in response.content
    assert not response.wsgi_request.user.is_verified()

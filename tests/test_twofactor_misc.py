"""Settings checks, passkey support when absent, and verification on every session engine."""

import pytest
from django.core import checks

from wagtail_2fa_sessions import api, twofactor, verification
from wagtail_2fa_sessions.models import SessionRecord

from .conftest import admin_login, is_logged_in
from .twofactor_helpers import add_totp, totp_code, verify

pytestmark = pytest.mark.django_db


def check_ids():
    return {message.id for message in checks.run_checks()}


def test_email_codes_valid_for_more_than_ten_minutes_are_flagged(settings):
    assert "wagtail_2fa_sessions.W050" not in check_ids()
    settings.OTP_EMAIL_TOKEN_VALIDITY = 601
    assert "wagtail_2fa_sessions.W050" in check_ids()


def test_malformed_requirement_setting_is_an_error(settings):
    settings.WAGTAIL_2FA_SESSIONS_REQUIRE_2FA = ["Editors"]
    assert "wagtail_2fa_sessions.E050" not in check_ids()
    settings.WAGTAIL_2FA_SESSIONS_REQUIRE_2FA = 3
    assert "wagtail_2fa_sessions.E050" in check_ids()


def test_passkeys_are_skipped_cleanly_without_django_otp_webauthn(make_user):
    user = make_user("alice")
    add_totp(user)
    assert not verification.passkeys_available()
    assert twofactor.method_label("otp_webauthn") == "Passkey"
    assert verification.devices_for(user, "passkey") == []
    assert "passkey" not in api.second_factor_methods(user)
    device, error = api.check_second_factor(user, "passkey", "anything")
    assert device is None and error


def test_verification_works_on_every_session_engine(make_user, browser_client, session_engine):
    user = make_user("alice")
    device = add_totp(user)
    client = browser_client()
    admin_login(client, user)
    assert not is_logged_in(client)
    assert verify(client, "totp", totp_code(device)).status_code == 302
    assert is_logged_in(client)
    record = SessionRecord.objects.get(user=user)
    assert record.verified_device_type == "otp_totp"
    api.revoke_session(record)
    assert not is_logged_in(client)

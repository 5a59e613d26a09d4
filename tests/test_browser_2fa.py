"""A real browser through enrolment, login with a code, and backup codes."""

import re

import pytest

from .conftest import PASSWORD
from .twofactor_helpers import BACKUP_URL, SESSIONS_URL, VERIFY_URL

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def code_from_secret(secret, steps_ahead=0):
    """What an authenticator app computes from the secret it was given."""
    import time
    from base64 import b32decode

    from django_otp.oath import TOTP

    generator = TOTP(b32decode(secret))
    generator.time = time.time() + 30 * steps_ahead
    return f"{generator.token():06d}"


def log_in(page, base, user):
    page.goto(f"{base}/admin/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_enrol_totp_log_in_with_a_code_and_use_a_backup_code(
    browser_page, live_server, make_user, screenshot
):
    from wagtail_2fa_sessions import api
    from wagtail_2fa_sessions.models import SessionRecord

    user = make_user("alice", superuser=True, first_name="Alice")
    page = browser_page
    base = live_server.url

    # Enrol an authenticator app from the account pages.
    log_in(page, base, user)
    page.wait_for_url(f"{base}/admin/")
    page.goto(f"{base}/admin/account/")
    page.click("text=More actions")
    page.click("a:has-text('Two-factor authentication')")
    page.click("a:has-text('Authenticator app')")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Continue')")
    page.wait_for_url(re.compile(r".*/authenticator-app/$"))
    assert page.locator("[data-qr-code] svg").count() == 1
    secret = page.inner_text("[data-totp-secret]").replace(" ", "")
    screenshot(page, "enrol-totp.png")
    page.fill("input[name=token]", code_from_secret(secret))
    page.click("button:has-text('Confirm')")
    page.wait_for_url(f"{base}/admin/2fa-sessions/2fa/")
    assert "Your authenticator app is set up." in page.content()
    assert [d._meta.app_label for d in api.user_devices(user)] == ["otp_totp"]

    # Backup codes: generated on request and shown once.
    page.goto(f"{base}{BACKUP_URL}")
    page.click("button:has-text('Generate new backup codes')")
    page.wait_for_selector("[data-backup-codes]")
    codes = page.locator("[data-backup-codes] code").all_inner_texts()
    assert len(codes) == 10

    # Log out, log in again: password, then a code from the app.
    page.goto(f"{base}/admin/")
    page.click("#account-settings, [aria-label='Account'], button:has-text('Alice')", timeout=5000)
    page.click("button:has-text('Log out')")
    page.wait_for_url(re.compile(r".*/admin/login/.*"))
    log_in(page, base, user)
    page.wait_for_url(re.compile(rf".*{VERIFY_URL}.*"))
    screenshot(page, "verify.png")
    # The enrolment code is spent; the next time step's code is within django-otp's
    # tolerance of one step (what a phone a few seconds ahead would show).
    page.fill("input[name=token]", code_from_secret(secret, steps_ahead=1))
    page.click("button:has-text('Verify')")
    page.wait_for_url(f"{base}/admin/")
    assert SessionRecord.objects.active().get(user=user).verified_device_type == "otp_totp"

    # A second browser context: use a backup code instead.
    context = page.context.browser.new_context(viewport={"width": 1400, "height": 1000})
    other = context.new_page()
    log_in(other, base, user)
    other.wait_for_url(re.compile(rf".*{VERIFY_URL}.*"))
    other.click("a:has-text('Backup codes')")
    other.fill("input[name=token]", codes[0])
    other.click("button:has-text('Verify')")
    other.wait_for_url(f"{base}/admin/")
    assert api.backup_codes_left(user) == 9
    context.close()

    page.goto(f"{base}{SESSIONS_URL}")
    assert page.locator("text=This session").count() == 1
    screenshot(page, "your-sessions.png")

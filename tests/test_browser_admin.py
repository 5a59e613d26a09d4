"""The admin walk-through in a real headless Chromium, and the screenshots for the docs.

Seeds the demo site (users in groups, every kind of 2FA device, sessions logged in
through real requests from several browsers) plus a month of past logins, so the
dashboard, the report and the user page show what a real site would.
"""

import random
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from wagtail_2fa_sessions import api
from wagtail_2fa_sessions.models import SessionRecord

from .conftest import CHROME_WINDOWS, FIREFOX_LINUX, SAFARI_IPHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "changeme"


def seed_history(days=30):
    """Past logins over the last ``days`` days: real logins, moved back in time, most of
    them logged out after a few hours, some still open."""
    from django.test import Client

    rng = random.Random(3)
    users = list(get_user_model().objects.filter(is_active=True, last_login__isnull=False))
    now = timezone.now()
    for day in range(days - 1, 0, -1):
        for _ in range(rng.randint(1, 6)):
            user = rng.choice(users)
            agent = rng.choice([CHROME_WINDOWS, SAFARI_IPHONE, FIREFOX_LINUX])
            client = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=f"198.51.100.{rng.randint(2, 250)}")
            response = client.post(
                "/admin/login/", {"username": user.get_username(), "password": DEMO_PASSWORD}
            )
            assert response.status_code == 302
            record = SessionRecord.objects.filter(user=user).latest("pk")
            created = now - timedelta(days=day, hours=rng.randint(0, 10))
            stays_open = rng.random() < 0.25
            SessionRecord.objects.filter(pk=record.pk).update(
                created_at=created,
                valid_since=created,
                last_activity=created + timedelta(hours=2),
                expires_at=created + timedelta(days=14),
                ended_at=None if stays_open else created + timedelta(hours=rng.randint(1, 8)),
            )


@pytest.fixture
def demo_site(settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    seed_history()
    return get_user_model().objects.get(username="admin")


def figure(page, key):
    text = page.locator(f'[data-w2fa-figure="{key}"] .w2fa-figure-value').inner_text()
    return int(re.sub(r"\D", "", text))


def test_admin_walk_through(browser_page, live_server, demo_site, screenshot):
    page = browser_page
    base = live_server.url

    # Log in through Wagtail's login form.
    page.goto(f"{base}/admin/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    # The demo admin has 2FA: pass the verify step with one of their backup codes.
    page.wait_for_url(re.compile(r".*/admin/2fa-sessions/2fa/verify/.*"))
    backup = StaticDevice.objects.get(user=demo_site, confirmed=True)
    code = backup.token_set.create(token=StaticToken.random_token()).token
    page.click("a:has-text('Backup codes')")
    page.fill("input[name=token]", code)
    page.click("button:has-text('Verify')")
    page.wait_for_url(f"{base}/admin/")
    # Wagtail's own dashboard carries the four figures.
    assert page.locator('[data-w2fa-figure="active_sessions"]').is_visible()

    # The dashboard, through the main menu.
    page.click("a[href='/admin/2fa-sessions/']")
    page.wait_for_url(f"{base}/admin/2fa-sessions/")
    summary = api.summary()
    for key in ("active_sessions", "active_users", "unique_devices", "expiring_today"):
        assert figure(page, key) == summary[key], key
    assert page.locator("svg.w2fa-chart").count() == 2
    assert page.get_by_text("Recent activity").is_visible()
    # Wagtail's admin scrolls inside its layout: a tall viewport shows the whole page.
    page.set_viewport_size({"width": 1400, "height": 1450})
    screenshot(page, "dashboard.png", full_page=False)
    page.set_viewport_size({"width": 1400, "height": 1000})

    # The report: every user, then a search.
    page.click("text=All users and their 2FA")
    page.wait_for_url(f"{base}/admin/2fa-sessions/users/")
    assert page.locator("text=Grace Hoffmann").is_visible()
    page.set_viewport_size({"width": 1400, "height": 1500})
    screenshot(page, "users-report.png", full_page=False)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.fill("#id_q", "grace")
    page.wait_for_url(re.compile(r".*\?q=grace.*"))
    page.wait_for_selector("text=Alice Keller", state="detached")
    page.wait_for_load_state("networkidle")
    grace_row = page.locator("tr", has_text="grace.moderator")
    assert "Authenticator App, Email OTP" in grace_row.inner_text()

    # Reset Grace's 2FA through the bulk action.
    grace = get_user_model().objects.get(username="grace.moderator")
    grace_row.locator("input[data-bulk-action-checkbox]").check()
    page.wait_for_selector("[data-bulk-action-footer]:not(.hidden)")
    # Wagtail's Users bulk actions plus ours can overflow the sticky footer at this width;
    # fire the button's own click handler, which carries the selection to the action.
    page.locator("[data-bulk-action-footer] a", has_text="Reset 2FA").dispatch_event("click")
    page.wait_for_selector("[data-w2fa-bulk-items]")
    assert "Reset 2FA of 1 user" in page.title()
    assert page.locator("[data-w2fa-bulk-items] li").inner_text() == (
        "Grace Hoffmann (grace.moderator)"
    )
    page.get_by_role("button", name="Yes, reset 2FA").click()
    page.wait_for_selector("text=Two-factor authentication reset for 1 user")
    assert not TOTPDevice.objects.filter(user=grace).exists()
    grace_row = page.locator("tr", has_text="grace.moderator")
    assert "Not set" in grace_row.inner_text()

    # Revoke one of Alice's sessions on her page.
    alice = get_user_model().objects.get(username="alice.editor")
    page.goto(f"{base}/admin/2fa-sessions/users/{alice.pk}/")
    active_before = api.active_sessions(alice).count()
    target = api.active_sessions(alice).get(device_type="tablet")
    page.locator(f'tr[data-w2fa-session="{target.pk}"] a[data-w2fa-revoke]').click()
    page.wait_for_selector("text=Revoke the session of Alice Keller")
    page.get_by_role("button", name="Revoke session").click()
    page.wait_for_url(f"{base}/admin/2fa-sessions/users/{alice.pk}/")
    assert page.get_by_text(re.compile(r"Session of Alice Keller on .* revoked\.")).is_visible()
    row = page.locator(f'tr[data-w2fa-session="{target.pk}"]')
    assert row.get_attribute("data-w2fa-status") == "revoked"
    assert "by Ada Admin" in row.inner_text()
    assert api.active_sessions(alice).count() == active_before - 1
    page.set_viewport_size({"width": 1400, "height": 1400})
    screenshot(page, "user-sessions.png", full_page=False)

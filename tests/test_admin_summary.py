"""The JSON summary for monitoring, against a scenario counted by hand."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from wagtail_2fa_sessions import api, stats
from wagtail_2fa_sessions.models import SessionRecord

from .admin_helpers import logged_in, staff
from .conftest import FIREFOX_LINUX, SAFARI_IPHONE, admin_login

pytestmark = pytest.mark.django_db

URL = "/admin/2fa-sessions/api/summary/"
KEYS = {
    "active_sessions",
    "active_users",
    "unique_devices",
    "expiring_today",
    "users_total",
    "users_with_2fa",
}


def test_url_and_keys_are_the_public_contract():
    assert reverse("wagtail_2fa_sessions:api_summary") == URL


def test_summary_matches_a_scenario_counted_by_hand(make_user, browser_client, settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    admin = make_user("root", superuser=True)  # 2FA: none
    alice = make_user("alice")  # 2FA: authenticator app + backup codes
    TOTPDevice.objects.create(user=alice, name="app")
    StaticDevice.objects.create(user=alice, name="codes")
    bob = make_user("bob")  # 2FA: an unconfirmed app only, which does not count
    TOTPDevice.objects.create(user=bob, name="half", confirmed=False)
    carol = make_user("carol")  # 2FA: app
    TOTPDevice.objects.create(user=carol, name="app")
    make_user("dave", is_active=False)  # inactive, never logged in, counts in users_total

    # Alice: laptop and phone (2 devices), then the laptop again in the same browser
    # after logging out: 3 records, 2 active, still 2 devices.
    alice_laptop, alice_phone = browser_client(), browser_client(SAFARI_IPHONE)
    admin_login(alice_laptop, alice)
    admin_login(alice_phone, alice)
    alice_laptop.post("/admin/logout/")
    admin_login(alice_laptop, alice)
    # Bob: one session, revoked by the admin: not active.
    admin_login(browser_client(FIREFOX_LINUX), bob)
    api.revoke_user_sessions(bob, by=admin)
    # Carol: two sessions; one is made to expire within the next minute (expiring today
    # unless midnight is less than a minute away), the other is already expired.
    carol_soon, carol_old = browser_client(), browser_client(FIREFOX_LINUX)
    admin_login(carol_soon, carol)
    admin_login(carol_old, carol)
    now = timezone.now()
    soon, old = SessionRecord.objects.filter(user=carol).order_by("pk")
    SessionRecord.objects.filter(pk=soon.pk).update(expires_at=now + timedelta(seconds=60))
    SessionRecord.objects.filter(pk=old.pk).update(expires_at=now - timedelta(seconds=1))
    # The admin, reading the summary: one session.
    admin_client = logged_in(browser_client, admin)

    response = admin_client.get(URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    figures = response.json()
    assert set(figures) == KEYS
    expiring_today = 1 if now + timedelta(seconds=60) < stats.end_of_today(now) else 0
    assert figures == {
        "active_sessions": 2 + 0 + 1 + 1,  # alice 2, bob 0, carol 1, root 1
        "active_users": 3,  # alice, carol, root
        "unique_devices": 2 + 1 + 1,  # alice's laptop and phone, carol's, root's
        "expiring_today": expiring_today,
        "users_total": 5,
        "users_with_2fa": 2,  # alice, carol
    }


def test_summary_needs_the_view_permission(make_user, browser_client, client):
    assert client.get(URL).status_code == 302  # anonymous: to the admin login
    nobody = logged_in(browser_client, staff(make_user, "nobody", "none"))
    response = nobody.get(URL)
    assert response.status_code == 403
    assert response.json() == {"error": "permission denied"}
    viewer = logged_in(browser_client, staff(make_user, "viewer", "view"))
    assert set(viewer.get(URL).json()) == KEYS
    assert viewer.post(URL).status_code == 405

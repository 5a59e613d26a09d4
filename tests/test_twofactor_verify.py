"""The verify step after a real Wagtail password login, for every device type."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from wagtail.models import ModelLogEntry

from wagtail_2fa_sessions import audit
from wagtail_2fa_sessions.models import SessionRecord

from .conftest import admin_login, is_logged_in
from .twofactor_helpers import (
    VERIFY_URL,
    add_backup_codes,
    add_email,
    add_totp,
    totp_code,
    verify,
)

pytestmark = pytest.mark.django_db


def test_password_alone_leads_to_the_verify_step(make_user, browser_client):
    user = make_user("alice", superuser=True)
    add_totp(user)
    client = browser_client()
    admin_login(client, user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY_URL}?next=%2Fadmin%2F"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert b"Verify it is you" in page.content
    assert not is_logged_in(client)


def test_totp_code_verifies_cycles_the_key_and_records_the_device_type(make_user, browser_client):
    user = make_user("alice", superuser=True)
    device = add_totp(user)
    client = browser_client()
    admin_login(client, user)
    key_before = client.cookies["sessionid"].value
    response = verify(client, "totp", totp_code(device), next_url="/admin/pages/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/pages/"
    assert client.cookies["sessionid"].value != key_before
    assert is_logged_in(client)
    record = SessionRecord.objects.get(user=user)
    assert record.verified_device_type == "otp_totp"
    assert record.verified_at is not None
    assert record.session_key == client.cookies["sessionid"].value


def test_wrong_totp_code_is_refused_and_logged(make_user, browser_client):
    user = make_user("alice", superuser=True)
    device = add_totp(user)
    client = browser_client()
    admin_login(client, user)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    response = verify(client, "totp", wrong)
    assert response.status_code == 200
    assert b"That code is not valid" in response.content
    assert not is_logged_in(client)
    entry = ModelLogEntry.objects.get(action=audit.VERIFY_FAILED)
    assert entry.object_id == str(user.pk)


def test_a_totp_code_cannot_be_used_twice(make_user, browser_client):
    user = make_user("alice", superuser=True)
    device = add_totp(user)
    code = totp_code(device)
    first = browser_client()
    admin_login(first, user)
    assert verify(first, "totp", code).status_code == 302
    second = browser_client()
    admin_login(second, user)
    device.refresh_from_db()
    device.throttle_reset()
    response = verify(second, "totp", code)
    assert response.status_code == 200
    assert not is_logged_in(second)


def test_repeated_failures_are_throttled_even_for_the_right_code(make_user, browser_client):
    user = make_user("alice", superuser=True)
    device = add_totp(user)
    client = browser_client()
    admin_login(client, user)
    for _ in range(3):
        verify(client, "totp", "000000" if totp_code(device) != "000000" else "111111")
    response = verify(client, "totp", totp_code(device))
    assert response.status_code == 200
    assert b"Too many failed attempts" in response.content
    assert not is_logged_in(client)


def test_hourly_cap_per_account_holds_across_devices_and_sessions(
    make_user, browser_client, settings
):
    settings.WAGTAIL_2FA_SESSIONS_VERIFY_FAILURES_PER_HOUR = 2
    user = make_user("alice", superuser=True)
    device = add_backup_codes(user, codes=["goodcode01", "goodcode02"])
    for _ in range(2):
        attacker = browser_client()
        admin_login(attacker, user)
        verify(attacker, "static", "wrongcode0")
        # Past django-otp's per-device back-off: only the hourly cap is left to refuse.
        device.refresh_from_db()
        device.throttle_reset()
    client = browser_client()
    admin_login(client, user)
    response = verify(client, "static", "goodcode01")
    assert b"Try again in an hour" in response.content
    assert not is_logged_in(client)
    # An hour later the cap no longer counts those failures.
    ModelLogEntry.objects.filter(action=audit.VERIFY_FAILED).update(
        timestamp=timezone.now() - timedelta(hours=1, seconds=1)
    )
    device.refresh_from_db()
    device.throttle_reset()
    assert verify(client, "static", "goodcode01").status_code == 302
    assert is_logged_in(client)


def test_email_code_verifies(make_user, browser_client):
    user = make_user("alice", superuser=True)
    add_email(user)
    client = browser_client()
    admin_login(client, user)
    response = client.post(VERIFY_URL, {"method": "email", "action": "send_email"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    token = mail.outbox[0].body.strip().split()[-1]
    assert verify(client, "email", token).status_code == 302
    assert is_logged_in(client)
    assert SessionRecord.objects.get(user=user).verified_device_type == "otp_email"


def test_email_code_resend_has_a_cooldown(make_user, browser_client):
    user = make_user("alice", superuser=True)
    add_email(user)
    client = browser_client()
    admin_login(client, user)
    client.post(VERIFY_URL, {"method": "email", "action": "send_email"})
    response = client.post(VERIFY_URL, {"method": "email", "action": "send_email"}, follow=True)
    assert len(mail.outbox) == 1
    assert b"cooldown" in response.content


def test_expired_email_code_is_refused(make_user, browser_client):
    user = make_user("alice", superuser=True)
    device = add_email(user)
    client = browser_client()
    admin_login(client, user)
    client.post(VERIFY_URL, {"method": "email", "action": "send_email"})
    token = mail.outbox[0].body.strip().split()[-1]
    device.refresh_from_db()
    assert device.valid_until <= timezone.now() + timedelta(minutes=10)
    device.valid_until = timezone.now() - timedelta(seconds=1)
    device.save()
    assert verify(client, "email", token).status_code == 200
    assert not is_logged_in(client)


def test_backup_code_verifies_once(make_user, browser_client):
    user = make_user("alice", superuser=True)
    add_backup_codes(user, codes=["onlyonce01"])
    first = browser_client()
    admin_login(first, user)
    assert verify(first, "static", "onlyonce01").status_code == 302
    assert is_logged_in(first)
    assert SessionRecord.objects.get(user=user, ended_at=None).verified_device_type == (
        "otp_static"
    )
    second = browser_client()
    admin_login(second, user)
    assert verify(second, "static", "onlyonce01").status_code == 200
    assert not is_logged_in(second)


def test_the_page_offers_each_method_the_user_has(make_user, browser_client):
    user = make_user("alice", superuser=True)
    add_totp(user)
    add_email(user)
    add_backup_codes(user)
    client = browser_client()
    admin_login(client, user)
    content = client.get(VERIFY_URL).content.decode()
    assert "Enter the 6-digit code" in content
    assert "method=email" in content
    assert "method=static" in content
    assert "Backup codes" in content


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "http://testserver@evil.example/",
        "javascript:alert(1)",
        "/\\evil.example",
    ],
)
def test_next_only_honoured_for_same_host_urls(make_user, browser_client, target):
    user = make_user("alice", superuser=True)
    device = add_totp(user)
    client = browser_client()
    admin_login(client, user)
    response = verify(client, "totp", totp_code(device), next_url=target)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_next_is_escaped_in_the_page(make_user, browser_client):
    user = make_user("alice", superuser=True)
    add_totp(user)
    client = browser_client()
    admin_login(client, user)
    content = client.get(VERIFY_URL, {"next": '/admin/"><script>x</script>'}).content
    assert b"<script>x</script>" not in content


def test_verify_post_needs_a_csrf_token(make_user):
    user = make_user("alice", superuser=True)
    device = add_totp(user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(VERIFY_URL, {"method": "totp", "token": totp_code(device)})
    assert response.status_code == 403
    assert not is_logged_in(client)


def test_verify_step_sends_verified_and_deviceless_users_on(make_user, browser_client):
    user = make_user("alice", superuser=True)
    client = browser_client()
    admin_login(client, user)
    assert client.get(VERIFY_URL, {"next": "/admin/pages/"})["Location"] == "/admin/pages/"
    device = add_totp(user)
    verify(client, "totp", totp_code(device))
    assert client.get(VERIFY_URL)["Location"] == "/admin/"


def test_grace_page_shows_days_left(make_user, browser_client, settings):
    settings.WAGTAIL_2FA_SESSIONS_REQUIRE_2FA = ["Editors"]
    settings.WAGTAIL_2FA_SESSIONS_GRACE_DAYS = 3
    user = make_user("ed", groups=["Editors"])
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client = browser_client()
    admin_login(client, user)
    content = client.get("/admin/2fa-sessions/2fa/").content
    assert b"Add a method within 3 days" in content

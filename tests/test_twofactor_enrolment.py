"""Adding and removing factors in the user's own account pages."""

import re

import pytest
from django.core import mail
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from wagtail.models import ModelLogEntry

from wagtail_2fa_sessions import api, audit
from wagtail_2fa_sessions.models import SessionRecord

from .conftest import PASSWORD, admin_login, is_logged_in
from .twofactor_helpers import (
    BACKUP_URL,
    EMAIL_URL,
    REAUTH_URL,
    TOTP_URL,
    TWOFACTOR_URL,
    add_backup_codes,
    add_totp,
    totp_code,
    verify,
)

pytestmark = pytest.mark.django_db


def logged_in(make_user, browser_client, name="alice", **kwargs):
    user = make_user(name, **kwargs)
    client = browser_client()
    admin_login(client, user)
    return user, client


def reauth(client, password=PASSWORD):
    return client.post(REAUTH_URL, {"password": password, "next": TWOFACTOR_URL})


def forget_reauth(client):
    from wagtail_2fa_sessions.views.reauth import REAUTH_SESSION_KEY

    session = client.session
    session.pop(REAUTH_SESSION_KEY, None)
    session.save()


def secret_on_page(content):
    match = re.search(rb"data-totp-secret>([A-Z2-7 ]+)<", content)
    return match.group(1).decode().replace(" ", "")


def test_adding_a_factor_needs_a_recent_password(make_user, browser_client):
    _user, client = logged_in(make_user, browser_client)
    response = client.get(TOTP_URL)
    assert response.status_code == 302
    assert (
        response["Location"]
        == f"{REAUTH_URL}?next=%2Fadmin%2F2fa-sessions%2F2fa%2Fauthenticator-app%2F"
    )
    assert reauth(client, "wrong password").status_code == 200
    assert client.get(TOTP_URL).status_code == 302
    assert reauth(client)["Location"] == TWOFACTOR_URL
    assert client.get(TOTP_URL).status_code == 200


def test_recent_auth_expires(make_user, browser_client, settings):
    _user, client = logged_in(make_user, browser_client)
    reauth(client)
    settings.WAGTAIL_2FA_SESSIONS_REAUTH_SECONDS = 0
    assert client.get(TOTP_URL)["Location"].startswith(REAUTH_URL)


def test_reauth_next_cannot_leave_the_site(make_user, browser_client):
    _user, client = logged_in(make_user, browser_client)
    response = client.post(REAUTH_URL, {"password": PASSWORD, "next": "https://evil.example/"})
    assert response["Location"] == "/admin/"


def test_totp_enrolment_shows_a_local_qr_code_and_keeps_the_secret_on_reload(
    make_user, browser_client
):
    user, client = logged_in(make_user, browser_client)
    reauth(client)
    first = client.get(TOTP_URL)
    second = client.get(TOTP_URL)
    assert b"<svg" in first.content
    assert b"http" not in re.search(rb"<svg.*?</svg>", first.content, re.S).group(0).replace(
        b"http://www.w3.org/2000/svg", b""
    )
    assert secret_on_page(first.content) == secret_on_page(second.content)
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    assert api.user_devices(user) == []


def test_totp_enrolment_confirms_with_a_code_computed_from_the_shown_secret(
    make_user, browser_client
):
    user, client = logged_in(make_user, browser_client)
    reauth(client)
    content = client.get(TOTP_URL).content
    device = TOTPDevice.objects.get(user=user)
    from base64 import b32decode

    assert b32decode(secret_on_page(content)) == device.bin_key
    wrong = "000000" if totp_code(device) != "000000" else "111111"
    assert client.post(TOTP_URL, {"token": wrong}).status_code == 200
    # Past django-otp's one-second back-off after that failure.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    response = client.post(TOTP_URL, {"token": totp_code(device)})
    assert response["Location"] == TWOFACTOR_URL
    device.refresh_from_db()
    assert device.confirmed
    assert ModelLogEntry.objects.filter(action=audit.DEVICE_ADDED).count() == 1
    assert mail.outbox[-1].to == [user.email]
    assert "added" in mail.outbox[-1].subject
    # This session is now verified by the new device; the overview nudges backup codes.
    assert SessionRecord.objects.get(user=user).verified_device_type == "otp_totp"
    page = client.get(TWOFACTOR_URL).content
    assert b"Create backup codes now" in page


def test_email_enrolment_sends_a_code_and_confirms(make_user, browser_client):
    user, client = logged_in(make_user, browser_client)
    reauth(client)
    assert client.get(EMAIL_URL).status_code == 200
    client.post(EMAIL_URL, {"action": "send_email"})
    token = mail.outbox[-1].body.strip().split()[-1]
    assert client.post(EMAIL_URL, {"token": token})["Location"] == TWOFACTOR_URL
    assert [d._meta.app_label for d in api.user_devices(user)] == ["otp_email"]
    assert api.second_factor_methods(user) == ["email"]


def test_backup_codes_shown_once_single_use_and_regenerate_replaces_all(make_user, browser_client):
    user, client = logged_in(make_user, browser_client)
    verify(client, "totp", totp_code(add_totp(user)))
    reauth(client)
    response = client.post(BACKUP_URL)
    codes = re.findall(rb"<li><code>([0-9a-f]+)</code></li>", response.content)
    assert len(codes) == 10
    assert response["Cache-Control"].startswith("max-age=0")
    page = client.get(BACKUP_URL).content
    assert codes[0] not in page
    regenerated = re.findall(rb"<li><code>([0-9a-f]+)</code></li>", client.post(BACKUP_URL).content)
    assert not set(codes) & set(regenerated)
    assert StaticToken.objects.filter(device__user=user).count() == 10
    assert ModelLogEntry.objects.filter(action=audit.BACKUP_CODES_GENERATED).count() == 2

    other = Client(HTTP_USER_AGENT="x", REMOTE_ADDR="198.51.100.2")
    admin_login(other, user)
    assert verify(other, "static", codes[0].decode()).status_code == 200
    StaticDevice.objects.filter(user=user).update(throttling_failure_timestamp=None)
    assert verify(other, "static", regenerated[0].decode()).status_code == 302
    assert is_logged_in(other)
    assert StaticToken.objects.filter(device__user=user).count() == 9


def test_removing_a_device_needs_recent_auth_and_notifies(make_user, browser_client):
    user, client = logged_in(make_user, browser_client)
    device = add_totp(user)
    backup = add_backup_codes(user)
    verify(client, "totp", totp_code(device))
    forget_reauth(client)
    url = f"/admin/2fa-sessions/2fa/devices/otp_totp/{device.pk}/remove/"
    assert client.post(url)["Location"].startswith(REAUTH_URL)
    reauth(client)
    assert client.get(url).status_code == 200
    assert client.post(url)["Location"] == TWOFACTOR_URL
    assert api.user_devices(user) == [backup]
    assert ModelLogEntry.objects.filter(action=audit.DEVICE_REMOVED).count() == 1
    assert "removed" in mail.outbox[-1].subject
    # The session stays verified (by the remaining factor), not thrown back to verify.
    assert is_logged_in(client)


def test_a_user_cannot_see_or_remove_another_users_device(make_user, browser_client):
    victim = make_user("victim")
    victim_device = add_totp(victim)
    _user, client = logged_in(make_user, browser_client, name="mallory")
    reauth(client)
    url = f"/admin/2fa-sessions/2fa/devices/otp_totp/{victim_device.pk}/remove/"
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert api.user_devices(victim) == [victim_device]
    assert client.get("/admin/2fa-sessions/2fa/devices/otp_unknown/1/remove/").status_code == 404


def test_reauth_accepts_a_current_code_instead_of_the_password(make_user, browser_client):
    user, client = logged_in(make_user, browser_client)
    device = add_totp(user)
    verify(client, "totp", totp_code(device))
    forget_reauth(client)
    assert client.get(BACKUP_URL)["Location"].startswith(REAUTH_URL)
    response = client.post(REAUTH_URL, {"token": totp_code(device, steps_ahead=1)})
    assert response.status_code == 302
    assert client.get(BACKUP_URL).status_code == 200


@pytest.mark.parametrize(
    "url, data",
    [
        (REAUTH_URL, {"password": PASSWORD}),
        (TOTP_URL, {"token": "123456"}),
        (EMAIL_URL, {"action": "send_email"}),
        (BACKUP_URL, {}),
        ("/admin/2fa-sessions/2fa/devices/otp_totp/{pk}/remove/", {}),
        ("/admin/2fa-sessions/2fa/sessions/sign-out-others/", {}),
        ("/admin/2fa-sessions/2fa/sessions/{record}/sign-out/", {}),
    ],
)
def test_every_post_needs_a_csrf_token(make_user, url, data):
    user = make_user("alice")
    device = add_totp(user)
    setup = Client()
    admin_login(setup, user)
    other_record = SessionRecord.objects.get(user=user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    from django_otp import DEVICE_ID_SESSION_KEY

    from wagtail_2fa_sessions.views.reauth import REAUTH_SESSION_KEY

    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    import time

    session[REAUTH_SESSION_KEY] = time.time()
    session.save()
    response = client.post(url.format(pk=device.pk, record=other_record.pk), data)
    assert response.status_code == 403
    assert api.user_devices(user) == [device]
    assert SessionRecord.objects.get(pk=other_record.pk).revoked_at is None


def test_account_page_links_to_the_2fa_pages(make_user, browser_client):
    _user, client = logged_in(make_user, browser_client)
    content = client.get("/admin/account/").content
    assert TWOFACTOR_URL.encode() in content
    assert b"/admin/2fa-sessions/2fa/sessions/" in content


def test_wrong_reauth_passwords_count_towards_the_hourly_cap(make_user, browser_client, settings):
    settings.WAGTAIL_2FA_SESSIONS_VERIFY_FAILURES_PER_HOUR = 3
    _user, client = logged_in(make_user, browser_client)
    for _ in range(3):
        assert reauth(client, "wrong password").status_code == 200
    response = reauth(client)
    assert response.status_code == 200
    assert b"Try again in an hour" in response.content
    assert ModelLogEntry.objects.filter(action=audit.VERIFY_FAILED).count() == 4


def test_removing_the_last_factor_when_required_means_enrolling_again_now(
    make_user, browser_client, settings
):
    settings.WAGTAIL_2FA_SESSIONS_REQUIRE_2FA = True
    user, client = logged_in(make_user, browser_client)
    device = add_totp(user)
    verify(client, "totp", totp_code(device))
    client.post(f"/admin/2fa-sessions/2fa/devices/otp_totp/{device.pk}/remove/")
    assert api.twofactor_status(user).status == "overdue"
    assert client.get("/admin/")["Location"].startswith(TWOFACTOR_URL)

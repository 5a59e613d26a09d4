"""Who must use 2FA, the grace period, and what a half-logged-in session can reach."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wagtail_2fa_sessions import api, enforcement
from wagtail_2fa_sessions.models import SessionRecord, TwoFactorRequirement

from .conftest import admin_login, is_logged_in
from .twofactor_helpers import (
    BACKUP_URL,
    EMAIL_URL,
    REAUTH_URL,
    SESSIONS_URL,
    TOTP_URL,
    TWOFACTOR_URL,
    VERIFY_URL,
    add_totp,
    totp_code,
    verify,
)

pytestmark = pytest.mark.django_db

HALF_LOGGED_IN_REFUSED = [
    "/admin/",
    "/admin/pages/",
    "/admin/users/",
    "/admin/groups/",
    "/admin/account/",
    "/admin/documents/",
    "/admin/images/",
    "/admin/snippets/",
    "/admin/reports/site-history/",
    "/admin/2fa-sessions/",
    "/admin/2fa-sessions/users/",
    "/admin/2fa-sessions/api/summary/",
    TWOFACTOR_URL,
    REAUTH_URL,
    TOTP_URL,
    EMAIL_URL,
    BACKUP_URL,
    SESSIONS_URL,
    "/admin/2fa-sessions/2fa/sessions/sign-out-others/",
    "/admin/2fa-sessions/2fa/devices/otp_totp/1/remove/",
]


def half_logged_in(make_user, browser_client):
    user = make_user("alice", superuser=True)
    device = add_totp(user)
    client = browser_client()
    admin_login(client, user)
    return user, device, client


@pytest.mark.parametrize("url", HALF_LOGGED_IN_REFUSED)
def test_half_logged_in_session_reaches_nothing_but_verify(make_user, browser_client, url):
    _user, _device, client = half_logged_in(make_user, browser_client)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY_URL)


@pytest.mark.parametrize(
    "url", [TOTP_URL, BACKUP_URL, REAUTH_URL, SESSIONS_URL + "sign-out-others/"]
)
def test_half_logged_in_session_cannot_post_to_device_management(make_user, browser_client, url):
    user, device, client = half_logged_in(make_user, browser_client)
    response = client.post(url, {"password": "correct horse battery staple", "token": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY_URL)
    assert api.user_devices(user) == [device]


def test_half_logged_in_session_cannot_remove_its_device(make_user, browser_client):
    user, device, client = half_logged_in(make_user, browser_client)
    response = client.post(f"/admin/2fa-sessions/2fa/devices/otp_totp/{device.pk}/remove/")
    assert response["Location"].startswith(VERIFY_URL)
    assert api.user_devices(user) == [device]


def test_half_logged_in_session_can_log_out(make_user, browser_client):
    _user, _device, client = half_logged_in(make_user, browser_client)
    response = client.post("/admin/logout/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert SessionRecord.objects.get().ended_at is not None


def test_frontend_pages_are_not_gated(make_user, browser_client):
    _user, _device, client = half_logged_in(make_user, browser_client)
    assert client.get("/").status_code != 302


def test_verified_session_costs_no_extra_query(make_user, browser_client, settings):
    settings.WAGTAIL_2FA_SESSIONS_REQUIRE_2FA = True
    _user, device, client = half_logged_in(make_user, browser_client)
    verify(client, "totp", totp_code(device))
    client.get("/admin/account/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/admin/account/")
    device_queries = [q["sql"] for q in queries.captured_queries if '"otp_' in q["sql"]]
    # Only django-otp's own load of the verifying device; the gate adds nothing.
    assert len(device_queries) == 1
    assert "otp_totp_totpdevice" in device_queries[0]
    assert not any("twofactorrequirement" in q["sql"] for q in queries.captured_queries)


def test_user_without_device_and_no_requirement_is_not_asked_again(make_user, browser_client):
    user = make_user("bob", superuser=True)
    client = browser_client()
    admin_login(client, user)
    # The account page: the dashboard's own panels count 2FA users, which is not the gate.
    assert client.get("/admin/account/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/admin/account/").status_code == 200
    assert not any("otp_totp" in q["sql"] for q in queries.captured_queries)


# --- Policy ---


def test_requirement_for_everyone_with_admin_access(make_user, settings):
    settings.WAGTAIL_2FA_SESSIONS_REQUIRE_2FA = True
    editor = make_user("editor")
    outsider = get_user_model().objects.create_user("outsider", "o@example.com", "x")
    assert enforcement.is_required(editor)
    assert not enforcement.is_required(outsider)
    statuses = dict(
        enforcement.annotate_status(get_user_model().objects.all()).values_list(
            "username", "twofactor_status"
        )
    )
    assert statuses == {"editor": "grace", "outsider": "exempt"}


def test_group_based_requirement(make_user, settings):
    settings.WAGTAIL_2FA_SESSIONS_REQUIRE_2FA = ["Editors"]
    editor = make_user("editor", groups=["Editors"])
    moderator = make_user("moderator", groups=["Moderators"])
    admin = make_user("admin", superuser=True)
    assert enforcement.is_required(editor)
    assert not enforcement.is_required(moderator)
    assert not enforcement.is_required(admin)
    settings.WAGTAIL_2FA_SESSIONS_REQUIRE_2FA_SUPERUSERS = True
    assert enforcement.is_required(admin)
    statuses = dict(
        enforcement.annotate_status(get_user_model().objects.all()).values_list(
            "username", "twofactor_status"
        )
    )
    assert statuses == {"editor": "grace", "moderator": "exempt", "admin": "grace"}


def test_superusers_alone_can_be_required(make_user, settings):
    settings.WAGTAIL_2FA_SESSIONS_REQUIRE_2FA_SUPERUSERS = True
    assert enforcement.is_required(make_user("root", superuser=True))
    assert not enforcement.is_required(make_user("editor"))


def test_enrolled_users_are_enrolled_whatever_the_policy(make_user, settings):
    settings.WAGTAIL_2FA_SESSIONS_REQUIRE_2FA = True
    user = make_user("editor")
    add_totp(user)
    assert api.twofactor_status(user).status == "enrolled"
    annotated = enforcement.annotate_status(get_user_model().objects.filter(pk=user.pk)).get()
    assert annotated.twofactor_status == "enrolled"


# --- Grace period ---


def grace_user(make_user, browser_client, settings, days_ago):
    settings.WAGTAIL_2FA_SESSIONS_REQUIRE_2FA = True
    settings.WAGTAIL_2FA_SESSIONS_GRACE_DAYS = 7
    user = make_user("editor")
    TwoFactorRequirement.objects.create(
        user=user, required_since=timezone.now() - timedelta(days=days_ago)
    )
    client = browser_client()
    admin_login(client, user)
    return user, client


def test_grace_starts_at_the_first_admin_request_and_shows_a_banner(
    make_user, browser_client, settings
):
    settings.WAGTAIL_2FA_SESSIONS_REQUIRE_2FA = True
    settings.WAGTAIL_2FA_SESSIONS_GRACE_DAYS = 7
    user = make_user("editor")
    client = browser_client()
    admin_login(client, user)
    before = timezone.now()
    response = client.get("/admin/")
    assert response.status_code == 200
    assert b"Set it up within 7 days" in response.content
    requirement = TwoFactorRequirement.objects.get(user=user)
    assert requirement.required_since >= before - timedelta(seconds=1)
    assert api.twofactor_status(user).status == "grace"
    assert b"Two-factor authentication is required" not in client.get("/admin/pages/").content


def test_inside_grace_the_admin_is_open(make_user, browser_client, settings):
    _user, client = grace_user(make_user, browser_client, settings, days_ago=6)
    assert is_logged_in(client)


def test_just_inside_grace_boundary(make_user, browser_client, settings):
    settings.WAGTAIL_2FA_SESSIONS_GRACE_DAYS = 7
    user = make_user("editor")
    settings.WAGTAIL_2FA_SESSIONS_REQUIRE_2FA = True
    TwoFactorRequirement.objects.create(
        user=user, required_since=timezone.now() - timedelta(days=7) + timedelta(minutes=1)
    )
    assert api.twofactor_status(user).status == "grace"
    TwoFactorRequirement.objects.filter(user=user).update(
        required_since=timezone.now() - timedelta(days=7, seconds=1)
    )
    assert api.twofactor_status(user).status == "overdue"
    annotated = enforcement.annotate_status(get_user_model().objects.filter(pk=user.pk)).get()
    assert annotated.twofactor_status == "overdue"


def test_after_grace_the_user_is_sent_to_enrolment_before_anything_else(
    make_user, browser_client, settings
):
    _user, client = grace_user(make_user, browser_client, settings, days_ago=8)
    for url in ["/admin/", "/admin/pages/", "/admin/account/", SESSIONS_URL]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(TWOFACTOR_URL + "?next="), url
    assert client.get(TWOFACTOR_URL).status_code == 200
    response = client.get(TOTP_URL)
    assert response["Location"].startswith(REAUTH_URL)


def test_overdue_user_who_enrols_gets_in(make_user, browser_client, settings):
    user, client = grace_user(make_user, browser_client, settings, days_ago=8)
    response = client.post(
        REAUTH_URL + "?next=" + TOTP_URL, {"password": "correct horse battery staple"}
    )
    assert response["Location"] == TOTP_URL
    client.get(TOTP_URL)
    device = api.pending_totp_device(user)
    response = client.post(TOTP_URL, {"token": totp_code(device)})
    assert response.status_code == 302
    assert is_logged_in(client)
    assert SessionRecord.objects.get(user=user).verified_device_type == "otp_totp"


# --- Reset ---


def test_reset_makes_verified_sessions_unverified_at_the_next_request(
    make_user, browser_client, settings
):
    settings.WAGTAIL_2FA_SESSIONS_REQUIRE_2FA = True
    user = make_user("editor")
    device = add_totp(user)
    client = browser_client()
    admin_login(client, user)
    verify(client, "totp", totp_code(device))
    assert is_logged_in(client)
    admin = make_user("root", superuser=True)
    api.reset_2fa(user, by=admin)
    # Required and reset: straight to enrolment, no new grace period.
    response = client.get("/admin/")
    assert response["Location"].startswith(TWOFACTOR_URL)
    record = SessionRecord.objects.get(user=user)
    assert record.verified_at is None
    assert record.verified_device_type == ""
    assert api.twofactor_status(user).status == "overdue"


def test_reset_when_not_required_leaves_the_user_in(make_user, browser_client):
    user = make_user("editor")
    device = add_totp(user)
    client = browser_client()
    admin_login(client, user)
    verify(client, "totp", totp_code(device))
    api.reset_2fa(user)
    assert is_logged_in(client)
    assert SessionRecord.objects.get(user=user).verified_at is None


def test_revoke_all_sends_everyone_back_through_password_and_2fa(make_user, browser_client):
    user = make_user("editor")
    device = add_totp(user)
    client = browser_client()
    admin_login(client, user)
    verify(client, "totp", totp_code(device))
    assert is_logged_in(client)
    api.revoke_all()
    response = client.get("/admin/")
    assert "/admin/login/" in response["Location"]
    admin_login(client, user)
    assert client.get("/admin/")["Location"].startswith(VERIFY_URL)

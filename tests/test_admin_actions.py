"""Every mutating admin action: a confirmed POST that calls the ``api``, answers with a
message, is refused (403) to who may not do it, and ends up in Wagtail's history."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from wagtail.models import ModelLogEntry

from wagtail_2fa_sessions import api, operations
from wagtail_2fa_sessions.models import SessionRecord
from wagtail_2fa_sessions.tracking import RECORD_SESSION_KEY

from .admin_helpers import body, logged_in, staff
from .conftest import FIREFOX_LINUX, SAFARI_IPHONE, admin_login, has_session, is_logged_in

pytestmark = pytest.mark.django_db


def bulk_url(action, *users, **params):
    url = reverse("wagtail_bulk_action", args=["auth", "user", f"wagtail_2fa_sessions_{action}"])
    query = "&".join([f"id={user.pk}" for user in users] + [f"{k}={v}" for k, v in params.items()])
    return f"{url}?{query}"


def messages_of(response):
    return [str(message).strip() for message in get_messages(response.wsgi_request)]


@pytest.fixture
def victim(make_user, browser_client):
    """An editor logged in on a phone and a laptop, with an authenticator app and email OTP."""
    user = make_user("victim", groups=["Editors"])
    TOTPDevice.objects.create(user=user, name="app")
    EmailDevice.objects.create(user=user, name="email", email="victim@example.com")
    user.phone, user.laptop = browser_client(SAFARI_IPHONE), browser_client(FIREFOX_LINUX)
    admin_login(user.phone, user)
    admin_login(user.laptop, user)
    return user


def action_urls(victim):
    record = SessionRecord.objects.filter(user=victim).first()
    return {
        "revoke_session": reverse(
            "wagtail_2fa_sessions:revoke_session", args=[victim.pk, record.pk]
        ),
        "revoke_user_sessions": reverse(
            "wagtail_2fa_sessions:revoke_user_sessions", args=[victim.pk]
        ),
        "reset_2fa": reverse("wagtail_2fa_sessions:reset_2fa", args=[victim.pk]),
    }


def test_revoke_one_session_logs_that_browser_out(make_user, browser_client, victim):
    admin = make_user("root", superuser=True)
    client = logged_in(browser_client, admin)
    phone = SessionRecord.objects.get(user=victim, device_type="mobile")
    confirm = reverse("wagtail_2fa_sessions:revoke_session_confirm", args=[victim.pk, phone.pk])
    page = body(client.get(confirm)).decode()
    assert "Mobile Safari" in page and 'method="POST"' in page

    response = client.post(
        reverse("wagtail_2fa_sessions:revoke_session", args=[victim.pk, phone.pk])
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("wagtail_2fa_sessions:user_sessions", args=[victim.pk])
    assert messages_of(response) == ["Session of victim on Mobile Safari 17.4 revoked."]
    assert not has_session(victim.phone)
    assert has_session(victim.laptop)
    phone.refresh_from_db()
    assert (phone.status, phone.revoked_by) == ("revoked", admin)
    page = body(client.get(response["Location"])).decode()
    assert f'data-w2fa-session="{phone.pk}" data-w2fa-status="revoked"' in page
    assert "by root" in page


def test_revoke_all_of_a_user_sessions(make_user, browser_client, victim):
    client = logged_in(browser_client, staff(make_user, "manager", "sessions"))
    response = client.post(reverse("wagtail_2fa_sessions:revoke_user_sessions", args=[victim.pk]))
    assert messages_of(response) == ["2 sessions of victim revoked."]
    assert not has_session(victim.phone)
    assert not has_session(victim.laptop)
    assert not api.active_sessions(victim).exists()


def test_revoking_your_own_sessions_keeps_the_current_one(make_user, browser_client):
    admin = make_user("root", superuser=True)
    laptop, phone = browser_client(), browser_client(SAFARI_IPHONE)
    admin_login(laptop, admin)
    admin_login(phone, admin)
    own = laptop.session[RECORD_SESSION_KEY]

    response = laptop.post(reverse("wagtail_2fa_sessions:revoke_user_sessions", args=[admin.pk]))

    assert messages_of(response) == ["1 session of root revoked."]
    assert is_logged_in(laptop)
    assert not is_logged_in(phone)
    assert list(api.active_sessions(admin).values_list("pk", flat=True)) == [own]
    page = body(laptop.get(reverse("wagtail_2fa_sessions:user_sessions", args=[admin.pk])))
    assert b"Your current session" in page


def test_reset_2fa_deletes_devices_and_unverifies_sessions(make_user, browser_client, victim):
    SessionRecord.objects.filter(user=victim).update(verified_device_type="otp_totp")
    client = logged_in(browser_client, staff(make_user, "resetter", "reset"))
    response = client.post(reverse("wagtail_2fa_sessions:reset_2fa", args=[victim.pk]))
    assert messages_of(response) == ["2FA of victim reset: 2 devices deleted."]
    assert not TOTPDevice.objects.filter(user=victim).exists()
    assert not EmailDevice.objects.filter(user=victim).exists()
    assert not SessionRecord.objects.filter(user=victim, verified_at__isnull=False).exists()
    page = body(client.get(response["Location"])).decode()
    assert "data-w2fa-methods>Not set" in page


def test_get_on_action_endpoints_is_405(make_user, browser_client, victim):
    client = logged_in(browser_client, make_user("root", superuser=True))
    for name, url in action_urls(victim).items():
        assert client.get(url).status_code == 405, name
    assert api.active_sessions(victim).count() == 2
    assert TOTPDevice.objects.filter(user=victim).exists()


@pytest.mark.parametrize(
    ("level", "allowed"),
    [
        ("none", set()),
        ("view", set()),
        ("sessions", {"revoke_session", "revoke_user_sessions"}),
        ("reset", {"reset_2fa"}),
    ],
)
def test_actions_are_refused_without_their_permission(
    make_user, browser_client, victim, level, allowed
):
    client = logged_in(browser_client, staff(make_user, f"user-{level}", level))
    for name, url in action_urls(victim).items():
        if name in allowed:
            continue
        assert client.post(url).status_code == 403, name
    assert SessionRecord.objects.filter(user=victim, revoked_at__isnull=False).count() == 0
    assert TOTPDevice.objects.filter(user=victim).count() == 1
    for action in ("reset_2fa", "revoke_sessions"):
        needed = "reset" if action == "reset_2fa" else "sessions"
        response = client.post(bulk_url(action, victim))
        assert (response.status_code == 403) == (level != needed), (action, level)


def test_actions_are_csrf_protected(make_user, browser_client, victim):
    client = logged_in(browser_client, make_user("root", superuser=True))
    client.handler.enforce_csrf_checks = True
    for name, url in action_urls(victim).items():
        assert client.post(url).status_code == 403, name
    assert api.active_sessions(victim).count() == 2


def test_bulk_reset_2fa_confirms_then_resets_each_selected_user(make_user, browser_client, victim):
    other = make_user("other")
    TOTPDevice.objects.create(user=other, name="app")
    bystander = make_user("bystander")
    TOTPDevice.objects.create(user=bystander, name="app")
    client = logged_in(browser_client, staff(make_user, "resetter", "reset"))
    url = bulk_url("reset_2fa", victim, other, next=reverse("wagtail_2fa_sessions:users"))

    page = body(client.get(url)).decode()
    assert "Reset 2FA of 2 users" in page
    assert "Yes, reset 2FA" in page

    response = client.post(url)

    assert response.status_code == 302
    assert response["Location"] == reverse("wagtail_2fa_sessions:users")
    assert messages_of(response) == [
        "Two-factor authentication reset for 2 users: 3 devices deleted."
    ]
    assert not TOTPDevice.objects.filter(user__in=[victim, other]).exists()
    assert TOTPDevice.objects.filter(user=bystander).exists()


def test_bulk_revoke_sessions_keeps_the_admin_own_session(make_user, browser_client, victim):
    admin = make_user("root", superuser=True)
    admin_phone = browser_client(SAFARI_IPHONE)
    admin_login(admin_phone, admin)
    client = logged_in(browser_client, admin)

    response = client.post(bulk_url("revoke_sessions", victim, admin))

    assert messages_of(response) == ["3 sessions revoked for 2 users."]
    assert is_logged_in(client)
    assert not is_logged_in(admin_phone)
    assert not has_session(victim.phone)


def test_bulk_action_on_all_users_matching_the_report_search_and_filters(make_user, browser_client):
    matching = [make_user(f"editor{i}", groups=["Editors"]) for i in range(3)]
    excluded = make_user("editor-without-2fa", groups=["Editors"])
    unrelated = make_user("moderator")
    for user in [*matching, unrelated]:
        TOTPDevice.objects.create(user=user, name="app")
    client = logged_in(browser_client, make_user("root", superuser=True))
    report = reverse("wagtail_2fa_sessions:users")
    # What bulk-actions.js sends for "select all in listing": the listing's query string.
    url = bulk_url("reset_2fa", id="all", q="editor", two_factor="any", next=report)
    url = url.replace("?&", "?")

    response = client.post(url)

    assert messages_of(response) == [
        "Two-factor authentication reset for 3 users: 3 devices deleted."
    ]
    assert not TOTPDevice.objects.filter(user__in=matching).exists()
    assert TOTPDevice.objects.filter(user=unrelated).exists()
    assert excluded.pk not in {user.pk for user in matching}


def test_delete_all_2fa_link_only_for_the_reset_permission(make_user, browser_client):
    report = reverse("wagtail_2fa_sessions:users")
    link = reverse("wagtail_2fa_sessions:maintenance_confirm", args=["reset_all_2fa"])
    resetter = logged_in(browser_client, staff(make_user, "resetter", "reset"))
    assert f'href="{link}"' in body(resetter.get(report)).decode()
    manager = logged_in(browser_client, staff(make_user, "manager", "sessions"))
    assert link not in body(manager.get(report)).decode()


def test_session_cut_by_a_pending_revoke_all_shows_as_revoked(make_user, browser_client, victim):
    admin = make_user("root", superuser=True)
    client = logged_in(browser_client, admin)
    # Revoke All's first, constant-time step; the per-record bookkeeping has not run yet.
    operations.begin_revoke_all(by=admin, keep=[client.session[RECORD_SESSION_KEY]])
    assert SessionRecord.objects.filter(user=victim, revoked_at__isnull=True).count() == 2

    page = body(client.get(reverse("wagtail_2fa_sessions:user_sessions", args=[victim.pk])))
    page = page.decode()
    assert 'data-w2fa-status="active"' not in page
    assert page.count('data-w2fa-status="revoked"') == 2
    assert "data-w2fa-revoke-all" not in page
    assert "data-w2fa-active-count>0<" in page


def test_actions_are_in_site_history_with_readable_messages(make_user, browser_client, victim):
    admin = make_user("root", superuser=True)
    client = logged_in(browser_client, admin)
    record = SessionRecord.objects.filter(user=victim).first()
    client.post(reverse("wagtail_2fa_sessions:revoke_session", args=[victim.pk, record.pk]))
    client.post(reverse("wagtail_2fa_sessions:revoke_user_sessions", args=[victim.pk]))
    client.post(reverse("wagtail_2fa_sessions:reset_2fa", args=[victim.pk]))

    actions = list(
        ModelLogEntry.objects.filter(action__startswith="wagtail_2fa_sessions.")
        .order_by("timestamp")
        .values_list("action", "user__username")
    )
    assert actions == [
        ("wagtail_2fa_sessions.revoke_session", "root"),
        ("wagtail_2fa_sessions.revoke_user_sessions", "root"),
        ("wagtail_2fa_sessions.reset_2fa", "root"),
    ]
    history = body(client.get("/admin/reports/site-history/")).decode()
    assert "Revoked a session (Revoked by an admin)" in history
    assert "Revoked 1 session of a user (Revoked by an admin)" in history
    assert "Reset two-factor authentication: 2 devices deleted" in history


def test_view_only_users_see_the_audit_trail_on_the_plugin_pages(make_user, browser_client, victim):
    admin = make_user("root", superuser=True)
    record = SessionRecord.objects.filter(user=victim).first()
    api.revoke_session(record, by=admin, reason="lost phone")
    api.reset_2fa(victim, by=admin)
    viewer = logged_in(browser_client, staff(make_user, "viewer", "view"))

    dashboard = body(viewer.get(reverse("wagtail_2fa_sessions:dashboard"))).decode()
    user_page = body(
        viewer.get(reverse("wagtail_2fa_sessions:user_sessions", args=[victim.pk]))
    ).decode()
    for html in (dashboard, user_page):
        assert "data-w2fa-audit-trail" in html
        assert "Revoked a session (lost phone)" in html
        assert "Reset two-factor authentication: 2 devices deleted" in html
    # Site history shows view-only users the entries on session records (Wagtail shows an
    # entry to whoever holds a permission on its content type).
    history = body(viewer.get("/admin/reports/site-history/")).decode()
    assert "Revoked a session (lost phone)" in history


def test_a_user_without_the_plugins_permissions_cannot_probe_ids(make_user, browser_client):
    """Existing and missing users and session records answer alike: 403."""
    nosy, target = make_user("nosy"), make_user("target")
    client = logged_in(browser_client, nosy)
    record = SessionRecord.objects.filter(user=nosy).get()
    missing = 987654
    for pk, record_id in ((target.pk, record.pk), (missing, record.pk), (target.pk, missing)):
        assert (
            client.get(reverse("wagtail_2fa_sessions:user_sessions", args=[pk])).status_code == 403
        )
        confirm = reverse("wagtail_2fa_sessions:revoke_session_confirm", args=[pk, record_id])
        assert client.get(confirm).status_code == 403

"""The admin pages through the full middleware stack: who may open what, what they see,
and that everything a user or a browser typed is escaped."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils.html import escape
from django_otp.plugins.otp_totp.models import TOTPDevice

from wagtail_2fa_sessions import api
from wagtail_2fa_sessions.models import SessionRecord

from .admin_helpers import XSS, body, logged_in, staff
from .conftest import SAFARI_IPHONE, admin_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def target(make_user, browser_client):
    """An editor with one active session, so every per-user URL has something to show."""
    user = make_user("target", groups=["Editors"])
    admin_login(browser_client(SAFARI_IPHONE), user)
    return user


def page_urls(target):
    record = SessionRecord.objects.filter(user=target).first()
    return [
        reverse("wagtail_2fa_sessions:dashboard"),
        reverse("wagtail_2fa_sessions:users"),
        reverse("wagtail_2fa_sessions:users_results"),
        reverse("wagtail_2fa_sessions:user_sessions", args=[target.pk]),
        reverse("wagtail_2fa_sessions:revoke_session_confirm", args=[target.pk, record.pk]),
        reverse("wagtail_2fa_sessions:revoke_user_sessions_confirm", args=[target.pk]),
        reverse("wagtail_2fa_sessions:reset_2fa_confirm", args=[target.pk]),
        reverse("wagtail_2fa_sessions:api_summary"),
    ]


def test_anonymous_visitors_are_sent_to_the_login(client, target):
    for url in page_urls(target):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url


def test_admin_users_without_the_view_permission_get_403(make_user, browser_client, target):
    client = logged_in(browser_client, staff(make_user, "nobody", "none"))
    for url in page_urls(target):
        response = client.get(url)
        assert response.status_code == 403, url
    summary = client.get(reverse("wagtail_2fa_sessions:api_summary"))
    assert summary["Content-Type"] == "application/json"
    assert summary.json() == {"error": "permission denied"}


def test_view_only_users_see_every_page_but_no_action_buttons(make_user, browser_client, target):
    TOTPDevice.objects.create(user=target, name="phone")
    client = logged_in(browser_client, staff(make_user, "viewer", "view"))
    for url in page_urls(target)[:4]:
        assert client.get(url).status_code == 200, url
    user_page = body(client.get(reverse("wagtail_2fa_sessions:user_sessions", args=[target.pk])))
    assert b"data-w2fa-revoke" not in user_page
    assert b"data-w2fa-revoke-all" not in user_page
    assert b"data-w2fa-reset-2fa" not in user_page
    report = body(client.get(reverse("wagtail_2fa_sessions:users")))
    assert b"data-w2fa-delete-all-2fa" not in report
    # Confirmation pages of actions are closed too.
    for url in page_urls(target)[4:7]:
        assert client.get(url).status_code == 403, url


def test_action_buttons_follow_each_permission(make_user, browser_client, target):
    TOTPDevice.objects.create(user=target, name="phone")
    url = reverse("wagtail_2fa_sessions:user_sessions", args=[target.pk])
    sessions_page = body(logged_in(browser_client, staff(make_user, "s", "sessions")).get(url))
    assert b"data-w2fa-revoke-all" in sessions_page
    assert b"data-w2fa-revoke " in sessions_page or b"data-w2fa-revoke>" in sessions_page
    assert b"data-w2fa-reset-2fa" not in sessions_page
    reset_page = body(logged_in(browser_client, staff(make_user, "r", "reset")).get(url))
    assert b"data-w2fa-reset-2fa" in reset_page
    assert b"data-w2fa-revoke-all" not in reset_page


def test_menu_item_and_home_panel_only_for_the_view_permission(make_user, browser_client):
    viewer = logged_in(browser_client, staff(make_user, "viewer", "view"))
    home = body(viewer.get("/admin/")).decode()
    assert 'href="/admin/2fa-sessions/"' in home
    assert 'data-w2fa-figure="active_sessions"' in home
    assert "Expiring Today" in home

    nobody = logged_in(browser_client, staff(make_user, "nobody", "none"))
    home = body(nobody.get("/admin/")).decode()
    assert 'href="/admin/2fa-sessions/"' not in home
    assert "data-w2fa-figure" not in home


def test_dashboard_shows_figures_adoption_recent_logins_charts_and_maintenance(
    make_user, browser_client, target
):
    TOTPDevice.objects.create(user=target, name="phone")
    client = logged_in(browser_client, make_user("root", superuser=True))
    html = body(client.get(reverse("wagtail_2fa_sessions:dashboard"))).decode()
    summary = api.summary()
    for key in ("active_sessions", "active_users", "unique_devices", "expiring_today"):
        assert f'data-w2fa-figure="{key}"' in html
    assert f'<span class="w2fa-figure-value">{summary["active_sessions"]}</span>' in html
    # Each figure links to the report filtered to what it counts.
    assert "/admin/2fa-sessions/users/?sessions=active" in html
    assert "/admin/2fa-sessions/users/?sessions=expiring_today" in html
    # 1 of 2 active accounts (target, root) has 2FA.
    assert "<strong>1</strong> of 2 active accounts" in html
    assert "<strong>50%</strong>" in html
    assert html.count("<svg") >= 2
    assert "Logins per day" in html
    assert "Editors" in html  # adoption by role
    assert "Mobile Safari" in html  # recent logins: the target's phone
    assert "Session Maintenance" in html


def test_users_listing_and_user_edit_page_link_to_the_user_sessions(
    make_user, browser_client, target
):
    client = logged_in(browser_client, make_user("root", superuser=True))
    sessions_url = reverse("wagtail_2fa_sessions:user_sessions", args=[target.pk])
    listing = body(client.get("/admin/users/")).decode()
    assert sessions_url in listing
    # The bulk actions are registered for the user model: Wagtail's own listing offers them.
    assert "wagtail_2fa_sessions_reset_2fa" in listing
    assert "wagtail_2fa_sessions_revoke_sessions" in listing
    edit_page = body(client.get(f"/admin/users/edit/{target.pk}/")).decode()
    assert "data-w2fa-user-edit-link" in edit_page
    assert sessions_url in edit_page


def test_permissions_appear_in_the_group_editor(make_user, browser_client):
    client = logged_in(browser_client, make_user("root", superuser=True))
    html = body(client.get(reverse("wagtailusers_groups:add"))).decode()
    # Listed under the content type they belong to, as Wagtail lists custom permissions.
    assert "<h3>Session</h3>" in html
    for codename in ("view_dashboard", "manage_sessions", "reset_2fa"):
        permission = Permission.objects.get(
            content_type__app_label="wagtail_2fa_sessions", codename=codename
        )
        assert f'value="{permission.pk}"' in html, codename
        assert escape(permission.name) in html


def test_session_key_is_never_rendered(make_user, browser_client, target):
    client = logged_in(browser_client, make_user("root", superuser=True))
    keys = [key for key in SessionRecord.objects.values_list("session_key", flat=True) if key]
    assert keys
    for url in page_urls(target):
        html = body(client.get(url)).decode()
        for key in keys:
            assert key not in html, url


def test_user_supplied_strings_are_escaped_on_every_page(make_user, browser_client):
    evil = make_user(XSS, first_name=XSS, last_name=XSS, groups=[XSS])
    TOTPDevice.objects.create(user=evil, name=XSS)
    admin_login(browser_client(user_agent=XSS), evil)
    root = make_user("root", superuser=True)
    client = logged_in(browser_client, root)
    record = SessionRecord.objects.get(user=evil)
    api.revoke_session(record, by=root, reason=XSS)
    admin_login(browser_client(user_agent=f"Mozilla/5.0 {XSS}"), evil)
    bulk = reverse("wagtail_bulk_action", args=["auth", "user", "wagtail_2fa_sessions_reset_2fa"])
    urls = [
        *page_urls(evil),
        "/admin/",
        f"{reverse('wagtail_2fa_sessions:users')}?q=%3Cscript%3E",
        f"{bulk}?id={evil.pk}",
        "/admin/reports/site-history/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        html = body(response).decode()
        assert XSS not in html, url
    user_page = body(
        client.get(reverse("wagtail_2fa_sessions:user_sessions", args=[evil.pk]))
    ).decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in user_page

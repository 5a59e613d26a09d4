"""The maintenance admin pages: permissions, CSRF, methods, escaping, the panel."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from wagtail.models import ModelLogEntry

from wagtail_2fa_sessions import jobs
from wagtail_2fa_sessions.models import MaintenanceRun, SessionRecord
from wagtail_2fa_sessions.views.maintenance import MaintenancePanel

from .conftest import admin_login, is_logged_in

pytestmark = pytest.mark.django_db

CONFIRM = "/admin/2fa-sessions/maintenance/{}/"
STATUS = "/admin/2fa-sessions/maintenance/status/"


def grant(user, *codenames):
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="wagtail_2fa_sessions").filter(
            codename__in=codenames
        )
    )


@pytest.fixture
def editor(make_user, browser_client):
    """Admin access but none of the plugin's permissions."""
    user = make_user("editor")
    client = browser_client()
    admin_login(client, user)
    return user, client


@pytest.fixture
def manager(make_user, browser_client):
    user = make_user("manager")
    grant(user, "view_dashboard", "manage_sessions")
    client = browser_client()
    admin_login(client, user)
    return user, client


@pytest.mark.parametrize("action", ["cleanup", "revoke_all", "delete_all", "reset_all_2fa"])
def test_without_permission_every_action_is_refused(editor, action):
    _user, client = editor
    refused = client.get(CONFIRM.format(action))
    assert refused.status_code == 403
    # The plugin's own refusal page, in the admin's look, saying what to ask for.
    assert "wagtail_2fa_sessions/403.html" in [t.name for t in refused.templates]
    assert client.post(CONFIRM.format(action)).status_code == 403
    assert not MaintenanceRun.objects.exists()


def test_reset_all_2fa_needs_its_own_permission(manager):
    user, client = manager
    assert client.get(CONFIRM.format("cleanup")).status_code == 200
    assert client.post(CONFIRM.format("reset_all_2fa")).status_code == 403
    grant(user, "reset_2fa")
    assert client.post(CONFIRM.format("reset_all_2fa")).status_code == 302
    assert MaintenanceRun.objects.get().action == "reset_all_2fa"


def test_unknown_action_is_404(manager):
    assert manager[1].get(CONFIRM.format("drop_tables")).status_code == 404


def test_confirmation_page_says_what_and_how_many(manager, make_user, browser_client):
    for name in ("a", "b"):
        admin_login(browser_client(), make_user(name))
    _user, client = manager
    response = client.get(CONFIRM.format("revoke_all"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "must log in and pass two-factor" in content
    # Three active sessions, the manager's own excluded while "keep my session" is offered.
    assert "<span data-w2fa-count>2</span>" in content
    assert 'name="keep_own"' in content
    assert "csrfmiddlewaretoken" in content
    assert "Session Maintenance" in content  # the panel, below the form


def test_post_needs_csrf(make_user):
    user = make_user("manager")
    grant(user, "manage_sessions")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(CONFIRM.format("cleanup")).status_code == 403
    assert not MaintenanceRun.objects.exists()


def test_press_queues_a_run_and_answers_with_a_message(manager):
    user, client = manager
    response = client.post(CONFIRM.format("cleanup"), follow=True)
    run = MaintenanceRun.objects.get()
    assert (run.action, run.status, run.started_by, run.origin) == (
        "cleanup",
        "queued",
        user,
        "admin",
    )
    assert "Clean up expired has been queued" in response.content.decode()


def test_second_press_while_queued_does_not_start_a_second_run(manager):
    _user, client = manager
    client.post(CONFIRM.format("revoke_all"), {"keep_own": "1"})
    response = client.post(CONFIRM.format("revoke_all"), {"keep_own": "1"}, follow=True)
    assert MaintenanceRun.objects.count() == 1
    assert "already queued" in response.content.decode()
    jobs.execute(MaintenanceRun.objects.get().pk)
    client.post(CONFIRM.format("revoke_all"), {"keep_own": "1"})
    assert MaintenanceRun.objects.count() == 2, "a finished run does not block the next"


def test_next_url_is_followed_only_on_this_site(manager):
    _user, client = manager
    response = client.post(CONFIRM.format("cleanup"), {"next": "/admin/pages/"})
    assert response["Location"] == "/admin/pages/"
    MaintenanceRun.objects.update(status="finished")
    response = client.post(CONFIRM.format("cleanup"), {"next": "https://evil.example/"})
    assert "evil" not in response["Location"]


def test_status_endpoint(manager, editor):
    _user, client = manager
    client.post(CONFIRM.format("cleanup"))
    data = client.get(STATUS).json()
    assert data["any_open"] is True
    assert data["runs"][0]["status"] == "queued"
    jobs.execute(data["runs"][0]["id"])
    data = client.get(STATUS).json()
    assert data["any_open"] is False
    assert data["runs"][0]["status"] == "finished"
    assert data["runs"][0]["started_by"] == "manager"
    assert data["runs"][0]["duration_seconds"] >= 0
    assert 'data-status="finished"' in data["html"]
    assert client.post(STATUS).status_code == 405
    assert editor[1].get(STATUS).status_code == 403


def test_run_details_are_escaped(manager, make_user, rf):
    hostile = make_user("<script>alert(1)</script>")
    MaintenanceRun.objects.create(
        action="cleanup", status="failed", started_by=hostile, error="<img src=x onerror=alert(2)>"
    )
    html = manager[1].get(STATUS).json()["html"]
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "<img src=x" not in html and "&lt;img src=x" in html
    request = rf.get("/admin/")
    request.user = manager[0]
    panel = MaintenancePanel(request).render_html()
    assert "<script>alert(1)" not in panel and "&lt;img src=x" in panel


def test_panel_shows_buttons_only_to_managers(manager, editor, rf):
    for user, expected in ((manager[0], 3), (editor[0], 0)):
        request = rf.get("/admin/")
        request.user = user
        assert MaintenancePanel(request).render_html().count("data-w2fa-action=") == expected


def test_panel_shows_progress_of_a_running_job(manager, rf):
    MaintenanceRun.objects.create(action="delete_all", status="running", rows_done=5, rows_total=8)
    request = rf.get("/admin/")
    request.user = manager[0]
    html = MaintenancePanel(request).render_html()
    assert '<progress max="8" value="5">' in html
    assert "5 of 8 rows" in html


def test_every_run_is_logged_in_wagtail_history(manager):
    user, client = manager
    client.post(CONFIRM.format("cleanup"))
    run = MaintenanceRun.objects.get()
    jobs.execute(run.pk)
    entry = ModelLogEntry.objects.get(action="wagtail_2fa_sessions.maintenance_finished")
    assert entry.user == user
    assert entry.object_id == str(run.pk)
    assert json.loads(json.dumps(entry.data))["job"] == "cleanup"


def test_revoke_all_button_keeps_the_presser_only_when_asked(manager):
    _user, client = manager
    client.post(CONFIRM.format("revoke_all"))
    run = MaintenanceRun.objects.get()
    assert run.options == {"keep": []}
    assert not is_logged_in(client)
    assert SessionRecord.objects.active().count() == 0

"""A second press of Revoke All / Delete All while a run is open, and runs abandoned
by a killed process."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from wagtail_2fa_sessions import api, jobs
from wagtail_2fa_sessions.models import GlobalRevocation, MaintenanceRun, SessionRecord

from .conftest import admin_login, is_logged_in

pytestmark = pytest.mark.django_db

CONFIRM = "/admin/2fa-sessions/maintenance/{}/"
STATUS = "/admin/2fa-sessions/maintenance/status/"


@pytest.mark.parametrize("action", ["revoke_all", "delete_all"])
def test_second_press_while_queued_logs_out_logins_since_the_first(
    action, make_user, browser_client
):
    admin = make_user("admin", superuser=True)
    first, created = jobs.enqueue(action, by=admin)
    assert created
    thief = browser_client()
    admin_login(thief, make_user("intruder"))  # logs in after the first press
    assert is_logged_in(thief)

    again, created = jobs.enqueue(action, by=admin)
    assert not created and again.pk == first.pk and again.cutoff_renewed
    assert not is_logged_in(thief), "the second press logs everyone out again"
    newest = GlobalRevocation.objects.latest("revoked_before")
    assert again.revocation_id == newest.pk != first.revocation_id
    assert MaintenanceRun.objects.count() == 1

    jobs.execute(first.pk)
    first.refresh_from_db()
    assert first.status == "finished"
    if action == "revoke_all":
        assert SessionRecord.objects.filter(revoked_at__isnull=True).count() == 0
    else:
        assert not SessionRecord.objects.exists()


def test_press_while_running_is_finished_by_the_running_run(make_user, browser_client, monkeypatch):
    """A run already working on an older cutoff picks up the newer one before it ends."""
    users = [make_user(f"user{i}") for i in range(3)]
    clients = [browser_client() for _user in users]
    for client, user in zip(clients, users, strict=True):
        admin_login(client, user)
    run, _ = jobs.create_run("revoke_all")
    late = browser_client()
    real_revoke_all = api.revoke_all

    def revoke_all(*, on_progress, **kwargs):
        def press_again_midway(done):
            on_progress(done)
            if not late.cookies:
                admin_login(late, make_user("late"))
                jobs.create_run("revoke_all")

        return real_revoke_all(on_progress=press_again_midway, **kwargs)

    monkeypatch.setattr(api, "revoke_all", revoke_all)
    assert jobs.execute(run.pk) == 4
    run.refresh_from_db()
    assert run.status == "finished" and run.rows_done == 4
    assert run.revocation == GlobalRevocation.objects.latest("revoked_before")
    assert SessionRecord.objects.filter(revoked_at__isnull=True).count() == 0
    assert not is_logged_in(late)


def test_second_press_in_the_admin_says_everyone_was_logged_out_again(make_user, browser_client):
    admin = make_user("admin", superuser=True)
    client = browser_client()
    admin_login(client, admin)
    client.post(CONFIRM.format("revoke_all"), {"keep_own": "1"})
    response = client.post(CONFIRM.format("revoke_all"), {"keep_own": "1"}, follow=True)
    assert "everyone was logged out again" in response.content.decode()
    assert is_logged_in(client), "keep_own still spares the admin's own session"
    assert MaintenanceRun.objects.count() == 1


def test_command_while_a_run_is_queued_logs_out_again(make_user, browser_client, capsys):
    jobs.enqueue("delete_all")
    client = browser_client()
    admin_login(client, make_user("late"))
    call_command("twofactor_sessions_delete_all", "--yes")
    assert "everyone was logged out again" in capsys.readouterr().out
    assert not is_logged_in(client)


def abandon(run, minutes=16):
    """What a killed inline command, a lost broker message or a django-q2 that gave up
    leaves behind: an open run whose heartbeat stopped."""
    long_ago = timezone.now() - timedelta(minutes=minutes)
    MaintenanceRun.objects.filter(pk=run.pk).update(
        status="running", started_at=long_ago, updated_at=long_ago, attempts=1
    )


def test_a_stalled_run_is_taken_over_by_the_command(make_user, capsys):
    old = timezone.now() - timedelta(days=40)
    SessionRecord.objects.create(user=make_user("u"), ended_at=old, expires_at=old)
    run, _ = jobs.create_run("cleanup", origin="command")
    abandon(run)
    call_command("twofactor_sessions_cleanup")
    assert "Clean up expired:" in capsys.readouterr().out
    run.refresh_from_db()
    assert (run.status, run.attempts, run.result) == ("finished", 2, 1)
    assert MaintenanceRun.objects.count() == 1


def test_a_stalled_run_is_taken_over_by_the_schedule_and_the_button():
    run, _ = jobs.create_run("cleanup", origin="command")
    abandon(run)
    assert jobs.scheduled_cleanup() == 0
    run.refresh_from_db()
    assert run.status == "finished"

    queued, _ = jobs.create_run("reset_all_2fa")
    abandon(queued)
    again, created = jobs.enqueue("reset_all_2fa")
    assert created and again.pk == queued.pk, "taken over and queued again"


def test_a_run_with_a_fresh_heartbeat_still_blocks(settings):
    run, _ = jobs.create_run("cleanup", origin="command")
    abandon(run, minutes=10)
    with pytest.raises(CommandError, match="already running"):
        call_command("twofactor_sessions_cleanup")
    settings.WAGTAIL_2FA_SESSIONS_JOB_LEASE = timedelta(minutes=5)
    call_command("twofactor_sessions_cleanup")
    run.refresh_from_db()
    assert run.status == "finished"


def test_two_callers_take_over_a_stalled_run_once():
    run, _ = jobs.create_run("cleanup")
    abandon(run)
    stale = MaintenanceRun.objects.get(pk=run.pk)
    assert jobs._take_over(stale)
    assert not jobs._take_over(stale), "the heartbeat it saw is gone"


def test_a_stalled_revoke_all_taken_over_finishes_the_newest_cutoff(make_user, browser_client):
    run, _ = jobs.create_run("revoke_all")
    abandon(run)
    client = browser_client()
    admin_login(client, make_user("late"))
    again, created = jobs.run_now("revoke_all")
    assert created and again.pk == run.pk and again.status == "finished"
    assert not is_logged_in(client)
    assert SessionRecord.objects.filter(revoked_at__isnull=True).count() == 0


def test_the_panel_shows_a_stalled_run(make_user, browser_client):
    admin = make_user("admin", superuser=True)
    client = browser_client()
    admin_login(client, admin)
    run, _ = jobs.create_run("cleanup")
    abandon(run)
    response = client.get(STATUS)
    data = response.json()
    assert [entry["stalled"] for entry in data["runs"]] == [True]
    assert "Stalled" in data["html"]


def test_the_confirmation_page_says_what_a_press_does_to_an_open_run(make_user, browser_client):
    admin = make_user("admin", superuser=True)
    jobs.create_run("delete_all")  # logs everyone out: log in after it
    client = browser_client()
    admin_login(client, admin)
    page = client.get(CONFIRM.format("delete_all")).content.decode()
    assert "confirming logs everyone out again" in page
    run, _ = jobs.create_run("cleanup")
    assert (
        "will not start it a second time" in client.get(CONFIRM.format("cleanup")).content.decode()
    )
    abandon(run)
    assert "confirming takes it over" in client.get(CONFIRM.format("cleanup")).content.decode()

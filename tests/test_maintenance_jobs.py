"""Jobs under faults: the duplicate-press guard, kill-and-rerun, failures, the schedule,
and the management commands."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_q.models import Schedule
from wagtail.models import ModelLogEntry

from wagtail_2fa_sessions import api, jobs, schedule
from wagtail_2fa_sessions.models import MaintenanceRun, ScheduleMarker, SessionRecord

from .conftest import admin_login, is_logged_in

pytestmark = pytest.mark.django_db


class Interrupted(Exception):
    pass


def old_records(user, count, days=40):
    long_ago = timezone.now() - timedelta(days=days)
    return SessionRecord.objects.bulk_create(
        SessionRecord(user=user, device_id=f"d{i}", ended_at=long_ago, expires_at=long_ago)
        for i in range(count)
    )


def crash_after_first_batch(done):
    raise Interrupted(f"worker killed after {done} rows")


def test_cleanup_interrupted_after_one_batch_finishes_on_rerun(settings, make_user, browser_client):
    settings.WAGTAIL_2FA_SESSIONS_BATCH_SIZE = 2
    user = make_user("alice")
    client = browser_client()
    admin_login(client, user)
    old_records(user, 7)
    assert SessionRecord.objects.count() == 8

    with pytest.raises(Interrupted):
        api.cleanup_expired(on_progress=crash_after_first_batch)
    assert SessionRecord.objects.count() == 6, "the first batch is committed, nothing more"

    assert api.cleanup_expired() == 5
    assert list(SessionRecord.objects.values_list("user__username", flat=True)) == ["alice"]
    assert is_logged_in(client)
    assert api.cleanup_expired() == 0


def test_revoke_all_killed_mid_run_resumes_with_the_same_cutoff(
    settings, make_user, browser_client
):
    settings.WAGTAIL_2FA_SESSIONS_BATCH_SIZE = 2
    users = [make_user(f"user{i}") for i in range(5)]
    clients = []
    for user in users:
        clients.append(browser_client())
        admin_login(clients[-1], user)
    run, _ = jobs.create_run("revoke_all")
    with pytest.raises(Interrupted):
        api.revoke_all(revocation=run.revocation, on_progress=crash_after_first_batch)
    # The worker died: the run is left "running" with its progress.
    MaintenanceRun.objects.filter(pk=run.pk).update(status="running", rows_done=2, attempts=1)
    assert SessionRecord.objects.filter(revoked_at__isnull=False).count() == 2
    admin_login(clients[0], users[0])  # a fresh login before the task is handed out again

    assert jobs.execute(run.pk) == 5
    run.refresh_from_db()
    assert (run.status, run.attempts, run.rows_done, run.rows_total) == ("finished", 2, 5, 5)
    assert SessionRecord.objects.filter(revoked_at__isnull=False).count() == 5
    assert is_logged_in(clients[0])
    assert not any(is_logged_in(client) for client in clients[1:])


def test_delete_all_resumed_after_a_crash_deletes_nothing_twice(settings, make_user):
    settings.WAGTAIL_2FA_SESSIONS_BATCH_SIZE = 3
    user = make_user("alice")
    old_records(user, 10, days=1)
    run, _ = jobs.create_run("delete_all")
    with pytest.raises(Interrupted):
        api.delete_all(revocation=run.revocation, on_progress=crash_after_first_batch)
    assert SessionRecord.objects.count() == 7
    # The first attempt died before it wrote its progress, so the run counts the rest.
    assert jobs.execute(run.pk) == 7
    assert not SessionRecord.objects.exists()
    assert jobs.execute(run.pk) is None


def test_a_failing_job_is_marked_failed_with_its_error_and_logged(settings, make_user):
    admin = make_user("root", superuser=True)
    settings.WAGTAIL_2FA_SESSIONS_BATCH_SIZE = "many"  # a real misconfiguration
    run, _ = jobs.run_now("cleanup", by=admin)
    assert run.status == "failed"
    assert "ValueError" in run.error
    assert run.finished_at is not None
    entry = ModelLogEntry.objects.get(action="wagtail_2fa_sessions.maintenance_failed")
    assert entry.user == admin
    # A failed run does not block the next press, and is never run again by itself.
    settings.WAGTAIL_2FA_SESSIONS_BATCH_SIZE = 100
    assert jobs.execute(run.pk) is None
    again, created = jobs.run_now("cleanup", by=admin)
    assert created and again.status == "finished"


def test_only_one_open_run_per_action_at_database_level():
    MaintenanceRun.objects.create(action="cleanup")
    MaintenanceRun.objects.create(action="revoke_all")
    MaintenanceRun.objects.create(action="cleanup", status="finished")
    with pytest.raises(IntegrityError), transaction.atomic():
        MaintenanceRun.objects.create(action="cleanup", status="running")


def test_enqueue_returns_the_open_run(make_user):
    admin = make_user("root", superuser=True)
    first, created = jobs.enqueue("cleanup", by=admin)
    assert created
    second, created = jobs.enqueue("cleanup", by=admin)
    assert not created and second.pk == first.pk
    MaintenanceRun.objects.filter(pk=first.pk).update(status="running")
    third, created = jobs.enqueue("cleanup")
    assert not created and third.pk == first.pk


@pytest.mark.django_db(transaction=True)
def test_two_presses_at_the_same_instant_make_one_run():
    barrier = threading.Barrier(2)
    results = []

    def press():
        try:
            barrier.wait()
            results.append(jobs.create_run("delete_all"))
        finally:
            connection.close()

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert MaintenanceRun.objects.count() == 1
    assert sorted(created for _, created in results) == [False, True]
    assert len({run.pk for run, _ in results}) == 1


def test_progress_is_written_while_it_runs(settings, make_user, monkeypatch):
    settings.WAGTAIL_2FA_SESSIONS_BATCH_SIZE = 2
    user = make_user("alice")
    old_records(user, 5)
    monkeypatch.setattr(jobs, "PROGRESS_EVERY", 0)
    seen = []

    def watch(done):
        seen.append(MaintenanceRun.objects.values_list("rows_done", "rows_total").get())
        if done >= 4:
            raise Interrupted

    run, _ = jobs.create_run("cleanup")
    progress = jobs._Progress(run, 0)
    with pytest.raises(Interrupted):
        api.cleanup_expired(on_progress=lambda done: (progress(done), watch(done)))
    assert seen == [(2, None), (4, None)]


# The schedule.


def test_migrate_created_the_schedule_once():
    assert Schedule.objects.filter(name=schedule.NAME).count() == 1
    assert ScheduleMarker.objects.filter(name=schedule.NAME).exists()
    again, what = schedule.ensure_schedule()
    assert what == "exists"
    assert Schedule.objects.filter(name=schedule.NAME).count() == 1
    assert again.schedule_type == Schedule.DAILY
    assert again.func == "wagtail_2fa_sessions.jobs.scheduled_cleanup"
    local = timezone.localtime(again.next_run)
    assert (local.hour, local.minute) == (3, 30)


def test_an_admin_who_deletes_or_edits_the_schedule_is_not_overridden():
    existing = Schedule.objects.get(name=schedule.NAME)
    existing.schedule_type = Schedule.WEEKLY
    existing.save()
    call_command("migrate", verbosity=0)
    assert Schedule.objects.get(name=schedule.NAME).schedule_type == Schedule.WEEKLY

    Schedule.objects.filter(name=schedule.NAME).delete()
    call_command("migrate", verbosity=0)
    assert schedule.ensure_schedule() == (None, "left alone")
    assert not Schedule.objects.filter(name=schedule.NAME).exists()

    call_command("twofactor_sessions_schedule", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Schedule.objects.get(name=schedule.NAME).schedule_type == Schedule.DAILY


def test_schedule_command_reset_restores_the_setting(settings, capsys):
    Schedule.objects.filter(name=schedule.NAME).update(schedule_type=Schedule.WEEKLY)
    settings.WAGTAIL_2FA_SESSIONS_CLEANUP_SCHEDULE = "hourly"
    call_command("twofactor_sessions_schedule")
    assert Schedule.objects.get(name=schedule.NAME).schedule_type == Schedule.WEEKLY
    call_command("twofactor_sessions_schedule", "--reset")
    assert Schedule.objects.get(name=schedule.NAME).schedule_type == Schedule.HOURLY
    assert "reset" in capsys.readouterr().out


def test_schedule_can_be_disabled(settings):
    settings.WAGTAIL_2FA_SESSIONS_CLEANUP_SCHEDULE = None
    Schedule.objects.all().delete()
    ScheduleMarker.objects.all().delete()
    assert schedule.ensure_schedule() == (None, "disabled")
    with pytest.raises(CommandError, match="no schedule"):
        call_command("twofactor_sessions_schedule")
    assert not Schedule.objects.exists()


def test_a_cron_schedule_needs_croniter(settings):
    settings.WAGTAIL_2FA_SESSIONS_CLEANUP_SCHEDULE = "30 3 * * *"
    from django_q.conf import croniter

    if croniter is None:
        with pytest.raises(ImproperlyConfigured, match="croniter"):
            schedule.schedule_fields()
    else:
        assert schedule.schedule_fields()["schedule_type"] == Schedule.CRON


def test_the_scheduled_function_runs_a_cleanup(make_user):
    user = make_user("alice")
    old_records(user, 3)
    assert jobs.scheduled_cleanup() == 3
    run = MaintenanceRun.objects.get()
    assert (run.origin, run.status, run.started_by) == ("schedule", "finished", None)
    MaintenanceRun.objects.create(action="cleanup", status="running")
    assert jobs.scheduled_cleanup() is None, "skips while a cleanup is running"


# The commands.


def test_cleanup_command_prints_counts(make_user, capsys):
    old_records(make_user("alice"), 4)
    call_command("twofactor_sessions_cleanup")
    out = capsys.readouterr().out
    assert "4 old session records deleted" in out
    assert MaintenanceRun.objects.get().origin == "command"


def test_cleanup_command_enqueue_hands_the_job_to_the_cluster(capsys):
    call_command("twofactor_sessions_cleanup", "--enqueue")
    run = MaintenanceRun.objects.get()
    assert run.status == "queued"
    assert "queued as run" in capsys.readouterr().out
    with pytest.raises(CommandError, match="already queued"):
        call_command("twofactor_sessions_cleanup")


def test_destructive_commands_ask_first(make_user, browser_client, monkeypatch, capsys):
    client = browser_client()
    admin_login(client, make_user("alice"))
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="Cancelled"):
        call_command("twofactor_sessions_revoke_all")
    assert "1 active sessions will be revoked" in capsys.readouterr().out
    assert is_logged_in(client)
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    call_command("twofactor_sessions_revoke_all")
    assert "1 sessions revoked" in capsys.readouterr().out
    assert not is_logged_in(client)


def test_delete_all_command_no_input(make_user, browser_client, capsys):
    client = browser_client()
    admin_login(client, make_user("alice"))
    call_command("twofactor_sessions_delete_all", "--no-input")
    assert "1 session records deleted" in capsys.readouterr().out
    assert not SessionRecord.objects.exists()
    assert not is_logged_in(client)


def test_twofactor_reset_command(make_user, capsys):
    alice, bob = make_user("alice"), make_user("bob")
    TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)
    TOTPDevice.objects.create(user=bob, name="phone", confirmed=True)
    with pytest.raises(CommandError, match="No such user: nobody"):
        call_command("twofactor_reset", "alice", "nobody", "--yes")
    assert TOTPDevice.objects.count() == 2, "nothing changes when a name is wrong"
    with pytest.raises(CommandError, match="either usernames or --all"):
        call_command("twofactor_reset", "--yes")
    with pytest.raises(CommandError, match="either usernames or --all"):
        call_command("twofactor_reset", "alice", "--all", "--yes")
    call_command("twofactor_reset", "alice", "--yes")
    assert "alice: 1 devices deleted" in capsys.readouterr().out
    assert list(TOTPDevice.objects.values_list("user__username", flat=True)) == ["bob"]
    call_command("twofactor_reset", "--all", "--yes")
    assert "1 devices deleted" in capsys.readouterr().out
    assert not TOTPDevice.objects.exists()


def test_check_warns_when_retry_does_not_exceed_timeout(settings):
    from wagtail_2fa_sessions.checks import check_q_cluster

    assert check_q_cluster(None) == []
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 600, "retry": 600}
    assert [warning.id for warning in check_q_cluster(None)] == ["wagtail_2fa_sessions.W002"]


def test_check_warns_when_timeout_is_left_at_django_q2s_default(settings):
    from wagtail_2fa_sessions.checks import check_q_cluster

    cluster = dict(settings.Q_CLUSTER)
    cluster.pop("timeout")
    cluster.pop("retry")
    settings.Q_CLUSTER = cluster  # django-q2's defaults: timeout None, retry 60
    warnings = check_q_cluster(None)
    assert [warning.id for warning in warnings] == ["wagtail_2fa_sessions.W002"]
    assert "Q_CLUSTER['timeout']" in warnings[0].hint


def test_twofactor_reset_usernames_enqueue_hands_each_reset_to_the_cluster(
    settings, make_user, capsys, django_capture_on_commit_callbacks
):
    if "orm" not in settings.Q_CLUSTER:
        pytest.skip("reads the queued tasks back from django-q2's ORM broker")
    from django.utils.module_loading import import_string
    from django_q.brokers import get_broker
    from django_q.signing import SignedPackage

    alice, bob = make_user("alice"), make_user("bob")
    TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)
    TOTPDevice.objects.create(user=bob, name="phone", confirmed=True)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("twofactor_reset", "alice", "bob", "--enqueue", "--yes")
    assert "alice: 2FA reset queued." in capsys.readouterr().out
    assert TOTPDevice.objects.count() == 2, "nothing is reset before a worker runs it"

    broker = get_broker()
    tasks = []
    while batch := broker.dequeue():  # one task per call with django-q2's default "bulk"
        tasks += [SignedPackage.loads(payload) for _ack, payload in batch]
    tasks = [task for task in tasks if task["func"] == jobs.RESET_USER_TASK]
    assert sorted(task["args"][0] for task in tasks) == [alice.pk, bob.pk]
    for task in tasks:  # what a worker does with each
        assert import_string(task["func"])(*task["args"], **task["kwargs"]) == 1
    assert not TOTPDevice.objects.exists()
    assert ModelLogEntry.objects.filter(action="wagtail_2fa_sessions.reset_2fa").count() == 2

"""Each maintenance action through the admin view and the real task function, on every
session engine, with real logins: counts before and after, who is logged out and who not."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from wagtail_2fa_sessions import api, jobs
from wagtail_2fa_sessions.models import GlobalRevocation, MaintenanceRun, SessionRecord

from .conftest import FIREFOX_LINUX, SAFARI_IPHONE, admin_login, is_logged_in

pytestmark = pytest.mark.django_db

CONFIRM = "/admin/2fa-sessions/maintenance/{}/"


def press(client, action, **data):
    """POST the confirmation form as the admin would; returns the run it queued."""
    response = client.post(CONFIRM.format(action), data)
    assert response.status_code == 302, response.content[:300]
    return MaintenanceRun.objects.filter(action=action).latest("created_at")


def run_task(run):
    """What the cluster's worker does with the queued task."""
    jobs.execute(run.pk)
    run.refresh_from_db()
    return run


@pytest.fixture
def logged_in(make_user, browser_client):
    """An admin and two editors, each logged in through the real login form."""
    admin = make_user("root", superuser=True)
    alice, bob = make_user("alice"), make_user("bob")
    clients = {}
    for user, agent in ((admin, None), (alice, FIREFOX_LINUX), (bob, SAFARI_IPHONE)):
        client = browser_client(agent) if agent else browser_client()
        admin_login(client, user)
        clients[user.username] = client
    return admin, alice, bob, clients


def test_revoke_all_logs_everyone_out_at_once_and_keeps_the_admin(session_engine, logged_in):
    admin, alice, _bob, clients = logged_in
    assert api.summary()["active_sessions"] == 3

    run = press(clients["root"], "revoke_all", keep_own="1")

    # Effective before the job ran: the cutoff was taken in the request.
    assert run.status == MaintenanceRun.Status.QUEUED
    assert not is_logged_in(clients["alice"])
    assert not is_logged_in(clients["bob"])
    assert is_logged_in(clients["root"])
    assert api.summary()["active_sessions"] == 1

    run = run_task(run)
    assert run.status == MaintenanceRun.Status.FINISHED
    assert run.result == 2
    assert run.rows_done == 2
    assert run.started_by == admin
    revoked = SessionRecord.objects.filter(revoked_at__isnull=False)
    assert sorted(revoked.values_list("user__username", flat=True)) == ["alice", "bob"]
    assert set(revoked.values_list("revoked_by", flat=True)) == {admin.pk}
    assert api.active_sessions().get().user == admin
    assert is_logged_in(clients["root"])
    # Alice logs in again and stays in: a re-run of the finished job changes nothing.
    admin_login(clients["alice"], alice)
    assert jobs.execute(run.pk) is None
    assert is_logged_in(clients["alice"])


def test_revoke_all_without_keeping_own_session(session_engine, logged_in):
    _admin, _alice, _bob, clients = logged_in
    run = press(clients["root"], "revoke_all")
    assert not is_logged_in(clients["root"])
    assert run_task(run).result == 3
    assert api.summary()["active_sessions"] == 0


def test_a_login_during_revoke_all_survives_the_bookkeeping(session_engine, logged_in, make_user):
    _admin, alice, _bob, clients = logged_in
    run = press(clients["root"], "revoke_all", keep_own="1")
    admin_login(clients["alice"], alice)  # logs in again before the worker gets to it
    run_task(run)
    assert is_logged_in(clients["alice"])
    assert not is_logged_in(clients["bob"])
    assert api.summary()["active_sessions"] == 2


def test_delete_all_removes_records_and_store_data(session_engine, logged_in):
    _admin, _alice, _bob, clients = logged_in
    assert SessionRecord.objects.count() == 3
    run = press(clients["root"], "delete_all")
    assert GlobalRevocation.objects.get().kind == "delete_all"
    assert not is_logged_in(clients["alice"])

    run = run_task(run)
    assert run.status == MaintenanceRun.Status.FINISHED
    assert run.result == 3
    assert SessionRecord.objects.count() == 0
    if session_engine.endswith((".db", ".cached_db")):
        assert Session.objects.count() == 0
    for client in clients.values():
        assert not is_logged_in(client)


def test_delete_all_spares_logins_made_while_it_runs(session_engine, logged_in):
    _admin, alice, _bob, clients = logged_in
    run = press(clients["root"], "delete_all")
    admin_login(clients["alice"], alice)
    run_task(run)
    assert is_logged_in(clients["alice"])
    assert not is_logged_in(clients["bob"])
    assert list(SessionRecord.objects.values_list("user__username", flat=True)) == ["alice"]
    if session_engine.endswith((".db", ".cached_db")):
        assert Session.objects.count() == 1


def age(record, **fields):
    SessionRecord.objects.filter(pk=record.pk).update(**fields)


def test_cleanup_removes_old_records_and_expired_store_data(session_engine, logged_in, settings):
    settings.WAGTAIL_2FA_SESSIONS_RETENTION = timedelta(days=30)
    _admin, _alice, _bob, clients = logged_in
    long_ago = timezone.now() - timedelta(days=40)
    recently = timezone.now() - timedelta(days=2)
    active = list(SessionRecord.objects.all())
    user = active[0].user
    make = SessionRecord.objects.create
    old = [
        make(user=user, device_id="a", ended_at=long_ago, expires_at=timezone.now()),
        make(user=user, device_id="b", revoked_at=long_ago, expires_at=timezone.now()),
        make(user=user, device_id="c", expires_at=long_ago),
    ]
    kept = [
        make(user=user, device_id="d", ended_at=recently, expires_at=timezone.now()),
        make(user=user, device_id="e", expires_at=recently),
    ]
    if session_engine.endswith((".db", ".cached_db")):
        Session.objects.create(
            session_key="x" * 32, session_data="", expire_date=timezone.now() - timedelta(1)
        )
    assert api.maintenance_pending("cleanup") == len(old)

    run = run_task(press(clients["root"], "cleanup"))
    assert run.status == MaintenanceRun.Status.FINISHED
    assert run.result == 3
    assert run.rows_total == 3
    remaining = set(SessionRecord.objects.values_list("pk", flat=True))
    assert remaining == {record.pk for record in active + kept}
    assert not SessionRecord.objects.filter(pk__in=[record.pk for record in old]).exists()
    if session_engine.endswith((".db", ".cached_db")):
        assert not Session.objects.filter(session_key="x" * 32).exists()
        assert Session.objects.count() == 3
    for client in clients.values():
        assert is_logged_in(client)


def test_cleanup_with_zero_retention_removes_ended_sessions_at_once(
    settings, logged_in, browser_client
):
    settings.WAGTAIL_2FA_SESSIONS_RETENTION = timedelta(0)
    _admin, _alice, bob, clients = logged_in
    clients["bob"].post("/admin/logout/")
    run = run_task(press(clients["root"], "cleanup"))
    assert run.result == 1
    assert not SessionRecord.objects.filter(user=bob).exists()
    assert is_logged_in(clients["alice"])


def test_reset_all_2fa_deletes_devices_and_unverifies_sessions(logged_in, make_user):
    _admin, alice, bob, clients = logged_in
    TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)
    StaticDevice.objects.create(user=alice, name="backup", confirmed=True)
    TOTPDevice.objects.create(user=bob, name="phone", confirmed=True)
    SessionRecord.objects.filter(user__in=[alice, bob]).update(
        verified_at=timezone.now(), verified_device_type="otp_totp"
    )
    assert api.maintenance_pending("reset_all_2fa") == 2

    run = run_task(press(clients["root"], "reset_all_2fa"))
    assert run.status == MaintenanceRun.Status.FINISHED
    assert run.result == 3
    assert run.rows_done == 2
    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists()
    assert not SessionRecord.objects.filter(verified_at__isnull=False).exists()
    assert api.summary()["users_with_2fa"] == 0

"""A real django-q2 ``qcluster`` process runs the jobs the admin buttons queue.

The cluster is started on the test database (a file on SQLite, the test database on
PostgreSQL) with the broker the sandbox settings choose: the ORM broker, or Redis when
``REDIS_URL`` is set."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice

from wagtail_2fa_sessions.models import MaintenanceRun, SessionRecord

from .conftest import admin_login

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
CONFIRM = "/admin/2fa-sessions/maintenance/{}/"
STATUS = "/admin/2fa-sessions/maintenance/status/"


def is_logged_in(client):
    # Not the Wagtail dashboard: a transactional test's flush removed its root page.
    # Logged out, the admin redirects to its login page; logged in, it answers (200/403).
    return client.get(STATUS).status_code != 302


def cluster_database_url():
    """A DATABASE_URL for the subprocess that names the test database."""
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite":
        if name == ":memory:" or "mode=memory" in name:
            pytest.skip("the cluster needs a file-based SQLite test database")
        return f"sqlite:///{name}?timeout=20"
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture
def qcluster(tmp_path):
    env = {**os.environ, "DATABASE_URL": cluster_database_url(), "PYTHONUNBUFFERED": "1"}
    log_path = tmp_path / "qcluster.log"
    log = open(log_path, "w")  # noqa: SIM115
    process = subprocess.Popen(
        # With the system checks: the cluster must start on the settings a site would use.
        [sys.executable, str(ROOT / "sandbox" / "manage.py"), "qcluster"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    process.log_path = log_path
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        stop_group(process.pid)
        log.close()


def stop_group(pgid, timeout=10):
    """Wait until the cluster's workers (its process group) are gone too, so none holds a
    connection to the test database when it is dropped."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def wait_for(run, cluster, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if not run.is_open:
            return run
        time.sleep(0.2)
    log = cluster.log_path.read_text()[-3000:]
    raise AssertionError(f"run {run.pk} still {run.status} after {timeout} s\n{log}")


def press(client, action, **data):
    response = client.post(CONFIRM.format(action), data)
    assert response.status_code == 302
    return MaintenanceRun.objects.filter(action=action).latest("created_at")


def press_and_wait(client, cluster, action, **data):
    return wait_for(press(client, action, **data), cluster)


def run_every_action_on_the_cluster(make_user, browser_client, qcluster):
    admin, alice, bob = make_user("root", superuser=True), make_user("alice"), make_user("bob")
    clients = {}
    for user in (admin, alice, bob):
        clients[user.username] = browser_client()
        admin_login(clients[user.username], user)
    TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)
    root = clients["root"]

    cleanup = press_and_wait(root, qcluster, "cleanup")
    assert cleanup.status == "finished", cleanup.error
    assert cleanup.task_id

    revoke = press_and_wait(root, qcluster, "revoke_all", keep_own="1")
    assert (revoke.status, revoke.result) == ("finished", 2), revoke.error
    assert not is_logged_in(clients["alice"]) and not is_logged_in(clients["bob"])
    assert is_logged_in(root)

    # One user's reset, queued by the command, run by a worker.
    TOTPDevice.objects.create(user=bob, name="phone", confirmed=True)
    call_command("twofactor_reset", "bob", "--enqueue", "--yes")
    deadline = time.monotonic() + 60
    while TOTPDevice.objects.filter(user=bob).exists():
        assert time.monotonic() < deadline, qcluster.log_path.read_text()[-3000:]
        time.sleep(0.2)
    assert TOTPDevice.objects.filter(user=alice).exists()

    reset = press_and_wait(root, qcluster, "reset_all_2fa")
    assert (reset.status, reset.result) == ("finished", 1), reset.error
    assert not TOTPDevice.objects.exists()

    delete = press_and_wait(root, qcluster, "delete_all")
    assert (delete.status, delete.result) == ("finished", 3), delete.error
    assert not SessionRecord.objects.exists()
    assert not is_logged_in(root)
    assert qcluster.poll() is None, "the cluster is still up"


@pytest.mark.skipif(
    bool(settings.REDIS_URL), reason="REDIS_URL is set, so the sandbox uses the Redis broker"
)
def test_orm_broker_cluster_runs_each_action(make_user, browser_client, qcluster):
    assert settings.Q_CLUSTER.get("orm") == "default"
    run_every_action_on_the_cluster(make_user, browser_client, qcluster)


@pytest.mark.skipif(
    not settings.REDIS_URL,
    reason="set REDIS_URL (e.g. redis://127.0.0.1:6379/0) to run the cluster on the Redis broker",
)
def test_redis_broker_cluster_runs_each_action(make_user, browser_client, qcluster):
    assert settings.Q_CLUSTER.get("redis") == settings.REDIS_URL
    run_every_action_on_the_cluster(make_user, browser_client, qcluster)


def manage(*args):
    env = {**os.environ, "DATABASE_URL": cluster_database_url()}
    return subprocess.run(
        [sys.executable, str(ROOT / "sandbox" / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_commands_exit_non_zero_on_failure(make_user):
    make_user("alice")
    failed = manage("twofactor_reset", "alice", "nobody", "--no-input")
    assert failed.returncode == 1
    assert "No such user: nobody" in failed.stderr
    done = manage("twofactor_sessions_cleanup")
    assert done.returncode == 0, done.stderr
    assert "old session records deleted" in done.stdout
    assert MaintenanceRun.objects.get().status == "finished"

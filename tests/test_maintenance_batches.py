"""Clean Up Expired in bounded batches: restartable, with progress, store rows included."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wagtail_2fa_sessions import api, stores
from wagtail_2fa_sessions.models import SessionRecord

pytestmark = pytest.mark.django_db

DB_ENGINE = "django.contrib.sessions.backends.db"


def store_rows(count, *, expired, prefix):
    expire_date = timezone.now() + (timedelta(days=-1) if expired else timedelta(days=1))
    Session.objects.bulk_create(
        Session(session_key=f"{prefix}{i:031d}", session_data="", expire_date=expire_date)
        for i in range(count)
    )


def deletes_on(queries, table):
    quoted = f'"{table}"'
    statements = (q["sql"] for q in queries)
    return [
        sql for sql in statements if sql.startswith("DELETE") and quoted in sql.split("WHERE")[0]
    ]


def test_store_sweep_deletes_expired_rows_in_bounded_statements(settings):
    settings.SESSION_ENGINE = DB_ENGINE
    settings.WAGTAIL_2FA_SESSIONS_BATCH_SIZE = 2
    store_rows(5, expired=True, prefix="e")
    store_rows(3, expired=False, prefix="l")

    with CaptureQueriesContext(connection) as queries:
        stores.clear_expired()

    assert Session.objects.filter(expire_date__lt=timezone.now()).count() == 0
    assert Session.objects.count() == 3
    statements = deletes_on(queries.captured_queries, Session._meta.db_table)
    # 2 + 2 + 1: a short batch ends the sweep, no statement ever holds all five.
    assert len(statements) == 3


def test_cleanup_reports_progress_across_expired_and_closed_records(settings, make_user):
    settings.WAGTAIL_2FA_SESSIONS_BATCH_SIZE = 2
    settings.WAGTAIL_2FA_SESSIONS_RETENTION = timedelta(days=30)
    user = make_user("alice")
    long_ago = timezone.now() - timedelta(days=40)
    later = timezone.now() + timedelta(days=1)
    make = SessionRecord.objects.create
    for i in range(3):
        make(user=user, device_id=f"expired{i}", expires_at=long_ago)
    for i in range(2):
        make(user=user, device_id=f"ended{i}", ended_at=long_ago, expires_at=later)
    make(user=user, device_id="revoked", revoked_at=long_ago, expires_at=long_ago)
    kept = make(user=user, device_id="active", expires_at=later)
    progress = []

    assert api.cleanup_expired(on_progress=progress.append) == 6

    assert list(SessionRecord.objects.values_list("pk", flat=True)) == [kept.pk]
    assert progress == sorted(progress) and progress[-1] == 6


def test_cleanup_of_expired_sessions_interrupted_finishes_on_rerun(settings, make_user):
    settings.WAGTAIL_2FA_SESSIONS_BATCH_SIZE = 2
    user = make_user("alice")
    long_ago = timezone.now() - timedelta(days=40)
    SessionRecord.objects.bulk_create(
        SessionRecord(user=user, device_id=f"d{i}", expires_at=long_ago) for i in range(5)
    )
    kept = SessionRecord.objects.create(
        user=user, device_id="active", expires_at=timezone.now() + timedelta(days=1)
    )

    class Interrupted(Exception):
        pass

    def crash(done):
        raise Interrupted(done)

    with pytest.raises(Interrupted):
        api.cleanup_expired(on_progress=crash)
    assert SessionRecord.objects.count() == 4, "the first batch is committed, nothing more"
    assert api.cleanup_expired() == 3
    assert list(SessionRecord.objects.values_list("pk", flat=True)) == [kept.pk]

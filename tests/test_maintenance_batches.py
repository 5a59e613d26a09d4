"""Clean Up Expired in bounded batches: restartable, with progress, store rows included."""

import threading
import unittest.mock
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.db.models.signals import post_delete
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wagtail_2fa_sessions import api, batching, stores
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


def _interleaved(user, count, *, long_ago, later):
    """``count`` records and store rows, every other one expired 40 days ago."""
    SessionRecord.objects.bulk_create(
        SessionRecord(
            user=user,
            device_id=f"d{i}",
            session_key=f"k{i:031d}",
            expires_at=long_ago if i % 2 else later,
        )
        for i in range(count)
    )
    Session.objects.bulk_create(
        Session(
            session_key=f"k{i:031d}",
            session_data="x" * 200,
            expire_date=long_ago if i % 2 else later,
        )
        for i in range(count)
    )


@contextmanager
def store_sweep_threads():
    """The threads the session store's sweep runs in, one entry per sweep."""
    threads = []
    real_clear_expired = stores.clear_expired

    def clear_expired():
        threads.append(threading.get_ident())
        real_clear_expired()

    with unittest.mock.patch.object(stores, "clear_expired", clear_expired):
        yield threads


class DeleteLog:
    """``execute_wrapper``: each DELETE's SQL and how many rows it removed."""

    def __init__(self):
        self.deletes = []

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith("DELETE"):
            self.deletes.append((sql, context["cursor"].rowcount))
        return result


def test_physical_walk_keeps_every_statement_within_batch_size(settings, make_user):
    """On PostgreSQL an analyzed table is walked in heap-page ranges (ctid), on SQLite in
    rowid ranges; either way no DELETE removes more than BATCH_SIZE rows."""
    settings.SESSION_ENGINE = DB_ENGINE
    settings.WAGTAIL_2FA_SESSIONS_BATCH_SIZE = 200  # above one heap page's rows
    long_ago = timezone.now() - timedelta(days=40)
    later = timezone.now() + timedelta(days=1)
    _interleaved(make_user("alice"), 1600, long_ago=long_ago, later=later)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # the page walk sizes its ranges from these
            cursor.execute(f"ANALYZE {SessionRecord._meta.db_table}, {Session._meta.db_table}")
    log = DeleteLog()

    with connection.execute_wrapper(log):
        assert api.cleanup_expired() == 800

    assert SessionRecord.objects.count() == 800
    assert not SessionRecord.objects.filter(expires_at__lt=timezone.now()).exists()
    assert Session.objects.count() == 800
    assert not Session.objects.filter(expire_date__lt=timezone.now()).exists()
    assert log.deletes and max(rows for _, rows in log.deletes) <= 200
    assert sum(rows for _, rows in log.deletes) == 1600
    walk = {"postgresql": "ctid", "sqlite": "rowid"}.get(connection.vendor)
    if walk:
        assert all(walk in sql for sql, _ in log.deletes), log.deletes[0][0]


@pytest.fixture
def page_walk(settings):
    """PostgreSQL only, with BATCH_SIZE above one heap page's rows; (long ago, tomorrow)."""
    if connection.vendor != "postgresql":
        pytest.skip("the page walk is PostgreSQL's")
    settings.WAGTAIL_2FA_SESSIONS_BATCH_SIZE = 200
    return timezone.now() - timedelta(days=40), timezone.now() + timedelta(days=1)


def test_page_walk_narrows_its_ranges_over_rows_denser_than_the_statistics(page_walk):
    """Statistics taken over wide rows, then a long stretch of narrow ones: after the
    first over-full range the walk shrinks its ranges to the density it found."""
    long_ago, later = page_walk
    with connection.cursor() as cursor:  # an empty heap: no dead rows of earlier tests
        cursor.execute(f"TRUNCATE {Session._meta.db_table}")
    Session.objects.bulk_create(
        Session(session_key=f"w{i:031d}", session_data="w" * 1500, expire_date=later)
        for i in range(100)
    )
    with connection.cursor() as cursor:  # about 5 rows per page, so 40 pages a range
        cursor.execute(f"ANALYZE {Session._meta.db_table}")
    Session.objects.bulk_create(
        Session(session_key=f"n{i:031d}", session_data="n", expire_date=long_ago)
        for i in range(30_000)
    )
    log = DeleteLog()

    with connection.execute_wrapper(log):
        deleted = batching.delete_in_batches(Session.objects.filter(expire_date__lt=timezone.now()))

    assert deleted == 30_000 and Session.objects.count() == 100
    rows = [count for _, count in log.deletes]
    assert all("ctid" in sql for sql, _ in log.deletes)
    # Ranges of 40 pages would put about 4,000 narrow rows in each statement; the walk
    # goes over twice (the first range, half wide rows, underrates the narrow ones).
    over = [count for count in rows if count > 200]
    assert len(over) <= 2, rows[:10]
    assert len(rows) > 40, "the narrowed ranges hold at most BATCH_SIZE rows each"


def test_page_walk_does_not_grow_back_into_a_second_dense_stretch(page_walk):
    """Dense, sparse, dense again: after the first dense stretch the ranges stay sized
    for it, so the second one puts no statement over BATCH_SIZE."""
    long_ago, later = page_walk
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Session._meta.db_table}")

    def rows(prefix, count, *, wide, expired):
        Session.objects.bulk_create(
            Session(
                session_key=f"{prefix}{i:031d}",
                session_data="w" * 1500 if wide else "n",
                expire_date=long_ago if expired else later,
            )
            for i in range(count)
        )

    rows("a", 100, wide=True, expired=False)
    with connection.cursor() as cursor:  # about 5 rows per page, so 40 pages a range
        cursor.execute(f"ANALYZE {Session._meta.db_table}")
    rows("b", 3000, wide=False, expired=True)  # dense: about 100 rows a page
    rows("c", 1000, wide=True, expired=False)  # 200 pages with nothing to delete
    rows("d", 3000, wide=False, expired=True)  # dense again
    log = DeleteLog()

    with connection.execute_wrapper(log):
        deleted = batching.delete_in_batches(Session.objects.filter(expire_date__lt=timezone.now()))

    assert deleted == 6000 and Session.objects.count() == 1100
    counts = [count for _, count in log.deletes]
    assert len([count for count in counts if count > 200]) <= 2, counts


def test_page_walk_keeps_delete_signals_and_filters_that_match_all_or_nothing(page_walk):
    """The walk runs one precompiled DELETE per range only where Django would delete
    without its collector; a model with a delete receiver still gets a signal per row."""
    long_ago, later = page_walk
    Session.objects.bulk_create(
        Session(
            session_key=f"s{i:031d}", session_data="x", expire_date=long_ago if i % 2 else later
        )
        for i in range(1000)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Session._meta.db_table}")
    gone = []

    def receiver(sender, instance, **kwargs):
        gone.append(instance.pk)

    log = DeleteLog()
    post_delete.connect(receiver, sender=Session)
    try:
        with connection.execute_wrapper(log):
            expired = Session.objects.filter(expire_date__lt=timezone.now())
            assert batching.delete_in_batches(expired) == 500
    finally:
        post_delete.disconnect(receiver, sender=Session)
    assert len(gone) == 500 and Session.objects.count() == 500
    assert log.deletes and max(rows for _, rows in log.deletes) <= 200

    assert batching.delete_in_batches(Session.objects.none()) == 0
    assert batching.delete_in_batches(Session.objects.filter(pk__in=[])) == 0
    assert Session.objects.count() == 500
    log = DeleteLog()
    with connection.execute_wrapper(log):
        assert batching.delete_in_batches(Session.objects.all()) == 500
    assert not Session.objects.exists()
    assert log.deletes and all("ctid" in sql for sql, _ in log.deletes)


class ReadReplicaRouter:
    """Reads go to a replica (an alias this test run has no connection to)."""

    def db_for_read(self, model, **hints):
        return "replica"

    def db_for_write(self, model, **hints):
        return "default"


def test_batches_read_and_write_on_the_database_rows_are_written_to(settings, make_user):
    """A replica may lag (a batch would miss rows) or refuse writes: every batch, its
    SELECT included, goes to the write database."""
    settings.SESSION_ENGINE = DB_ENGINE
    settings.WAGTAIL_2FA_SESSIONS_BATCH_SIZE = 7
    long_ago = timezone.now() - timedelta(days=40)
    later = timezone.now() + timedelta(days=1)
    _interleaved(make_user("alice"), 40, long_ago=long_ago, later=later)
    expired = {"expires_at__lt": long_ago + timedelta(days=1)}
    settings.DATABASE_ROUTERS = [f"{__name__}.ReadReplicaRouter"]

    assert SessionRecord.objects.all().db == "replica"
    assert batching.for_write(SessionRecord.objects.all()).db == "default"
    assert batching.for_write(SessionRecord.objects.using("default")).db == "default"
    assert batching.delete_in_batches(Session.objects.filter(expire_date__lt=timezone.now())) == 20
    assert (
        batching.in_key_ranges(
            SessionRecord.objects.filter(**expired), lambda batch: batch.update(ended_at=long_ago)
        )
        == 20
    )
    assert (
        batching.in_batches(
            SessionRecord.objects.filter(**expired),
            lambda pks: SessionRecord.objects.filter(pk__in=pks).delete()[0],
        )
        == 20
    )
    settings.DATABASE_ROUTERS = []
    assert Session.objects.count() == 20 and SessionRecord.objects.count() == 20


@pytest.mark.django_db(transaction=True)
def test_with_autocommit_off_batches_leave_the_callers_transaction_alone(settings, make_user):
    """AUTOCOMMIT off (or set_autocommit(False)) is a caller's transaction too: no
    asynchronous commit leaks into it, and no second connection is used."""
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit and the second connection are PostgreSQL's")
    settings.SESSION_ENGINE = DB_ENGINE
    settings.WAGTAIL_2FA_SESSIONS_BATCH_SIZE = 200
    long_ago = timezone.now() - timedelta(days=40)
    _interleaved(make_user("alice"), 1600, long_ago=long_ago, later=timezone.now() + timedelta(1))
    with connection.cursor() as cursor:  # the page walk
        for model in (SessionRecord, Session):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    transaction.set_autocommit(False)
    try:
        with store_sweep_threads() as threads, CaptureQueriesContext(connection) as queries:
            result = api.cleanup_expired()
        remaining = Session.objects.count()
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            setting = cursor.fetchone()[0]
        transaction.rollback()
    finally:
        transaction.set_autocommit(True)

    assert result == 800 and remaining == 800
    assert setting == "on"
    assert threads == [threading.get_ident()], "the store sweep ran in the caller's thread"
    assert not any("synchronous_commit" in q["sql"] for q in queries.captured_queries)
    assert SessionRecord.objects.count() == 1600, "rolled back with the caller's transaction"


def test_run_alongside_runs_in_order_inside_a_transaction():
    calls = []
    result = batching.run_alongside(
        lambda: calls.append(("work", threading.get_ident())) or 7,
        lambda: calls.append(("other", threading.get_ident())),
    )
    assert result == 7
    assert calls == [("work", threading.get_ident()), ("other", threading.get_ident())]


def test_run_alongside_raises_the_other_jobs_error_inside_a_transaction():
    with pytest.raises(ZeroDivisionError):
        batching.run_alongside(lambda: 1, lambda: 1 / 0)


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_store_sweep_overlaps_on_a_second_connection(settings, make_user):
    if connection.vendor != "postgresql":
        pytest.skip("the overlapping sweep is PostgreSQL only (SQLite has one writer)")
    settings.SESSION_ENGINE = DB_ENGINE
    long_ago = timezone.now() - timedelta(days=40)
    later = timezone.now() + timedelta(days=1)
    _interleaved(make_user("alice"), 40, long_ago=long_ago, later=later)
    settings.WAGTAIL_2FA_SESSIONS_BATCH_SIZE = 7
    with store_sweep_threads() as threads:
        assert api.cleanup_expired() == 20
    assert threads and threading.get_ident() not in threads
    assert Session.objects.count() == 20 and SessionRecord.objects.count() == 20

    def failing():
        raise RuntimeError("store unreachable")

    with pytest.raises(RuntimeError, match="store unreachable"):
        batching.run_alongside(lambda: 1, failing)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("walk", ["key ranges", "page ranges"])
def test_on_postgresql_each_batch_commits_without_waiting_for_the_wal_flush(
    settings, make_user, walk
):
    """Each batch is its own transaction with synchronous_commit off for that transaction
    only: nothing leaks into the connection (a pooler would hand it to someone else)."""
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    settings.WAGTAIL_2FA_SESSIONS_BATCH_SIZE = 200  # above one heap page's rows
    long_ago = timezone.now() - timedelta(days=40)
    _interleaved(make_user("alice"), 1600, long_ago=long_ago, later=timezone.now())
    if walk == "page ranges":  # statistics make the walk go by heap pages
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {SessionRecord._meta.db_table}")

    with CaptureQueriesContext(connection) as queries:
        assert (
            batching.delete_in_batches(
                SessionRecord.objects.filter(expires_at__lt=long_ago + timedelta(days=1))
            )
            == 800
        )

    statements = [q["sql"] for q in queries.captured_queries]
    deletes = [i for i, sql in enumerate(statements) if sql.startswith("DELETE")]
    assert len(deletes) >= 3
    if walk == "page ranges":
        # One round trip per batch: the DELETE is its own transaction and sets the
        # transaction-local value itself.
        local_off = "set_config('synchronous_commit', 'off', true)"
        assert all("ctid" in statements[i] and local_off in statements[i] for i in deletes)
        assert not any(sql in ("BEGIN", "COMMIT") for sql in statements)
    else:
        assert all(statements[i - 1] == "SET LOCAL synchronous_commit TO OFF" for i in deletes)
        assert all(statements[i + 1] == "COMMIT" for i in deletes)
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


@pytest.mark.parametrize("analyzed", [False, True])
def test_inside_a_transaction_batches_add_no_transaction_of_their_own(
    settings, make_user, analyzed
):
    settings.SESSION_ENGINE = DB_ENGINE
    settings.WAGTAIL_2FA_SESSIONS_BATCH_SIZE = 200
    long_ago = timezone.now() - timedelta(days=40)
    later = timezone.now() + timedelta(days=1)
    _interleaved(make_user("alice"), 1600, long_ago=long_ago, later=later)
    if analyzed:  # on PostgreSQL, the page walk
        with connection.cursor() as cursor:
            for model in (SessionRecord, Session):
                cursor.execute(f"ANALYZE {model._meta.db_table}")

    with CaptureQueriesContext(connection) as queries:
        assert api.cleanup_expired() == 800

    assert not any("synchronous_commit" in q["sql"] for q in queries.captured_queries)
    assert SessionRecord.objects.count() == 800 and Session.objects.count() == 800

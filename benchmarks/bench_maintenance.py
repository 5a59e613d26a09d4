"""Benchmark of session maintenance at scale, against Django's own ``clearsessions``.

Seeds N sessions (half expired) in Django's session table and the plugin's table of a
throwaway database, then times, in the same run:

- Clean Up Expired (plugin records + the session store) against ``clearsessions`` (the
  store alone) on the same data, for two N, with peak Python memory of each;
- Revoke All over 100,000 active sessions: the time until everyone is logged out, and the
  per-record bookkeeping after;
- Delete All over the same 100,000 sessions.

For each it prints rows/s, the ratio to the baseline and the longest single statement.

    python benchmarks/bench_maintenance.py                      # SQLite, N=100,000
    python benchmarks/bench_maintenance.py --database-url postgres://postgres@127.0.0.1:5432/postgres
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# One per process, so that two runs against one server never drop each other's data.
BENCH_DB = f"w2fa_bench_{os.getpid()}"
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", ""),
        help="a PostgreSQL server URL (a database named w2fa_bench_<pid> is created there and "
        "dropped after); default: a temporary SQLite file",
    )
    parser.add_argument(
        "-n",
        type=int,
        default=None,
        help="sessions to seed (default 1,000,000 on PostgreSQL, 100,000 on SQLite)",
    )
    parser.add_argument(
        "--small-n",
        type=int,
        default=None,
        help="the second, smaller N for the memory comparison (default N/10)",
    )
    parser.add_argument(
        "--active", type=int, default=100_000, help="active sessions for Revoke/Delete All"
    )
    parser.add_argument("--batch-size", type=int, default=None, help="BATCH_SIZE override")
    parser.add_argument("--users", type=int, default=1000, help="users owning the sessions")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of the cleanup comparison at each N, on fresh data; the median counts",
    )
    return parser.parse_args(argv)


def setup_django(args):
    """Point the sandbox settings at a throwaway database and migrate it."""
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "sandbox.settings"
    import sandbox.settings as sandbox_settings

    if args.database_url:
        import dj_database_url
        import psycopg

        parts = urlsplit(args.database_url)
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
            conn.execute(f"CREATE DATABASE {BENCH_DB}")
        bench_url = urlunsplit(parts._replace(path="/" + BENCH_DB))
        sandbox_settings.DATABASES = {"default": dj_database_url.parse(bench_url)}
        cleanup = lambda: _drop_postgres(args.database_url)  # noqa: E731
    else:
        directory = tempfile.mkdtemp(prefix="w2fa-bench-")
        path = Path(directory) / "bench.sqlite3"
        sandbox_settings.DATABASES = {
            "default": {
                **sandbox_settings.DATABASES["default"],
                "NAME": path,  # the sandbox's options; SQLite's own journal and sync defaults
            }
        }
        cleanup = lambda: [p.unlink() for p in Path(directory).glob("*")]  # noqa: E731
    # No query log (it grows with every statement) and no debug SQL formatting.
    sandbox_settings.DEBUG = False
    sandbox_settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    sandbox_settings.WAGTAIL_2FA_SESSIONS_CLEANUP_SCHEDULE = None
    if args.batch_size:
        sandbox_settings.WAGTAIL_2FA_SESSIONS_BATCH_SIZE = args.batch_size
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return cleanup


def _drop_postgres(server_url):
    from django.db import connections

    connections.close_all()
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


class StatementTimer:
    """``connection.execute_wrapper``: the longest single statement."""

    def __init__(self):
        self.longest = 0.0
        self.sql = ""
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - start
            self.count += 1
            if elapsed > self.longest:
                self.longest, self.sql = elapsed, sql


@contextmanager
def measured(label, results, rows=None):
    """Time the block; every statement counts, including those of connections opened
    while it runs (the store sweep's second connection on PostgreSQL)."""
    from django.db import connection
    from django.db.backends.signals import connection_created

    timer = StatementTimer()

    def wrap_new_connection(sender, connection, **kwargs):
        connection.execute_wrappers.append(timer)

    connection_created.connect(wrap_new_connection)
    start = time.perf_counter()
    try:
        with connection.execute_wrapper(timer):
            yield
    finally:
        connection_created.disconnect(wrap_new_connection)
    elapsed = time.perf_counter() - start
    results[label] = {
        "seconds": elapsed,
        "rows": rows,
        "longest_statement": timer.longest,
        "longest_sql": timer.sql[:90],
        "statements": timer.count,
        "peak_bytes": None,
    }


@contextmanager
def peak_memory(label, results):
    """Peak Python allocation of the block, into an earlier timed result: measured in a
    pass of its own, since tracing every allocation slows Python down and would tax the
    contender that does more in Python."""
    tracemalloc.start()
    try:
        yield
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    results[label]["peak_bytes"] = peak


def sql_params(connection):
    from django.utils import timezone

    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    return {
        "now": adapt(now),
        "expired": adapt(now - timedelta(days=40)),
        "future": adapt(now + timedelta(days=14)),
    }


def series(connection, n):
    """(a WITH clause, the row source) producing i = 1..n."""
    if connection.vendor == "postgresql":
        return "", f"generate_series(1, {int(n)}) AS seq(i)"
    return (
        f"WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {int(n)}) ",
        "seq",
    )


def hex_key(connection, column="i"):
    if connection.vendor == "postgresql":
        return f"lpad(to_hex({column}), 32, '0')"
    return f"printf('%%032x', {column})"


def seed_store(n, *, expired_every=2, only_expired=False):
    """N rows in django_session; every ``expired_every``-th one expired."""
    from django.contrib.sessions.models import Session
    from django.db import connection

    params = sql_params(connection)
    with_clause, source = series(connection, n)
    where = f"WHERE i %% {expired_every} = 0" if only_expired else ""
    expires = f"CASE WHEN i %% {expired_every} = 0 THEN %s ELSE %s END" if expired_every else "%s"
    values = [params["expired"], params["future"]] if expired_every else [params["future"]]
    with connection.cursor() as cursor:
        cursor.execute(
            f"{with_clause}INSERT INTO {Session._meta.db_table} "
            "(session_key, session_data, expire_date) "
            f"SELECT {hex_key(connection)}, %s, {expires} FROM {source} {where}",
            ["x" * 200, *values],
        )


def seed_records(n, user_ids, *, expired_every=2, only_expired=False):
    from django.db import connection

    from wagtail_2fa_sessions.models import SessionRecord

    params = sql_params(connection)
    with_clause, source = series(connection, n)
    table = SessionRecord._meta.db_table
    first, count = min(user_ids), len(user_ids)
    where = f"WHERE i %% {expired_every} = 0" if only_expired else ""
    expires = f"CASE WHEN i %% {expired_every} = 0 THEN %s ELSE %s END" if expired_every else "%s"
    values = [params["expired"], params["future"]] if expired_every else [params["future"]]
    with connection.cursor() as cursor:
        cursor.execute(
            f"{with_clause}INSERT INTO {table} (user_id, session_key, device_id, ip_address, "
            "user_agent, browser, os, device_type, created_at, valid_since, last_activity, "
            "expires_at, revoked_reason, verified_device_type) "
            f"SELECT {first} + (i %% {count}), {hex_key(connection)}, {hex_key(connection)}, "
            "'203.0.113.10', %s, 'Chrome 124', 'Windows 10', 'desktop', %s, %s, %s, "
            f"{expires}, '', '' FROM {source} {where}",
            [USER_AGENT, params["now"], params["now"], params["now"], *values],
        )


def seed_users(count):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    unusable = "!"
    User.objects.bulk_create(
        (User(username=f"bench{i}", password=unusable) for i in range(count)), batch_size=1000
    )
    return list(User.objects.values_list("pk", flat=True))


def empty_tables():
    from django.contrib.sessions.models import Session
    from django.db import connection

    from wagtail_2fa_sessions.models import GlobalRevocation, MaintenanceRun, SessionRecord

    with connection.cursor() as cursor:
        for model in (MaintenanceRun, SessionRecord, GlobalRevocation, Session):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")
    vacuum()


def vacuum():
    """Statistics, free space and dirty pages settled before each timed step, so that
    neither contender pays for writing out what the seeding left in memory."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("CHECKPOINT")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def compare_cleanup(n, user_ids, results, repeat=1):
    """clearsessions, then the same expired rows again, then Clean Up Expired, ``repeat``
    times on freshly seeded data (each step's median counts); then both once more on the
    same expired rows for their peak memory."""
    from django.contrib.sessions.models import Session
    from django.core.management import call_command

    from wagtail_2fa_sessions import api
    from wagtail_2fa_sessions.models import SessionRecord

    expired = n // 2
    runs = {f"clearsessions N={n}": [], f"cleanup N={n}": []}
    for _ in range(repeat):
        empty_tables()
        seed_store(n)
        seed_records(n, user_ids)
        vacuum()
        with measured(f"clearsessions N={n}", results, rows=expired):
            call_command("clearsessions")
        runs[f"clearsessions N={n}"].append(results[f"clearsessions N={n}"])
        assert Session.objects.count() == n - expired
        seed_store(n, only_expired=True)  # the same expired rows, back for the plugin
        vacuum()
        with measured(f"cleanup N={n}", results, rows=2 * expired):
            deleted = api.cleanup_expired()
        runs[f"cleanup N={n}"].append(results[f"cleanup N={n}"])
        assert deleted == expired, deleted
        assert Session.objects.count() == n - expired
        assert SessionRecord.objects.count() == n - expired
    for label, measurements in runs.items():
        seconds = [m["seconds"] for m in measurements]  # in run order, to pair them up
        results[label] = {
            **max(measurements, key=lambda m: m["longest_statement"]),
            "seconds": statistics.median(seconds),
            "runs": seconds,
        }

    seed_store(n, only_expired=True)
    vacuum()
    with peak_memory(f"clearsessions N={n}", results):
        call_command("clearsessions")
    seed_store(n, only_expired=True)
    seed_records(n, user_ids, only_expired=True)
    vacuum()
    with peak_memory(f"cleanup N={n}", results):
        assert api.cleanup_expired() == expired
    return n - expired


def revoke_and_delete(active, user_ids, results, remaining):
    from django.contrib.sessions.models import Session

    from wagtail_2fa_sessions import api
    from wagtail_2fa_sessions.models import SessionRecord

    # Effective at once whatever N: on the N/2 active sessions left by the cleanup...
    with measured(f"revoke all effective ({remaining} active)", results, rows=remaining):
        api.begin_revoke_all()
    assert api.active_sessions().count() == 0

    empty_tables()
    seed_store(active, expired_every=0)
    seed_records(active, user_ids, expired_every=0)
    vacuum()
    with measured(f"revoke all effective ({active} active)", results, rows=active):
        revocation = api.begin_revoke_all()
    assert api.active_sessions().count() == 0
    with measured(f"revoke all bookkeeping ({active})", results, rows=active):
        revoked = api.revoke_all(revocation=revocation)
    assert revoked == active and Session.objects.count() == 0

    empty_tables()
    seed_store(active, expired_every=0)
    seed_records(active, user_ids, expired_every=0)
    vacuum()
    with measured(f"delete_all ({active} sessions)", results, rows=active):
        deleted = api.delete_all()
    assert deleted == active
    assert not SessionRecord.objects.exists() and not Session.objects.exists()

    empty_tables()
    seed_store(active, expired_every=0)
    vacuum()
    with measured(f"baseline: one DELETE of {active} session rows", results, rows=active):
        Session.objects.all().delete()


def report(results, vendor, n, small_n, batch_size):
    print(f"\nwagtail-2fa-sessions maintenance benchmark: {vendor}, BATCH_SIZE={batch_size}")
    print(f"{'step':<46}{'seconds':>9}{'rows/s':>12}{'longest stmt':>14}{'peak KiB':>10}")
    for label, result in results.items():
        rate = result["rows"] / result["seconds"] if result["rows"] else 0
        peak = f"{result['peak_bytes'] / 1024:.0f}" if result["peak_bytes"] is not None else "-"
        print(
            f"{label:<46}{result['seconds']:>9.3f}{rate:>12,.0f}"
            f"{result['longest_statement'] * 1000:>11.1f} ms{peak:>10}"
        )
    print()
    for size in (small_n, n):
        ratio = (
            results[f"cleanup N={size}"]["seconds"] / results[f"clearsessions N={size}"]["seconds"]
        )
        ratios = [
            ours / theirs
            for ours, theirs in zip(
                results[f"cleanup N={size}"]["runs"],
                results[f"clearsessions N={size}"]["runs"],
                strict=True,
            )
        ]
        print(
            f"cleanup / clearsessions at N={size}: {ratio:.2f}x, medians of "
            f"{len(ratios)} runs (each run: {', '.join(f'{r:.2f}' for r in ratios)}; "
            "target <= 1.5x)"
        )
    longest = max(results.values(), key=lambda result: result["longest_statement"])
    print(
        f"longest single statement: {longest['longest_statement'] * 1000:.1f} ms "
        f"({longest['longest_sql']}...) (target < 1000 ms)"
    )
    effective = [r["seconds"] for label, r in results.items() if "effective" in label]
    print("revoke all effective in: " + ", ".join(f"{s * 1000:.1f} ms" for s in effective))


def main(argv=None):
    """Run the benchmark; returns the figures as a dict. It needs a fresh Django setup on
    its throwaway database, so when Django is already set up in this process (e.g. when
    called from another benchmark runner) it runs itself in a subprocess instead."""
    from django.apps import apps

    if apps.ready:
        import subprocess

        argv = sys.argv[1:] if argv is None else list(argv)
        return subprocess.call([sys.executable, __file__, *argv])
    args = parse_args(argv)
    postgres = bool(args.database_url)
    n = args.n or (1_000_000 if postgres else 100_000)
    small_n = args.small_n or max(2, n // 10)
    cleanup = setup_django(args)
    try:
        from django.db import connection

        from wagtail_2fa_sessions.batching import batch_size

        user_ids = seed_users(args.users)
        results = {}
        compare_cleanup(small_n, user_ids, results, args.repeat)
        remaining = compare_cleanup(n, user_ids, results, args.repeat)
        revoke_and_delete(args.active, user_ids, results, remaining)
        report(results, connection.vendor, n, small_n, batch_size())
        return results
    finally:
        cleanup()


if __name__ == "__main__":
    main()

"""Per-request cost of the tracking middleware, against the same stack without it.

Runs in one process against one database (``DATABASE_URL``, default a throwaway SQLite
file), interleaving the two arms so machine noise hits both alike. Prints the median time
per request, the ratio to the baseline, and queries and writes per request.

    python benchmarks/bench_requests.py [--requests 300] [--logins 60]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OURS = "wagtail_2fa_sessions.middleware.SessionTrackingMiddleware"
PASSWORD = "benchmark password"
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
WRITES = ("INSERT", "UPDATE", "DELETE")


def throwaway_postgres(url, name=None):
    """Create a fresh database beside the one in ``url`` and return its URL. One per
    process, so that two runs against one server never drop each other's data."""
    name = name or f"w2fa_bench_requests_{os.getpid()}"
    import psycopg

    admin_url = url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name, lambda: drop_postgres(admin_url, name)


def drop_postgres(admin_url, name):
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')


def setup_django(database_url):
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings")
    os.environ["DJANGO_DEBUG"] = "0"
    import django

    django.setup()
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]


def prepare_database():
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from django.contrib.auth import get_user_model

    User = get_user_model()
    User.objects.filter(username="bench").delete()
    return User.objects.create_superuser("bench", "bench@example.com", PASSWORD)


def client_for(middleware):
    from django.test import Client
    from django.test.utils import override_settings

    with override_settings(MIDDLEWARE=middleware):
        client = Client(HTTP_USER_AGENT=USER_AGENT, REMOTE_ADDR="203.0.113.5")
        client.handler.load_middleware()
    return client


CPU_TIMES = {}


def timed(call, arm=None):
    """Wall-clock seconds of one request; its CPU seconds (this process) go to CPU_TIMES.

    On a shared machine the CPU time is the steadier figure: other processes' load
    stretches wall-clock time, not the CPU time this request itself needs."""
    start, start_cpu = time.perf_counter(), time.process_time()
    response = call()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    assert response.status_code in (200, 302), response.status_code
    if arm is not None:
        CPU_TIMES.setdefault(arm, []).append(cpu)
    return elapsed


def count_queries(call):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        call()
    sqls = [query["sql"].lstrip().upper() for query in context.captured_queries]
    return len(sqls), sum(sql.startswith(WRITES) for sql in sqls)


def bench_requests(arms, user, requests):
    """``arms`` maps a name to (middleware, activity interval or None for the default)."""
    from django.conf import settings

    clients = {}
    for name, (middleware, _interval) in arms.items():
        client = client_for(middleware)
        client.post("/admin/login/", {"username": user.username, "password": PASSWORD})
        for _ in range(5):  # warm up caches and the record's activity
            client.get("/admin/")
        clients[name] = client
    times = {name: [] for name in arms}
    queries = {}
    block = 10
    for round_number in range(max(1, requests // block) + 1):
        for name, client in clients.items():
            interval = arms[name][1]
            if interval is not None:
                settings.WAGTAIL_2FA_SESSIONS_ACTIVITY_INTERVAL = interval
            if round_number == 0:
                queries[name] = count_queries(lambda c=client: c.get("/admin/"))
            else:
                for _ in range(block):
                    times[name].append(timed(lambda c=client: c.get("/admin/"), name))
            if interval is not None:
                del settings.WAGTAIL_2FA_SESSIONS_ACTIVITY_INTERVAL
    return times, queries


class plugin_signals:
    """Connect (or, for the baseline, disconnect) the plugin's login/logout receivers."""

    def __init__(self, enabled):
        self.enabled = enabled

    def __enter__(self):
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        if not self.enabled:
            user_logged_in.disconnect(dispatch_uid="wagtail_2fa_sessions.login")
            user_logged_out.disconnect(dispatch_uid="wagtail_2fa_sessions.logout")

    def __exit__(self, *exc):
        from wagtail_2fa_sessions import signals

        signals.connect()


def bench_logins(arms, user, logins):
    data = {"username": user.username, "password": PASSWORD}
    times = {name: [] for name in arms}
    for _ in range(logins):
        for name, middleware in arms.items():
            client = client_for(middleware)
            with plugin_signals(OURS in middleware):
                times[name].append(timed(lambda c=client: c.post("/admin/login/", data), name))
    queries = {}
    for name, middleware in arms.items():
        client = client_for(middleware)
        with plugin_signals(OURS in middleware):
            queries[name] = count_queries(lambda c=client: c.post("/admin/login/", data))
    return times, queries


def report(title, times, queries, baseline="without plugin"):
    base = statistics.median(times[baseline])
    base_cpu = statistics.median(CPU_TIMES[baseline])
    print(f"\n{title}")
    print(
        f"  {'arm':<34} {'median ms':>10} {'ratio':>7} {'cpu ms':>8} {'cpu ratio':>9}"
        f" {'queries':>8} {'writes':>7}"
    )
    for name, samples in times.items():
        median = statistics.median(samples)
        cpu = statistics.median(CPU_TIMES[name])
        count, writes = queries[name]
        print(
            f"  {name:<34} {median * 1000:>10.2f} {median / base:>7.3f} {cpu * 1000:>8.2f}"
            f" {cpu / base_cpu:>9.3f} {count:>8} {writes:>7}"
        )
    CPU_TIMES.clear()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--logins", type=int, default=60)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args(argv)

    tmp = cleanup = None
    if not args.database_url:
        tmp = tempfile.NamedTemporaryFile(suffix=".sqlite3", delete=False)
        args.database_url = f"sqlite:///{tmp.name}"
    elif args.database_url.startswith(("postgres://", "postgresql://")):
        args.database_url, cleanup = throwaway_postgres(args.database_url)
    setup_django(args.database_url)
    from django.conf import settings
    from django.db import connection

    user = prepare_database()
    with_plugin = list(settings.MIDDLEWARE)
    without_plugin = [m for m in with_plugin if m != OURS]
    print(f"== Request cost on {connection.vendor} ({args.requests} requests per arm)")
    arms = {
        "without plugin": (without_plugin, None),
        "with plugin (steady state)": (with_plugin, None),
        # Activity interval 0: every request writes, the worst case.
        "with plugin, interval 0 (worst)": (with_plugin, 0),
    }
    times, queries = bench_requests(arms, user, args.requests)
    report("Authenticated GET /admin/ (Wagtail dashboard)", times, queries)

    times, queries = bench_logins(
        {"without plugin": without_plugin, "with plugin": with_plugin}, user, args.logins
    )
    report(f"Login POST /admin/login/ ({args.logins} per arm, MD5 hasher)", times, queries)
    if tmp is not None:
        os.unlink(tmp.name)
    if cleanup is not None:
        cleanup()


if __name__ == "__main__":
    main()

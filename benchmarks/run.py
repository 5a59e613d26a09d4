"""``make bench``: every benchmark of the project, on SQLite and, where reachable, PostgreSQL.

Each benchmark runs in its own process (Django's settings are per process) and prints
ratios against a baseline measured in the same run.

    python benchmarks/run.py [--quick] [--postgres URL] [--only requests|maintenance]
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"


def postgres_reachable(url):
    try:
        import psycopg
    except ImportError:
        return False
    try:
        psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=3).close()
    except Exception:
        return False
    return True


def run(script, *args, database_url=None):
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    command = [sys.executable, str(HERE / script), *args]
    print(
        f"\n$ {' '.join(command[1:])}"
        + (f"  (DATABASE_URL={database_url})" if database_url else "")
    )
    sys.stdout.flush()
    return subprocess.call(command, env=env)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--postgres", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--only", choices=["requests", "maintenance"])
    args = parser.parse_args()

    databases = [None]
    if postgres_reachable(args.postgres):
        databases.append(args.postgres)
    else:
        print(f"PostgreSQL at {args.postgres} is not reachable: SQLite only.")

    failures = 0
    if args.only in (None, "requests"):
        sizes = ["--requests", "60", "--logins", "20"] if args.quick else []
        for database_url in databases:
            failures += run("bench_requests.py", *sizes, database_url=database_url) != 0
    maintenance = HERE / "bench_maintenance.py"
    if args.only in (None, "maintenance") and maintenance.exists():
        for database_url in databases:
            sizes = ["--sessions", "20000"] if args.quick else []
            failures += run("bench_maintenance.py", *sizes, database_url=database_url) != 0
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

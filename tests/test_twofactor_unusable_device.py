"""A user whose only device is one the verify step cannot use (a hardware token).

The HOTP plugin needs its own table, so the check runs in a separate pytest process with
``tests.hotp_settings``. That process uses its own in-memory SQLite database: it must never
share (and drop) the test database of the run that started it."""

import os
import subprocess
import sys
from pathlib import Path


def test_hotp_only_user_gets_a_clear_page_not_a_loop():
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--ds=tests.hotp_settings",
            "--no-migrations",
            "tests/hotp_only_user.py",
        ],
        cwd=root,
        env={name: value for name, value in os.environ.items() if name != "DATABASE_URL"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "1 passed" in result.stdout

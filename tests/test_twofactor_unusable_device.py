"""A user whose only device is one the verify step cannot use (a hardware token)."""

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
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "1 passed" in result.stdout

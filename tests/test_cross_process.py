"""Revocation made by another process (a worker, a shell, a second web server) takes
effect at the victim's next request on every session engine."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from .conftest import FIREFOX_LINUX, admin_login, is_logged_in

ROOT = Path(__file__).resolve().parent.parent

REVOKE = """
import django
django.setup()
from django.contrib.auth import get_user_model
from wagtail_2fa_sessions import api
print(api.revoke_user_sessions(get_user_model().objects.get(username="victim"), reason="cli"))
"""


def database_url():
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings["USER"] or ""
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_revocation_from_another_process(session_engine, make_user, browser_client):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("the test database is in memory: another process cannot open it")
    victim, bystander = make_user("victim"), make_user("bystander")
    victim_client, bystander_client = browser_client(), browser_client(FIREFOX_LINUX)
    admin_login(victim_client, victim)
    admin_login(bystander_client, bystander)
    assert is_logged_in(victim_client)

    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "sandbox.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", REVOKE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "1"

    assert not is_logged_in(victim_client)
    assert is_logged_in(bystander_client)

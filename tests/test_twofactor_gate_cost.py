"""What the 2FA gate costs a user without a device once its cached answer is due a re-check."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wagtail_2fa_sessions import enforcement
from wagtail_2fa_sessions.models import SessionRecord

from .conftest import admin_login

pytestmark = pytest.mark.django_db


def test_recheck_after_the_interval_writes_nothing_when_nothing_changed(
    make_user, browser_client, settings, monkeypatch
):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    editor = make_user("editor")
    client = browser_client()
    admin_login(client, editor)
    client.get("/admin/account/")
    client.get("/admin/account/")
    real_time = enforcement.time.time
    monkeypatch.setattr(enforcement.time, "time", lambda: real_time() + 61)
    SessionRecord.objects.filter(user=editor).update(
        last_activity=timezone.now() - timedelta(seconds=61)
    )
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/admin/account/").status_code == 200
    sql = [q["sql"] for q in ctx.captured_queries]
    writes = [s for s in sql if s.startswith(("UPDATE", "INSERT", "DELETE"))]
    device_reads = [s for s in sql if '"otp_' in s]
    # The record's one conditional UPDATE, and no session write.
    assert len(writes) == 1 and "sessionrecord" in writes[0]
    # The answer is re-checked once: one query per device model.
    assert len(device_reads) == 3
    # Within the interval nothing is re-checked at all.
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/admin/account/").status_code == 200
    assert not [q for q in ctx.captured_queries if '"otp_' in q["sql"]]


def test_a_changed_answer_is_written_to_the_session(
    make_user, browser_client, settings, monkeypatch
):
    settings.WAGTAIL_2FA_SESSIONS_GRACE_DAYS = 7
    editor = make_user("editor")
    client = browser_client()
    admin_login(client, editor)
    assert b"Set it up within" not in client.get("/admin/").content
    settings.WAGTAIL_2FA_SESSIONS_REQUIRE_2FA = True
    real_time = enforcement.time.time
    monkeypatch.setattr(enforcement.time, "time", lambda: real_time() + 61)
    assert b"Set it up within 7 days" in client.get("/admin/").content
    assert client.session[enforcement.STATE_SESSION_KEY]["status"] == "grace"

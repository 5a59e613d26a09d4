"""Expiring Today is counted in the site's TIME_ZONE, not in UTC."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from wagtail_2fa_sessions import stats
from wagtail_2fa_sessions.models import SessionRecord

pytestmark = pytest.mark.django_db


def _record(user, expires_at, now):
    return SessionRecord.objects.create(
        user=user,
        device_id=f"device-{expires_at.isoformat()}",
        created_at=now - timedelta(hours=1),
        valid_since=now - timedelta(hours=1),
        last_activity=now,
        expires_at=expires_at,
    )


def test_end_of_today_is_local_midnight(settings):
    assert settings.TIME_ZONE == "Europe/Berlin"
    # 23:30 UTC on 3 Dec is already 00:30 on 4 Dec in Berlin.
    now = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)
    assert stats.end_of_today(now) == datetime(2026, 12, 4, 23, 0, tzinfo=UTC)


def test_expiring_today_at_the_day_boundary_in_a_non_utc_zone(make_user):
    user = make_user("alice")
    # 22:30 UTC = 23:30 Berlin: "today" (Berlin) ends at 23:00 UTC.
    now = datetime(2026, 12, 3, 22, 30, tzinfo=UTC)
    _record(user, datetime(2026, 12, 3, 22, 59, 59, tzinfo=UTC), now)  # 23:59:59 Berlin: today
    _record(user, datetime(2026, 12, 3, 23, 0, 0, tzinfo=UTC), now)  # 00:00 Berlin: tomorrow
    _record(user, datetime(2026, 12, 3, 23, 30, tzinfo=UTC), now)  # still 3 Dec in UTC: tomorrow
    _record(user, datetime(2026, 12, 3, 22, 0, tzinfo=UTC), now)  # already expired: not active

    figures = stats.session_figures(now)
    assert figures["active_sessions"] == 3
    assert figures["expiring_today"] == 1


def test_expiring_today_in_summer_time(make_user, settings):
    user = make_user("alice")
    # Berlin is UTC+2 in July: today ends at 22:00 UTC.
    now = datetime(2026, 7, 1, 21, 0, tzinfo=UTC)
    _record(user, datetime(2026, 7, 1, 21, 59, tzinfo=UTC), now)
    _record(user, datetime(2026, 7, 1, 22, 1, tzinfo=UTC), now)
    assert stats.session_figures(now)["expiring_today"] == 1


def test_a_session_record_reports_expired_after_its_expiry(make_user):
    user = make_user("alice")
    now = timezone.now()
    record = _record(user, now - timedelta(seconds=1), now)
    assert record.status == "expired"
    assert not SessionRecord.objects.active().exists()
    assert SessionRecord.objects.inactive().get() == record


def test_expiring_today_ignores_the_viewing_admins_time_zone(make_user):
    user = make_user("alice")
    # 22:30 UTC = 23:30 Berlin; in Kiritimati (UTC+14) it is already the next afternoon.
    now = datetime(2026, 12, 3, 22, 30, tzinfo=UTC)
    _record(user, datetime(2026, 12, 3, 23, 30, tzinfo=UTC), now)  # 00:30 Berlin: tomorrow
    with timezone.override("Pacific/Kiritimati"):
        assert stats.end_of_today(now) == datetime(2026, 12, 3, 23, 0, tzinfo=UTC)
        assert stats.session_figures(now)["expiring_today"] == 0

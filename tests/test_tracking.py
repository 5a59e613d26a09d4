"""Session tracking through real requests and the full middleware stack."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wagtail_2fa_sessions import api, clients
from wagtail_2fa_sessions.models import SessionRecord
from wagtail_2fa_sessions.tracking import RECORD_SESSION_KEY

from .conftest import FIREFOX_LINUX, SAFARI_IPHONE, admin_login, is_logged_in

pytestmark = pytest.mark.django_db


def test_login_request_logout_on_every_engine(session_engine, make_user, browser_client):
    user = make_user("alice")
    client = browser_client()

    admin_login(client, user)
    assert is_logged_in(client)
    record = SessionRecord.objects.get(user=user)
    assert record.status == "active"
    assert record.browser.startswith("Chrome")
    assert record.os.startswith("Windows")
    assert record.device_type == "desktop"
    assert str(record.ip_address) == "203.0.113.10"
    assert api.summary()["active_sessions"] == 1

    client.post("/admin/logout/")
    record.refresh_from_db()
    assert record.ended_at is not None
    assert api.summary()["active_sessions"] == 0
    assert not is_logged_in(client)


def test_revoked_session_is_logged_out_at_its_next_request(
    session_engine, make_user, browser_client
):
    victim, bystander, admin = (
        make_user("victim"),
        make_user("bystander"),
        make_user("root", superuser=True),
    )
    victim_client, bystander_client = browser_client(), browser_client(FIREFOX_LINUX)
    admin_login(victim_client, victim)
    admin_login(bystander_client, bystander)
    assert is_logged_in(victim_client)

    record = api.active_sessions(victim).get()
    assert api.revoke_session(record, by=admin, reason="stolen laptop") == 1

    assert not is_logged_in(victim_client)
    assert is_logged_in(bystander_client)
    record.refresh_from_db()
    assert record.status == "revoked"
    assert record.revoked_by == admin
    assert record.revoked_reason == "stolen laptop"
    assert record.ended_at is None, "a forced logout stays a revocation, not a logout"
    # Revoking twice changes nothing.
    assert api.revoke_session(record, by=admin) == 0


def test_revoked_server_side_session_stays_dead_without_the_middleware(
    settings, make_user, browser_client
):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    user = make_user("alice")
    client = browser_client()
    admin_login(client, user)
    api.revoke_session(api.active_sessions(user).get())

    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if not m.endswith("SessionTrackingMiddleware")
    ]
    client.handler.load_middleware()
    assert not is_logged_in(client)


def test_revoke_all_keeps_the_chosen_session(session_engine, make_user, browser_client):
    admin, editor = make_user("root", superuser=True), make_user("editor")
    admin_client, editor_client = browser_client(), browser_client(SAFARI_IPHONE)
    admin_login(admin_client, admin)
    admin_login(editor_client, editor)
    own = api.active_sessions(admin).get()

    assert api.revoke_all(by=admin, keep=own) == 1

    assert not is_logged_in(editor_client)
    assert is_logged_in(admin_client)
    assert list(api.active_sessions()) == [own]
    # A new login after the revocation works normally.
    admin_login(editor_client, editor)
    assert is_logged_in(editor_client)


def test_revoke_user_sessions_spares_other_users_and_kept_session(make_user, browser_client):
    alice, bob = make_user("alice"), make_user("bob")
    alice_laptop, alice_phone, bob_laptop = (
        browser_client(),
        browser_client(SAFARI_IPHONE),
        browser_client(),
    )
    for client, user in ((alice_laptop, alice), (alice_phone, alice), (bob_laptop, bob)):
        admin_login(client, user)
    laptop = SessionRecord.objects.get(user=alice, device_type="desktop")

    assert api.revoke_user_sessions(alice, keep=[laptop]) == 1

    assert is_logged_in(alice_laptop)
    assert not is_logged_in(alice_phone)
    assert is_logged_in(bob_laptop)


def test_two_browsers_are_two_devices_and_one_browser_twice_is_one(make_user, browser_client):
    user = make_user("alice")
    laptop, phone = browser_client(), browser_client(SAFARI_IPHONE)
    admin_login(laptop, user)
    admin_login(phone, user)
    figures = api.summary()
    assert (figures["active_sessions"], figures["active_users"], figures["unique_devices"]) == (
        2,
        1,
        2,
    )

    laptop.post("/admin/logout/")
    admin_login(laptop, user)
    figures = api.summary()
    assert (figures["active_sessions"], figures["unique_devices"]) == (2, 2)
    laptop_records = SessionRecord.objects.filter(user=user, device_type="desktop")
    assert laptop_records.count() == 2
    assert len({record.device_id for record in laptop_records}) == 1


def test_two_identical_phones_are_two_devices(make_user, browser_client):
    user = make_user("alice")
    for _ in range(2):
        admin_login(browser_client(SAFARI_IPHONE, ip="198.51.100.7"), user)
    assert api.summary()["unique_devices"] == 2


def test_device_cookie_is_signed_httponly_lax_and_long_lived(make_user, browser_client, settings):
    client = browser_client()
    response = admin_login(client, make_user("alice"))
    cookie = response.cookies["wagtail_2fa_device"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]
    assert int(cookie["max-age"]) >= 365 * 24 * 3600
    record = SessionRecord.objects.get()
    assert record.device_id in cookie.value and cookie.value != record.device_id


def test_device_cookie_is_secure_over_https(make_user, browser_client):
    client = browser_client()
    response = client.post(
        "/admin/login/",
        {"username": make_user("alice").username, "password": "correct horse battery staple"},
        secure=True,
    )
    assert response.cookies["wagtail_2fa_device"]["secure"]


def test_tampered_device_cookie_gets_a_new_device_id(make_user, browser_client):
    user = make_user("alice")
    client = browser_client()
    admin_login(client, user)
    first = SessionRecord.objects.get().device_id
    client.post("/admin/logout/")
    client.cookies["wagtail_2fa_device"] = first  # unsigned: a forgery
    admin_login(client, user)
    second = SessionRecord.objects.latest("created_at").device_id
    assert second != first
    assert clients.device_id_from_cookie(_request_with_cookie(first)) is None


def _request_with_cookie(value):
    request = RequestFactory().get("/")
    request.COOKIES["wagtail_2fa_device"] = value
    return request


def test_steady_state_costs_one_read_and_no_write(make_user, browser_client):
    client = browser_client()
    admin_login(client, make_user("alice"))
    client.get("/admin/")  # warm caches

    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert client.get("/admin/").status_code == 200
    ours = [
        q["sql"]
        for q in queries.captured_queries
        if "wagtail_2fa_sessions_sessionrecord" in q["sql"]
    ]
    assert len(ours) == 5
    assert all(sql.lstrip().upper().startswith("SELECT") for sql in ours)


def test_requests_inside_the_interval_cost_exactly_one_write(make_user, browser_client):
    client = browser_client()
    admin_login(client, make_user("alice"))
    an_hour_ago = timezone.now() - timedelta(hours=1)
    SessionRecord.objects.update(last_activity=an_hour_ago)

    with CaptureQueriesContext(connection) as queries:
        for _ in range(10):
            assert client.get("/admin/").status_code == 200
    updates = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("UPDATE") and "wagtail_2fa_sessions_sessionrecord" in q["sql"]
    ]
    assert len(updates) == 1
    assert SessionRecord.objects.get().last_activity > an_hour_ago


def test_user_agent_is_parsed_once_per_session(make_user, browser_client, monkeypatch):
    client = browser_client()
    admin_login(client, make_user("alice"))
    calls = []
    monkeypatch.setattr(clients, "parse_user_agent", lambda ua: calls.append(ua))
    SessionRecord.objects.update(last_activity=timezone.now() - timedelta(hours=1))
    for _ in range(3):
        client.get("/admin/")
    assert calls == []


def test_session_key_follows_rotation(settings, make_user, browser_client):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    client = browser_client()
    admin_login(client, make_user("alice"))
    before = SessionRecord.objects.get().session_key
    assert before == client.session.session_key

    session = client.session
    session.cycle_key()
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    assert is_logged_in(client)

    record = SessionRecord.objects.get()
    assert record.session_key == session.session_key != before


def test_session_from_before_installation_is_adopted(make_user, browser_client):
    user = make_user("alice")
    client = browser_client()
    client.force_login(user)
    session = client.session
    SessionRecord.objects.all().delete()
    del session[RECORD_SESSION_KEY]
    session.save()

    assert is_logged_in(client)
    record = SessionRecord.objects.get(user=user)
    assert record.browser.startswith("Chrome")
    assert is_logged_in(client)
    assert SessionRecord.objects.count() == 1


def test_untracked_session_is_logged_out_after_a_revoke_all(make_user, browser_client):
    user = make_user("alice")
    client = browser_client()
    client.force_login(user)
    session = client.session
    del session[RECORD_SESSION_KEY]
    session.save()
    api.revoke_all()

    assert not is_logged_in(client)


def test_test_client_login_is_tracked_and_gets_a_device_cookie(make_user, browser_client):
    client = browser_client()
    client.login(username=make_user("alice").username, password="correct horse battery staple")
    response = client.get("/admin/")
    assert response.status_code == 200
    record = SessionRecord.objects.get()
    cookie = response.cookies["wagtail_2fa_device"].value
    assert clients.device_id_from_cookie(_request_with_cookie(cookie)) == record.device_id
    assert record.browser.startswith("Chrome"), "the first real request fills in the browser"


def test_password_change_logs_the_other_sessions_out(make_user, browser_client):
    user = make_user("alice")
    laptop, phone = browser_client(), browser_client(SAFARI_IPHONE)
    admin_login(laptop, user)
    admin_login(phone, user)

    response = laptop.post(
        "/admin/account/",
        {
            "password-old_password": "correct horse battery staple",
            "password-new_password1": "a brand new passphrase 42",
            "password-new_password2": "a brand new passphrase 42",
            "name_email-first_name": "Alice",
            "name_email-last_name": "Example",
            "name_email-email": "alice@example.com",
            "locale-preferred_language": "en",
            "locale-current_time_zone": "",
            "theme-theme": "system",
            "theme-density": "default",
            "theme-contrast": "system",
            "theme-keyboard_shortcuts": "on",
        },
    )
    assert response.status_code in (200, 302)
    user.refresh_from_db()
    assert user.check_password("a brand new passphrase 42"), response.content[:2000]

    assert is_logged_in(laptop)
    assert not is_logged_in(phone)
    phone_record = SessionRecord.objects.get(user=user, device_type="mobile")
    assert phone_record.status == "revoked"
    assert phone_record.revoked_reason == "Password changed"
    assert api.active_sessions(user).count() == 1


def test_idle_timeout_ends_a_quiet_session(settings, make_user, browser_client):
    settings.WAGTAIL_2FA_SESSIONS_IDLE_TIMEOUT = 600
    client = browser_client()
    admin_login(client, make_user("alice"))
    assert is_logged_in(client)
    SessionRecord.objects.update(last_activity=timezone.now() - timedelta(minutes=11))
    assert not is_logged_in(client)


def test_absolute_timeout_caps_expiry(settings, make_user, browser_client):
    settings.WAGTAIL_2FA_SESSIONS_ABSOLUTE_TIMEOUT = 3600
    client = browser_client()
    admin_login(client, make_user("alice"))
    record = SessionRecord.objects.get()
    assert record.expires_at <= record.created_at + timedelta(seconds=3600)
    SessionRecord.objects.update(created_at=timezone.now() - timedelta(hours=2))
    assert not is_logged_in(client)


def _untracked_signed_cookie(user):
    """A logged-in signed_cookies session that carries no record id, as one made before
    the plugin was installed."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return store.session_key


def test_replayed_untracked_signed_cookie_is_not_adopted_again_after_a_revocation(
    settings, make_user, browser_client
):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    victim = make_user("victim")
    stolen = _untracked_signed_cookie(victim)
    browser = browser_client()
    browser.cookies[settings.SESSION_COOKIE_NAME] = stolen
    assert is_logged_in(browser)  # adopted
    assert api.revoke_user_sessions(victim, reason="compromised") == 1
    assert not is_logged_in(browser)

    replay = browser_client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = stolen
    assert not is_logged_in(replay)


def test_revoke_user_sessions_reaches_a_live_session_whose_record_looks_expired(
    settings, make_user, browser_client
):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    victim = make_user("victim")
    thief = browser_client()
    admin_login(thief, victim)
    # The record's expiry trails the store's (e.g. set_expiry() after login).
    SessionRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert is_logged_in(thief)

    assert api.revoke_user_sessions(victim, reason="compromised") == 1
    assert not is_logged_in(thief)

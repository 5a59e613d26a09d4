"""Your sessions: the user's own active sessions in their account pages."""

import pytest
from wagtail.models import ModelLogEntry

from wagtail_2fa_sessions import audit
from wagtail_2fa_sessions.models import SessionRecord

from .conftest import FIREFOX_LINUX, SAFARI_IPHONE, admin_login, is_logged_in
from .twofactor_helpers import SESSIONS_URL

pytestmark = pytest.mark.django_db

HOSTILE_UA = 'Mozilla/5.0 <script>alert("ua")</script>'


def three_sessions(make_user, browser_client):
    user = make_user("alice")
    here = browser_client()
    phone = browser_client(user_agent=SAFARI_IPHONE, ip="198.51.100.7")
    laptop = browser_client(user_agent=FIREFOX_LINUX, ip="198.51.100.8")
    for client in (laptop, phone, here):
        admin_login(client, user)
    current = SessionRecord.objects.get(user=user, ip_address="203.0.113.10")
    return user, here, phone, laptop, current


def test_lists_own_active_sessions_and_marks_the_current_one(make_user, browser_client):
    user, here, _phone, _laptop, current = three_sessions(make_user, browser_client)
    other_user = make_user("bob")
    admin_login(browser_client(ip="192.0.2.99"), other_user)
    content = here.get(SESSIONS_URL).content.decode()
    assert "This session" in content
    assert "198.51.100.7" in content and "198.51.100.8" in content
    assert "192.0.2.99" not in content
    assert f"/sessions/{current.pk}/sign-out/" not in content
    for record in SessionRecord.objects.filter(user=user).exclude(pk=current.pk):
        assert f"/sessions/{record.pk}/sign-out/" in content
        assert record.session_key not in content


def test_hostile_user_agent_is_escaped(make_user, browser_client):
    user = make_user("alice")
    admin_login(browser_client(user_agent=HOSTILE_UA, ip="198.51.100.1"), user)
    here = browser_client()
    admin_login(here, user)
    content = here.get(SESSIONS_URL).content.decode()
    assert "<script>alert" not in content


def test_sign_out_one_session(make_user, browser_client):
    user, here, phone, laptop, _current = three_sessions(make_user, browser_client)
    target = SessionRecord.objects.get(user=user, ip_address="198.51.100.7")
    url = f"{SESSIONS_URL}{target.pk}/sign-out/"
    assert here.get(url).status_code == 200
    response = here.post(url)
    assert response["Location"] == SESSIONS_URL
    assert not is_logged_in(phone)
    assert is_logged_in(laptop)
    assert is_logged_in(here)
    target.refresh_from_db()
    assert target.revoked_by == user
    assert ModelLogEntry.objects.filter(action=audit.REVOKE_SESSION).count() == 1


def test_sign_out_all_others_keeps_this_one(make_user, browser_client):
    _user, here, phone, laptop, _current = three_sessions(make_user, browser_client)
    assert here.get(f"{SESSIONS_URL}sign-out-others/").status_code == 200
    response = here.post(f"{SESSIONS_URL}sign-out-others/", follow=True)
    assert b"Signed out 2 other session(s)." in response.content
    assert not is_logged_in(phone)
    assert not is_logged_in(laptop)
    assert is_logged_in(here)


def test_another_users_session_is_not_found(make_user, browser_client):
    _user, here, *_ = three_sessions(make_user, browser_client)
    bob = make_user("bob")
    bob_client = browser_client(ip="192.0.2.50")
    admin_login(bob_client, bob)
    bob_record = SessionRecord.objects.get(user=bob)
    assert here.get(f"{SESSIONS_URL}{bob_record.pk}/sign-out/").status_code == 404
    assert here.post(f"{SESSIONS_URL}{bob_record.pk}/sign-out/").status_code == 404
    assert is_logged_in(bob_client)


def test_the_current_session_cannot_be_signed_out_here(make_user, browser_client):
    _user, here, _phone, _laptop, current = three_sessions(make_user, browser_client)
    assert here.post(f"{SESSIONS_URL}{current.pk}/sign-out/").status_code == 404
    assert is_logged_in(here)


def test_sign_out_is_post_only_for_the_change(make_user, browser_client):
    user, here, phone, _laptop, _current = three_sessions(make_user, browser_client)
    target = SessionRecord.objects.get(user=user, ip_address="198.51.100.7")
    here.get(f"{SESSIONS_URL}{target.pk}/sign-out/")
    here.get(f"{SESSIONS_URL}sign-out-others/")
    assert is_logged_in(phone)

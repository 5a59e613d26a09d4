"""What a browser sends is untrusted: it is stored safely and never crashes a request."""

import pytest

from wagtail_2fa_sessions import clients
from wagtail_2fa_sessions.models import SessionRecord

from .conftest import admin_login, is_logged_in

pytestmark = pytest.mark.django_db


def test_huge_user_agent_is_truncated_and_the_request_works(make_user, browser_client):
    client = browser_client(user_agent="Mozilla/5.0 " + "A" * 100_000)
    admin_login(client, make_user("alice"))
    assert is_logged_in(client)
    record = SessionRecord.objects.get()
    assert len(record.user_agent) == 512
    assert len(record.browser) <= 100


def test_user_agent_with_markup_is_stored_verbatim_not_interpreted(make_user, browser_client):
    hostile = '<script>alert("ua")</script> Mozilla/5.0'
    client = browser_client(user_agent=hostile)
    admin_login(client, make_user("alice"))
    assert is_logged_in(client)
    assert SessionRecord.objects.get().user_agent == hostile


@pytest.mark.parametrize(
    "forwarded",
    [
        "not-an-ip",
        "<script>alert(1)</script>",
        "999.1.1.1",
        "",
        ", , ,",
        "1.2.3.4; DROP TABLE users",
        "2001:db8::1%eth0\x00",
    ],
)
def test_malformed_forwarded_for_never_lands_as_an_ip(
    settings, make_user, browser_client, forwarded
):
    settings.WAGTAIL_2FA_SESSIONS_TRUSTED_PROXIES = 1
    client = browser_client(ip="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded)
    admin_login(client, make_user("alice"))
    assert str(SessionRecord.objects.get().ip_address) == "192.0.2.1"


def test_forwarded_for_is_ignored_without_trusted_proxies(make_user, browser_client):
    client = browser_client(ip="192.0.2.1", HTTP_X_FORWARDED_FOR="198.51.100.9")
    admin_login(client, make_user("alice"))
    assert str(SessionRecord.objects.get().ip_address) == "192.0.2.1"


def test_trusted_proxy_count_picks_the_address_the_outer_proxy_saw(settings, rf):
    settings.WAGTAIL_2FA_SESSIONS_TRUSTED_PROXIES = 2
    # The client forged the first entry; two proxies of ours appended the next two.
    request = rf.get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.9, 10.0.0.1"
    )
    assert clients.client_ip(request) == "198.51.100.9"


def test_custom_proxy_header(settings, rf):
    settings.WAGTAIL_2FA_SESSIONS_TRUSTED_PROXIES = 1
    settings.WAGTAIL_2FA_SESSIONS_PROXY_HEADER = "HTTP_X_REAL_IP"
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_REAL_IP="2001:db8::7")
    assert clients.client_ip(request) == "2001:db8::7"


def test_missing_remote_addr_stores_no_ip(rf):
    request = rf.get("/", REMOTE_ADDR="")
    assert clients.client_ip(request) is None


@pytest.mark.parametrize(
    "cookie",
    ["", "garbage", "x" * 5000, "abc:def:ghi", "<script>", "\x00\x01"],
)
def test_tampered_device_cookie_is_replaced(make_user, browser_client, cookie):
    client = browser_client()
    client.cookies["wagtail_2fa_device"] = cookie
    response = admin_login(client, make_user("alice"))
    record = SessionRecord.objects.get()
    assert record.device_id and record.device_id != cookie
    assert record.device_id in response.cookies["wagtail_2fa_device"].value


def test_bot_and_tablet_user_agents_are_classified(make_user, browser_client):
    user = make_user("alice")
    bot = "Googlebot/2.1 (+http://www.google.com/bot.html)"
    tablet = (
        "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
    )
    for user_agent in (bot, tablet):
        admin_login(browser_client(user_agent=user_agent), user)
    assert set(SessionRecord.objects.values_list("device_type", flat=True)) == {"bot", "tablet"}

import pytest

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_login_in_a_real_browser_is_tracked(browser_page, live_server, make_user):
    from wagtail_2fa_sessions import api

    user = make_user("alice", superuser=True)
    page = browser_page
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    session = api.active_sessions(user).get()
    assert session.browser.startswith(("Chrome", "HeadlessChrome", "Chromium"))
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies["wagtail_2fa_device"]["httpOnly"]

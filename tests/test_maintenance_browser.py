"""A real browser walks through Revoke All: confirmation page, press, and the panel
updating from queued to finished without a page reload."""

from urllib.parse import quote

import pytest

from wagtail_2fa_sessions import jobs
from wagtail_2fa_sessions.models import MaintenanceRun

from .conftest import PASSWORD, admin_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

CONFIRM = "/admin/2fa-sessions/maintenance/{}/"
STATUS = "/admin/2fa-sessions/maintenance/status/"


def test_revoke_all_walkthrough_in_a_real_browser(
    browser_page, live_server, make_user, browser_client, screenshot
):
    admin = make_user("root", superuser=True)
    alice = make_user("alice")
    alice_client = browser_client()
    admin_login(alice_client, alice)
    assert alice_client.get(STATUS).status_code == 403  # logged in, without the permission

    page = browser_page
    back = CONFIRM.format("cleanup")
    target = quote(f"{CONFIRM.format('revoke_all')}?next={quote(back)}")
    page.goto(f"{live_server.url}/admin/login/?next={target}")
    page.fill("input[name=username]", admin.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-w2fa-count]")
    assert page.inner_text("[data-w2fa-count]") == "1"  # alice; the admin keeps their own
    assert page.is_checked("input[name=keep_own]")
    screenshot(page, "maintenance-confirm-revoke-all.png")

    page.click("[data-w2fa-confirm]")
    page.wait_for_selector('tr[data-status="queued"]')
    assert page.url.endswith(CONFIRM.format("cleanup")), page.url
    assert "has been queued" in page.text_content(".messages")
    # Alice is out at once, before any worker ran the bookkeeping.
    assert alice_client.get(STATUS).status_code == 302

    page.evaluate("window.__notReloaded = true")
    run = MaintenanceRun.objects.get(action="revoke_all")
    jobs.execute(run.pk)  # what the cluster's worker does
    page.wait_for_selector('tr[data-status="finished"]', timeout=10_000)
    assert page.evaluate("window.__notReloaded") is True, "updated without a reload"
    assert "1 session revoked" in page.inner_text("[data-w2fa-maintenance-runs]")
    assert "root" in page.inner_text("[data-w2fa-maintenance-runs]")
    screenshot(page, "maintenance-panel.png")

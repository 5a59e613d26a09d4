import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connections
from django.test import Client
from django.urls import reverse

PASSWORD = "correct horse battery staple"

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"

SESSION_ENGINES = [
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
    "django.contrib.sessions.backends.cache",
    "django.contrib.sessions.backends.file",
    "django.contrib.sessions.backends.signed_cookies",
]


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(params=SESSION_ENGINES, ids=lambda engine: engine.rsplit(".", 1)[-1])
def session_engine(request, settings, tmp_path):
    settings.SESSION_ENGINE = request.param
    settings.SESSION_FILE_PATH = str(tmp_path)
    from django.core.cache import cache

    cache.clear()
    return request.param


@pytest.fixture
def make_user(db):
    def make(username, *, superuser=False, groups=(), **fields):
        User = get_user_model()
        if superuser:
            user = User.objects.create_superuser(username, f"{username}@example.com", PASSWORD)
        else:
            user = User.objects.create_user(username, f"{username}@example.com", PASSWORD, **fields)
        for name in groups:
            user.groups.add(Group.objects.get_or_create(name=name)[0])
        if not superuser and not groups:
            # Wagtail admin access, nothing else.
            from django.contrib.auth.models import Permission

            user.user_permissions.add(Permission.objects.get(codename="access_admin"))
        return user

    return make


@pytest.fixture
def browser_client():
    """A Client that behaves like one browser: fixed User-Agent and address, cookies kept."""

    def make(user_agent=CHROME_WINDOWS, ip="203.0.113.10", **extra):
        return Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip, **extra)

    return make


def admin_login(client, user, password=PASSWORD):
    """Log in through Wagtail's real admin login form."""
    response = client.post("/admin/login/", {"username": user.get_username(), "password": password})
    assert response.status_code == 302, response.content[:500]
    return response


def is_logged_in(client):
    """True when the admin dashboard renders for this client rather than redirecting."""
    response = client.get("/admin/")
    return response.status_code == 200


def has_session(client):
    """True when the client's session is still authenticated: the dashboard renders, or the
    2FA gate sends it to the verify step (a user with a device who has not passed it yet)
    rather than to the login page."""
    response = client.get("/admin/")
    if response.status_code == 200:
        return True
    verify = reverse("wagtail_2fa_sessions:verify")
    return response.status_code == 302 and response["Location"].startswith(verify)


@pytest.fixture(scope="session")
def chromium_path():
    """Debian's chromium, or a skip saying how to get it (playwright cannot download one here)."""
    import shutil

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip("No Chromium found: install Debian's 'chromium' package to run browser tests")
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.skip("The 'playwright' package is not installed")
    return path


@pytest.fixture
def wagtail_site(db):
    """Wagtail's root page and default site, which its migrations create but a transactional
    test's flush removes for the tests after it."""
    from django.conf import settings
    from wagtail.coreutils import get_supported_content_language_variant
    from wagtail.models import Locale, Page, Site

    language = get_supported_content_language_variant(settings.LANGUAGE_CODE)
    Locale.objects.get_or_create(language_code=language)
    root = Page.get_first_root_node() or Page.add_root(title="Root", slug="root")
    if not Site.objects.exists():
        home = root.get_children().first() or root.add_child(title="Home", slug="home")
        Site.objects.create(hostname="localhost", root_page=home, is_default_site=True)
    return Site.objects.get(is_default_site=True)


DOCS_SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


@pytest.fixture
def screenshot(tmp_path):
    """``screenshot(page, name)``: a full-page PNG, into docs/screenshots when the
    W2FA_SCREENSHOTS environment variable is set (to refresh the docs' pictures), else
    into the test's temporary directory, so a test run leaves the checkout as it was."""
    directory = DOCS_SCREENSHOTS if os.environ.get("W2FA_SCREENSHOTS") else tmp_path

    def take(page, name, *, full_page=True):
        directory.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(directory / name), full_page=full_page)

    return take


@pytest.fixture
def browser_page(chromium_path, live_server, monkeypatch, wagtail_site):
    """A fresh headless Chromium page; use ``live_server.url`` as the base URL."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's ORM calls are
    # still synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()
            # While Playwright's loop runs in this thread, the ORM calls of the test get a
            # connection of their own (Django's connections are context-local), which the
            # test database's teardown would not see: close it here, where it is visible.
            connections.close_all()

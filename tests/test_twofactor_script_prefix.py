"""The 2FA gate under a script prefix (the site mounted at /cms), through the real WSGI handler."""

import io

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.urls import set_script_prefix

from .conftest import admin_login
from .twofactor_helpers import VERIFY_URL, add_totp

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0"


def half_logged_in(make_user, browser_client):
    user = make_user("boss", superuser=True)
    device = add_totp(user)
    client = browser_client()
    admin_login(client, user)
    return user, device, client


def wsgi_get(path_info, cookie, script_name=""):
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path_info,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "HTTP_COOKIE": cookie,
        "HTTP_USER_AGENT": UA,
        "REMOTE_ADDR": "203.0.113.5",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    status = {}

    def start_response(line, headers, exc_info=None):
        status["code"], status["headers"] = int(line.split()[0]), dict(headers)

    b"".join(WSGIHandler()(environ, start_response))
    return status["code"], status["headers"]


@pytest.mark.django_db(transaction=True)
def test_gate_runs_under_a_script_prefix(make_user, browser_client):
    _user, _device, client = half_logged_in(make_user, browser_client)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    try:
        code, headers = wsgi_get("/admin/", cookie)
        assert code == 302 and headers["Location"].startswith(VERIFY_URL)
        code, headers = wsgi_get("/admin/", cookie, script_name="/cms")
        assert code == 302
        assert headers["Location"].startswith("/cms" + VERIFY_URL)
        assert "next=%2Fcms%2Fadmin%2F" in headers["Location"]
        code, _headers = wsgi_get("/admin/2fa-sessions/2fa/verify/", cookie, script_name="/cms")
        assert code == 200
    finally:
        set_script_prefix("/")

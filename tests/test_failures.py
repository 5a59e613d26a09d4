"""When tracking cannot work, requests neither crash nor let a revoked session through."""

import pytest
from django.db import connection

from wagtail_2fa_sessions.models import SessionRecord

from .conftest import admin_login, is_logged_in

TABLE = SessionRecord._meta.db_table


@pytest.fixture
def table_gone():
    """Really make the record table unreadable, then put it back."""

    def remove():
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE "{TABLE}" RENAME TO "{TABLE}_away"')

    yield remove
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        if f"{TABLE}_away" in tables:
            cursor.execute(f'ALTER TABLE "{TABLE}_away" RENAME TO "{TABLE}"')


@pytest.mark.django_db(transaction=True)
def test_unreadable_record_refuses_the_request_with_503_and_keeps_the_session(
    make_user, browser_client, table_gone
):
    client = browser_client()
    admin_login(client, make_user("alice"))
    table_gone()

    response = client.get("/admin/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert b"try again" in response.content

    # Once the database is back, so is the user, still logged in.
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{TABLE}_away" RENAME TO "{TABLE}"')
    assert is_logged_in(client)


@pytest.mark.django_db(transaction=True)
def test_a_failed_login_record_does_not_fail_the_login(make_user, browser_client, table_gone):
    user = make_user("alice")
    table_gone()
    client = browser_client()
    response = client.post(
        "/admin/login/", {"username": "alice", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.last_login is not None


@pytest.mark.django_db(transaction=True)
def test_anonymous_requests_never_touch_the_table(browser_client, table_gone):
    table_gone()
    assert browser_client().get("/admin/login/").status_code == 200

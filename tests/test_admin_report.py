"""The 2FA users report: contents, search, filters, ordering, export and query counts."""

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from wagtail_2fa_sessions import api, operations
from wagtail_2fa_sessions.models import SessionRecord
from wagtail_2fa_sessions.views.users import UsersReportView

from .admin_helpers import body, logged_in
from .conftest import FIREFOX_LINUX, SAFARI_IPHONE, admin_login

pytestmark = pytest.mark.django_db

REPORT = "/admin/2fa-sessions/users/"


@pytest.fixture
def people(make_user, browser_client):
    """A small site: 2FA of every kind, several sessions, an inactive account."""
    alice = make_user("alice", first_name="Alice", last_name="Keller", groups=["Editors"])
    TOTPDevice.objects.create(user=alice, name="app")
    StaticDevice.objects.create(user=alice, name="backup")
    admin_login(browser_client(), alice)
    admin_login(browser_client(SAFARI_IPHONE), alice)

    bob = make_user("bob", first_name="Bob", last_name="Adler", groups=["Moderators"])
    EmailDevice.objects.create(user=bob, name="mail", email="bob@example.com")
    admin_login(browser_client(FIREFOX_LINUX), bob)

    carol = make_user("carol", first_name="Carol", last_name="Zimmer")
    TOTPDevice.objects.create(user=carol, name="unconfirmed", confirmed=False)

    dave = make_user("dave", first_name="Dave", last_name="Moser", is_active=False)

    root = make_user("root", superuser=True)
    client = logged_in(browser_client, root)
    return {
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "dave": dave,
        "root": root,
        "client": client,
    }


def rows(client, query=""):
    """The report as CSV rows keyed by username (the export of the same filtered list)."""
    separator = "&" if query else ""
    response = client.get(f"{REPORT}?{query}{separator}export=csv")
    assert response.status_code == 200
    reader = csv.DictReader(io.StringIO(body(response).decode()))
    return {row["Username"]: row for row in reader}


def test_every_user_with_roles_methods_and_counts(people):
    report = rows(people["client"])
    assert set(report) == {"alice", "bob", "carol", "dave", "root"}
    alice, bob, carol, dave, root = (
        report[name] for name in ("alice", "bob", "carol", "dave", "root")
    )
    assert alice["Name"] == "Alice Keller"
    assert alice["Role"] == "Editors"
    assert alice["2FA type"] == "Authenticator App, Backup codes"
    assert (alice["Active sessions"], alice["Devices"]) == ("2", "2")
    assert alice["Last activity"]
    assert bob["2FA type"] == "Email OTP"
    assert (bob["Role"], bob["Active sessions"]) == ("Moderators", "1")
    assert carol["2FA type"] == "Not set", "an unconfirmed device is no 2FA"
    assert (carol["Active sessions"], carol["Last activity"]) == ("0", "")
    assert (dave["Active account"], root["Active account"]) == ("False", "True")
    assert root["Role"] == "Superuser"


def test_html_report_shows_the_same(people):
    html = body(people["client"].get(REPORT)).decode()
    assert "Alice Keller" in html
    assert "Authenticator App, Backup codes" in html
    assert "Not set" in html
    assert reverse("wagtail_2fa_sessions:user_sessions", args=[people["alice"].pk]) in html
    # The bulk actions' footer, for the user model.
    assert "wagtail_2fa_sessions_revoke_sessions" in html


def test_active_counts_use_the_active_queryset_definition(people, browser_client):
    alice = people["alice"]
    # One of Alice's sessions ends, and a Revoke All cuts everything older than now
    # except root's; bookkeeping has not marked the records yet.
    SessionRecord.objects.filter(user=alice, device_type="mobile").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert rows(people["client"])["alice"]["Active sessions"] == "1"
    operations.begin_revoke_all(keep=list(api.active_sessions(people["root"])))
    report = rows(people["client"])
    for username in ("alice", "bob"):
        expected = SessionRecord.objects.active().filter(user__username=username).count()
        assert report[username]["Active sessions"] == str(expected) == "0"
    assert report["root"]["Active sessions"] == "1"


def test_search_by_name_username_and_email(people):
    client = people["client"]
    assert set(rows(client, "q=keller")) == {"alice"}
    assert set(rows(client, "q=bob")) == {"bob"}
    assert set(rows(client, "q=carol%40example")) == {"carol"}
    response = client.get(reverse("wagtail_2fa_sessions:users_results") + "?q=zimmer")
    assert b"Carol Zimmer" in body(response)
    assert b"Alice Keller" not in body(response)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("two_factor=any", {"alice", "bob"}),
        ("two_factor=none", {"carol", "dave", "root"}),
        ("two_factor=otp_totp.totpdevice", {"alice"}),
        ("two_factor=otp_email.emaildevice", {"bob"}),
        ("role=superuser", {"root"}),
        ("role=none", {"carol", "dave"}),
        ("sessions=active", {"alice", "bob", "root"}),
        ("sessions=none", {"carol", "dave"}),
        ("is_active=false", {"dave"}),
        ("is_active=true&two_factor=none", {"carol", "root"}),
    ],
)
def test_filters(people, query, expected):
    assert set(rows(people["client"], query)) == expected


def test_role_filter_by_group(people):
    editors = Group.objects.get(name="Editors")
    assert set(rows(people["client"], f"role={editors.pk}")) == {"alice"}


def test_every_column_sorts_both_ways(people):
    view = UsersReportView()
    keys = [column.sort_key for column in view.columns if column.sort_key]
    assert len(keys) == len(view.columns) - 1  # all but the checkbox column
    for key in keys:
        for ordering in (key, f"-{key}"):
            response = people["client"].get(f"{REPORT}?ordering={ordering}")
            assert response.status_code == 200, ordering
    by_name = list(rows(people["client"], "ordering=name"))
    # By last name, then first name, then username: root has no name.
    assert by_name == ["root", "bob", "alice", "dave", "carol"]
    by_sessions = list(rows(people["client"], "ordering=-active_session_count"))
    assert by_sessions[0] == "alice"
    by_role = list(rows(people["client"], "ordering=role"))
    assert by_role[0] == "root"


def test_xlsx_export_of_the_filtered_list(people):
    response = people["client"].get(f"{REPORT}?two_factor=any&export=xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="2fa-users.xlsx"')
    workbook = openpyxl.load_workbook(io.BytesIO(body(response)))
    sheet = workbook.active
    header, *data = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header[:5] == ["Username", "Name", "Email", "Role", "2FA type"]
    by_username = {row[0]: dict(zip(header, row, strict=True)) for row in data}
    assert set(by_username) == {"alice", "bob"}
    assert by_username["alice"]["2FA type"] == "Authenticator App, Backup codes"
    assert by_username["alice"]["Active sessions"] == 2
    assert by_username["bob"]["Last activity"] is not None


def test_export_neutralises_formulas(make_user, browser_client):
    make_user("=HYPERLINK(evil)", first_name="@SUM(1)", last_name="x")
    client = logged_in(browser_client, make_user("root", superuser=True))
    workbook = openpyxl.load_workbook(io.BytesIO(body(client.get(f"{REPORT}?export=xlsx"))))
    cells = [cell for row in workbook.active.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    report = rows(client)
    assert "'=HYPERLINK(evil)" in report
    assert report["'=HYPERLINK(evil)"]["Name"] == "'@SUM(1) x"


def _page_queries(client, query=""):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{REPORT}?{query}")
    assert response.status_code == 200
    return len(queries)


def _populate(count, browser_client):
    """``count`` users, each in a group, with a device and a real tracked login."""
    User = get_user_model()
    group, _ = Group.objects.get_or_create(name="Bulk")
    existing = User.objects.filter(username__startswith="bulk").count()
    for index in range(existing, count):
        user = User.objects.create_user(f"bulk{index:04d}", f"bulk{index}@example.com", "x")
        user.groups.add(group)
        TOTPDevice.objects.create(user=user, name="app")
        browser_client().force_login(user)


def test_queries_per_page_do_not_grow_with_users_or_page_size(make_user, browser_client):
    """21 rows on a page at 20 users, a full page of 50 at 200: the same queries."""
    client = logged_in(browser_client, make_user("root", superuser=True))
    _populate(20, browser_client)
    # The first request fills per-session caches (the 2FA gate's answer); measure after it.
    _page_queries(client)
    at_20 = _page_queries(client)
    _populate(200, browser_client)
    at_200 = _page_queries(client)
    at_200_all_rows = _page_queries(client, "ordering=-active_session_count&p=2")
    assert at_20 == at_200 == at_200_all_rows, (at_20, at_200, at_200_all_rows)
    assert get_user_model().objects.count() == 201
    assert SessionRecord.objects.count() >= 201

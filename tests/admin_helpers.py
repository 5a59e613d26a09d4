"""Shared set-up for the admin tests: staff users at each permission level."""

from django.contrib.auth.models import Group, Permission

from .conftest import admin_login

LEVELS = {
    # Wagtail admin access only: the plugin's pages are closed.
    "none": [],
    "view": ["view_dashboard"],
    "sessions": ["view_dashboard", "manage_sessions"],
    "reset": ["view_dashboard", "reset_2fa"],
    "all": ["view_dashboard", "manage_sessions", "reset_2fa"],
}

XSS = "<script>alert(1)</script>"


def staff(make_user, username, level):
    """A Wagtail admin user holding the plugin permissions of ``level`` through a group."""
    group, created = Group.objects.get_or_create(name=f"2FA {level}")
    if created:
        group.permissions.add(Permission.objects.get(codename="access_admin"))
        for codename in LEVELS[level]:
            group.permissions.add(
                Permission.objects.get(
                    content_type__app_label="wagtail_2fa_sessions", codename=codename
                )
            )
    return make_user(username, groups=[group.name])


def logged_in(browser_client, user, **client_kwargs):
    client = browser_client(**client_kwargs)
    admin_login(client, user)
    return client


def body(response):
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content

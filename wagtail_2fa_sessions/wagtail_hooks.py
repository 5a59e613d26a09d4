from django.contrib.auth.models import Permission
from django.urls import include, path
from wagtail import hooks

from . import admin_urls, audit


@hooks.register("register_log_actions")
def register_log_actions(actions):
    for action, (label, message) in audit.LABELS.items():
        actions.register_action(action, label, message)


@hooks.register("register_permissions")
def register_permissions():
    return Permission.objects.filter(
        content_type__app_label="wagtail_2fa_sessions",
        codename__in=["view_dashboard", "manage_sessions", "reset_2fa"],
    )


@hooks.register("register_admin_urls")
def register_admin_urls():
    return [path("2fa-sessions/", include(admin_urls, namespace="wagtail_2fa_sessions"))]


# --- Two-factor authentication: account menu items, grace-period banner ---


@hooks.register("register_account_menu_item")
def register_twofactor_account_menu_item(request):
    from django.urls import reverse
    from django.utils.translation import gettext as _

    return {
        "url": reverse("wagtail_2fa_sessions:twofactor"),
        "label": _("Two-factor authentication"),
        "help_text": _("Add or remove authenticator apps, email codes and backup codes."),
    }


@hooks.register("register_account_menu_item")
def register_your_sessions_account_menu_item(request):
    from django.urls import reverse
    from django.utils.translation import gettext as _

    return {
        "url": reverse("wagtail_2fa_sessions:your_sessions"),
        "label": _("Your sessions"),
        "help_text": _("See where you are signed in and sign out other sessions."),
    }


@hooks.register("construct_homepage_panels")
def add_twofactor_grace_banner(request, panels):
    from .banners import grace_banner

    banner = grace_banner(request)
    if banner is not None:
        panels.insert(0, banner)

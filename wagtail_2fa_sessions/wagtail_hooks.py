from django.contrib.auth.models import Permission
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.widgets.button import Button

from . import admin_urls, log_formatters, permissions
from .views.bulk_actions import ResetTwoFactorBulkAction, RevokeSessionsBulkAction
from .views.dashboard import SummaryPanel


@hooks.register("register_log_actions")
def register_log_actions(actions):
    for action, formatter_class in log_formatters.formatter_classes():
        actions.register_action(action)(formatter_class)


@hooks.register("register_permissions")
def register_permissions():
    return Permission.objects.filter(
        content_type__app_label="wagtail_2fa_sessions",
        codename__in=["view_dashboard", "manage_sessions", "reset_2fa"],
    )


@hooks.register("register_admin_urls")
def register_admin_urls():
    return [path("2fa-sessions/", include(admin_urls, namespace="wagtail_2fa_sessions"))]


# --- The admin: dashboard, 2FA users report, one user's sessions, bulk actions ---------


class TwoFactorSessionsMenuItem(MenuItem):
    def is_shown(self, request):
        return permissions.can_view(request.user)


@hooks.register("register_admin_menu_item")
def register_menu_item():
    return TwoFactorSessionsMenuItem(
        _("2FA & Sessions"),
        reverse("wagtail_2fa_sessions:dashboard"),
        name="2fa-sessions",
        icon_name="key",
        order=650,
    )


@hooks.register("construct_homepage_panels")
def add_summary_panel(request, panels):
    if permissions.can_view(request.user):
        panels.append(SummaryPanel())


@hooks.register("register_user_listing_buttons")
def user_listing_buttons(user, request_user):
    if permissions.can_view(request_user):
        yield Button(
            _("Sessions and 2FA"),
            url=reverse("wagtail_2fa_sessions:user_sessions", args=[user.pk]),
            icon_name="key",
            attrs={"data-w2fa-user-sessions": ""},
            priority=60,
        )


hooks.register("register_bulk_action", ResetTwoFactorBulkAction)
hooks.register("register_bulk_action", RevokeSessionsBulkAction)
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

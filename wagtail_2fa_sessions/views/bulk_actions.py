"""Reset 2FA and Revoke sessions as Wagtail bulk actions on users.

Registered for the user model, so they appear on the 2FA users report and on Wagtail's
own Users listing. Each one calls the ``api`` function per user; nothing here changes
data itself.
"""

from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin.views.bulk_action import BulkAction

from .. import api, permissions
from ..filters import USER_SEARCH_FIELDS, TwoFactorUserFilterSet
from ..tracking import session_record_id

User = get_user_model()


class TwoFactorUserBulkAction(permissions.PermissionRequiredMixin, BulkAction):
    models = [User]

    def get_all_objects_in_listing_query(self, parent_id):
        """ "Select all in listing": the users matching the listing's search, and on the
        2FA users report also its filters (the JS passes the listing's query string)."""
        users = self.model._default_manager.all()
        query = self.request.GET.get("q", "").strip()
        if query:
            fields = {field.name for field in self.model._meta.get_fields()}
            condition = Q()
            for field in fields.intersection(USER_SEARCH_FIELDS):
                condition |= Q(**{f"{field}__icontains": query})
            users = users.filter(condition)
        next_path = urlsplit(self.next_url).path
        if next_path == reverse("wagtail_2fa_sessions:users"):
            filterset = TwoFactorUserFilterSet(self.request.GET, queryset=users)
            if filterset.is_valid():
                users = filterset.qs
        return users.values_list("pk", flat=True)

    def get_queryset(self, model, object_ids):
        return list(model._default_manager.filter(pk__in=object_ids).order_by("pk"))

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            heading=self.display_name,
            header_icon=self.header_icon,
            action_button_text=self.action_button_text,
            no_action_button_text=self.no_action_button_text,
            **kwargs,
        )


class ResetTwoFactorBulkAction(TwoFactorUserBulkAction):
    display_name = _("Reset 2FA")
    action_type = "wagtail_2fa_sessions_reset_2fa"
    aria_label = _("Reset two-factor authentication of the selected users")
    template_name = "wagtail_2fa_sessions/bulk_actions/confirm_reset_2fa.html"
    header_icon = "key"
    action_button_text = _("Yes, reset 2FA")
    no_action_button_text = _("No, don't reset")
    action_priority = 60
    required = (permissions.VIEW_DASHBOARD, permissions.RESET_2FA)

    def get_execution_context(self):
        return {"by": self.request.user}

    @classmethod
    def execute_action(cls, objects, by=None, **kwargs):
        devices = sum(api.reset_2fa(user, by=by) for user in objects)
        return len(objects), devices

    def get_success_message(self, num_parent_objects, num_child_objects):
        users = ngettext(
            "Two-factor authentication reset for %(count)d user",
            "Two-factor authentication reset for %(count)d users",
            num_parent_objects,
        ) % {"count": num_parent_objects}
        devices = ngettext(
            "%(count)d device deleted.", "%(count)d devices deleted.", num_child_objects
        ) % {"count": num_child_objects}
        return f"{users}: {devices}"


class RevokeSessionsBulkAction(TwoFactorUserBulkAction):
    display_name = _("Revoke sessions")
    action_type = "wagtail_2fa_sessions_revoke_sessions"
    aria_label = _("Revoke every active session of the selected users")
    template_name = "wagtail_2fa_sessions/bulk_actions/confirm_revoke_sessions.html"
    header_icon = "logout"
    action_button_text = _("Yes, revoke sessions")
    no_action_button_text = _("No, don't revoke")
    action_priority = 61
    required = (permissions.VIEW_DASHBOARD, permissions.MANAGE_SESSIONS)

    def get_execution_context(self):
        return {
            "by": self.request.user,
            "keep": session_record_id(self.request),
        }

    @classmethod
    def execute_action(cls, objects, by=None, keep=None, **kwargs):
        revoked = sum(
            api.revoke_user_sessions(user, by=by, keep=keep, reason="Bulk action")
            for user in objects
        )
        return len(objects), revoked

    def get_success_message(self, num_parent_objects, num_child_objects):
        sessions = ngettext(
            "%(count)d session revoked", "%(count)d sessions revoked", num_child_objects
        ) % {"count": num_child_objects}
        users = ngettext("for %(count)d user.", "for %(count)d users.", num_parent_objects) % {
            "count": num_parent_objects
        }
        return f"{sessions} {users}"

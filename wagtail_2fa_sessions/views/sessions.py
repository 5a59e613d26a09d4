"""One user's sessions, and the confirmed POST actions on them.

Sessions are identified by the record's own id, never by the session key (which is never
rendered). Each action is a GET confirmation page plus a POST-only endpoint that calls
the ``api`` function and answers with a Wagtail message.
"""

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import TemplateView, View
from wagtail.admin import messages
from wagtail.admin.utils import get_user_display_name
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .. import api, permissions, reports, twofactor
from ..models import SessionRecord
from ..tracking import session_record_id

User = get_user_model()


def sessions_of(user):
    """Every record of ``user``, active first (by the queryset's own definition of
    active), then by last activity."""
    active = SessionRecord.objects.active().filter(pk=OuterRef("pk"))
    return (
        SessionRecord.objects.filter(user=user)
        .annotate(is_active=Exists(active))
        .select_related("revoked_by")
        .order_by("-is_active", "-last_activity", "-pk")
    )


def status_of(record):
    """``(status, detail)`` for display. A record the queryset says is not active but
    whose own fields look active was cut by a Revoke All whose bookkeeping is still
    running: it no longer lets anyone in, so it shows as revoked."""
    if record.is_active:
        return "active", ""
    status = record.status
    if status == "revoked":
        by = get_user_display_name(record.revoked_by) if record.revoked_by else ""
        return status, by
    if status == "active":
        return "revoked", _("Revoke all")
    return status, ""


class UserMixin:
    # Looked up on first use, after the permission check in dispatch(), so a user without
    # the plugin's permissions cannot tell existing ids (403) from missing ones (404).
    @cached_property
    def target(self):
        return get_object_or_404(User._default_manager, pk=self.kwargs["pk"])

    @cached_property
    def sessions_url(self):
        return reverse("wagtail_2fa_sessions:user_sessions", args=[self.target.pk])

    def get_breadcrumbs_items(self):
        return [
            {"url": reverse("wagtailadmin_home"), "label": _("Home")},
            {"url": reverse("wagtail_2fa_sessions:dashboard"), "label": _("2FA & Sessions")},
            {"url": reverse("wagtail_2fa_sessions:users"), "label": _("2FA users")},
            {"url": "", "label": get_user_display_name(self.target)},
        ]


class UserSessionsView(
    permissions.PermissionRequiredMixin, UserMixin, WagtailAdminTemplateMixin, TemplateView
):
    template_name = "wagtail_2fa_sessions/sessions/user.html"
    header_icon = "key"
    page_title = gettext_lazy("Sessions and 2FA")

    def get_page_subtitle(self):
        return get_user_display_name(self.target)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        own_record = session_record_id(self.request)
        rows = []
        for record in sessions_of(self.target):
            status, detail = status_of(record)
            rows.append(
                {
                    "record": record,
                    "status": status,
                    "status_detail": detail,
                    "method": twofactor.method_label(record.verified_device_type),
                    "is_current": record.pk == own_record,
                    "revoke_url": reverse(
                        "wagtail_2fa_sessions:revoke_session_confirm",
                        args=[self.target.pk, record.pk],
                    ),
                }
            )
        annotated = reports.annotate_users(User._default_manager.filter(pk=self.target.pk)).get()
        context.update(
            target=self.target,
            target_name=get_user_display_name(self.target),
            rows=rows,
            active_count=sum(1 for row in rows if row["status"] == "active"),
            methods=reports.methods_of(annotated),
            roles=reports.roles_of(annotated),
            last_2fa_use=annotated.last_2fa_use,
            audit_trail=reports.audit_trail(self.target),
            can_manage_sessions=permissions.can_manage_sessions(user),
            can_reset_2fa=permissions.can_reset_2fa(user),
            revoke_all_url=reverse(
                "wagtail_2fa_sessions:revoke_user_sessions_confirm", args=[self.target.pk]
            ),
            reset_2fa_url=reverse("wagtail_2fa_sessions:reset_2fa_confirm", args=[self.target.pk]),
            edit_user_url=(
                reverse("wagtailusers_users:edit", args=[self.target.pk])
                if user.has_perm(f"{User._meta.app_label}.change_{User._meta.model_name}")
                else None
            ),
        )
        return context


class ActionMixin(permissions.PermissionRequiredMixin, UserMixin):
    """A confirmed action on one user: ``ConfirmView`` renders the question (GET),
    ``PerformView`` does it (POST only)."""

    confirm_template_name = "wagtail_2fa_sessions/sessions/confirm.html"

    def action_url(self):
        raise NotImplementedError

    def question(self):
        raise NotImplementedError

    def perform(self):
        """Do the action through ``api`` and return the success message."""
        raise NotImplementedError


class ConfirmMixin(WagtailAdminTemplateMixin, TemplateView):
    header_icon = "warning"

    def get_template_names(self):
        return [self.confirm_template_name]

    def get_page_subtitle(self):
        return get_user_display_name(self.target)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            action_url=self.action_url(),
            cancel_url=self.sessions_url,
            question=self.question(),
            warning=self.warning(),
            button_label=self.page_title,
        )
        return context

    def warning(self):
        return ""


class PerformMixin(View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        messages.success(request, self.perform())
        return redirect(self.sessions_url)


class RevokeSessionAction(ActionMixin):
    required = (permissions.VIEW_DASHBOARD, permissions.MANAGE_SESSIONS)
    page_title = gettext_lazy("Revoke session")

    @cached_property
    def record(self):
        return get_object_or_404(
            SessionRecord.objects.select_related("user"),
            pk=self.kwargs["record_id"],
            user=self.target,
        )

    def action_url(self):
        return reverse("wagtail_2fa_sessions:revoke_session", args=[self.target.pk, self.record.pk])

    def question(self):
        return _("Revoke the session of %(user)s on %(device)s, logged in %(when)s?") % {
            "user": get_user_display_name(self.target),
            "device": self.record.browser or _("an unknown browser"),
            "when": self.record.created_at.strftime("%Y-%m-%d %H:%M"),
        }

    def warning(self):
        if self.record.pk == session_record_id(self.request):
            return _("This is your own current session: you will be logged out.")
        return _("The session stops working at its next request.")

    def perform(self):
        changed = api.revoke_session(
            self.record, by=self.request.user, reason="Revoked by an admin"
        )
        if changed:
            return _("Session of %(user)s on %(device)s revoked.") % {
                "user": get_user_display_name(self.target),
                "device": self.record.browser or _("an unknown browser"),
            }
        return _("That session had already ended; nothing changed.")


class RevokeUserSessionsAction(ActionMixin):
    required = (permissions.VIEW_DASHBOARD, permissions.MANAGE_SESSIONS)
    page_title = gettext_lazy("Revoke all sessions")

    def action_url(self):
        return reverse("wagtail_2fa_sessions:revoke_user_sessions", args=[self.target.pk])

    def question(self):
        return _("Revoke every active session of %(user)s?") % {
            "user": get_user_display_name(self.target)
        }

    def warning(self):
        if self.target.pk == self.request.user.pk:
            return _("Your current session is kept; your other sessions are logged out.")
        return _("They are logged out everywhere and must log in and pass 2FA again.")

    def perform(self):
        changed = api.revoke_user_sessions(
            self.target,
            by=self.request.user,
            keep=session_record_id(self.request),
            reason="Revoked by an admin",
        )
        return ngettext(
            "%(count)d session of %(user)s revoked.",
            "%(count)d sessions of %(user)s revoked.",
            changed,
        ) % {"count": changed, "user": get_user_display_name(self.target)}


class ResetTwoFactorAction(ActionMixin):
    required = (permissions.VIEW_DASHBOARD, permissions.RESET_2FA)
    page_title = gettext_lazy("Reset 2FA")

    def action_url(self):
        return reverse("wagtail_2fa_sessions:reset_2fa", args=[self.target.pk])

    def question(self):
        return _("Reset two-factor authentication of %(user)s?") % {
            "user": get_user_display_name(self.target)
        }

    def warning(self):
        return _(
            "All their authenticator apps, email OTP, backup codes and passkeys are deleted; "
            "their sessions lose the verified state at once."
        )

    def perform(self):
        deleted = api.reset_2fa(self.target, by=self.request.user)
        return ngettext(
            "2FA of %(user)s reset: %(count)d device deleted.",
            "2FA of %(user)s reset: %(count)d devices deleted.",
            deleted,
        ) % {"count": deleted, "user": get_user_display_name(self.target)}


def _views(action):
    confirm = type(f"{action.__name__}Confirm", (action, ConfirmMixin), {})
    perform = type(f"{action.__name__}Perform", (action, PerformMixin), {})
    return confirm.as_view(), perform.as_view()


revoke_session_confirm, revoke_session = _views(RevokeSessionAction)
revoke_user_sessions_confirm, revoke_user_sessions = _views(RevokeUserSessionsAction)
reset_2fa_confirm, reset_2fa = _views(ResetTwoFactorAction)
user_sessions = UserSessionsView.as_view()

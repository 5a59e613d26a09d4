"""Your sessions: the user's own active sessions, and signing them out."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from .. import api
from ..tracking import session_record_id
from .reauth import AccountBreadcrumbsMixin

REASON = "Signed out by the user"


class YourSessionsView(AccountBreadcrumbsMixin, TemplateView):
    page_title = _("Your sessions")
    header_icon = "desktop"
    template_name = "wagtail_2fa_sessions/otp/your_sessions.html"

    def get_context_data(self, **kwargs):
        current = session_record_id(self.request)
        sessions = api.active_sessions(self.request.user).order_by("-last_activity")
        return {
            **super().get_context_data(**kwargs),
            "sessions": sessions,
            "current_id": current,
            "others": sum(1 for record in sessions if record.pk != current),
        }


class RevokeSessionView(AccountBreadcrumbsMixin, TemplateView):
    """Confirm (GET) and sign out (POST) one of the user's other sessions."""

    page_title = _("Sign out a session")
    header_icon = "desktop"
    template_name = "wagtail_2fa_sessions/otp/revoke_session.html"

    def dispatch(self, request, pk):
        # Another user's record, or this very session, is not found here.
        self.record = api.user_session(request.user, pk)
        if self.record is None or self.record.pk == session_record_id(request):
            raise Http404
        return super().dispatch(request)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "record": self.record}

    def post(self, request):
        api.revoke_session(self.record, by=request.user, reason=REASON)
        messages.success(request, _("That session has been signed out."))
        return redirect("wagtail_2fa_sessions:your_sessions")


class RevokeOtherSessionsView(AccountBreadcrumbsMixin, TemplateView):
    """Confirm (GET) and sign out (POST) every session of the user but this one."""

    page_title = _("Sign out all other sessions")
    header_icon = "desktop"
    template_name = "wagtail_2fa_sessions/otp/revoke_others.html"

    def post(self, request):
        count = api.revoke_user_sessions(
            request.user, by=request.user, reason=REASON, keep=session_record_id(request)
        )
        messages.success(
            request,
            _("Signed out %(count)d other session(s).") % {"count": count},
        )
        return redirect("wagtail_2fa_sessions:your_sessions")

"""Who may see and do what in the admin: the three permissions on ``SessionRecord``.

Superusers have all of them (Django's ``has_perm``); the rest get them through Wagtail's
group editor, where ``register_permissions`` lists them.
"""

from django.template.response import TemplateResponse

VIEW_DASHBOARD = "wagtail_2fa_sessions.view_dashboard"
MANAGE_SESSIONS = "wagtail_2fa_sessions.manage_sessions"
RESET_2FA = "wagtail_2fa_sessions.reset_2fa"


def can_view(user):
    return user.is_active and user.has_perm(VIEW_DASHBOARD)


def can_manage_sessions(user):
    return can_view(user) and user.has_perm(MANAGE_SESSIONS)


def can_reset_2fa(user):
    return can_view(user) and user.has_perm(RESET_2FA)


def forbidden(request):
    """A 403 page in the admin's look.

    Not ``raise PermissionDenied``: Wagtail's admin turns that into a redirect to the
    dashboard, and a refused action should say 403 to scripts and monitoring too."""
    return TemplateResponse(request, "wagtail_2fa_sessions/403.html", status=403)


class PermissionRequiredMixin:
    """Refuse the view (403) unless the user has every permission in ``required``."""

    required = (VIEW_DASHBOARD,)

    def dispatch(self, request, *args, **kwargs):
        if not all(request.user.has_perm(perm) for perm in self.required):
            return forbidden(request)
        return super().dispatch(request, *args, **kwargs)

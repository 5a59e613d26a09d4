"""Session maintenance in the admin: confirmation pages that queue the jobs, a JSON
status endpoint, and the dashboard panel.

Contract used by the dashboard:
- ``urlpatterns``: included under ``/admin/2fa-sessions/maintenance/``; the URL named
  ``maintenance_confirm`` takes an action slug (``cleanup``, ``revoke_all``, ``delete_all``,
  ``reset_all_2fa``) and shows a confirmation page whose POST enqueues the job;
  ``maintenance_status`` answers the panel's polling with JSON.
- ``MaintenancePanel(request)``: a Wagtail ``Component`` the dashboard renders, holding the
  action buttons and the status of recent runs.
"""

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView, View
from wagtail.admin.ui.components import Component
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .. import api, jobs
from ..models import MaintenanceRun
from ..permissions import forbidden
from ..tracking import session_record_id

Action = MaintenanceRun.Action
ACTIONS = tuple(Action.values)
# The dashboard's buttons; Reset all 2FA lives with the 2FA users report.
PANEL_ACTIONS = (Action.CLEANUP, Action.REVOKE_ALL, Action.DELETE_ALL)
RUNS_PER_ACTION = 3
PERMISSION = {
    Action.CLEANUP: "manage_sessions",
    Action.REVOKE_ALL: "manage_sessions",
    Action.DELETE_ALL: "manage_sessions",
    Action.RESET_ALL_2FA: "reset_2fa",
}
VIEW_PERMISSIONS = ("view_dashboard", "manage_sessions", "reset_2fa")

DESCRIPTIONS = {
    Action.CLEANUP: gettext_lazy(
        "Deletes the records of sessions that ended, were revoked or expired longer ago than "
        "the retention period, and the session store's expired data. Active sessions are "
        "not touched."
    ),
    Action.REVOKE_ALL: gettext_lazy(
        "Everyone is logged out at their next request and must log in and pass two-factor "
        "authentication again. The records stay, marked revoked by you."
    ),
    Action.DELETE_ALL: gettext_lazy(
        "Everyone is logged out at once, and every session record and all session data "
        "the session store keeps are deleted. This cannot be undone."
    ),
    Action.RESET_ALL_2FA: gettext_lazy(
        "Deletes every user's two-factor devices (authenticator apps, backup codes, email "
        "OTP). Their sessions lose the verified state at once, and each user must set up "
        "two-factor authentication again."
    ),
}
COUNT_LABELS = {
    Action.CLEANUP: gettext_lazy("Session records that will be deleted"),
    Action.REVOKE_ALL: gettext_lazy("Active sessions that will be revoked"),
    Action.DELETE_ALL: gettext_lazy("Session records that will be deleted"),
    Action.RESET_ALL_2FA: gettext_lazy("Users whose two-factor devices will be deleted"),
}


def has_permission(user, codename):
    return user.has_perm(f"wagtail_2fa_sessions.{codename}")


def can_view_status(user):
    return any(has_permission(user, codename) for codename in VIEW_PERMISSIONS)


def dashboard_url():
    try:
        return reverse("wagtail_2fa_sessions:dashboard")
    except NoReverseMatch:  # the dashboard is not installed: fall back to Wagtail's home
        return reverse("wagtailadmin_home")


def recent_runs():
    """The last few runs of each action, newest first."""
    runs = []
    for action in ACTIONS:
        runs += MaintenanceRun.objects.filter(action=action).select_related("started_by")[
            :RUNS_PER_ACTION
        ]
    now = timezone.now()
    for run in runs:
        run.stalled = jobs.is_stalled(run, now)
    return sorted(runs, key=lambda run: (run.created_at, run.pk), reverse=True)


def run_as_dict(run):
    duration = run.duration
    return {
        "id": run.pk,
        "action": run.action,
        "action_label": str(run.get_action_display()),
        "status": run.status,
        "status_label": str(run.get_status_display()),
        "stalled": jobs.is_stalled(run),
        "rows_done": run.rows_done,
        "rows_total": run.rows_total,
        "result": run.result,
        "error": run.error,
        "started_by": run.started_by.get_username() if run.started_by else None,
        "origin": run.origin,
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_seconds": duration.total_seconds() if duration is not None else None,
    }


class MaintenancePanel(Component):
    template_name = "wagtail_2fa_sessions/maintenance/panel.html"

    def __init__(self, request):
        self.request = request

    def get_context_data(self, parent_context=None):
        runs = recent_runs()
        can_manage = has_permission(self.request.user, "manage_sessions")
        return {
            "request": self.request,
            "actions": ACTIONS,
            "buttons": [
                {
                    "action": action,
                    "label": Action(action).label,
                    "serious": action != Action.CLEANUP,
                    "url": reverse("wagtail_2fa_sessions:maintenance_confirm", args=[action]),
                }
                for action in PANEL_ACTIONS
            ]
            if can_manage
            else [],
            "runs": runs,
            "any_open": any(run.is_open for run in runs),
            "status_url": reverse("wagtail_2fa_sessions:maintenance_status"),
        }


class MaintenanceConfirmView(WagtailAdminTemplateMixin, TemplateView):
    """GET: what the action does and how many it affects. POST: queue it."""

    template_name = "wagtail_2fa_sessions/maintenance/confirm.html"
    header_icon = "warning"

    def dispatch(self, request, action):
        if action not in ACTIONS:
            raise Http404
        self.action = Action(action)
        if not has_permission(request.user, PERMISSION[self.action]):
            return forbidden(request)
        return super().dispatch(request, action)

    def get_page_title(self):
        return self.action.label

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": dashboard_url(), "label": _("2FA & Sessions")},
            {"url": "", "label": self.action.label},
        ]

    def own_record_id(self):
        return session_record_id(self.request)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        keep = [self.own_record_id()] if self.own_record_id() else None
        open_run = jobs.open_run(self.action)
        context.update(
            action=self.action,
            description=DESCRIPTIONS[self.action],
            count_label=COUNT_LABELS[self.action],
            count=api.maintenance_pending(self.action, keep=keep),
            open_run=open_run,
            open_run_stalled=open_run is not None and jobs.is_stalled(open_run),
            renews_cutoff=self.action in (Action.REVOKE_ALL, Action.DELETE_ALL),
            can_keep_own=self.action == Action.REVOKE_ALL and bool(keep),
            serious=self.action != Action.CLEANUP,
            cancel_url=get_valid_next_url_from_request(self.request) or dashboard_url(),
            next_url=get_valid_next_url_from_request(self.request),
            panel=MaintenancePanel(self.request),
        )
        return context

    def post(self, request, action):
        keep = None
        if (
            self.action == Action.REVOKE_ALL
            and request.POST.get("keep_own")
            and (self.own_record_id())
        ):
            keep = [self.own_record_id()]
        run, created = jobs.enqueue(self.action, by=request.user, origin="admin", keep=keep)
        if created:
            messages.success(
                request,
                _("%(action)s has been queued; its progress shows on the dashboard.")
                % {"action": self.action.label},
            )
        elif run.cutoff_renewed:
            messages.success(
                request,
                _(
                    "%(action)s: everyone was logged out again. The bookkeeping of the run "
                    "already %(status)s continues and now covers this press too."
                )
                % {"action": self.action.label, "status": run.get_status_display().lower()},
            )
        else:
            messages.warning(
                request,
                _("%(action)s is already %(status)s; it was not started again.")
                % {"action": self.action.label, "status": run.get_status_display().lower()},
            )
        return redirect(get_valid_next_url_from_request(request) or dashboard_url())


class MaintenanceStatusView(View):
    """The recent runs as JSON, with the panel's status table rendered for the poller."""

    http_method_names = ["get"]

    def get(self, request):
        if not can_view_status(request.user):
            return forbidden(request)
        runs = recent_runs()
        html = render_to_string(
            "wagtail_2fa_sessions/maintenance/runs.html", {"runs": runs}, request=request
        )
        return JsonResponse(
            {
                "runs": [run_as_dict(run) for run in runs],
                "any_open": any(run.is_open for run in runs),
                "html": html,
            }
        )


urlpatterns = [
    path("status/", MaintenanceStatusView.as_view(), name="maintenance_status"),
    path("<slug:action>/", MaintenanceConfirmView.as_view(), name="maintenance_confirm"),
]

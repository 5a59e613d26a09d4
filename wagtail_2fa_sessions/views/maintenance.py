"""Session maintenance in the admin (placeholder until the maintenance views land).

Contract used by the dashboard:
- ``urlpatterns``: included under ``/admin/2fa-sessions/maintenance/``; the URL named
  ``maintenance_confirm`` takes an action slug (``cleanup``, ``revoke_all``, ``delete_all``,
  ``reset_all_2fa``) and shows a confirmation page whose POST enqueues the job.
- ``MaintenancePanel(request)``: a Wagtail ``Component`` the dashboard renders, holding the
  action buttons and the status of recent runs.
"""

from django.http import Http404
from django.urls import path
from wagtail.admin.ui.components import Component

ACTIONS = ("cleanup", "revoke_all", "delete_all", "reset_all_2fa")


def confirm(request, action):
    raise Http404("Maintenance actions are not available yet.")


urlpatterns = [
    path("<slug:action>/", confirm, name="maintenance_confirm"),
]


class MaintenancePanel(Component):
    template_name = "wagtail_2fa_sessions/maintenance/panel.html"

    def __init__(self, request):
        self.request = request

    def get_context_data(self, parent_context=None):
        return {"request": self.request, "actions": ACTIONS}

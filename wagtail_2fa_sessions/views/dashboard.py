"""The 2FA & Sessions dashboard: the four summary figures, 2FA adoption, charts,
recent logins and the Session Maintenance section."""

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.ui.components import Component
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .. import api, charts, permissions, reports, twofactor
from .maintenance import MaintenancePanel


def report_url(**filters):
    url = reverse("wagtail_2fa_sessions:users")
    return f"{url}?{urlencode(filters)}" if filters else url


def summary_figures(summary):
    """The four figures as ``(key, label, value, url, help)``, each linking to the
    listing it counts."""
    sessions_url = report_url(sessions="active", ordering="-active_session_count")
    return [
        (
            "active_sessions",
            _("Active Sessions"),
            summary["active_sessions"],
            sessions_url,
            _("Logged-in sessions that are not ended, revoked or expired."),
        ),
        (
            "active_users",
            _("Active Users"),
            summary["active_users"],
            sessions_url,
            _("Distinct users with at least one active session."),
        ),
        (
            "unique_devices",
            _("Unique Devices"),
            summary["unique_devices"],
            report_url(sessions="active", ordering="-device_count"),
            _("Distinct browsers (device cookies) among active sessions."),
        ),
        (
            "expiring_today",
            _("Expiring Today"),
            summary["expiring_today"],
            report_url(sessions="expiring_today"),
            _("Active sessions whose expiry falls before midnight, site time."),
        ),
    ]


class SummaryPanel(Component):
    """The four figures, on the plugin's dashboard and on Wagtail's home page."""

    name = "wagtail_2fa_sessions_summary"
    order = 110
    template_name = "wagtail_2fa_sessions/home/summary_panel.html"

    def __init__(self, summary=None, heading=True):
        self.summary = summary
        self.heading = heading

    def get_context_data(self, parent_context=None):
        summary = self.summary if self.summary is not None else api.summary()
        return {
            "figures": summary_figures(summary),
            "heading": self.heading,
            "dashboard_url": reverse("wagtail_2fa_sessions:dashboard"),
        }


class DashboardView(permissions.PermissionRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_2fa_sessions/dashboard/index.html"
    page_title = _("2FA & Sessions")
    header_icon = "key"
    chart_days = 30

    def get_breadcrumbs_items(self):
        return [
            {"url": reverse("wagtailadmin_home"), "label": _("Home")},
            {"url": "", "label": self.page_title},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        summary = api.summary()
        adoption = reports.adoption()
        recent = [
            (record, twofactor.method_label(record.verified_device_type))
            for record in reports.recent_logins()
        ]
        context.update(
            summary=summary,
            summary_panel=SummaryPanel(summary, heading=False),
            adoption=adoption,
            adoption_with_url=report_url(two_factor="any", is_active="true"),
            adoption_without_url=report_url(two_factor="none", is_active="true"),
            users_url=report_url(),
            recent=recent,
            activity_chart=charts.activity_chart(
                reports.logins_per_day(self.chart_days),
                reports.active_sessions_per_day(self.chart_days),
            ),
            adoption_chart=charts.adoption_chart(reports.adoption_by_role()),
            chart_days=self.chart_days,
            maintenance_panel=MaintenancePanel(self.request),
            audit_trail=reports.audit_trail(),
            site_history_url=reverse("wagtailadmin_reports:site_history"),
        )
        return context


dashboard = DashboardView.as_view()

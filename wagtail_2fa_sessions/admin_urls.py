"""Admin URLs, mounted at /admin/2fa-sessions/ in the ``wagtail_2fa_sessions`` namespace."""

from django.urls import include, path

from .views import api, dashboard, maintenance, otp, sessions, users

app_name = "wagtail_2fa_sessions"

urlpatterns = [
    path("maintenance/", include(maintenance.urlpatterns)),
    path("2fa/", include(otp.urlpatterns)),
    path("", dashboard.dashboard, name="dashboard"),
    path("api/summary/", api.summary, name="api_summary"),
    path("users/", users.UsersReportView.as_view(), name="users"),
    path(
        "users/results/",
        users.UsersReportView.as_view(results_only=True),
        name="users_results",
    ),
    path("users/<int:pk>/", sessions.user_sessions, name="user_sessions"),
    path(
        "users/<int:pk>/sessions/<int:record_id>/revoke/confirm/",
        sessions.revoke_session_confirm,
        name="revoke_session_confirm",
    ),
    path(
        "users/<int:pk>/sessions/<int:record_id>/revoke/",
        sessions.revoke_session,
        name="revoke_session",
    ),
    path(
        "users/<int:pk>/revoke-sessions/confirm/",
        sessions.revoke_user_sessions_confirm,
        name="revoke_user_sessions_confirm",
    ),
    path(
        "users/<int:pk>/revoke-sessions/",
        sessions.revoke_user_sessions,
        name="revoke_user_sessions",
    ),
    path("users/<int:pk>/reset-2fa/confirm/", sessions.reset_2fa_confirm, name="reset_2fa_confirm"),
    path("users/<int:pk>/reset-2fa/", sessions.reset_2fa, name="reset_2fa"),
]

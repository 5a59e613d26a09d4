"""Admin URLs, mounted at /admin/2fa-sessions/ in the ``wagtail_2fa_sessions`` namespace."""

from django.urls import include, path

from .views import maintenance, otp

app_name = "wagtail_2fa_sessions"

urlpatterns = [
    path("maintenance/", include(maintenance.urlpatterns)),
    path("2fa/", include(otp.urlpatterns)),
]

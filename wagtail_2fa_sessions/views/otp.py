"""Two-factor verification, enrolment and self-service session views.

Mounted at /admin/2fa-sessions/2fa/ in the ``wagtail_2fa_sessions`` namespace.
"""

from django.urls import path

from . import account, enrol, reauth, verify

urlpatterns = [
    path("", enrol.TwoFactorView.as_view(), name="twofactor"),
    path("verify/", verify.VerifyView.as_view(), name="verify"),
    path("confirm-password/", reauth.ReauthView.as_view(), name="reauth"),
    path("authenticator-app/", enrol.EnrolTOTPView.as_view(), name="enrol_totp"),
    path("email/", enrol.EnrolEmailView.as_view(), name="enrol_email"),
    path("backup-codes/", enrol.BackupCodesView.as_view(), name="backup_codes"),
    path(
        "devices/<str:app_label>/<int:pk>/remove/",
        enrol.RemoveDeviceView.as_view(),
        name="remove_device",
    ),
    path("sessions/", account.YourSessionsView.as_view(), name="your_sessions"),
    path(
        "sessions/<int:pk>/sign-out/",
        account.RevokeSessionView.as_view(),
        name="revoke_own_session",
    ),
    path(
        "sessions/sign-out-others/",
        account.RevokeOtherSessionsView.as_view(),
        name="revoke_other_sessions",
    ),
]

"""Two-factor verification, enrolment and self-service session views (placeholder).

Contract: ``urlpatterns`` is mounted at /admin/2fa-sessions/2fa/.
"""

urlpatterns = []

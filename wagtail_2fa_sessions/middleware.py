import logging

from django.db import DatabaseError
from django.http import HttpResponse

from . import enforcement, tracking

logger = logging.getLogger(__name__)


class SessionTrackingMiddleware:
    """Ends revoked sessions at their next request and keeps session records current.

    Place it after ``AuthenticationMiddleware`` and django-otp's ``OTPMiddleware``.

    In the steady state an authenticated request costs one indexed read, and at most one
    conditional UPDATE per session per ``WAGTAIL_2FA_SESSIONS_ACTIVITY_INTERVAL``.

    For the Wagtail admin it also enforces two-factor authentication
    (:func:`wagtail_2fa_sessions.enforcement.gate`).

    Failure policy: if the record cannot be read, nobody can tell whether the session was
    revoked, so the request is refused with a 503 (the session itself is kept, so the user
    is back as soon as the database is); a failed write is logged and the request goes on.
    """

    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            snapshot = tracking.check_request(request)
            # A half-logged-in or overdue user is sent to verification or enrolment.
            refusal = enforcement.gate(request)
        except DatabaseError:
            logger.exception("Could not check the session record; refusing the request")
            response = HttpResponse(
                "The site cannot check your session right now. Please try again shortly.",
                status=503,
                content_type="text/plain; charset=utf-8",
            )
            response["Retry-After"] = "30"
            return response
        token = tracking.current_record_id.set(snapshot.pk if snapshot else None)
        try:
            response = refusal or self.get_response(request)
        finally:
            tracking.current_record_id.reset(token)
        try:
            tracking.after_response(request, response, snapshot)
        except Exception:
            logger.exception("Could not update the session record")
        return response

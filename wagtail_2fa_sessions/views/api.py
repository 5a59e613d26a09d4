"""The JSON summary for monitoring: ``GET /admin/2fa-sessions/api/summary/``."""

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .. import api, permissions


@never_cache
@require_GET
def summary(request):
    """The keys of ``api.summary()``; 403 (as JSON) without the view permission.
    Anonymous requests never get here: Wagtail's admin URLs send them to the login."""
    if not permissions.can_view(request.user):
        return JsonResponse({"error": "permission denied"}, status=403)
    return JsonResponse(api.summary())

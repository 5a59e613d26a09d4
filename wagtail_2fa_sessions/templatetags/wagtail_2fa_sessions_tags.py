from django import template
from django.urls import reverse

from .. import permissions

register = template.Library()


@register.simple_tag(takes_context=True)
def user_sessions_url(context, user):
    """The URL of ``user``'s sessions page, or "" when the viewer may not see it."""
    request = context.get("request")
    if request is None or user is None or not getattr(user, "pk", None):
        return ""
    if not permissions.can_view(request.user):
        return ""
    return reverse("wagtail_2fa_sessions:user_sessions", args=[user.pk])

"""Recent re-authentication: adding or removing a factor needs the password (or a current
code) entered within ``WAGTAIL_2FA_SESSIONS_REAUTH_SECONDS``."""

import time
from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .. import conf
from ..forms import ReauthForm

REAUTH_SESSION_KEY = "_wagtail_2fa_sessions_reauth"


def safe_next(request, default=None):
    """The ``next`` parameter when it is a same-host URL, else ``default`` (the dashboard)."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default or reverse("wagtailadmin_home")


def mark_recent_auth(request):
    request.session[REAUTH_SESSION_KEY] = time.time()


def has_recent_auth(request):
    stamp = request.session.get(REAUTH_SESSION_KEY)
    return bool(stamp) and time.time() - stamp < conf.seconds("REAUTH_SECONDS")


def url_with_next(name, next_url, **kwargs):
    return (
        reverse(f"wagtail_2fa_sessions:{name}", kwargs=kwargs) + "?" + urlencode({"next": next_url})
    )


class RecentAuthRequiredMixin:
    """Send the user to re-enter their password first when they have not done so lately."""

    def dispatch(self, request, *args, **kwargs):
        if not has_recent_auth(request):
            return redirect(url_with_next("reauth", request.path))
        return super().dispatch(request, *args, **kwargs)


class AccountBreadcrumbsMixin(WagtailAdminTemplateMixin):
    header_icon = "key"

    def get_breadcrumbs_items(self):
        return [
            *super().get_breadcrumbs_items(),
            {"url": reverse("wagtailadmin_account"), "label": _("Account")},
            {"url": "", "label": self.get_page_title()},
        ]


@method_decorator(sensitive_post_parameters("password", "token"), name="dispatch")
class ReauthView(AccountBreadcrumbsMixin, FormView):
    page_title = _("Confirm it is you")
    template_name = "wagtail_2fa_sessions/otp/reauth.html"
    form_class = ReauthForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "next": safe_next(self.request)}

    def form_valid(self, form):
        mark_recent_auth(self.request)
        return redirect(safe_next(self.request))

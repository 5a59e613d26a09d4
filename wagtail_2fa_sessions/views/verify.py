"""The verify step between a password login and the Wagtail admin."""

from urllib.parse import urlencode

import django_otp
from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from .. import api, enforcement, twofactor
from ..forms import TokenForm
from .reauth import mark_recent_auth, safe_next

METHOD_HELP = {
    "totp": _("Enter the 6-digit code from your authenticator app."),
    "email": _("We can email a code to your account's address. Enter it here."),
    "static": _("Enter one of your backup codes. Each code works once."),
    "passkey": _("Use your passkey when your browser asks."),
}
METHOD_APP_LABELS = {
    "totp": "otp_totp",
    "email": "otp_email",
    "static": "otp_static",
    "passkey": "otp_webauthn",
}


@method_decorator([never_cache, sensitive_post_parameters("token")], name="dispatch")
class VerifyView(View):
    template_name = "wagtail_2fa_sessions/otp/verify.html"
    no_method_template_name = "wagtail_2fa_sessions/otp/verify_no_method.html"

    def dispatch(self, request, *args, **kwargs):
        self.next_url = safe_next(request)
        if request.user.is_verified():
            return redirect(self.next_url)
        self.methods = api.second_factor_methods(request.user)
        if not self.methods:
            if enforcement.needs_verification(request, request.user):
                # Only devices the verify step cannot use (e.g. a hardware token), or the
                # devices went away while the session was half logged in: sending the user
                # back to ``next`` would loop between the gate and this page.
                return TemplateResponse(request, self.no_method_template_name, {})
            # Nothing to verify with (e.g. 2FA was just reset): the gate decides what next.
            enforcement.forget(request)
            return redirect(self.next_url)
        method = request.POST.get("method") or request.GET.get("method")
        self.method = method if method in self.methods else self.methods[0]
        return super().dispatch(request, *args, **kwargs)

    def url_for(self, method):
        query = urlencode({"method": method, "next": self.next_url})
        return f"{reverse('wagtail_2fa_sessions:verify')}?{query}"

    def render(self, form, status=200):
        choices = [
            {
                "key": method,
                "label": twofactor.method_label(METHOD_APP_LABELS[method]),
                "url": self.url_for(method),
            }
            for method in self.methods
        ]
        context = {
            "form": form,
            "method": self.method,
            "method_label": twofactor.method_label(METHOD_APP_LABELS[self.method]),
            "method_help": METHOD_HELP[self.method],
            "choices": choices,
            "next": self.next_url,
        }
        return TemplateResponse(self.request, self.template_name, context, status=status)

    def get(self, request):
        return self.render(TokenForm())

    def post(self, request):
        if request.POST.get("action") == "send_email" and self.method == "email":
            sent, message = api.send_email_code(request.user)
            (messages.success if sent else messages.warning)(request, message)
            return redirect(self.url_for("email"))
        form = TokenForm(request.POST)
        if not form.is_valid():
            return self.render(form)
        device, error = api.check_second_factor(
            request.user, self.method, form.cleaned_data["token"]
        )
        if device is None:
            form.add_error("token", error)
            return self.render(form)
        django_otp.login(request, device)
        # A new key: whatever an attacker learnt of the half-logged-in session is useless.
        request.session.cycle_key()
        enforcement.forget(request)
        mark_recent_auth(request)
        return redirect(self.next_url)

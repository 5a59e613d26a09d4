"""The user's own two-factor settings: overview, adding and removing factors."""

import django_otp
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from .. import api, enforcement, enrolment, twofactor
from ..forms import TokenForm
from ..verification import passkeys_available
from .reauth import AccountBreadcrumbsMixin, RecentAuthRequiredMixin, mark_recent_auth

OTHER_SESSIONS_HINT = _(
    "If you think someone else may have used your account, sign out all your other sessions "
    "on the Your sessions page."
)


def _start_using(request, device):
    """The device this session just proved becomes the one that verified it."""
    if not request.user.is_verified():
        django_otp.login(request, device)
        request.session.cycle_key()
    enforcement.forget(request)
    mark_recent_auth(request)


class TwoFactorView(AccountBreadcrumbsMixin, TemplateView):
    page_title = _("Two-factor authentication")
    template_name = "wagtail_2fa_sessions/otp/twofactor.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        devices = api.user_devices(user)
        labels = {device._meta.app_label for device in devices}
        return {
            **super().get_context_data(**kwargs),
            "devices": [
                {
                    "device": device,
                    "label": twofactor.method_label(device._meta.app_label),
                    "remove_url": reverse(
                        "wagtail_2fa_sessions:remove_device",
                        args=[device._meta.app_label, device.pk],
                    ),
                }
                for device in devices
            ],
            "status": api.twofactor_status(user),
            "has_totp": "otp_totp" in labels,
            "has_email": "otp_email" in labels,
            "backup_codes_left": api.backup_codes_left(user),
            "nudge_backup_codes": bool(labels - {"otp_static"}) and "otp_static" not in labels,
            "passkeys_available": passkeys_available(),
        }


@method_decorator(never_cache, name="dispatch")
class EnrolTOTPView(RecentAuthRequiredMixin, AccountBreadcrumbsMixin, TemplateView):
    page_title = _("Add an authenticator app")
    template_name = "wagtail_2fa_sessions/otp/enrol_totp.html"

    def get_context_data(self, form=None, **kwargs):
        device = api.pending_totp_device(self.request.user)
        return {
            **super().get_context_data(**kwargs),
            "form": form or TokenForm(),
            "qr_svg": enrolment.totp_qr_svg(device),
            "secret": enrolment.totp_secret(device),
        }

    def post(self, request):
        form = TokenForm(request.POST)
        device = api.pending_totp_device(request.user)
        if form.is_valid():
            if api.confirm_device(request.user, device, form.cleaned_data["token"]):
                _start_using(request, device)
                messages.success(request, _("Your authenticator app is set up."))
                messages.info(request, OTHER_SESSIONS_HINT)
                return redirect("wagtail_2fa_sessions:twofactor")
            form.add_error("token", _("That code is not valid. Check the time on your phone."))
        return self.render_to_response(self.get_context_data(form=form))


@method_decorator(never_cache, name="dispatch")
class EnrolEmailView(RecentAuthRequiredMixin, AccountBreadcrumbsMixin, TemplateView):
    page_title = _("Add email codes")
    template_name = "wagtail_2fa_sessions/otp/enrol_email.html"

    def get_context_data(self, form=None, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "form": form or TokenForm(),
            "email": self.request.user.email,
        }

    def post(self, request):
        user = request.user
        if not user.email:
            messages.error(request, _("Your account has no email address. Add one first."))
            return redirect("wagtail_2fa_sessions:twofactor")
        device = api.pending_email_device(user)
        if request.POST.get("action") == "send_email":
            sent, message = api.send_email_code(user, device=device)
            (messages.success if sent else messages.warning)(request, message)
            return redirect("wagtail_2fa_sessions:enrol_email")
        form = TokenForm(request.POST)
        if form.is_valid():
            if api.confirm_device(user, device, form.cleaned_data["token"]):
                _start_using(request, device)
                messages.success(request, _("Email codes are set up."))
                messages.info(request, OTHER_SESSIONS_HINT)
                return redirect("wagtail_2fa_sessions:twofactor")
            form.add_error("token", _("That code is not valid or has expired."))
        return self.render_to_response(self.get_context_data(form=form))


@method_decorator(never_cache, name="dispatch")
class BackupCodesView(RecentAuthRequiredMixin, AccountBreadcrumbsMixin, TemplateView):
    page_title = _("Backup codes")
    template_name = "wagtail_2fa_sessions/otp/backup_codes.html"

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "backup_codes_left": api.backup_codes_left(self.request.user),
        }

    def post(self, request):
        codes = api.generate_backup_codes(request.user)
        messages.success(request, _("New backup codes created. Your old codes no longer work."))
        context = {**self.get_context_data(), "codes": codes}
        return TemplateResponse(request, self.template_name, context)


class RemoveDeviceView(RecentAuthRequiredMixin, AccountBreadcrumbsMixin, TemplateView):
    page_title = _("Remove a two-factor method")
    template_name = "wagtail_2fa_sessions/otp/remove_device.html"

    def dispatch(self, request, app_label, pk):
        # Only the request user's own devices: anyone else's id is a 404.
        self.device = api.find_device(request.user, app_label, pk)
        if self.device is None:
            raise Http404
        return super().dispatch(request)

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "device": self.device,
            "label": twofactor.method_label(self.device._meta.app_label),
        }

    def post(self, request):
        user = request.user
        was_current = (
            user.is_verified() and user.otp_device.persistent_id == self.device.persistent_id
        )
        api.remove_device(user, self.device)
        remaining = api.user_devices(user)
        if was_current and remaining:
            # Still the person who proved a factor at login and just re-authenticated.
            django_otp.login(request, remaining[0])
        enforcement.forget(request)
        messages.success(request, _("The two-factor method was removed."))
        messages.info(request, OTHER_SESSIONS_HINT)
        return redirect("wagtail_2fa_sessions:twofactor")

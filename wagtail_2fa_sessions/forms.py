from django import forms
from django.utils.translation import gettext_lazy as _

from . import api


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=64,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )


class ReauthForm(forms.Form):
    """Prove it is still you: the account password, or a code from a current factor."""

    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    token = forms.CharField(
        label=_("Or a code from your authenticator app or a backup code"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        methods = api.second_factor_methods(user)
        self.token_methods = [m for m in ("totp", "static") if m in methods]
        if not self.token_methods:
            del self.fields["token"]

    def clean(self):
        data = super().clean()
        password = data.get("password")
        token = data.get("token")
        if password:
            ok, error = api.check_password(self.user, password)
            if ok:
                return data
            raise forms.ValidationError(error)
        if token:
            compact = "".join(token.split())
            method = "totp" if compact.isdigit() and len(compact) <= 8 else "static"
            if method in self.token_methods:
                device, _error = api.check_second_factor(self.user, method, compact)
                if device is not None:
                    return data
        raise forms.ValidationError(_("That did not match. Enter your password or a valid code."))

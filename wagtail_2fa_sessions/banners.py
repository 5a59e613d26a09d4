"""The dashboard banner for users inside their 2FA grace period."""

import math
import time

from wagtail.admin.ui.components import Component

from . import conf, enforcement


class GracePeriodBanner(Component):
    """Server-rendered on the dashboard; reads the gate's cached answer, so no query."""

    name = "wagtail_2fa_sessions_grace"
    template_name = "wagtail_2fa_sessions/otp/grace_banner.html"
    order = 10

    def __init__(self, state):
        self.state = state

    def get_context_data(self, parent_context=None):
        deadline = self.state.get("deadline")
        if deadline is None:
            days = conf.get("GRACE_DAYS")
        else:
            days = math.ceil(max(0.0, deadline - time.time()) / 86400)
        return {"days": days}


def grace_banner(request):
    state = enforcement.grace_state(request)
    return GracePeriodBanner(state) if state else None

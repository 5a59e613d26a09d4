"""Signal receivers, connected in AppConfig.ready()."""

import contextlib
import logging

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db import transaction

from . import tracking

logger = logging.getLogger(__name__)


def _isolated():
    """A savepoint inside an open transaction (so a failure here cannot poison the
    request's transaction, e.g. with ATOMIC_REQUESTS); nothing extra in autocommit mode,
    where each statement commits on its own and a failed one harms nothing else."""
    if transaction.get_connection().in_atomic_block:
        return transaction.atomic()
    return contextlib.nullcontext()


def on_user_logged_in(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    try:
        with _isolated():
            tracking.record_login(request, user)
    except Exception:
        # The login itself must succeed; the middleware adopts the session next request.
        logger.exception("Could not record the login of user %s", user.pk)


def on_user_logged_out(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    try:
        tracking.record_logout(request)
    except Exception:
        logger.exception("Could not record a logout")


def on_user_saved(sender, instance, created, **kwargs):
    """A new password ends the user's other sessions, as Django's session hash check
    would, but visibly: the records are marked revoked instead of lingering as active."""
    if created or getattr(instance, "_password", None) is None:
        return
    from . import operations

    try:
        with transaction.atomic():
            operations.revoke_user_sessions(
                instance, reason="Password changed", keep=tracking.current_record_id.get()
            )
    except Exception:
        logger.exception(
            "Could not revoke sessions after a password change of user %s", instance.pk
        )


def connect():
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_save

    post_save.connect(
        on_user_saved, sender=get_user_model(), dispatch_uid="wagtail_2fa_sessions.password"
    )
    user_logged_in.connect(on_user_logged_in, dispatch_uid="wagtail_2fa_sessions.login")
    user_logged_out.connect(on_user_logged_out, dispatch_uid="wagtail_2fa_sessions.logout")

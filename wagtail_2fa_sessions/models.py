from datetime import UTC, datetime

from django.conf import settings
from django.db import models
from django.db.models import Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def latest_cutoff():
    """A scalar subquery: the newest Revoke All / Delete All instant, or the epoch."""
    newest = GlobalRevocation.objects.order_by("-revoked_before").values("revoked_before")[:1]
    return Coalesce(Subquery(newest), Value(EPOCH))


class SessionRecordQuerySet(models.QuerySet):
    def active(self, now=None):
        """Sessions that still let their user in: not ended, not revoked, not expired,
        and issued after the latest global revocation."""
        return self.filter(
            ended_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now or timezone.now(),
            valid_since__gte=latest_cutoff(),
        )

    def inactive(self, now=None):
        """The complement of :meth:`active`."""
        return self.filter(
            Q(ended_at__isnull=False)
            | Q(revoked_at__isnull=False)
            | Q(expires_at__lte=now or timezone.now())
            | Q(valid_since__lt=latest_cutoff())
        )


class SessionRecord(models.Model):
    """One login of one user in one browser, whatever the session engine."""

    class DeviceType(models.TextChoices):
        DESKTOP = "desktop", _("Desktop")
        MOBILE = "mobile", _("Mobile")
        TABLET = "tablet", _("Tablet")
        BOT = "bot", _("Bot")
        OTHER = "other", _("Other")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="twofactor_session_records",
        verbose_name=_("user"),
        # w2fa_user_activity_idx starts with user: a second index would only cost writes.
        db_index=False,
    )
    # The session store's key, kept current when it rotates, so deleting a record can
    # delete the store's data too. Empty for signed_cookies, which store nothing server-side.
    # Never rendered, logged or put in a URL.
    session_key = models.CharField(max_length=40, blank=True, default="", editable=False)
    # Not indexed: never looked up, only counted over active sessions.
    device_id = models.CharField(_("device"), max_length=64)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.TextField(_("user agent"), blank=True, default="")
    browser = models.CharField(_("browser"), max_length=100, blank=True, default="")
    os = models.CharField(_("operating system"), max_length=100, blank=True, default="")
    device_type = models.CharField(
        _("device type"), max_length=10, choices=DeviceType.choices, default=DeviceType.OTHER
    )
    created_at = models.DateTimeField(_("logged in"), default=timezone.now, db_index=True)
    # Compared with GlobalRevocation.revoked_before. Equals created_at unless the session
    # was kept through a Revoke All.
    valid_since = models.DateTimeField(default=timezone.now)
    last_activity = models.DateTimeField(_("last activity"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    ended_at = models.DateTimeField(_("logged out"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revoked_reason = models.CharField(_("reason"), max_length=255, blank=True, default="")
    verified_at = models.DateTimeField(_("2FA verified"), null=True, blank=True)
    # The django-otp app label of the device that verified the session, e.g. "otp_totp".
    verified_device_type = models.CharField(max_length=64, blank=True, default="")

    objects = SessionRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=Q(ended_at__isnull=True, revoked_at__isnull=True),
                name="w2fa_open_expiry_idx",
            ),
            models.Index(fields=["user", "-last_activity"], name="w2fa_user_activity_idx"),
        ]
        permissions = [
            ("view_dashboard", _("Can view the 2FA & sessions dashboard")),
            ("manage_sessions", _("Can revoke and delete sessions")),
            ("reset_2fa", _("Can reset users' two-factor authentication")),
        ]

    def __str__(self):
        return (
            f"{self.user} on {self.browser or 'unknown browser'} ({self.created_at:%Y-%m-%d %H:%M})"
        )

    @property
    def status(self):
        if self.revoked_at:
            return "revoked"
        if self.ended_at:
            return "ended"
        if self.expires_at <= timezone.now():
            return "expired"
        return "active"


class GlobalRevocation(models.Model):
    """Revoke All and Delete All in constant time: every session issued before
    ``revoked_before`` stops working at its next request, before any per-record work."""

    class Kind(models.TextChoices):
        REVOKE_ALL = "revoke_all", _("Revoke all")
        DELETE_ALL = "delete_all", _("Delete all")

    revoked_before = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        verbose_name = _("global revocation")
        ordering = ["-revoked_before"]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.revoked_before:%Y-%m-%d %H:%M:%S}"


class MaintenanceRun(models.Model):
    """One run of a maintenance action, queued on the django-q2 cluster or run inline."""

    class Action(models.TextChoices):
        CLEANUP = "cleanup", _("Clean up expired")
        REVOKE_ALL = "revoke_all", _("Revoke all active")
        DELETE_ALL = "delete_all", _("Delete all sessions")
        RESET_ALL_2FA = "reset_all_2fa", _("Reset all 2FA")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Failed")

    OPEN = (Status.QUEUED, Status.RUNNING)

    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    # The Revoke All / Delete All cutoff taken when the button was pressed, so a re-run
    # after a crash finishes that same job instead of logging out later logins.
    revocation = models.ForeignKey(
        GlobalRevocation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    options = models.JSONField(default=dict, blank=True)
    rows_done = models.PositiveBigIntegerField(_("rows done"), default=0)
    rows_total = models.PositiveBigIntegerField(_("rows to do"), null=True, blank=True)
    result = models.PositiveBigIntegerField(_("records changed"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    # "admin", "command", "schedule".
    origin = models.CharField(max_length=20, blank=True, default="")
    task_id = models.CharField(_("task id"), max_length=64, blank=True, default="")
    created_at = models.DateTimeField(_("queued"), default=timezone.now, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("maintenance run")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Two presses of one button, even at the same instant, make one open run.
            models.UniqueConstraint(
                fields=["action"],
                condition=Q(status__in=["queued", "running"]),
                name="w2fa_one_open_run_per_action",
            ),
        ]

    def __str__(self):
        return f"{self.get_action_display()} ({self.get_status_display()})"

    @property
    def is_open(self):
        return self.status in self.OPEN

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class ScheduleMarker(models.Model):
    """Remembers that the plugin created a django-q2 schedule once, so an admin who
    deletes or edits it is not overridden after the next migrate."""

    # The primary key, so restoring a copy of the table (loaddata, test rollbacks) updates
    # the row instead of clashing with it.
    name = models.CharField(max_length=100, primary_key=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.name


class TwoFactorRequirement(models.Model):
    """When the 2FA requirement first applied to a user (the start of their grace period),
    and when an admin last reset their 2FA (which ends the grace period at once)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="twofactor_requirement",
        verbose_name=_("user"),
    )
    required_since = models.DateTimeField(_("2FA required since"), null=True, blank=True)
    reset_at = models.DateTimeField(_("2FA reset"), null=True, blank=True)

    class Meta:
        verbose_name = _("2FA requirement")

    def __str__(self):
        return f"2FA requirement of {self.user}"

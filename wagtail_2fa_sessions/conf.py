"""Every setting the plugin reads, with its default, in one place.

Settings are read on each access (not cached at import) so ``override_settings``
in tests and per-request changes behave as Django users expect.
"""

from datetime import timedelta

from django.conf import settings

PREFIX = "WAGTAIL_2FA_SESSIONS_"

DEFAULTS = {
    # Seconds between two writes of a session's last activity and expiry.
    "ACTIVITY_INTERVAL": 60,
    # The long-lived device cookie that tells two browsers apart.
    "DEVICE_COOKIE_NAME": "wagtail_2fa_device",
    "DEVICE_COOKIE_AGE": 2 * 365 * 24 * 60 * 60,
    # How many reverse proxies in front of the site append to X-Forwarded-For.
    # 0 trusts REMOTE_ADDR alone; a spoofed header is then ignored.
    "TRUSTED_PROXIES": 0,
    # The META key holding the forwarded client address when TRUSTED_PROXIES > 0.
    "PROXY_HEADER": "HTTP_X_FORWARDED_FOR",
    # Raw User-Agent strings are cut to this many characters before storage and parsing.
    "USER_AGENT_MAX_LENGTH": 512,
    # Optional plugin-enforced timeouts in seconds (None: the session engine alone decides).
    "IDLE_TIMEOUT": None,
    "ABSOLUTE_TIMEOUT": None,
    # Retention of ended, revoked and expired records before Clean Up Expired removes them.
    "RETENTION": timedelta(days=30),
    # Largest number of rows a single maintenance statement touches.
    "BATCH_SIZE": 5000,
    # The periodic Clean Up Expired in django-q2: "hourly", "daily", "weekly", a cron
    # string such as "30 3 * * *" (needs the croniter package), or None for no schedule.
    # Created once after migrate; an admin's later edits or deletion are left alone.
    "CLEANUP_SCHEDULE": "daily",
    # The django-q2 cluster (a Q_CLUSTER["ALT_CLUSTERS"] name) that runs maintenance
    # jobs; None uses the default cluster.
    "CLUSTER": None,
    # A queued or running maintenance run whose heartbeat (written after each batch, at
    # most once a second) is older than this counts as abandoned ("stalled"): the next
    # press, command or scheduled cleanup takes it over. Keep it above Q_CLUSTER["retry"].
    "JOB_LEASE": timedelta(minutes=15),
    # --- Two-factor authentication (enrolment, verification, enforcement) ---
    # Who must use 2FA for the Wagtail admin: False (nobody), True (everyone with admin
    # access) or a list of group names.
    "REQUIRE_2FA": False,
    # Superusers must use 2FA whatever REQUIRE_2FA says.
    "REQUIRE_2FA_SUPERUSERS": False,
    # Days a user the requirement applies to may keep working without a device.
    "GRACE_DAYS": 7,
    # Failed second-factor attempts one account may make in any hour, on top of
    # django-otp's per-device throttling.
    "VERIFY_FAILURES_PER_HOUR": 20,
    # Seconds a password (or code) re-entry counts as recent for adding or removing a factor.
    "REAUTH_SECONDS": 300,
    # How many single-use backup codes one generation creates.
    "BACKUP_CODES": 10,
}


def get(name):
    return getattr(settings, PREFIX + name, DEFAULTS[name])


def seconds(name):
    """A duration setting as seconds, accepting a number or a ``timedelta``."""
    value = get(name)
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)

"""Fill the sandbox with demo users, 2FA devices and tracked sessions.

Idempotent: users and devices are created only if missing, and only users who have never
logged in (``last_login`` is empty) are logged in, so a second run adds nothing. Sessions are
made the way a browser makes them: real login requests through the full middleware stack,
each with its own User-Agent and client address, so the plugin records them exactly as it
records real ones. Nothing here depends on the plugin's models.
"""

from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

ADMIN_USERNAME = "admin"
DEMO_PASSWORD = "changeme"

BROWSERS = {
    "chrome-windows": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
    ),
    "edge-windows": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86"
    ),
    "safari-iphone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1"
    ),
    "safari-mac": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.6 Safari/605.1.15"
    ),
    "firefox-linux": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "chrome-android-tablet": (
        "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.6778.104 Safari/537.36"
    ),
    "bot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
}

# username: (full name, groups, active, 2FA devices)
USERS = {
    "alice.editor": ("Alice Keller", ["Editors"], True, ["totp", "static"]),
    "bob.editor": ("Bob Schneider", ["Editors"], True, ["email"]),
    "carol.moderator": ("Carol Weber", ["Moderators"], True, ["totp"]),
    "dave.moderator": ("Dave Fischer", ["Moderators"], True, []),
    "erin.editor": ("Erin Wagner", ["Editors"], True, ["static"]),
    "frank.editor": ("Frank Becker", ["Editors"], True, []),
    "grace.moderator": ("Grace Hoffmann", ["Moderators"], True, ["totp", "email"]),
    "heidi.editor": ("Heidi Schulz", ["Editors"], False, []),
    "ivan.editor": ("Ivan Koch", ["Editors"], False, ["totp"]),
    "judy.moderator": ("Judy Richter", ["Moderators"], True, []),
    "mallory.editor": ("Mallory Klein", ["Editors"], False, []),
    "oscar.editor": ("Oscar Wolf", ["Editors", "Moderators"], True, ["totp"]),
    "peggy.editor": ("Peggy Neumann", ["Editors"], True, []),
}
ADMIN_DEVICES = ["totp", "static"]

# username: [(browser, client IP, 2FA method or None for password only)]; one TOTP login per
# device, since django-otp refuses a TOTP token that was already used.
SESSIONS = {
    ADMIN_USERNAME: [
        ("chrome-windows", "203.0.113.5", "totp"),
        ("safari-iphone", "198.51.100.5", "static"),
        ("firefox-linux", "192.0.2.5", None),
    ],
    "alice.editor": [
        ("edge-windows", "203.0.113.10", "totp"),
        ("chrome-android-tablet", "198.51.100.23", "static"),
    ],
    "bob.editor": [("chrome-windows", "203.0.113.11", "email")],
    "carol.moderator": [
        ("safari-iphone", "198.51.100.40", "totp"),
        ("safari-mac", "198.51.100.41", None),
    ],
    "dave.moderator": [("firefox-linux", "192.0.2.15", None)],
    "erin.editor": [("chrome-windows", "2001:db8:85a3::8a2e:370:7334", "static")],
    "frank.editor": [
        ("edge-windows", "203.0.113.77", None),
        ("chrome-android-tablet", "203.0.113.78", None),
    ],
    "grace.moderator": [
        ("safari-mac", "198.51.100.60", "totp"),
        ("safari-iphone", "198.51.100.61", "email"),
    ],
    # A crawler-like client logged in with a leaked password: the kind of session to spot.
    "judy.moderator": [("bot", "192.0.2.200", None), ("firefox-linux", "192.0.2.201", None)],
    "oscar.editor": [("chrome-windows", "203.0.113.90", "totp")],
}


class Command(BaseCommand):
    help = (
        "Create demo users (admin / changeme and others), django-otp devices and tracked "
        "sessions logged in through real requests. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--relogin",
            action="store_true",
            help="Log every active demo user in again, even those who have logged in before.",
        )

    def handle(self, *args, relogin=False, **options):
        self.password_hash = make_password(DEMO_PASSWORD)
        with transaction.atomic():
            users = [self.ensure_admin()]
            self.ensure_devices(users[0], ADMIN_DEVICES)
            for username, (full_name, groups, active, devices) in USERS.items():
                users.append(self.ensure_user(username, full_name, groups, active))
                self.ensure_devices(users[-1], devices)

        logins = 0
        for user in users:
            if not user.is_active or (user.last_login and not relogin):
                continue
            for browser, ip, method in SESSIONS.get(user.get_username(), []):
                logins += self.log_in(user, browser, ip, method)

        inactive = sum(1 for user in users if not user.is_active)
        self.stdout.write(f"{len(users)} users ({inactive} inactive), {logins} new sessions.")
        self.print_summary()
        self.stdout.write(
            self.style.SUCCESS(
                f"Log in at /admin/ as {ADMIN_USERNAME} / {DEMO_PASSWORD} "
                f"(every demo user's password is {DEMO_PASSWORD})."
            )
        )

    def ensure_admin(self):
        User = get_user_model()
        admin, created = User.objects.get_or_create(
            username=ADMIN_USERNAME,
            defaults={
                "email": "admin@example.com",
                "first_name": "Ada",
                "last_name": "Admin",
                "is_staff": True,
                "is_superuser": True,
                "password": self.password_hash,
            },
        )
        if created:
            self.stdout.write(f"Created superuser {ADMIN_USERNAME} / {DEMO_PASSWORD}")
        elif not admin.check_password(DEMO_PASSWORD):
            self.stdout.write(
                self.style.WARNING(
                    f"User {ADMIN_USERNAME} exists with another password: left unchanged."
                )
            )
        return admin

    def ensure_user(self, username, full_name, group_names, active):
        first_name, last_name = full_name.split(" ", 1)
        user, created = get_user_model().objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@example.com",
                "first_name": first_name,
                "last_name": last_name,
                "is_active": active,
                "password": self.password_hash,
            },
        )
        if created:
            # Wagtail's migrations create "Editors" and "Moderators" with admin access.
            user.groups.set(Group.objects.get_or_create(name=name)[0] for name in group_names)
        return user

    def ensure_devices(self, user, kinds):
        if "totp" in kinds:
            TOTPDevice.objects.get_or_create(
                user=user, name="Authenticator app", defaults={"confirmed": True}
            )
        if "static" in kinds:
            device, created = StaticDevice.objects.get_or_create(
                user=user, name="Backup codes", defaults={"confirmed": True}
            )
            if created:
                StaticToken.objects.bulk_create(
                    StaticToken(device=device, token=StaticToken.random_token()) for _ in range(10)
                )
        if "email" in kinds:
            EmailDevice.objects.get_or_create(
                user=user, name="Email", defaults={"confirmed": True, "email": user.email}
            )

    def otp_token(self, user, method):
        """A valid (device, token) of ``user`` for ``method``, or (None, None)."""
        if method == "totp":
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            if device:
                totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
                return device, str(totp.token()).zfill(device.digits)
        elif method == "static":
            device = StaticDevice.objects.filter(user=user, confirmed=True).first()
            if device:
                token = device.token_set.first() or device.token_set.create(
                    token=StaticToken.random_token()
                )
                return device, token.token
        elif method == "email":
            device = EmailDevice.objects.filter(user=user, confirmed=True).first()
            if device:
                device.generate_token()
                return device, device.token
        return None, None

    def log_in(self, user, browser, ip, method):
        """Log ``user`` in from a new browser; return 1 if a session was made, else 0."""
        client = Client(HTTP_USER_AGENT=BROWSERS[browser], REMOTE_ADDR=ip)
        credentials = {"username": user.get_username(), "password": DEMO_PASSWORD}
        verified = False
        try:
            device, token = self.otp_token(user, method)
            if device:
                # django-otp's login form: password and token in one request.
                client.post(
                    reverse("otp_login"),
                    {**credentials, "otp_device": device.persistent_id, "otp_token": token},
                )
                verified = self.is_logged_in(client, user)
            if not self.is_logged_in(client, user):
                client.post(reverse("wagtailadmin_login"), {**credentials, "next": "/admin/"})
            if not self.is_logged_in(client, user):
                client.force_login(user)
            status = client.get("/admin/").status_code
        except Exception as error:  # a demo seed reports and goes on
            self.stderr.write(
                self.style.WARNING(f"Login of {user} from {browser} failed: {error!r}")
            )
            return 0
        how = f"2FA ({method})" if verified else "password"
        self.stdout.write(f"  {user.get_username():<16} {browser:<22} {ip:<28} {how:<16} {status}")
        return 1

    @staticmethod
    def is_logged_in(client, user):
        return client.session.get(SESSION_KEY) == str(user.pk)

    def print_summary(self):
        # The plugin's numbers, if its API is there; the seed itself never needs them.
        try:
            from wagtail_2fa_sessions import api

            summary = api.summary()
        except Exception:  # optional output only
            return
        self.stdout.write(
            "Dashboard: " + ", ".join(f"{key} {value}" for key, value in summary.items())
        )

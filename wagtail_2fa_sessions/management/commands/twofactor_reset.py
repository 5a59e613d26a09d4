from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from ... import api, jobs
from ._maintenance import MaintenanceCommand


class Command(MaintenanceCommand):
    help = (
        "Reset two-factor authentication: delete the django-otp devices of the given "
        "users, or of every user with --all. Their sessions lose the verified state."
    )
    action = "reset_all_2fa"
    destructive = True
    warning = "This deletes the 2FA devices of all {count} users who have 2FA."
    done_message = "{count} devices deleted"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("usernames", nargs="*", help="Users whose 2FA to reset.")
        parser.add_argument("--all", action="store_true", help="Reset every user's 2FA.")

    def handle(self, *args, **options):
        usernames = options["usernames"]
        if options["all"] == bool(usernames):
            raise CommandError("Give either usernames or --all.")
        if options["all"]:
            return super().handle(*args, **options)
        User = get_user_model()
        users = list(User._default_manager.filter(**{f"{User.USERNAME_FIELD}__in": usernames}))
        found = {user.get_username() for user in users}
        missing = [name for name in usernames if name not in found]
        if missing:
            raise CommandError(f"No such user: {', '.join(missing)}. Nothing was changed.")
        if options["interactive"]:
            self.stdout.write(f"This deletes the 2FA devices of {', '.join(sorted(found))}.")
            if input("Type 'yes' to continue, or 'no' to cancel: ").strip().lower() != "yes":
                raise CommandError("Cancelled; nothing was changed.")
        for user in users:
            if options["enqueue"]:
                jobs.enqueue_reset_2fa(user)
                self.stdout.write(f"{user.get_username()}: 2FA reset queued.")
                continue
            deleted = api.reset_2fa(user)
            self.stdout.write(f"{user.get_username()}: {deleted} devices deleted.")

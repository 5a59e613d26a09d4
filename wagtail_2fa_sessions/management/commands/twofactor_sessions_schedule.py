from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ...schedule import NAME, ensure_schedule


class Command(BaseCommand):
    help = (
        "Create the periodic Clean Up Expired schedule in django-q2 from "
        "WAGTAIL_2FA_SESSIONS_CLEANUP_SCHEDULE if it is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Also put an edited schedule back to the setting.",
        )

    def handle(self, *args, **options):
        schedule, what = ensure_schedule(recreate=True, reset=options["reset"])
        if what == "disabled":
            raise CommandError("WAGTAIL_2FA_SESSIONS_CLEANUP_SCHEDULE is None: no schedule.")
        next_run = timezone.localtime(schedule.next_run)
        self.stdout.write(f"Schedule '{NAME}' {what}; next run {next_run:%Y-%m-%d %H:%M %Z}.")

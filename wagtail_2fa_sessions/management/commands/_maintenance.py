"""What the maintenance commands share: inline or ``--enqueue``, confirmation, output."""

from django.core.management.base import BaseCommand, CommandError

from ... import api, jobs
from ...models import MaintenanceRun


class MaintenanceCommand(BaseCommand):
    action = None
    destructive = False
    # Shown before the confirmation prompt; ``{count}`` is what the action would change.
    warning = ""
    done_message = "{count} records changed"

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Hand the job to the django-q2 cluster instead of running it here.",
        )
        if self.destructive:
            parser.add_argument(
                "--no-input",
                "--noinput",
                "--yes",
                action="store_false",
                dest="interactive",
                help="Do not ask for confirmation.",
            )

    def confirm(self, options):
        if not (self.destructive and options.get("interactive", True)):
            return
        count = api.maintenance_pending(self.action)
        self.stdout.write(self.warning.format(count=count))
        answer = input("Type 'yes' to continue, or 'no' to cancel: ")
        if answer.strip().lower() != "yes":
            raise CommandError("Cancelled; nothing was changed.")

    def handle(self, *args, **options):
        self.confirm(options)
        self.run_job(options)

    def renewed(self, run, label):
        self.stdout.write(
            self.style.SUCCESS(
                f"{label}: everyone was logged out again; the bookkeeping of run #{run.pk} "
                f"(already {run.status}) continues and now covers this run too."
            )
        )

    def run_job(self, options, **job_options):
        label = MaintenanceRun.Action(self.action).label
        if options["enqueue"]:
            run, created = jobs.enqueue(self.action, origin="command", **job_options)
            if not created and run.cutoff_renewed:
                return self.renewed(run, label)
            if not created:
                raise CommandError(f"{label} is already {run.status} (run #{run.pk}).")
            run.refresh_from_db()
            if run.status == MaintenanceRun.Status.FAILED:
                raise CommandError(f"{label} could not be queued: {run.error}")
            self.stdout.write(f"{label}: queued as run #{run.pk} (task {run.task_id}).")
            return
        run, created = jobs.run_now(self.action, origin="command", **job_options)
        if not created and run.cutoff_renewed:
            return self.renewed(run, label)
        if not created:
            raise CommandError(f"{label} is already {run.status} (run #{run.pk}).")
        if run.status != MaintenanceRun.Status.FINISHED:
            raise CommandError(f"{label} failed (run #{run.pk}): {run.error}")
        seconds = run.duration.total_seconds() if run.duration else 0.0
        message = self.done_message.format(count=run.result or 0)
        self.stdout.write(self.style.SUCCESS(f"{label}: {message} in {seconds:.2f} s."))

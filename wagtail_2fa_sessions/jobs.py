"""Maintenance jobs: one :class:`MaintenanceRun` per press of a button (or command, or
scheduled cleanup), run by the django-q2 cluster or inline.

The domain work is :mod:`wagtail_2fa_sessions.api`'s; this module only keeps the run's
status, progress and audit entry, and makes sure one action never runs twice at once.
"""

import logging
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_q.tasks import async_task

from . import api, audit, conf
from .models import GlobalRevocation, MaintenanceRun

logger = logging.getLogger(__name__)

Action = MaintenanceRun.Action
Status = MaintenanceRun.Status

TASK = "wagtail_2fa_sessions.jobs.execute"
RESET_USER_TASK = "wagtail_2fa_sessions.jobs.reset_user_2fa"
# Progress is written at most this often (seconds), and once at the end.
PROGRESS_EVERY = 1.0


def _actor(by):
    return by if getattr(by, "pk", None) else None


def open_run(action):
    """The queued or running run of ``action``, or None."""
    return MaintenanceRun.objects.filter(action=action, status__in=MaintenanceRun.OPEN).first()


def create_run(action, *, by=None, origin="", keep=None):
    """Create a run of ``action``; returns ``(run, created)``. While a run of the same
    action is queued or running, returns that one instead (the database's unique
    constraint settles two presses at the same instant). A stalled open run (see
    :func:`is_stalled`) is taken over instead: it is returned with ``created`` True, so
    the caller runs or queues it again and it resumes where it stopped.

    Revoke All and Delete All take their cutoff here, before anything else: everyone is
    logged out at once, and the job only does the per-record bookkeeping after. The
    duplicate guard stops only a second bookkeeping job, never the cutoff: a press while
    a run is open still logs everyone out again, and the open run is pointed at the
    newest cutoff (finishing it covers the older ones); ``run.cutoff_renewed`` is then
    True."""
    action = Action(action)
    options = {"keep": [int(pk) for pk in keep or []]} if action == Action.REVOKE_ALL else {}
    revocation = None
    if action == Action.REVOKE_ALL:
        revocation = api.begin_revoke_all(by=_actor(by), keep=options["keep"])
    elif action == Action.DELETE_ALL:
        revocation = api.begin_delete_all(by=_actor(by))
    for _attempt in range(3):
        try:
            with transaction.atomic():
                run = MaintenanceRun.objects.create(
                    action=action,
                    started_by=_actor(by),
                    origin=origin,
                    options=options,
                    revocation=revocation,
                )
            run.cutoff_renewed = False
            return run, True
        except IntegrityError:
            existing = open_run(action)
            if existing is None:
                continue  # the open run finished in between: this press is a new run
            taken_over = _take_over(existing)
            if revocation is not None:
                _point_at(existing, revocation)
                if not MaintenanceRun.objects.filter(
                    pk=existing.pk, status__in=MaintenanceRun.OPEN
                ).exists():
                    continue  # it closed before it could see the new cutoff
                existing.refresh_from_db()
            existing.cutoff_renewed = revocation is not None
            if taken_over:
                logger.warning("Maintenance run %s was stalled; taken over", existing.pk)
            return existing, taken_over
    raise RuntimeError(f"Could not create a {action} run")


def _point_at(run, revocation):
    """Point the open ``run`` at ``revocation`` unless it already has a newer cutoff."""
    older = Q(revocation__isnull=True) | Q(
        revocation__revoked_before__lte=revocation.revoked_before
    )
    MaintenanceRun.objects.filter(older, pk=run.pk, status__in=MaintenanceRun.OPEN).update(
        revocation=revocation
    )


def is_stalled(run, now=None):
    """Whether ``run`` is queued or running but its heartbeat (``updated_at``) is older
    than ``JOB_LEASE``: its process was killed, its task lost, or django-q2 gave up."""
    lease = timedelta(seconds=conf.seconds("JOB_LEASE"))
    return run.is_open and run.updated_at < (now or timezone.now()) - lease


def _take_over(run):
    """Claim a stalled open run for this caller (one caller wins: the UPDATE only
    matches the heartbeat it saw). Returns whether it was claimed."""
    if not is_stalled(run):
        return False
    claimed = MaintenanceRun.objects.filter(
        pk=run.pk, status__in=MaintenanceRun.OPEN, updated_at=run.updated_at
    ).update(updated_at=timezone.now())
    return claimed == 1


def enqueue(action, *, by=None, origin="admin", keep=None):
    """Create a run and hand it to the django-q2 cluster once the transaction commits.
    Returns ``(run, created)``; see :func:`create_run`."""
    run, created = create_run(action, by=by, origin=origin, keep=keep)
    if created:
        transaction.on_commit(lambda: _push(run))
    return run, created


def _push(run):
    try:
        task_id = async_task(
            TASK,
            run.pk,
            task_name=f"wagtail_2fa_sessions-{run.action}-{run.pk}",
            # An exception is final (the run shows it as failed); a worker killed by the
            # timeout or a crash leaves the task unacknowledged, so the broker hands it
            # out again after Q_CLUSTER["retry"] and the run resumes where it stopped.
            ack_failure=True,
            cluster=conf.get("CLUSTER"),
        )
    except Exception as error:
        logger.exception("Could not queue maintenance run %s", run.pk)
        _close(run, Status.FAILED, error=f"Could not queue the task: {error}")
        return
    MaintenanceRun.objects.filter(pk=run.pk).update(task_id=task_id or "")
    run.task_id = task_id or ""


def enqueue_reset_2fa(user, *, by=None):
    """Queue :func:`reset_user_2fa` for ``user`` on the django-q2 cluster once the
    transaction commits (the ``twofactor_reset USERNAME... --enqueue`` command)."""
    by_pk = getattr(_actor(by), "pk", None)
    transaction.on_commit(
        lambda: async_task(
            RESET_USER_TASK,
            user.pk,
            by_pk,
            task_name=f"wagtail_2fa_sessions-reset_2fa-{user.pk}",
            cluster=conf.get("CLUSTER"),
        )
    )


def reset_user_2fa(user_pk, by_pk=None):
    """The django-q2 task: reset one user's 2FA (a user deleted since is skipped).
    Returns the devices deleted."""
    users = get_user_model()._default_manager
    user = users.filter(pk=user_pk).first()
    if user is None:
        return 0
    return api.reset_2fa(user, by=users.filter(pk=by_pk).first() if by_pk else None)


def run_now(action, *, by=None, origin="command", keep=None):
    """Create a run and execute it in this process. Returns ``(run, created)``; the run
    is refreshed after it ended (finished or failed, never raising)."""
    run, created = create_run(action, by=by, origin=origin, keep=keep)
    if created:
        try:
            execute(run.pk)
        except Exception:
            logger.exception("Maintenance run %s failed", run.pk)
        run.refresh_from_db()
    return run, created


class _Progress:
    """``on_progress`` for the operations: rows done, written at most once a second."""

    def __init__(self, run, base):
        self.run, self.base, self.last_write = run, base, 0.0

    def __call__(self, done):
        self.run.rows_done = self.base + done
        now = time.monotonic()
        if now - self.last_write >= PROGRESS_EVERY:
            self.last_write = now
            MaintenanceRun.objects.filter(pk=self.run.pk).update(
                rows_done=self.run.rows_done, updated_at=timezone.now()
            )


def _work(run, progress):
    """Run the operation behind ``run``: (rows to do, the callable doing them)."""
    by = run.started_by
    if run.action == Action.CLEANUP:
        return api.maintenance_pending("cleanup"), lambda: api.cleanup_expired(on_progress=progress)
    if run.action == Action.RESET_ALL_2FA:
        return api.maintenance_pending("reset_all_2fa"), lambda: api.reset_all_2fa(
            by=by, on_progress=progress
        )
    if run.revocation is None:
        # Its cutoff was lost (deleted by hand): take a new one rather than do nothing.
        begin = api.begin_revoke_all if run.action == Action.REVOKE_ALL else api.begin_delete_all
        kwargs = {"keep": run.options.get("keep")} if run.action == Action.REVOKE_ALL else {}
        run.revocation = begin(by=by, **kwargs)
        run.save(update_fields=["revocation"])
    operation = api.revoke_all if run.action == Action.REVOKE_ALL else api.delete_all
    pending = api.maintenance_pending(run.action, revocation=run.revocation)
    return pending, lambda: operation(by=by, revocation=run.revocation, on_progress=progress)


def execute(run_id):
    """The django-q2 task: run the operation of run ``run_id`` with progress, then mark
    it finished or failed and log it. A finished or failed run is never run again; a run
    left "running" by a killed worker resumes where it stopped."""
    run = MaintenanceRun.objects.select_related("revocation", "started_by").filter(pk=run_id)
    run = run.first()
    if run is None or not run.is_open:
        return None
    now = timezone.now()
    MaintenanceRun.objects.filter(pk=run.pk).update(
        status=Status.RUNNING,
        started_at=Coalesce(F("started_at"), now),
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    run.refresh_from_db()
    base = run.rows_done
    progress = _Progress(run, base)
    total = 0
    while True:
        try:
            pending, work = _work(run, progress)
            MaintenanceRun.objects.filter(pk=run.pk).update(rows_total=run.rows_done + pending)
            total += work()
        except Exception as error:
            _close(run, Status.FAILED, error=f"{type(error).__name__}: {error}")
            raise
        result = total if run.action == Action.RESET_ALL_2FA else base + total
        # Closed only while it still points at the cutoff it finished: a press while it
        # ran took a newer cutoff, and that one is finished too before the run ends.
        if _close(run, Status.FINISHED, result=result, rows_done=run.rows_done, only_if=run):
            return result
        newest = MaintenanceRun.objects.values_list("revocation_id", flat=True).get(pk=run.pk)
        run.revocation = GlobalRevocation.objects.filter(pk=newest).first()
        progress.base = run.rows_done


def _close(run, status, *, error="", result=None, rows_done=None, only_if=None):
    """Mark ``run`` finished or failed and log it. With ``only_if`` (the run as it was
    worked), only while its cutoff is still that run's; returns whether it closed."""
    now = timezone.now()
    fields = {"status": status, "finished_at": now, "updated_at": now, "error": error[:10_000]}
    if result is not None:
        fields["result"] = result
    if rows_done is not None:
        fields["rows_done"] = rows_done
    runs = MaintenanceRun.objects.filter(pk=run.pk)
    if only_if is not None and only_if.revocation_id is not None:
        runs = runs.filter(revocation_id=only_if.revocation_id)
    if not runs.update(started_at=Coalesce(F("started_at"), now), **fields):
        return False
    run.refresh_from_db()
    action = audit.MAINTENANCE_FINISHED if status == Status.FINISHED else audit.MAINTENANCE_FAILED
    audit.record(
        run,
        action,
        by=run.started_by,
        job=run.action,
        origin=run.origin,
        result=run.result,
        rows_done=run.rows_done,
        error=run.error,
    )
    return True


def scheduled_cleanup():
    """What the periodic django-q2 schedule runs: a Clean Up Expired run, in this worker,
    unless one is already queued or running."""
    run, created = run_now(Action.CLEANUP, origin="schedule")
    if not created:
        return None
    if run.status == Status.FAILED:
        raise RuntimeError(run.error)
    return run.result

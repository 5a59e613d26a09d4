"""The one implementation of each operation on sessions and 2FA devices.

Views, bulk actions, management commands and django-q2 tasks all call these through
:mod:`wagtail_2fa_sessions.api`; none of them re-implements any of it.
"""

from django.contrib.auth import get_user_model
from django.db import router, transaction
from django.db.models import Max, Q
from django.utils import timezone

from . import audit, conf, enforcement, stores, twofactor
from .batching import delete_in_batches, in_batches, in_key_ranges, run_alongside
from .models import GlobalRevocation, SessionRecord


def _actor(by):
    return by if getattr(by, "pk", None) else None


def _record_ids(keep):
    """``keep`` may be a record, an id, or an iterable of either."""
    if keep is None:
        return []
    if isinstance(keep, SessionRecord | int | str):
        keep = [keep]
    return [item.pk if isinstance(item, SessionRecord) else int(item) for item in keep]


def _revoke_pks(pks, *, at, by, reason):
    """Mark the given open records revoked and drop their data from the session store."""
    records = SessionRecord.objects.filter(
        pk__in=pks, revoked_at__isnull=True, ended_at__isnull=True
    )
    keys = list(records.exclude(session_key="").values_list("session_key", flat=True))
    changed = records.update(revoked_at=at, revoked_by=_actor(by), revoked_reason=reason[:255])
    stores.delete_session_data(keys)
    return changed


def revoke_session(record, *, by=None, reason=""):
    """Revoke one session: it stops working at its next request on every engine."""
    changed = _revoke_pks([record.pk], at=timezone.now(), by=by, reason=reason)
    if changed:
        audit.record(record, audit.REVOKE_SESSION, by=by, reason=reason, user_id=record.user_id)
    return changed


def revoke_user_sessions(user, *, by=None, reason="", keep=None):
    """Revoke every open session of ``user`` except those in ``keep``.

    Open, not just active: a record's expiry can trail the store's by up to the activity
    interval (or more when a view calls ``set_expiry()`` after login), and such a session
    still works until it is revoked."""
    now = timezone.now()
    queryset = SessionRecord.objects.filter(
        user=user, ended_at__isnull=True, revoked_at__isnull=True
    ).exclude(pk__in=_record_ids(keep))
    changed = in_batches(queryset, lambda pks: _revoke_pks(pks, at=now, by=by, reason=reason))
    if changed:
        audit.record(user, audit.REVOKE_USER_SESSIONS, by=by, reason=reason, count=changed)
    return changed


def begin_revoke_all(*, by=None, keep=None, reason="", kind=GlobalRevocation.Kind.REVOKE_ALL):
    """Log everyone out in constant time: one row that every session issued before now
    fails against at its next request. ``keep`` survives it."""
    with transaction.atomic():
        now = timezone.now()
        kept = _record_ids(keep)
        if kept:
            SessionRecord.objects.active(now).filter(pk__in=kept).update(valid_since=now)
        return GlobalRevocation.objects.create(
            revoked_before=now, kind=kind, by=_actor(by), reason=reason[:255]
        )


def _revoke_all_queryset(revocation):
    return SessionRecord.objects.filter(
        revoked_at__isnull=True,
        ended_at__isnull=True,
        expires_at__gt=revocation.revoked_before,
        valid_since__lt=revocation.revoked_before,
    )


def _revoke_batch(batch, *, at, by, reason):
    """Mark one key range of open records revoked and drop their store data."""
    keys = list(batch.exclude(session_key="").values_list("session_key", flat=True))
    changed = batch.update(revoked_at=at, revoked_by=_actor(by), revoked_reason=reason[:255])
    stores.delete_session_data(keys)
    return changed


def finish_revoke_all(revocation, *, on_progress=None):
    """The per-record bookkeeping after :func:`begin_revoke_all`, in key-range batches,
    re-runnable: a revoked record leaves the set, so nothing is revoked twice."""
    return in_key_ranges(
        _revoke_all_queryset(revocation),
        lambda batch: _revoke_batch(
            batch,
            at=revocation.revoked_before,
            by=revocation.by,
            reason=revocation.reason or str(revocation.get_kind_display()),
        ),
        on_progress,
    )


def revoke_all(*, by=None, keep=None, reason="", revocation=None, on_progress=None):
    """Revoke every active session (except ``keep``). With ``revocation`` (from
    :func:`begin_revoke_all`), finish that one instead of starting a new one: a re-run
    after a crash then neither misses a session nor revokes later logins."""
    if revocation is None:
        revocation = begin_revoke_all(by=by, keep=keep, reason=reason)
    changed = finish_revoke_all(revocation, on_progress=on_progress)
    audit.record(revocation, audit.REVOKE_ALL, by=by or revocation.by, count=changed)
    return changed


def _delete_pks(pks):
    records = SessionRecord.objects.filter(pk__in=pks)
    keys = list(records.exclude(session_key="").values_list("session_key", flat=True))
    stores.delete_session_data(keys)
    deleted, _ = records.delete()
    return deleted


def begin_delete_all(*, by=None):
    """Log everyone out in constant time, as the first step of :func:`delete_all`."""
    return begin_revoke_all(by=by, kind=GlobalRevocation.Kind.DELETE_ALL)


def delete_all(*, by=None, revocation=None, on_progress=None):
    """Delete every record issued before the cutoff and its session data; everyone is
    logged out at once. Sessions that log in while it runs are spared. With
    ``revocation`` (from :func:`begin_delete_all`), finish that one."""
    if revocation is None:
        revocation = begin_delete_all(by=by)
    records = SessionRecord.objects.filter(valid_since__lt=revocation.revoked_before)
    if stores.enumerable():
        # The store's data goes in one sweep below: no per-record key lookups.
        deleted = delete_in_batches(records, on_progress)
    else:  # the cache engine: its keys can only be deleted one record at a time
        deleted = in_batches(records, _delete_pks, on_progress)
    newer = SessionRecord.objects.filter(valid_since__gte=revocation.revoked_before)
    stores.delete_all_session_data(spare=newer)
    audit.record(revocation, audit.DELETE_ALL, by=by or revocation.by, count=deleted)
    return deleted


def cleanup_candidates(now=None):
    """Records Clean Up Expired removes: ended, revoked, expired or caught by a Revoke All
    longer than ``RETENTION`` ago. Never an active session."""
    threshold = (now or timezone.now()) - conf.get("RETENTION")
    old = Q(ended_at__lt=threshold) | Q(revoked_at__lt=threshold) | Q(expires_at__lt=threshold)
    cutoff = GlobalRevocation.objects.aggregate(latest=Max("revoked_before"))["latest"]
    if cutoff is not None and cutoff < threshold:
        old |= Q(valid_since__lt=cutoff)
    return SessionRecord.objects.filter(old)


def cleanup_expired(*, on_progress=None):
    """Remove records of sessions that ended, were revoked or expired more than
    ``RETENTION`` ago, then the session engine's own expired data. Active sessions
    are never touched."""
    # No session store work per record: the data of ended and revoked sessions left the
    # store when they ended, expired data goes with the engine's own sweep below, and a
    # session whose record is gone is logged out by the middleware at its next request.
    # The two sweeps touch different tables: on PostgreSQL they overlap.
    return run_alongside(
        lambda: delete_in_batches(cleanup_candidates(), on_progress),
        stores.clear_expired,
        using=router.db_for_write(SessionRecord),
    )


def pending(action, *, revocation=None, keep=None):
    """How many records (users for ``reset_all_2fa``) a maintenance action would change
    now: what confirmation pages show and what a job's progress counts towards."""
    if action == "cleanup":
        return cleanup_candidates().count()
    if action == "reset_all_2fa":
        return get_user_model()._default_manager.filter(twofactor.has_2fa_q()).count()
    if action == "revoke_all":
        if revocation is None:
            return SessionRecord.objects.active().exclude(pk__in=_record_ids(keep)).count()
        return _revoke_all_queryset(revocation).count()
    if action == "delete_all":
        records = SessionRecord.objects.all()
        if revocation is not None:
            records = records.filter(valid_since__lt=revocation.revoked_before)
        return records.count()
    raise ValueError(f"Unknown maintenance action: {action!r}")


def reset_2fa(user, *, by=None):
    """Delete all of ``user``'s django-otp devices; their sessions lose the verified state."""
    deleted = 0
    with transaction.atomic():
        for model in twofactor.device_models():
            count, _ = model._default_manager.filter(user=user).delete()
            deleted += count
        SessionRecord.objects.filter(user=user, verified_at__isnull=False).update(
            verified_at=None, verified_device_type=""
        )
        if deleted:
            # Where 2FA is required, the next login goes to enrolment, not into a grace period.
            enforcement.note_reset(user)
    if deleted:
        audit.record(user, audit.RESET_2FA, by=by, devices=deleted)
    return deleted


def reset_all_2fa(*, by=None, on_progress=None):
    """:func:`reset_2fa` for every user with a device, in batches of users.
    ``on_progress(users_done)`` follows each batch. Returns the devices deleted."""
    model = get_user_model()
    users_done = 0

    def reset_batch(pks):
        nonlocal users_done
        deleted = sum(reset_2fa(user, by=by) for user in model._default_manager.filter(pk__in=pks))
        users_done += len(pks)
        if on_progress is not None:
            on_progress(users_done)
        return deleted

    return in_batches(model._default_manager.filter(twofactor.has_2fa_q()), reset_batch)

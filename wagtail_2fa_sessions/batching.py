"""Bounded, restartable set work: no statement touches more than BATCH_SIZE rows."""

from . import conf


def batch_size():
    return max(1, int(conf.get("BATCH_SIZE")))


def in_batches(queryset, apply, on_progress=None):
    """Call ``apply(pks)`` for successive batches of primary keys of ``queryset`` until
    it yields none. ``apply`` must make the rows it is given leave ``queryset`` (by
    deleting or updating them), so a crash and a re-run neither skip nor redo a row.
    Returns the sum of what ``apply`` returned."""
    done = 0
    size = batch_size()
    while True:
        pks = list(queryset.order_by("pk").values_list("pk", flat=True)[:size])
        if not pks:
            return done
        done += apply(pks)
        if on_progress is not None:
            on_progress(done)

"""Bounded, restartable set work: no statement touches more than BATCH_SIZE rows."""

from . import conf


def batch_size():
    return max(1, int(conf.get("BATCH_SIZE")))


def in_batches(queryset, apply, on_progress=None):
    """Call ``apply(pks)`` for successive batches of primary keys of ``queryset``, in key
    order, until it yields none. Each batch starts after the last key of the previous one
    (keyset pagination), so no batch re-reads what an earlier one already went through.

    ``apply`` must make the rows it is given leave ``queryset`` (by deleting or updating
    them), so a crash and a re-run from the start neither skip nor redo a row.
    ``on_progress(done)`` is called after each batch with the running total.
    Returns the sum of what ``apply`` returned."""
    done = 0
    size = batch_size()
    queryset = queryset.order_by("pk").values_list("pk", flat=True)
    last = None
    while True:
        page = queryset if last is None else queryset.filter(pk__gt=last)
        pks = list(page[:size])
        if not pks:
            return done
        done += apply(pks)
        last = pks[-1]
        if on_progress is not None:
            on_progress(done)


def in_key_ranges(queryset, apply, on_progress=None):
    """Call ``apply(batch)`` for successive primary-key ranges of ``queryset``, each
    holding at most BATCH_SIZE of its rows: per batch one SELECT finds the range's last
    key, and ``apply`` gets ``queryset`` narrowed to that range (to delete or update in
    one statement). No list of keys travels through Python, and no statement rescans
    what an earlier batch went through. ``apply`` returns how many rows it changed;
    ``on_progress(done)`` follows each batch. Safe to interrupt and run again."""
    size = batch_size()
    keys = queryset.order_by("pk").values_list("pk", flat=True)
    done = 0
    last = None
    while True:
        after = {} if last is None else {"pk__gt": last}
        upper = list(keys.filter(**after)[size - 1 : size])
        batch = queryset.filter(**after)
        if upper:
            batch = batch.filter(pk__lte=upper[0])
        changed = apply(batch)
        done += changed
        if on_progress is not None and (changed or upper):
            on_progress(done)
        if not upper:
            return done
        last = upper[0]


def delete_in_batches(queryset, on_progress=None):
    """Delete the rows of ``queryset`` in primary-key ranges of at most BATCH_SIZE rows.
    Returns the number of rows deleted."""
    return in_key_ranges(queryset, lambda batch: batch.delete()[0], on_progress)

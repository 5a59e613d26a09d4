"""Bounded, restartable set work: no statement touches more than BATCH_SIZE rows (about
BATCH_SIZE in the PostgreSQL page walk, whose ranges are sized from statistics)."""

import threading
from contextlib import contextmanager

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.models import BooleanField, IntegerField
from django.db.models.deletion import Collector
from django.db.models.expressions import RawSQL

from . import conf


def batch_size():
    return max(1, int(conf.get("BATCH_SIZE")))


def for_write(queryset):
    """``queryset`` on the database its rows are written to: a router may send reads to
    a replica, where a batch's SELECT would see stale rows and its DELETE would fail."""
    return queryset.using(queryset._db or router.db_for_write(queryset.model))


def in_transaction(connection):
    """Whether work on ``connection`` is part of a caller's transaction: inside
    ``atomic()``, or with autocommit off (``AUTOCOMMIT: False``, ``set_autocommit``)."""
    return connection.in_atomic_block or not connection.get_autocommit()


@contextmanager
def batch_transaction(using):
    """One batch of set work in its own transaction. On PostgreSQL its commit does not
    wait for the WAL to reach the disk (``synchronous_commit`` off for this transaction
    only): every batch is idempotent, so one lost in a crash is simply done again by the
    next run, and the next ordinary commit (the run's progress, or its end) makes all
    earlier batches durable, so recorded progress never runs ahead of the data. Inside a
    caller's transaction it adds nothing."""
    connection = connections[using]
    if connection.vendor != "postgresql" or in_transaction(connection):
        yield
        return
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


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
    queryset = for_write(queryset).order_by("pk").values_list("pk", flat=True)
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
    queryset = for_write(queryset)
    keys = queryset.order_by("pk").values_list("pk", flat=True)
    done = 0
    last = None
    while True:
        after = {} if last is None else {"pk__gt": last}
        upper = list(keys.filter(**after)[size - 1 : size])
        batch = queryset.filter(**after)
        if upper:
            batch = batch.filter(pk__lte=upper[0])
        with batch_transaction(queryset.db):
            changed = apply(batch)
        done += changed
        if on_progress is not None and (changed or upper):
            on_progress(done)
        if not upper:
            return done
        last = upper[0]


def delete_in_batches(queryset, on_progress=None):
    """Delete the rows of ``queryset`` in bounded batches; returns how many went.

    The table is walked in its physical order where the database allows it, so no
    statement reads a row twice and no list of keys travels through Python:

    - PostgreSQL (14+): ranges of heap pages (``ctid``, a TID Range Scan), each sized
      from the table's statistics to hold about BATCH_SIZE rows;
    - SQLite: ``rowid`` ranges, each holding at most BATCH_SIZE rows of ``queryset``;
    - elsewhere, or for a query that joins other tables: primary-key ranges
      (:func:`in_key_ranges`).

    Every statement carries the queryset's own filter, so a row changed by a concurrent
    request is checked again before it goes, and a re-run after a crash finds only what
    is left. A row that an UPDATE moves behind the walk while it runs is left for the
    next run."""
    queryset = for_write(queryset)
    connection = connections[queryset.db]
    query = queryset.query
    single_table = sum(1 for alias in query.alias_map if query.alias_refcount[alias]) <= 1
    if single_table and connection.vendor == "postgresql":
        walk = _page_walk_size(queryset, connection)
        if walk is not None:
            return _delete_page_ranges(queryset, *walk, on_progress)
    if single_table and connection.vendor == "sqlite":
        return _delete_ranges(queryset, _rowid_ranges(queryset), on_progress)
    return in_key_ranges(queryset, lambda batch: batch.delete()[0], on_progress)


def _delete_ranges(queryset, ranges, on_progress):
    """Delete ``queryset`` one range at a time; ``ranges`` yields each range as a SQL
    condition (built here, from table names and fixed text only) and its parameters."""
    done = 0
    for sql, params in ranges:
        batch = queryset.filter(RawSQL(sql, params, BooleanField()))  # noqa: S611
        with batch_transaction(queryset.db):
            done += batch.delete()[0]
        if on_progress is not None:
            on_progress(done)
    return done


def _page_walk_size(queryset, connection):
    """``(pages, span)`` for a ``ctid`` page walk over the table as it is now: its number
    of pages, and how many pages should hold about BATCH_SIZE rows. None where a page
    walk does not apply: PostgreSQL before 14 (no TID Range Scan), a table that was never
    analyzed, or a BATCH_SIZE smaller than one page's rows.

    Rows per page are the larger of the table's average (``reltuples / relpages``) and
    how many rows of its average width (``pg_stats``; a column's NULLs take no space)
    fill a page, so that a densely packed stretch of a table with free space elsewhere
    still fits the bound."""
    if connection.pg_version < 140000:
        return None
    size = batch_size()
    table = queryset.model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.reltuples, c.relpages, pg_relation_size(c.oid) / b.size, b.size, "
            "(SELECT sum(s.avg_width * (1 - s.null_frac)) FROM pg_stats s "
            "WHERE s.schemaname = n.nspname AND s.tablename = c.relname) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, "
            "(SELECT current_setting('block_size')::int AS size) b "
            "WHERE c.oid = %s::regclass",
            [connection.ops.quote_name(table)],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    tuples, stat_pages, pages, block, width = row
    if tuples is None or tuples <= 0 or not stat_pages or not pages:
        return None
    per_page = tuples / stat_pages
    if width:
        # A 24-byte tuple header, the row aligned to 8 bytes, a 4-byte line pointer,
        # in a page less its 24-byte header.
        per_page = max(per_page, (block - 24) / (-(-(24 + int(width)) // 8) * 8 + 4))
    if per_page > size:
        return None
    return int(pages), max(1, int(size / per_page))


def _delete_page_ranges(queryset, pages, span, on_progress):
    """Delete ``queryset`` in ranges of heap pages, the first ``pages`` of its table.

    A range spans ``span`` pages (sized from the statistics) or fewer: where a range
    turns out to hold more than BATCH_SIZE matching rows (a stretch of rows narrower
    than the table's average), the next ranges shrink in proportion, and they never
    grow back beyond what the densest range so far allows. So a statement goes over
    BATCH_SIZE only where it meets rows denser than any before it. Checking each range
    before deleting it would scan every page twice."""
    size = batch_size()
    connection = connections[queryset.db]
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    statement = _range_delete_statement(queryset, connection, table)
    done = 0
    start, step = 0, span
    densest = size / span  # matching rows per page the ranges are sized for
    while start < pages:
        bounds = [f"({start},0)", f"({start + step},0)"]
        if statement is None:
            condition = f"{table}.ctid >= %s::tid AND {table}.ctid < %s::tid"
            batch = queryset.filter(RawSQL(condition, bounds, BooleanField()))  # noqa: S611
            with batch_transaction(queryset.db):
                deleted = batch.delete()[0]
        else:
            sql, params = statement
            with connection.cursor() as cursor:
                cursor.execute(sql, [*bounds, *params])
                deleted = cursor.rowcount
        done += deleted
        if on_progress is not None:
            on_progress(done)
        start += step
        densest = max(densest, deleted / step)
        step = max(1, min(span, int(size / densest)))
    return done


def _range_delete_statement(queryset, connection, table):
    """``(sql, params)``: the DELETE of ``queryset``'s rows in one page range, compiled
    once for the whole walk (the range's bounds come first in the parameters), or None
    where deleting needs Django's collector (cascades, signal receivers).

    Outside a caller's transaction each DELETE is a transaction of its own that turns
    ``synchronous_commit`` off for itself (what :func:`batch_transaction` does, in one
    round trip instead of four): an uncorrelated sub-select, which PostgreSQL evaluates
    once, before the first row can qualify."""
    if not Collector(using=queryset.db).can_fast_delete(queryset):
        return None
    compiler = queryset.query.get_compiler(connection=connection)
    try:
        where, params = compiler.compile(queryset.query.where)
    except FullResultSet:
        where, params = "TRUE", ()
    except EmptyResultSet:
        where, params = "FALSE", ()
    if not in_transaction(connection):
        where = f"({where}) AND (SELECT set_config('synchronous_commit', 'off', true)) = 'off'"
    # The table name is quoted by the backend and ``where`` is Django's own compiled
    # SQL; every value travels as a parameter.
    sql = (
        f"DELETE FROM {table} "  # noqa: S608
        f"WHERE {table}.ctid >= %s::tid AND {table}.ctid < %s::tid AND ({where})"
    )
    return sql, list(params)


def _rowid_ranges(queryset):
    """Yield ``rowid`` ranges of the table, in its physical order, each holding at
    most BATCH_SIZE rows of ``queryset``: per range one SELECT finds its last rowid.
    (SQLite rewrites every index page a statement changes once per commit, so ranges
    of BATCH_SIZE matching rows, rather than of table rows, keep the commits few.)"""
    size = batch_size()
    rowid = f'"{queryset.model._meta.db_table}".rowid'
    keys = queryset.order_by(RawSQL(rowid, []).asc()).values_list(  # noqa: S611
        RawSQL(rowid, [], IntegerField()),  # noqa: S611
        flat=True,
    )
    last = None
    while True:
        after = [] if last is None else [(f"{rowid} > %s", last)]
        page = keys.filter(*(RawSQL(sql, [v], BooleanField()) for sql, v in after))  # noqa: S611
        upper = list(page[size - 1 : size])
        bounds = [*after, *([(f"{rowid} <= %s", upper[0])] if upper else [])]
        if not bounds:  # fewer than BATCH_SIZE rows in all: one statement
            bounds = [(f"{rowid} IS NOT NULL", None)]
        yield (
            " AND ".join(sql for sql, _ in bounds),
            [value for sql, value in bounds if "%s" in sql],
        )
        if not upper:
            return
        last = upper[0]


def run_alongside(work, other, *, using=DEFAULT_DB_ALIAS):
    """Run ``work()`` and ``other()``, two independent bulk jobs, and return what
    ``work()`` returns. On PostgreSQL, outside a transaction, ``other()`` runs on a second
    connection in a thread while ``work()`` runs on this one, so the two overlap: their
    tables are written by different server processes. Anywhere else (SQLite has one
    writer; inside a transaction the second connection would not see its data) they
    run one after the other. An error in either is raised once both have finished."""
    connection = connections[using]
    if connection.vendor != "postgresql" or in_transaction(connection):
        result = work()
        other()
        return result
    failure = []

    def side():
        try:
            other()
        except BaseException as error:  # re-raised in the caller's thread
            failure.append(error)
        finally:
            connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=side, name="wagtail-2fa-sessions-sweep", daemon=True)
    thread.start()
    try:
        result = work()
    finally:
        thread.join()
    if failure:
        raise failure[0]
    return result

"""Removing session data from whatever store SESSION_ENGINE keeps it in."""

import contextlib
import logging
import os
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.backends import cache as cache_backend
from django.contrib.sessions.backends import db as db_backend
from django.contrib.sessions.backends import signed_cookies
from django.core.cache import caches
from django.db.models import Exists, OuterRef
from django.utils import timezone

logger = logging.getLogger(__name__)


def session_store_class():
    return import_module(settings.SESSION_ENGINE).SessionStore


def stores_server_side():
    """False for engines such as signed_cookies that keep nothing on the server."""
    return not issubclass(session_store_class(), signed_cookies.SessionStore)


def enumerable():
    """True when :func:`delete_all_session_data` can find every session in the store
    (database tables, session files), or the engine keeps nothing server-side."""
    store_class = session_store_class()
    return (
        not stores_server_side()
        or issubclass(store_class, db_backend.SessionStore)
        or hasattr(store_class, "_get_storage_path")
    )


def delete_session_data(session_keys):
    """Delete the given keys from the session store, in one statement per store where the
    engine allows it. Missing keys are ignored, so this is safe to repeat."""
    keys = [key for key in session_keys if key]
    if not keys or not stores_server_side():
        return
    store_class = session_store_class()
    if issubclass(store_class, db_backend.SessionStore):
        # db and cached_db (and custom stores built on them): one DELETE.
        store_class.get_model_class().objects.filter(session_key__in=keys).delete()
    if hasattr(store_class, "cache_key_prefix"):  # cache and cached_db
        caches[settings.SESSION_CACHE_ALIAS].delete_many(
            [store_class.cache_key_prefix + key for key in keys]
        )
    if not (
        issubclass(store_class, db_backend.SessionStore)
        or issubclass(store_class, cache_backend.SessionStore)
    ):
        # file and third-party engines: the public per-key API.
        for key in keys:
            try:
                store_class(session_key=key).delete(key)
            except Exception:
                logger.exception("Could not delete session data from %s", settings.SESSION_ENGINE)


def clear_expired():
    """The engine's own expiry sweep (what ``clearsessions`` runs), in bounded batches
    where the store is a database table."""
    from .batching import delete_in_batches

    store_class = session_store_class()
    if issubclass(store_class, db_backend.SessionStore):
        # Django's clear_expired() is one DELETE of every expired row: unbounded.
        model = store_class.get_model_class()
        delete_in_batches(model.objects.filter(expire_date__lt=timezone.now()))
        return
    # The cache engine raises NotImplementedError: the cache expires its own entries.
    with contextlib.suppress(NotImplementedError):
        store_class.clear_expired()


def delete_all_session_data(spare=None):
    """Remove every session the store can enumerate (database rows, session files), in
    batches, except those whose key is in ``spare`` (a queryset of session records, e.g.
    the logins made after a Delete All began)."""
    from .batching import in_key_ranges

    store_class = session_store_class()
    if issubclass(store_class, db_backend.SessionStore):
        model = store_class.get_model_class()
        rows = model.objects.all()
        if spare is not None:
            rows = rows.exclude(Exists(spare.filter(session_key=OuterRef("session_key"))))
        in_key_ranges(rows, _delete_store_batch)
    storage_path = getattr(store_class, "_get_storage_path", None)
    if storage_path is not None:
        path = storage_path()
        prefix = settings.SESSION_COOKIE_NAME
        spared = set()
        if spare is not None:
            spared = {prefix + key for key in spare.values_list("session_key", flat=True)}
        for name in os.listdir(path):
            if name.startswith(prefix) and name not in spared:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(path, name))


def _delete_store_batch(batch):
    prefix = getattr(session_store_class(), "cache_key_prefix", None)
    if prefix:  # cached_db: its cache holds copies of the rows
        keys = list(batch.values_list("pk", flat=True))
        caches[settings.SESSION_CACHE_ALIAS].delete_many([prefix + key for key in keys])
    deleted, _ = batch.delete()
    return deleted

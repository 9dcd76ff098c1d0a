"""Locks shared by every process that uses one MLflow store: the promotion lock
around alias moves, and the lease a running command holds on its MLflow run.

Deciding to promote is read-compare-write on the registry: read the champion,
compare, move the alias. Two retrains doing that at once could both promote, each
over a champion the other has already replaced. `promotion_lock` makes the step a
critical section for everyone on the same store:

- PostgreSQL: a session-level advisory lock (``pg_advisory_lock``, one key per
  registered model) on the tracking database itself, so processes on different
  machines exclude each other;
- SQLite and local file stores: a `filelock.FileLock` (``flock`` on Linux and
  macOS, ``msvcrt.locking`` on Windows) on one lock file per store, beside the
  database (``<file>.promotion.lock``) or inside the store folder;
- anything else (an MLflow tracking server over HTTP): no lock the client can
  take; a warning is logged and only the re-read inside the section protects.

A run's lease (`run_lease`) is the same kind of lock on a key of its own, held from
before the run is created until it is marked finished. The operating system (or
PostgreSQL, when the connection drops) releases it when the process dies, so a
later command that can take it (`lease_is_free`) knows the run's command is gone.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

import filelock

logger = logging.getLogger(__name__)

LOCK_SUFFIX = ".promotion.lock"
LEASES_SUFFIX = ".leases"
_POLL_SECONDS = 0.05


class LockTimeoutError(TimeoutError):
    """Another process held the promotion lock for longer than the timeout."""


@contextmanager
def promotion_lock(
    tracking_uri: str, *, name: str, timeout: float = 120.0
) -> Iterator[None]:
    """Hold the store-wide promotion lock for registered model ``name``.

    Raises
    ------
    LockTimeoutError
        The lock was not free within ``timeout`` seconds.
    """
    lock = _store_lock(
        tracking_uri, key=f"rediscover promotion {name}", path=lock_file(tracking_uri),
        timeout=timeout,
    )  # fmt: skip
    if lock is None:
        logger.warning(
            "no promotion lock for a %s:// store; concurrent promotions rely on "
            "re-reading the champion only",
            urlparse(tracking_uri).scheme.split("+")[0],
        )
        yield
        return
    with lock:
        yield


@contextmanager
def run_lease(tracking_uri: str, *, token: str) -> Iterator[None]:
    """Hold the lease ``token`` while a command's run is open (see module doc).

    On a store without locks (an HTTP tracking server) nothing is held.
    """
    path = _lease_file(tracking_uri, token)
    lock = _store_lock(tracking_uri, key=_lease_key(token), path=path, timeout=10.0)
    if lock is None:
        yield
        return
    try:
        with lock:
            yield
    finally:
        if path is not None:
            path.unlink(missing_ok=True)


@contextmanager
def lease_is_free(tracking_uri: str, *, token: str) -> Iterator[bool]:
    """Try once to take lease ``token``; yields whether it was free (its holder
    is gone), keeping it for the body. False on a store without locks."""
    path = _lease_file(tracking_uri, token)
    lock = _store_lock(tracking_uri, key=_lease_key(token), path=path, timeout=0.0)
    if lock is None:
        yield False
        return
    with ExitStack() as held:
        try:
            held.enter_context(lock)
        except LockTimeoutError:
            yield False
            return
        yield True
    if path is not None:
        path.unlink(missing_ok=True)


def _lease_key(token: str) -> str:
    return f"rediscover run lease {token}"


def _lease_file(tracking_uri: str, token: str) -> Path | None:
    promotion = lock_file(tracking_uri)
    if promotion is None:
        return None
    folder = promotion.with_name(promotion.name.removesuffix(LOCK_SUFFIX))
    return folder.with_name(folder.name + LEASES_SUFFIX) / f"{token}.lock"


def _store_lock(
    tracking_uri: str, *, key: str, path: Path | None, timeout: float
) -> AbstractContextManager[None] | None:
    """The lock ``key`` for this store (an advisory lock on PostgreSQL, else a
    file lock on ``path``), or None when the store has none."""
    scheme = urlparse(tracking_uri).scheme.split("+")[0]
    if scheme in {"postgresql", "postgres"}:
        return _advisory_lock(tracking_uri, key=_lock_key(key), timeout=timeout)
    if path is None:
        return None
    return _file_lock(path, timeout=timeout)


def local_store(tracking_uri: str) -> Path | None:
    """The SQLite database file or the folder of a store on this machine, else
    None (a server, or SQLite in memory)."""
    parsed = urlparse(tracking_uri)
    if parsed.scheme == "sqlite":
        # sqlite:////abs/path.db -> /abs/path.db; sqlite:///rel.db -> rel.db
        database = unquote(parsed.path).removeprefix("/")
        return None if database in ("", ":memory:") else Path(database)
    if parsed.scheme in {"", "file"}:
        return Path(unquote(parsed.path))
    return None


def lock_file(tracking_uri: str) -> Path | None:
    """The lock file for a SQLite or local file store, else None."""
    if (store := local_store(tracking_uri)) is None:
        return None
    if urlparse(tracking_uri).scheme == "sqlite":
        return store.with_name(store.name + LOCK_SUFFIX)
    return store / LOCK_SUFFIX


def _lock_key(key: str) -> int:
    # pg advisory locks take a signed 64-bit key; derive a stable one per name.
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _wait_for(acquire: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not acquire():
        if time.monotonic() > deadline:
            raise _timed_out(timeout, what)
        time.sleep(_POLL_SECONDS)


def _timed_out(timeout: float, what: str) -> LockTimeoutError:
    return LockTimeoutError(
        f"the promotion lock ({what}) was held for more than {timeout:.0f} s "
        "by another retrain, promote or rollback; try again"
    )


@contextmanager
def _file_lock(path: Path, *, timeout: float) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    # A new FileLock opens its own file descriptor, so it also excludes other
    # threads of this process (and other FileLock objects), not only processes.
    lock = filelock.FileLock(path, timeout=timeout, poll_interval=_POLL_SECONDS)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise _timed_out(timeout, str(path)) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _advisory_lock(uri: str, *, key: int, timeout: float) -> Iterator[None]:
    import sqlalchemy  # MLflow's SQL stores depend on it; only needed here

    engine = sqlalchemy.create_engine(uri, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as connection:

            def acquire() -> bool:
                query = sqlalchemy.text("SELECT pg_try_advisory_lock(:key)")
                return bool(connection.execute(query, {"key": key}).scalar())

            _wait_for(acquire, timeout=timeout, what="pg_advisory_lock")
            try:
                yield
            finally:
                unlock = sqlalchemy.text("SELECT pg_advisory_unlock(:key)")
                connection.execute(unlock, {"key": key})
    finally:
        engine.dispose()

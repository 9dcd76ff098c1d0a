"""Finish what a killed command left behind, at the start of the next one.

A ``train``, ``retrain``, ``promote`` or ``rollback`` killed at any point leaves at
most a journalled alias transaction (replayed: see
`training.registry._transaction`) and RUNNING runs (marked FAILED: see
`training.registry._runs.fail_orphaned_runs`). Registry commands and ``serve``
call `recover` before anything else.
"""

from __future__ import annotations

from dataclasses import dataclass

from training.config import Config
from training.registry._lock import local_store, promotion_lock
from training.registry._runs import client_for, fail_orphaned_runs
from training.registry._transaction import AliasTransaction, replay_pending


@dataclass(frozen=True)
class Recovery:
    """What `recover` found and finished."""

    replayed: AliasTransaction | None  # the interrupted alias transaction, if any
    failed_runs: tuple[str, ...]  # runs of killed commands, now FAILED


def recover(config: Config) -> Recovery:
    """Replay an interrupted alias transaction, then mark orphaned runs FAILED.

    A store on this machine that does not exist yet has nothing to finish, and
    is not created here."""
    store = local_store(config.tracking.uri)
    if store is not None and not store.exists():
        return Recovery(replayed=None, failed_runs=())
    client = client_for(config.tracking)
    name = config.tracking.registered_model
    with promotion_lock(config.tracking.uri, name=name):
        replayed = replay_pending(client, name)
    return Recovery(replayed=replayed, failed_runs=tuple(fail_orphaned_runs(config)))

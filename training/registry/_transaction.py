"""Alias moves as one transaction, so a killed command never leaves them half-moved.

MLflow moves one alias per call. A promotion moves two (``previous``, then
``champion``) and tags the versions; a kill in between once left ``previous`` on
the champion and nothing to roll back to. Here every change of the aliases is
planned first (`plan_moves`: the aliases' final state, who, when, why, the version
tags and the audit entries), written to the registry as one registered-model tag
(the journal, one atomic write), then applied, then the journal is deleted. A
command killed after the journal was written leaves it behind, and the next
registry command replays it under the promotion lock (`replay_pending`) before
doing anything else. Every step sets a value, so replaying is idempotent: the
aliases end as planned however often the replay itself is interrupted.

The plan also keeps the aliases from contradicting each other: the champion holds
no other alias (not ``previous``, ``rolled_back`` or ``challenger``), and
``previous`` never names the version a rollback has just taken out of service.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import mlflow
from mlflow.exceptions import MlflowException

from training.registry._lock import promotion_lock

logger = logging.getLogger(__name__)

CHAMPION = "champion"
PREVIOUS = "previous"  # the champion before the current one: where rollback goes
CHALLENGER = "challenger"  # the last retrained version the gate did not promote
ROLLED_BACK = "rolled_back"  # the last champion a rollback replaced
# The order they are applied in: the champion last.
MANAGED = (PREVIOUS, ROLLED_BACK, CHALLENGER, CHAMPION)

AUDIT_PREFIX = "audit/"  # registered-model tags, one per alias move
JOURNAL_TAG = "pending_alias_moves"  # registered-model tag: the transaction underway
# MLflow keeps tag values up to 5,000 characters; the audit entry wraps the
# reason in JSON, so reasons are cut well below (the full gate is in gate.json).
MAX_REASON = 1000
MAX_BY = 200
_MAX_TAG = 5000


@dataclass(frozen=True)
class AliasMove:
    """One alias move, as recorded on the version and in the audit log."""

    alias: str
    version: str
    replaced: str | None  # the version the alias pointed at before, if any
    by: str
    at: str  # ISO 8601, UTC
    reason: str


@dataclass(frozen=True)
class AliasTransaction:
    """What one command does to the aliases: each change (an alias to a version,
    or None to remove it), the versions they replace, the version tags set with
    them, and who, when and why."""

    id: str
    at: str
    by: str
    reason: str
    changes: tuple[tuple[str, str | None], ...]
    replaced: dict[str, str | None] = field(default_factory=dict)
    version_tags: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def moves(self) -> list[AliasMove]:
        """The audit entries: one per alias pointed at a version."""
        return [
            AliasMove(alias, version, self.replaced.get(alias), **self._who)
            for alias, version in self.changes
            if version is not None
        ]

    @property
    def _who(self) -> dict[str, str]:
        return {"by": self.by, "at": self.at, "reason": self.reason}

    def to_json(self) -> str:
        """The journal entry."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> AliasTransaction:
        """Read a journal entry back."""
        fields = json.loads(text)
        changes = tuple((alias, version) for alias, version in fields.pop("changes"))
        return cls(changes=changes, **fields)


def plan_moves(
    current: Mapping[str, str],
    moves: Sequence[tuple[str, str | None]],
    *,
    by: str,
    reason: str,
    version_tags: Mapping[str, Mapping[str, str]] | None = None,
) -> AliasTransaction:
    """The transaction that applies ``moves`` to the aliases ``current``.

    ``moves`` point aliases at versions (None removes one); an alias left
    contradicting them is removed too (see the module doc). Only real changes are
    kept, in the order of `MANAGED`, removals first.
    """
    target = dict(current)
    for alias, version in moves:
        if version is None:
            target.pop(alias, None)
        else:
            target[alias] = version
    champion = target.get(CHAMPION)
    for alias in (PREVIOUS, ROLLED_BACK, CHALLENGER):
        if alias in target and target[alias] == champion:
            del target[alias]
    if PREVIOUS in target and target[PREVIOUS] == target.get(ROLLED_BACK):
        del target[PREVIOUS]
    changed = [a for a in MANAGED if target.get(a) != current.get(a)]
    changes: list[tuple[str, str | None]] = [
        (a, None) for a in changed if a not in target
    ]
    changes += [(a, target[a]) for a in changed if a in target]
    return AliasTransaction(
        id=uuid.uuid4().hex[:8],
        at=datetime.now(UTC).isoformat(timespec="microseconds"),
        by=by[:MAX_BY],
        reason=reason[:MAX_REASON],
        changes=tuple(changes),
        replaced={a: current.get(a) for a in changed},
        version_tags={v: dict(tags) for v, tags in (version_tags or {}).items()},
    )


def current_aliases(client: mlflow.MlflowClient, name: str) -> dict[str, str]:
    """Every alias of registered model ``name`` and the version it names."""
    try:
        aliases = client.get_registered_model(name).aliases
    except MlflowException:
        return {}
    return {alias: str(version) for alias, version in aliases.items()}


def commit(
    client: mlflow.MlflowClient, name: str, transaction: AliasTransaction
) -> list[AliasMove]:
    """Journal ``transaction``, apply it, then delete the journal; returns its
    moves. Call inside `alias_section`."""
    entry = transaction.to_json()
    if len(entry) > _MAX_TAG:  # by and reason are cut, so only many tags get here
        raise ValueError(f"alias transaction too large to journal ({len(entry)})")
    client.set_registered_model_tag(name, JOURNAL_TAG, entry)
    _apply(client, name, transaction)
    client.delete_registered_model_tag(name, JOURNAL_TAG)
    return transaction.moves


def replay_pending(client: mlflow.MlflowClient, name: str) -> AliasTransaction | None:
    """Finish the transaction a killed command left journalled, if any; returns
    it. Call inside the promotion lock."""
    try:
        entry = client.get_registered_model(name).tags.get(JOURNAL_TAG)
    except MlflowException:
        return None
    if not entry:
        return None
    transaction = AliasTransaction.from_json(entry)
    logger.warning(
        "finishing the alias moves of a command that was interrupted (by %s at %s: %s)",
        transaction.by,
        transaction.at,
        transaction.reason,
    )
    _apply(client, name, transaction)
    client.delete_registered_model_tag(name, JOURNAL_TAG)
    return transaction


@contextmanager
def alias_section(
    client: mlflow.MlflowClient, *, tracking_uri: str, name: str
) -> Iterator[None]:
    """The promotion lock, with any interrupted transaction finished first: the
    body reads the aliases as the last command meant to leave them."""
    with promotion_lock(tracking_uri, name=name):
        replay_pending(client, name)
        yield


def _apply(
    client: mlflow.MlflowClient, name: str, transaction: AliasTransaction
) -> None:
    for alias, version in transaction.changes:
        if version is None:
            _remove_alias(client, name, alias)
        else:
            client.set_registered_model_alias(name, alias, version)
    tags = [
        (move.version, {
            f"{move.alias}_set_by": move.by, f"{move.alias}_set_at": move.at,
            f"{move.alias}_reason": move.reason,
        })
        for move in transaction.moves
    ]  # fmt: skip
    for version, version_tags in [*tags, *transaction.version_tags.items()]:
        for key, value in version_tags.items():
            client.set_model_version_tag(name, version, key, value)
    stamp = datetime.fromisoformat(transaction.at).strftime("%Y%m%dT%H%M%S.%fZ")
    for index, move in enumerate(transaction.moves):
        key = f"{AUDIT_PREFIX}{stamp}-{transaction.id}-{index}"
        client.set_registered_model_tag(name, key, json.dumps(asdict(move)))
        logger.info(
            "%s@%s -> version %s (%s, by %s)",
            name, move.alias, move.version, move.reason, move.by,
        )  # fmt: skip


def _remove_alias(client: mlflow.MlflowClient, name: str, alias: str) -> None:
    try:
        client.delete_registered_model_alias(name, alias)
    except MlflowException as error:
        # Replayed after the removal already happened: nothing left to do.
        if error.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise

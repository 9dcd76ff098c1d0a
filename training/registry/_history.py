"""Registered versions with their lineage and gate results (``rediscover history``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from mlflow.exceptions import MlflowException

from training.config import TrackingConfig
from training.registry._lineage import SHORT_HASH
from training.registry._runs import client_for


@dataclass(frozen=True)
class VersionRecord:
    """One registered version: where it came from and how it fared."""

    version: str
    aliases: tuple[str, ...]
    created: str  # ISO 8601, UTC
    data_hash: str  # the cohort version: first 12 hex of the content hash
    n_samples: int | None
    n_episodes: int | None
    code_version: str
    gate: str  # passed | failed | skipped (no champion) | none (`train`)
    decision: str  # champion | challenger, when retrain registered it
    compared_with: str | None  # the champion the gate compared against
    cv_auroc_median: float | None
    holdout_auroc_champion: float | None
    holdout_auroc_challenger: float | None


def version_history(tracking: TrackingConfig) -> list[VersionRecord]:
    """Every version of the registered model, oldest first (empty if none)."""
    client = client_for(tracking)
    name = tracking.registered_model
    try:
        aliases = client.get_registered_model(name).aliases
    except MlflowException:
        return []
    by_version: dict[str, list[str]] = {}
    for alias, version in aliases.items():
        by_version.setdefault(str(version), []).append(alias)
    entries = client.search_model_versions(f"name = '{name}'")
    records = []
    for entry in sorted(entries, key=lambda e: int(e.version)):
        tags = entry.tags
        records.append(
            VersionRecord(
                version=str(entry.version),
                aliases=tuple(sorted(by_version.get(str(entry.version), []))),
                created=_iso(entry.creation_timestamp),
                data_hash=tags.get("data_hash", "")[:SHORT_HASH],
                n_samples=_int(tags.get("n_samples")),
                n_episodes=_int(tags.get("n_episodes")),
                code_version=tags.get("code_version", tags.get("package_version", "")),
                gate=tags.get("gate", ""),
                decision=tags.get("decision", ""),
                compared_with=tags.get("compared_with"),
                cv_auroc_median=_float(tags.get("cv_auroc_median")),
                holdout_auroc_champion=_float(tags.get("holdout_auroc_champion")),
                holdout_auroc_challenger=_float(tags.get("holdout_auroc_challenger")),
            )
        )
    return records


def _iso(milliseconds: int | None) -> str:
    if milliseconds is None:
        return ""
    moment = datetime.fromtimestamp(milliseconds / 1000, tz=UTC)
    return moment.isoformat(timespec="seconds")


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _int(text: str | None) -> int | None:
    value = _float(text)
    return None if value is None else int(value)

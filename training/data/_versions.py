"""Versioned cohort stores: each append writes a new version named by its content.

A store is a folder holding

- ``versions/<id>/``: one cohort folder per version, written by `write_cohort`;
  ``<id>`` is the first 12 hex digits of the version's `Cohort.data_hash` (the full
  hash is in its ``cohort.json``, with the parent version and a sequence number
  under ``metadata.store``);
- ``CURRENT``: the id of the latest version, replaced atomically once the version
  folder is complete, so a reader sees the old version or the new one, never a mix;
- ``.lock``: held (`filelock.FileLock`: ``flock`` on Linux and macOS,
  ``msvcrt.locking`` on Windows) while an append reads, merges and writes, so
  concurrent appends queue instead of losing each other's data.

An episode is keyed by (sample_id, drug): the same key with the same outcome is a
duplicate (counted, not added); with another outcome it is a conflict (an error).
"""

from __future__ import annotations

import logging
import os
import string
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import filelock
import pandas as pd

from features import Profile
from training.data._cohort import Cohort
from training.data._store import (
    CURRENT_FILE,
    PROFILES_FILE,
    TREATMENTS_FILE,
    VERSIONS_FOLDER,
    _read_metadata,
    current_version,
    is_cohort_store,
    read_cohort,
    read_truth,
    write_cohort,
)

logger = logging.getLogger(__name__)

ID_LENGTH = 12
_LOCK_FILE = ".lock"
_KEY = ["sample_id", "drug"]


@dataclass(frozen=True)
class AppendResult:
    """What `append_cohort` did (counts only, no sample identifiers).

    Attributes
    ----------
    version
        The store's current version after the append (12 hex digits); equal to
        `previous_version` when the new data held nothing new.
    data_hash
        Full content hash (`Cohort.data_hash`) of `version`.
    previous_version
        The version appended to; None when the append created the store.
    n_new_samples, n_new_episodes
        Profiles and treatment episodes added.
    n_duplicates
        Episodes of the new data already stored with the same outcome (not added).
    n_samples, n_episodes
        Profiles and episodes in `version`.
    """

    version: str
    data_hash: str
    previous_version: str | None
    n_new_samples: int
    n_new_episodes: int
    n_duplicates: int
    n_samples: int
    n_episodes: int

    @property
    def changed(self) -> bool:
        """Whether the append wrote a new version."""
        return self.version != self.previous_version


@dataclass(frozen=True)
class CohortVersion:
    """One version of a cohort store, as recorded in its ``cohort.json``."""

    version: str
    data_hash: str
    created_at: str
    n_samples: int
    n_episodes: int
    source: str | None
    parent: str | None
    is_current: bool
    sequence: int


class CohortConflictError(ValueError):
    """New data contradict a stored version: an outcome or a profile changed."""


class UnknownCohortVersionError(ValueError):
    """A store holds no version matching the requested id or hash."""


@dataclass(frozen=True)
class _Merge:
    cohort: Cohort
    truth: pd.DataFrame | None
    n_new_samples: int
    n_new_episodes: int
    n_duplicates: int


def append_cohort(
    store: Path,
    new: Cohort,
    *,
    source: str,
    truth: pd.DataFrame | None = None,
) -> AppendResult:
    """Add `new` to the cohort store `store` as a new version.

    Creates the store when it does not exist (its first version is `new`);
    otherwise merges `new` into the current version. Nothing new: no version is
    written and the result's `version` equals `previous_version`.

    Parameters
    ----------
    store
        The store folder.
    new
        The cohort to add.
    source
        Where the new data came from, recorded in the version's ``cohort.json``.
    truth
        Simulator truth of `new`; a version keeps ``truth.csv`` only when the
        stored version and the new data both have one.

    Raises
    ------
    CohortConflictError
        An episode of `new` has another outcome than the stored one, or a sample's
        profile differs; the message names the lines, never the sample id.
    """
    store = Path(store)
    _check_can_hold_store(store)
    store.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(store / _LOCK_FILE):
        previous = current_version(store)
        if previous is None:
            merge = _Merge(new, truth, len(new.profiles), len(new.treatments), 0)
        else:
            merge = _merge(store, previous, new, new_truth=truth)
        data_hash = merge.cohort.data_hash()
        if previous is not None and not (merge.n_new_samples or merge.n_new_episodes):
            version = previous
        else:
            version = _write_version(
                store, merge, data_hash=data_hash, source=source, parent=previous
            )
    logger.info(
        "appended %d samples and %d episodes to %s (%d duplicates): version %s",
        merge.n_new_samples, merge.n_new_episodes, store, merge.n_duplicates, version,
    )  # fmt: skip
    return AppendResult(
        version=version,
        data_hash=data_hash,
        previous_version=previous,
        n_new_samples=merge.n_new_samples,
        n_new_episodes=merge.n_new_episodes,
        n_duplicates=merge.n_duplicates,
        n_samples=len(merge.cohort.profiles),
        n_episodes=len(merge.cohort.treatments),
    )


def read_cohort_version(store: Path, data_hash_or_version: str) -> Cohort:
    """One version of a store, by its full data hash or a prefix of it (the
    12-hex version id, or fewer digits if unambiguous).

    Raises
    ------
    UnknownCohortVersionError
        No version matches; the message lists the available ones.
    """
    return read_cohort(_version_folder(store, data_hash_or_version))


def list_versions(store: Path) -> list[CohortVersion]:
    """Every version of a store, oldest first."""
    store = Path(store)
    _check_is_store(store)
    current = current_version(store)
    versions = [
        _describe(store / VERSIONS_FOLDER / name, is_current=name == current)
        for name in _version_ids(store)
    ]
    return sorted(versions, key=lambda v: (v.sequence, v.created_at))


def _version_folder(store: Path, data_hash_or_version: str) -> Path:
    """The folder of the version a data hash or its prefix names."""
    store = Path(store)
    _check_is_store(store)
    wanted = data_hash_or_version.strip().lower()
    if len(wanted) < 4 or not set(wanted) <= set(string.hexdigits.lower()):
        raise UnknownCohortVersionError(
            f"cohort version {data_hash_or_version!r} is not a data hash: give the "
            "64-hex data hash or its first 12 digits (the version id)"
        )
    ids = _version_ids(store)
    matches = [v for v in ids if v.startswith(wanted[:ID_LENGTH])]
    if len(wanted) > ID_LENGTH:
        matches = [v for v in matches if _recorded_hash(store, v).startswith(wanted)]
    if len(matches) != 1:
        raise UnknownCohortVersionError(
            f"{store}: {'no' if not matches else 'more than one'} cohort version "
            f"matches {data_hash_or_version!r}; available: "
            f"{', '.join(ids) or 'none'} (current {current_version(store)})"
        )
    return store / VERSIONS_FOLDER / matches[0]


def _merge(
    store: Path, previous: str, new: Cohort, *, new_truth: pd.DataFrame | None
) -> _Merge:
    folder = store / VERSIONS_FOLDER / previous
    stored = read_cohort(folder)
    stored_label = (stored.population, stored.endpoint)
    if (new.population, new.endpoint) != stored_label:
        raise CohortConflictError(
            f"the new data's outcomes are {new.endpoint} in {new.population}s but "
            f"stored version {previous} holds {stored.endpoint} in "
            f"{stored.population}s; a store holds one endpoint"
        )
    _check_profiles_agree(stored.profiles, new.profiles, version=previous)
    added, n_duplicates = _new_episodes(
        stored.treatments, new.treatments, version=previous
    )
    known = {p.sample_id for p in stored.profiles}
    profiles = [p for p in new.profiles if p.sample_id not in known]
    cohort = Cohort(
        profiles=(*stored.profiles, *profiles),
        treatments=_concat_treatments(stored.treatments, added),
        population=stored.population,
        endpoint=stored.endpoint,
    )
    truth = _merge_truth(read_truth(folder), new_truth, cohort=cohort)
    return _Merge(cohort, truth, len(profiles), len(added), n_duplicates)


def _check_profiles_agree(
    stored: tuple[Profile, ...], new: tuple[Profile, ...], *, version: str
) -> None:
    line_of = {p.sample_id: number for number, p in enumerate(stored, start=1)}
    for number, profile in enumerate(new, start=1):
        line = line_of.get(profile.sample_id)
        fields = [] if line is None else _differing_fields(stored[line - 1], profile)
        if fields:
            raise CohortConflictError(
                f"{PROFILES_FILE} line {number} of the new data conflicts with line "
                f"{line} of stored version {version}: the same sample has another "
                f"{', '.join(fields)}; a stored sample's profile cannot change (give "
                "a new biopsy its own sample_id)"
            )


def _differing_fields(stored: Profile, new: Profile) -> list[str]:
    fields = [
        name for name in Profile.model_fields
        if name != "alterations" and getattr(stored, name) != getattr(new, name)
    ]  # fmt: skip
    # Order of alterations carries no meaning; multiplicity does.
    if Counter(stored.alterations) != Counter(new.alterations):
        fields.append("alterations")
    return fields


def _new_episodes(
    stored: pd.DataFrame, new: pd.DataFrame, *, version: str
) -> tuple[pd.DataFrame, int]:
    """The rows of `new` not yet stored, and how many were duplicates."""
    # Line numbers as in treatments.csv: a header line, then one row per line.
    old = stored[[*_KEY, "responded"]].assign(stored_line=stored.index + 2)
    fresh = new[[*_KEY, "responded"]].assign(new_line=new.index + 2)
    pairs = fresh.merge(old, on=_KEY, suffixes=("", "_stored"))
    duplicate = pairs.loc[pairs["responded"] == pairs["responded_stored"], "new_line"]
    conflicts = pairs[~pairs["new_line"].isin(duplicate)]
    if len(conflicts):
        raise _episode_conflict(conflicts, version=version)
    seen = fresh["new_line"].isin(pairs["new_line"]).to_numpy()
    return new[~seen], int(fresh["new_line"].isin(duplicate).sum())


def _episode_conflict(conflicts: pd.DataFrame, *, version: str) -> CohortConflictError:
    first = conflicts.iloc[0]
    more = conflicts["new_line"].nunique() - 1
    return CohortConflictError(
        f"{TREATMENTS_FILE} line {first['new_line']} of the new data (drug "
        f"{first['drug']}, responded {first['responded']}) conflicts with line "
        f"{first['stored_line']} of stored version {version} (responded "
        f"{first['responded_stored']})"
        + (f", and {more} more new episode(s) conflict" if more else "")
        + "; an episode (same sample and drug) cannot change outcome: correct the "
        "new data"
    )


def _concat_treatments(stored: pd.DataFrame, added: pd.DataFrame) -> pd.DataFrame:
    """Stored rows then added rows, over the union of both sides' columns."""
    if added.empty:
        return stored
    combined = pd.concat([stored, added], ignore_index=True)
    for column in set(stored.columns) ^ set(added.columns):
        side = stored if column in stored.columns else added
        combined[column] = _as_nullable(combined[column], like=side[column])
    return combined


def _as_nullable(values: pd.Series, *, like: pd.Series) -> pd.Series:
    # A column only one side has gains missing cells; keep its type readable back.
    if pd.api.types.is_bool_dtype(like):
        return values.astype("boolean")
    if pd.api.types.is_integer_dtype(like):
        return values.astype("Int64")
    return values


def _merge_truth(
    stored: pd.DataFrame | None, new: pd.DataFrame | None, *, cohort: Cohort
) -> pd.DataFrame | None:
    if stored is None or new is None:
        return None
    combined = pd.concat([stored, new], ignore_index=True).drop_duplicates(
        ignore_index=True
    )
    if "sample_id" not in combined.columns:
        return combined
    samples = {p.sample_id for p in cohort.profiles}
    return combined[combined["sample_id"].isin(samples)].reset_index(drop=True)


def _write_version(
    store: Path, merge: _Merge, *, data_hash: str, source: str, parent: str | None
) -> str:
    version = data_hash[:ID_LENGTH]
    folder = store / VERSIONS_FOLDER / version
    # The same content was stored before (e.g. CURRENT was moved back): reuse it.
    if not folder.is_dir():
        sequence = max((_describe(store / VERSIONS_FOLDER / v).sequence
                        for v in _version_ids(store)), default=0) + 1  # fmt: skip
        write_cohort(
            merge.cohort, folder, truth=merge.truth, source=source,
            metadata={"store": {"parent": parent, "sequence": sequence}},
        )  # fmt: skip
    _set_current(store, version)
    return version


def _set_current(store: Path, version: str) -> None:
    with tempfile.NamedTemporaryFile(
        "w", dir=store, prefix=f".{CURRENT_FILE}-", delete=False, encoding="utf-8"
    ) as stream:
        stream.write(version + "\n")
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(stream.name, store / CURRENT_FILE)


def _check_can_hold_store(store: Path) -> None:
    if not store.exists() or is_cohort_store(store):
        return
    if not store.is_dir():
        raise ValueError(f"{store} is a file; a cohort store is a folder")
    if (store / TREATMENTS_FILE).is_file():
        raise ValueError(
            f"{store} is a cohort folder, not a cohort store; start a store from "
            f"it with `rediscover data append {store} --to NEW_STORE`"
        )
    # Hidden entries are a concurrent append's lock or staging files.
    if any(not entry.name.startswith(".") for entry in store.iterdir()):
        raise ValueError(
            f"{store} is neither a cohort store nor empty; give a new or empty "
            "folder to start a store"
        )


def _check_is_store(store: Path) -> None:
    if not is_cohort_store(store):
        raise ValueError(
            f"{store} is not a cohort store (it has no {CURRENT_FILE} file or "
            f"{VERSIONS_FOLDER}/ folder); create one with `rediscover data append "
            f"COHORT --to {store}`"
        )


def _version_ids(store: Path) -> list[str]:
    folder = store / VERSIONS_FOLDER
    if not folder.is_dir():
        return []
    return sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.is_dir() and not entry.name.startswith(".")
    )


def _recorded_hash(store: Path, version: str) -> str:
    return str(_read_metadata(store / VERSIONS_FOLDER / version).get("data_hash", ""))


def _describe(folder: Path, *, is_current: bool = False) -> CohortVersion:
    record = _read_metadata(folder)
    counts = record.get("counts")
    counts = counts if isinstance(counts, dict) else {}
    metadata = record.get("metadata")
    lineage = metadata.get("store", {}) if isinstance(metadata, dict) else {}
    source = record.get("source")
    return CohortVersion(
        version=folder.name,
        data_hash=str(record.get("data_hash", "")),
        created_at=str(record.get("created_at", "")),
        n_samples=int(counts.get("profiles", 0)),
        n_episodes=int(counts.get("treatments", 0)),
        source=None if source is None else str(source),
        parent=lineage.get("parent"),
        is_current=is_current,
        sequence=int(lineage.get("sequence", 0)),
    )

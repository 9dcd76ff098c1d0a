"""The on-disk cohort format that every importer and the simulator share.

A cohort folder holds:

- ``profiles.jsonl``: one `features.Profile` per line (``model_dump_json``);
- ``treatments.csv``: the treatment table, one episode per row;
- ``truth.csv`` (optional): simulator truth, e.g. each episode's true probability;
- ``cohort.json``: ``source``, ``created_at``, ``data_hash`` (`Cohort.data_hash`),
  ``counts``, the treatment column dtypes (so reading restores them exactly) and
  optional free-form ``metadata``.

Folders are written whole or not at all: files go into a temporary sibling folder
that is renamed into place once complete.

A cohort *store* (see `training.data._versions`) keeps one such folder per version
under ``versions/`` and names the latest in ``CURRENT``; `read_cohort` given a store
reads that latest version.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import pandas as pd
from pydantic import TypeAdapter, ValidationError

from features import Profile
from models import Endpoint, Population
from training.data._cohort import Cohort

logger = logging.getLogger(__name__)

PROFILES_FILE = "profiles.jsonl"
TREATMENTS_FILE = "treatments.csv"
TRUTH_FILE = "truth.csv"
METADATA_FILE = "cohort.json"
CURRENT_FILE = "CURRENT"
VERSIONS_FOLDER = "versions"
FORMAT = "rediscover-cohort/1"

_TEXT_DTYPES = {"object", "str", "string"}


def write_cohort(
    cohort: Cohort,
    folder: Path,
    *,
    truth: pd.DataFrame | None = None,
    source: str | None = None,
    metadata: Mapping[str, object] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write `cohort` (and optional `truth`) into `folder`, atomically.

    Parameters
    ----------
    cohort
        The cohort to store.
    folder
        Destination folder; its parent is created if needed.
    truth
        Optional table written as ``truth.csv`` (e.g. `SimulatedCohort.truth`).
    source
        Where the cohort came from, recorded in ``cohort.json``.
    metadata
        Extra JSON-serialisable facts recorded in ``cohort.json`` (e.g. parameters).
    overwrite
        Replace an existing folder; otherwise an existing folder is an error.

    Returns
    -------
    Path
        `folder`.
    """
    folder = Path(folder)
    if folder.exists() and not overwrite:
        raise FileExistsError(
            f"{folder} already exists; write to a new folder or remove it first"
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(
        dir=folder.parent, prefix=f".{folder.name}-"
    ) as tmp:
        staging = Path(tmp) / folder.name
        staging.mkdir()
        _write_files(cohort, staging, truth=truth, source=source, metadata=metadata)
        _move_into_place(staging, folder, trash=Path(tmp) / "replaced")
    logger.info(
        "cohort written to %s: %d profiles, %d treatments%s",
        folder,
        len(cohort.profiles),
        len(cohort.treatments),
        "" if truth is None else f", {len(truth)} truth rows",
    )
    return folder


def read_cohort(folder: Path) -> Cohort:
    """Read a cohort folder written by `write_cohort`, validating every profile.

    A cohort store is read at its current (latest) version.

    Raises
    ------
    ValueError
        A missing file, an invalid profile (naming the file and line), a bad
        treatment table, or content whose hash differs from the one recorded.
    """
    folder = resolve_cohort_folder(Path(folder))
    for name in (PROFILES_FILE, TREATMENTS_FILE):
        if not (folder / name).is_file():
            raise ValueError(
                f"{folder}: {name} not found; a cohort folder holds {PROFILES_FILE}, "
                f"{TREATMENTS_FILE} and {METADATA_FILE}"
            )
    recorded = _read_metadata(folder)
    profiles = _read_profiles(folder / PROFILES_FILE)
    treatments = _read_treatments(
        folder / TREATMENTS_FILE, recorded.get("treatment_dtypes", {})
    )
    try:
        cohort = Cohort(
            profiles=profiles, treatments=treatments,
            population=_recorded(recorded, "population", Population, "patient"),
            endpoint=_recorded(recorded, "endpoint", Endpoint, "clinical_benefit"),
        )  # fmt: skip
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{folder / TREATMENTS_FILE}: {exc}") from exc
    expected = recorded.get("data_hash")
    if isinstance(expected, str) and cohort.data_hash() != expected:
        raise ValueError(
            f"{folder}: content hash {cohort.data_hash()[:12]}... differs from the "
            f"{expected[:12]}... recorded in {METADATA_FILE}; the files were changed "
            "after writing; write the folder again with write_cohort"
        )
    return cohort


def _recorded(record: Mapping[str, object], key: str, kind: Any, default: str) -> Any:
    # Folders written before the field existed hold patients' clinical benefit.
    value = record.get(key, default)
    try:
        return TypeAdapter(kind).validate_python(value)
    except ValidationError:
        accepted = ", ".join(get_args(kind))
        raise ValueError(f"{METADATA_FILE}: {key} must be one of {accepted}") from None


def is_cohort_store(path: Path) -> bool:
    """Whether `path` is a versioned cohort store rather than a cohort folder."""
    path = Path(path)
    return (path / CURRENT_FILE).is_file() or (path / VERSIONS_FOLDER).is_dir()


def resolve_cohort_folder(path: Path) -> Path:
    """The cohort folder `path` stands for: itself, or a store's current version."""
    path = Path(path)
    if not is_cohort_store(path):
        return path
    current = current_version(path)
    if current is None:
        raise ValueError(
            f"{path}: cohort store has no {CURRENT_FILE} file, so no current "
            "version; add data with `rediscover data append NEW --to STORE`"
        )
    return path / VERSIONS_FOLDER / current


def current_version(store: Path) -> str | None:
    """The id named by a store's ``CURRENT`` file, or None if it has none."""
    path = Path(store) / CURRENT_FILE
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8").strip() or None


def read_truth(folder: Path) -> pd.DataFrame | None:
    """A cohort folder's ``truth.csv`` (ids kept as text), or None if absent."""
    path = resolve_cohort_folder(Path(folder)) / TRUTH_FILE
    if not path.is_file():
        return None
    return pd.read_csv(
        path,
        dtype={"sample_id": str, "drug": str},
        keep_default_na=False,
        na_values=[""],
    )


def _read_profiles(path: Path) -> tuple[Profile, ...]:
    """Profiles from a JSON-lines file, failing with the file and line of a bad one."""
    profiles = []
    with path.open(encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                profiles.append(Profile.model_validate_json(line))
            except ValidationError as exc:
                error = exc.errors()[0]
                where = ".".join(str(part) for part in error["loc"]) or "profile"
                raise ValueError(
                    f"{path}: line {number}: {where}: {error['msg']} "
                    f"({exc.error_count()} problem(s) on this line); each line must "
                    "be one profile as JSON"
                ) from exc
    return tuple(profiles)


def _write_files(
    cohort: Cohort,
    staging: Path,
    *,
    truth: pd.DataFrame | None,
    source: str | None,
    metadata: Mapping[str, object] | None,
) -> None:
    with (staging / PROFILES_FILE).open("w", encoding="utf-8") as stream:
        for profile in cohort.profiles:
            stream.write(profile.model_dump_json() + "\n")
    cohort.treatments.to_csv(
        staging / TREATMENTS_FILE, index=False, lineterminator="\n"
    )
    if truth is not None:
        truth.to_csv(staging / TRUTH_FILE, index=False, lineterminator="\n")
    record = {
        "format": FORMAT,
        "source": source,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_hash": cohort.data_hash(),
        "population": cohort.population,
        "endpoint": cohort.endpoint,
        "counts": {
            "profiles": len(cohort.profiles),
            "treatments": len(cohort.treatments),
            "treated_samples": int(cohort.treatments["sample_id"].nunique()),
            "drugs": len(cohort.drugs),
            "truth_rows": None if truth is None else len(truth),
        },
        "treatment_dtypes": {
            str(c): str(t) for c, t in cohort.treatments.dtypes.items()
        },
        "metadata": dict(metadata or {}),
    }
    (staging / METADATA_FILE).write_text(
        json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8"
    )


def _move_into_place(staging: Path, target: Path, *, trash: Path) -> None:
    # Two renames: a reader may briefly find no folder, never a half-written one.
    if target.exists():
        target.rename(trash)
    try:
        staging.rename(target)
    except OSError:
        if trash.exists() and not target.exists():
            trash.rename(target)
        raise


def _read_metadata(folder: Path) -> dict[str, object]:
    path = folder / METADATA_FILE
    if not path.is_file():
        logger.warning("%s has no %s; content hash not checked", folder, METADATA_FILE)
        return {}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(record, dict):
        raise ValueError(f"{path}: must hold a JSON object")
    return record


def _read_treatments(path: Path, dtypes: object) -> pd.DataFrame:
    recorded = dtypes if isinstance(dtypes, dict) else {}
    wanted: dict[str, str | type] = {"sample_id": str, "drug": str}
    # read_csv parses dates only through parse_dates, never through dtype=.
    dates = {c: str(t) for c, t in recorded.items() if str(t).startswith("datetime")}
    for column, dtype in recorded.items():
        if column not in dates:
            wanted[column] = str if dtype in _TEXT_DTYPES else str(dtype)
    try:
        # Only empty cells are missing values: "NA" or "None" stay text.
        table = pd.read_csv(
            path,
            dtype=wanted,
            parse_dates=list(dates),
            keep_default_na=False,
            na_values=[""],
        )
        return table.astype(dates)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"{path}: cannot be read as the recorded columns: {exc}"
        ) from exc

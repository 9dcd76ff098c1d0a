"""``rediscover score --out``: one row per profile x drug, written chunk by chunk
to CSV, JSON Lines or Parquet (README, "Scoring from files").

The file is written as ``NAME.partial`` and renamed when every profile is in it,
so a failed run leaves no file that looks complete.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from features import Profile
    from models import DrugScore, FeatureContribution

OUTPUT_SUFFIXES = (".csv", ".jsonl", ".parquet")
# Every field of a /score result, flat: interval and matched_biomarker split into
# their parts; the model's version, population and endpoint on every row.
SCORE_COLUMNS: tuple[str, ...] = (
    "profile", "sample_id", "model_version", "population", "endpoint", "drug",
    "rank", "probability", "raw_probability", "base_rate", "lift", "interval_low",
    "interval_high", "prediction_set", "coverage", "in_domain", "reason",
    "n_training_samples", "tumour_type_seen", "served_by", "matched_class",
    "matched_alteration", "matched_evidence", "matched_on_label", "top_features",
)  # fmt: skip

# Parquet columns with min/max statistics per row group (one row group a chunk).
# Not the long texts (reason, evidence): the writer holds every row group's
# statistics until it closes, and theirs would grow it by ~30 KB a chunk.
_STATISTICS = (
    "profile", "sample_id", "drug", "rank", "probability", "raw_probability",
    "base_rate", "lift", "in_domain", "matched_class",
)  # fmt: skip


def check_output(path: Path, *, force: bool) -> None:
    """A writable output name: a known suffix, not taken unless ``force``."""
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ValueError(
            f"--out {path}: the suffix names the format; use one of "
            f"{', '.join(OUTPUT_SUFFIXES)}"
        )
    if path.exists() and not force:
        raise FileExistsError(f"--out {path} already exists; --force replaces it")


def score_columns(
    profiles: Sequence[Profile],
    ranked: Sequence[Sequence[DrugScore]],
    *,
    first: int,
    model: dict[str, str],
) -> dict[str, list[Any]]:
    """The rows of one chunk, column by column. ``first`` is the 1-based number
    of the chunk's first profile in the input; ``model`` its version,
    population and endpoint."""
    flat = [score for scores in ranked for score in scores]
    counts = [len(scores) for scores in ranked]
    matches = [score.matched_biomarker for score in flat]

    def repeat(values: Sequence[Any]) -> list[Any]:
        return [v for v, n in zip(values, counts, strict=True) for _ in range(n)]

    return {
        "profile": repeat(range(first, first + len(profiles))),
        "sample_id": repeat([p.sample_id for p in profiles]),
        **{key: [model[key]] * len(flat) for key in
           ("model_version", "population", "endpoint")},
        "drug": [s.drug for s in flat],
        "rank": [s.rank for s in flat],
        "probability": [s.probability for s in flat],
        "raw_probability": [s.raw_probability for s in flat],
        "base_rate": [s.base_rate for s in flat],
        "lift": [s.lift for s in flat],
        "interval_low": [s.interval[0] for s in flat],
        "interval_high": [s.interval[1] for s in flat],
        "prediction_set": [s.prediction_set for s in flat],
        "coverage": [s.coverage for s in flat],
        "in_domain": [s.in_domain for s in flat],
        "reason": [s.reason for s in flat],
        "n_training_samples": [s.n_training_samples for s in flat],
        "tumour_type_seen": [s.tumour_type_seen for s in flat],
        "served_by": [s.served_by for s in flat],
        "matched_class": [m and m.matching_class for m in matches],
        "matched_alteration": [m and m.alteration for m in matches],
        "matched_evidence": [m and m.evidence for m in matches],
        "matched_on_label": [m and m.on_label for m in matches],
        "top_features": [_features(s.top_features) for s in flat],
    }  # fmt: skip


def _features(
    contributions: Sequence[FeatureContribution],
) -> Sequence[dict[str, Any]]:
    # Most drugs are not explained: their empty tuple is shared, not copied.
    if not contributions:
        return ()
    return [{"feature": f.feature, "value": f.value, "shap": f.shap}
            for f in contributions]  # fmt: skip


class ScoreWriter:
    """Writes chunks of score columns to ``path`` in the format its suffix names."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        self.rows = 0
        self._format = path.suffix.lower()
        self._handle: IO[str] | None = None
        self._parquet: Any = None
        self._csv: Any = None

    def __enter__(self) -> ScoreWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._format != ".parquet":
            handle = self.partial.open("w", encoding="utf-8", newline="")
            self._handle = handle
            if self._format == ".csv":
                self._csv = csv.writer(handle, lineterminator="\n")
                self._csv.writerow(SCORE_COLUMNS)
        return self

    def write(self, columns: dict[str, list[Any]]) -> None:
        """Append one chunk's rows."""
        if self._format == ".parquet":
            self._write_parquet(columns)
        elif self._format == ".csv":
            self._csv.writerows(_csv_rows(columns))
        else:
            assert self._handle is not None
            names = list(columns)
            self._handle.writelines(
                json.dumps(dict(zip(names, row, strict=True))) + "\n"
                for row in zip(*columns.values(), strict=True)
            )
        self.rows += len(columns["drug"])

    def _write_parquet(self, columns: dict[str, list[Any]]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table(columns, schema=_parquet_schema())
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(
                self.partial, table.schema, write_statistics=list(_STATISTICS)
            )
        self._parquet.write_table(table)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.close()
        if self._parquet is not None:
            self._parquet.close()
        if kind is None and self.partial.exists():
            self.partial.replace(self.path)
        else:
            self.partial.unlink(missing_ok=True)


def _csv_rows(columns: dict[str, list[Any]]) -> Any:
    """Rows for csv: lists as compact JSON, flags as true/false, None empty."""
    shown = dict(columns)
    for name in ("prediction_set", "top_features"):
        shown[name] = [json.dumps(v, separators=(",", ":")) for v in columns[name]]
    for name in ("in_domain", "tumour_type_seen", "matched_on_label"):
        shown[name] = [None if v is None else str(v).lower() for v in columns[name]]
    return zip(*shown.values(), strict=True)


def _parquet_schema() -> Any:
    import pyarrow as pa

    feature = pa.struct(
        [("feature", pa.string()), ("value", pa.float64()), ("shap", pa.float64())]
    )
    types = {
        "profile": pa.int64(), "rank": pa.int32(), "n_training_samples": pa.int32(),
        "matched_class": pa.int8(), "prediction_set": pa.list_(pa.int8()),
        "top_features": pa.list_(feature),
    }  # fmt: skip
    for name in ("in_domain", "tumour_type_seen", "matched_on_label"):
        types[name] = pa.bool_()
    floats = ("probability", "raw_probability", "base_rate", "lift", "interval_low",
              "interval_high", "coverage")  # fmt: skip
    return pa.schema(
        [
            (name, types.get(name, pa.float64() if name in floats else pa.string()))
            for name in SCORE_COLUMNS
        ]
    )

"""``rediscover score --out``: one row per profile x drug, written chunk by chunk
to CSV, JSON Lines or Parquet (README, "Scoring from files").

The file is written as ``NAME.partial`` and renamed when every profile is in it,
so a failed run leaves no file that looks complete.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from models import SCORE_COLUMNS

OUTPUT_SUFFIXES = (".csv", ".jsonl", ".parquet")
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

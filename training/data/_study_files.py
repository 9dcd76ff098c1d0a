"""Reading a study's delimited text tables, and the rejections made meanwhile.

Every row keeps its 1-based line in the file, so a `Rejection` can name it.
"""

from __future__ import annotations

import csv
import gzip
import logging
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from training.data._study_mapping import StudyFormatError, StudyMapping, _Section

logger = logging.getLogger(__name__)


# --- results -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    """A row (or, with a column, a cell) that did not make it into the cohort."""

    file: str
    line: int
    column: str | None
    reason: str
    # 1-based position of the column in the file, when known; not compared, so a
    # rejection equals one written without it.
    column_number: int | None = field(default=None, compare=False)

    def __str__(self) -> str:
        where = ""
        if self.column:
            where = f", column {self.column!r}"
        elif self.column_number:  # a column named by a sample id: its number only
            where = f", column {self.column_number}"
        return f"{self.file}, line {self.line}{where}: {self.reason}"


@dataclass
class RejectionLog:
    """Collects rejections and counts while a study is imported."""

    rejected: list[Rejection] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def reject(
        self,
        table: Table,
        rows: pd.Series,
        column: str | None,
        reason: str,
        *,
        name_column: bool = True,
    ) -> None:
        """Reject ``rows`` of ``table`` for ``reason``, at ``column``; a column
        whose name is a sample id (``name_column=False``) is given by number."""
        columns = list(table.frame.columns)
        number = columns.index(column) + 1 if column in columns else None
        shown = column if name_column else None
        for position in np.flatnonzero(rows.to_numpy(dtype=bool)):
            line = int(table.lines[position])
            self.rejected.append(Rejection(table.name, line, shown, reason, number))

    def keep(
        self,
        table: Table,
        ok: pd.Series,
        bad: pd.Series,
        column: str | None,
        reason: str,
    ) -> pd.Series:
        """Reject the rows still ok that are bad; return the rows still ok."""
        self.reject(table, ok & bad, column, reason)
        return ok & ~bad


# --- reading: the only part that touches files ----------------------------------------


@dataclass(frozen=True)
class Table:
    """A delimited text file as strings (None = missing), with each row's line."""

    name: str
    frame: pd.DataFrame
    lines: np.ndarray
    header_line: int


class _NumberedLines(Iterator[str]):
    """Lines of a text file, skipping '#' lines between records, counting lines."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle
        self.number = 0
        self.record_start = 0
        self._at_record_start = True

    def __next__(self) -> str:
        while True:
            line = next(self._handle)
            self.number += 1
            if not self._at_record_start:
                return line
            if not line.startswith("#"):
                self._at_record_start = False
                self.record_start = self.number
                return line

    def start_record(self) -> None:
        self._at_record_start = True


def read_table(
    path: Path, *, sep: str, missing_values: Collection[str], log: RejectionLog
) -> Table:
    """Read a (gzipped) delimited file; rows with too few fields are rejected."""
    if not path.is_file():
        raise StudyFormatError(f"{path}: file not found")
    opener: Any = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            header, header_line, rows, lines = _read_records(handle, sep)
    except UnicodeDecodeError as exc:
        raise StudyFormatError(f"{path.name}: not UTF-8 text ({exc.reason})") from exc
    except (csv.Error, OSError) as exc:
        raise StudyFormatError(f"{path.name}: cannot be parsed: {exc}") from exc
    if len(set(header)) != len(header):
        # Positions, not names: a copy-number header's names are sample ids.
        repeated = [i + 1 for i, c in enumerate(header) if c in header[:i]]
        raise StudyFormatError(
            f"{path.name}: header column(s) {repeated} repeat an earlier name"
        )
    # Trailing empty fields (a trailing tab) are harmless; any other misfit is not.
    width = len(header)
    ragged = np.array(
        [len(r) < width or any(c.strip() for c in r[width:]) for r in rows], dtype=bool
    )
    numbers = np.asarray(lines, dtype=np.int64)
    for line in numbers[ragged]:
        log.rejected.append(
            Rejection(
                path.name,
                int(line),
                None,
                f"row has a different number of fields than the header ({width})",
            )
        )
    kept = [r[:width] for r, bad in zip(rows, ragged, strict=True) if not bad]
    frame = pd.DataFrame(kept, columns=header, dtype=object)
    return Table(
        name=path.name,
        frame=_blank_missing(frame, missing_values),
        lines=numbers[~ragged],
        header_line=header_line,
    )


def _read_records(
    handle: IO[str], sep: str
) -> tuple[list[str], int, list[list[str]], list[int]]:
    lines = _NumberedLines(handle)
    reader = csv.reader(lines, delimiter=sep)
    header: list[str] | None = None
    header_line = 0
    rows: list[list[str]] = []
    numbers: list[int] = []
    while True:
        lines.start_record()
        record = next(reader, None)
        if record is None:
            break
        if not any(cell.strip() for cell in record):
            continue
        if header is None:
            header, header_line = [c.strip() for c in record], lines.record_start
        else:
            rows.append(record)
            numbers.append(lines.record_start)
    if header is None:
        raise csv.Error("no header line")
    return header, header_line, rows, numbers


def _blank_missing(
    frame: pd.DataFrame, missing_values: Collection[str]
) -> pd.DataFrame:
    missing = {v.lower() for v in missing_values}
    out = {}
    for column in frame.columns:
        values = frame[column].str.strip()
        out[column] = values.where(~values.str.lower().isin(missing), None)
    return pd.DataFrame(out, index=frame.index, dtype=object)


def _column(
    table: Table, section: BaseModel, key: str, *, required: bool = False
) -> str | None:
    """The mapped column if the file has it; an error if it was asked for."""
    name = getattr(section, key)
    if name is None or name in table.frame.columns:
        return name
    if required or key in section.model_fields_set:
        # The names found are not listed: a copy-number header's are sample ids.
        raise StudyFormatError(
            f"{table.name}: missing column {name!r} (mapping key "
            f"'{_section_name(section)}.{key}'); the header has "
            f"{len(table.frame.columns)} columns, none of that name"
        )
    return None


def _section_name(section: BaseModel) -> str:
    for name, info in StudyMapping.model_fields.items():
        if info.annotation is type(section):
            return name
    return type(section).__name__


@dataclass(frozen=True)
class StudyTables:
    """The tables of a study folder that exist (None: not in the study)."""

    mutations: Table | None
    copy_number: Table | None
    structural_variants: Table | None
    clinical_sample: Table | None
    clinical_patient: Table | None
    treatments: Table | None  # None when outcomes were not asked for


def read_study(
    folder: Path,
    mapping: StudyMapping,
    log: RejectionLog,
    *,
    outcomes: bool = True,
) -> StudyTables:
    """Read the mapped tables; a default file that is absent is skipped. Without
    ``outcomes`` the treatment-outcome table is not read (profiles only)."""

    def read(section: _Section) -> Table | None:
        if section.file is None:
            return None
        path = folder / section.file
        if not path.is_file() and "file" not in section.model_fields_set:
            logger.info("%s: not in the study folder; skipped", section.file)
            return None
        return read_table(
            path, sep=section.sep, missing_values=mapping.missing_values, log=log
        )

    treatments = read(mapping.treatments) if outcomes else None
    if treatments is None and outcomes:
        raise StudyFormatError(
            f"{folder}: no treatment-outcome table (mapping key 'treatments.file' is "
            f"{mapping.treatments.file!r}); outcomes are required"
        )
    return StudyTables(
        mutations=read(mapping.mutations),
        copy_number=read(mapping.copy_number),
        structural_variants=read(mapping.structural_variants),
        clinical_sample=read(mapping.clinical_sample),
        clinical_patient=read(mapping.clinical_patient),
        treatments=treatments,
    )

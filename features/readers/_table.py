"""Profiles as a CSV or TSV table: one row per alteration (README, "Scoring from
files").

Columns, by header name in any order (unknown names are refused):

==================  ========  ====================================================
column              required  value
==================  ========  ====================================================
``sample_id``       yes       the profile's id; a sample's rows must be adjacent
``tumour_type``     yes       the same on every row of the sample
``kind``            yes       mutation, amplification, deletion or fusion; empty on
                              the one row of a sample without alterations
``gene``            yes       HGNC symbol (the 5' gene of a fusion); empty with kind
``protein_change``  no        HGVS one-letter short form, mutations only
``partner_gene``    no        the 3' gene of a fusion
``tmb_mut_per_mb``  no        number; sample-level
``msi_high``        no        ``true`` or ``false``; sample-level
``hrd_score``       no        number; sample-level
==================  ========  ====================================================

A sample-level value may be given on one row of the sample or repeated on several;
two different values for one sample are refused. Rows are read one sample at a
time, so a table of any length streams; to find a sample whose rows are not
adjacent the ids seen are kept (a set of strings).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from features._schema import Alteration, Profile
from features.readers._delimited import (
    Header,
    check_width,
    header_of,
    numbered_records,
    open_text,
)
from features.readers._errors import ProfileFileError, column_label, first_invalid_field

REQUIRED_COLUMNS: tuple[str, ...] = ("sample_id", "tumour_type", "kind", "gene")
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "protein_change", "partner_gene", "tmb_mut_per_mb", "msi_high", "hrd_score",
)  # fmt: skip
PROFILE_TABLE_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
_SAMPLE_LEVEL = ("tmb_mut_per_mb", "msi_high", "hrd_score")
_ALTERATION_FIELDS = ("kind", "gene", "protein_change", "partner_gene")


def read_profile_table(path: Path, *, delimiter: str) -> Iterator[Profile]:
    """The profiles in a CSV (``delimiter=","``) or TSV (``"\\t"``) profile table,
    one sample at a time (see the module's columns).

    Raises
    ------
    ProfileFileError
        The first problem found: file, line, column number and name, what is
        wrong and what is accepted; never the cell's value.
    """
    file = str(path)
    with open_text(path) as handle:
        records = numbered_records(handle, file=file, delimiter=delimiter)
        layout = _Layout.of(file, header_of(records, file=file))
        seen: set[str] = set()
        sample: _Sample | None = None
        for line, record in records:
            check_width(record, layout.header, file=file, line=line)
            cells = {n: record[i].strip() or None for n, i in layout.columns.items()}
            if sample is None or cells["sample_id"] != sample.sample_id:
                if sample is not None:
                    yield sample.profile(layout)
                sample = _Sample.start(cells, seen, line=line, layout=layout)
            sample.add(cells, line=line, layout=layout)
        if sample is not None:
            yield sample.profile(layout)


@dataclass(frozen=True)
class _Layout:
    """The file's name and header, and where each known column is."""

    file: str
    header: Header
    columns: dict[str, int]

    @classmethod
    def of(cls, file: str, header: Header) -> _Layout:
        for position, name in enumerate(header.names):
            if name not in PROFILE_TABLE_COLUMNS:
                # Only the number: a file without a header would show patient data.
                raise ProfileFileError(
                    file,
                    "unknown column name; accepted: "
                    + ", ".join(PROFILE_TABLE_COLUMNS),
                    line=header.line,
                    column=column_label(position + 1),
                )
        columns = header.columns(
            file, required=REQUIRED_COLUMNS, optional=OPTIONAL_COLUMNS
        )
        return cls(file, header, columns)

    def error(self, reason: str, *, line: int, name: str | None) -> ProfileFileError:
        """An error at ``line``, in column ``name`` when the file has it."""
        column = None
        if name in self.columns:
            column = self.header.label(self.columns[name])
        return ProfileFileError(self.file, reason, line=line, column=column)


@dataclass
class _Sample:
    """The rows of one sample read so far."""

    sample_id: str
    tumour_type: str
    first_line: int
    alterations: list[Alteration] = field(default_factory=list)
    values: dict[str, tuple[Any, int]] = field(default_factory=dict)  # value, line

    @classmethod
    def start(
        cls, cells: dict[str, str | None], seen: set[str], *, line: int, layout: _Layout
    ) -> _Sample:
        """A sample whose first row is ``cells``; ``seen`` holds earlier ids."""
        for name in ("sample_id", "tumour_type"):
            if cells[name] is None:
                raise layout.error(f"empty {name}", line=line, name=name)
        sample_id, tumour_type = str(cells["sample_id"]), str(cells["tumour_type"])
        if sample_id in seen:
            raise layout.error(
                "this sample's rows are not adjacent: its id was on an earlier row "
                "followed by other samples; keep a sample's rows together",
                line=line,
                name="sample_id",
            )
        seen.add(sample_id)
        return cls(sample_id, tumour_type, line)

    def add(self, cells: dict[str, str | None], *, line: int, layout: _Layout) -> None:
        """Take one row: its alteration and sample-level values."""
        if cells["tumour_type"] != self.tumour_type:
            raise layout.error(
                "tumour_type differs from the sample's first row",
                line=line,
                name="tumour_type",
            )
        for name in _SAMPLE_LEVEL:
            if (text := cells.get(name)) is None:
                continue
            value = _parse(name, text, line=line, layout=layout)
            if name in self.values and self.values[name][0] != value:
                first = self.values[name][1]
                raise layout.error(
                    f"{name} differs from the value on line {first} of the same sample",
                    line=line,
                    name=name,
                )
            self.values.setdefault(name, (value, line))
        given = {k: cells.get(k) for k in _ALTERATION_FIELDS if cells.get(k)}
        if not given:
            return  # a sample without alterations, or a row of sample-level values
        try:
            self.alterations.append(Alteration.model_validate(given))
        except ValidationError as error:
            name, problem = first_invalid_field(error)
            # The partner rule is the model's, not a field's: no location.
            column = name if name in layout.columns else "partner_gene"
            raise layout.error(problem, line=line, name=column) from None

    def profile(self, layout: _Layout) -> Profile:
        """The sample's profile; a value the schema refuses is named at its row."""
        fields = {name: value for name, (value, _) in self.values.items()}
        try:
            return Profile(
                sample_id=self.sample_id,
                tumour_type=self.tumour_type,
                alterations=tuple(self.alterations),
                **fields,
            )
        except ValidationError as error:
            name, problem = first_invalid_field(error)
            name = name.split(".")[0]
            line = self.values[name][1] if name in self.values else self.first_line
            raise layout.error(problem, line=line, name=name) from None


def _parse(name: str, text: str, *, line: int, layout: _Layout) -> Any:
    """A sample-level cell as a flag or a finite number."""
    if name == "msi_high":
        flag = {"true": True, "false": False}.get(text.lower())
        if flag is None:
            raise layout.error("msi_high must be true or false", line=line, name=name)
        return flag
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise layout.error(f"{name} must be a finite number", line=line, name=name)
    return number

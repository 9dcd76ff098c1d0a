"""Delimited text files (TSV, CSV) read record by record, each with its line.

Every reader here streams: a record is parsed, validated and forgotten, so a file
of any length is read in the memory of one record.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from features.readers._errors import ProfileFileError, column_label


@dataclass(frozen=True)
class Header:
    """A file's header: its column names, and the line it was on."""

    names: tuple[str, ...]
    line: int

    def columns(
        self, file: str, *, required: Sequence[str], optional: Sequence[str] = ()
    ) -> dict[str, int]:
        """0-based position of each named column found; an error naming the
        first required column that is missing."""
        for name in required:
            if name not in self.names:
                raise ProfileFileError(
                    file,
                    f"the header has no {name!r} column; required: "
                    f"{', '.join(required)}",
                    line=self.line,
                )
        wanted = (*required, *optional)
        return {name: self.names.index(name) for name in wanted if name in self.names}

    def label(self, position: int) -> str:
        """``3 (gene)``: the column's 1-based number and its header name."""
        return column_label(position + 1, self.names[position])


@contextmanager
def open_text(path: Path, *, name: str | None = None) -> Iterator[IO[str]]:
    """A (gzipped) UTF-8 text file; a missing file is the user's error."""
    shown = name or str(path)
    if not path.is_file():
        raise ProfileFileError(shown, "no such file")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        yield handle


def numbered_records(
    handle: IO[str], *, file: str, delimiter: str
) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank record and the 1-based line it starts on."""
    reader = csv.reader(handle, delimiter=delimiter, strict=True)
    end = 0
    try:
        for record in reader:
            start, end = end + 1, reader.line_num
            if any(cell.strip() for cell in record):
                yield start, record
    except csv.Error as error:
        # csv's messages name the problem ("unexpected end of data"), not the text.
        raise ProfileFileError(
            file, f"cannot be parsed: {error}", line=reader.line_num
        ) from None
    except UnicodeDecodeError:
        raise ProfileFileError(
            file, "not UTF-8 text", line=reader.line_num + 1
        ) from None


def header_of(records: Iterator[tuple[int, list[str]]], *, file: str) -> Header:
    """The first record as the header; an empty file is an error."""
    first = next(records, None)
    if first is None:
        raise ProfileFileError(file, "the file is empty: no header line")
    line, names = first
    stripped = tuple(name.strip() for name in names)
    for position, name in enumerate(stripped):
        if name and stripped.index(name) != position:
            raise ProfileFileError(
                file,
                "this header name repeats an earlier column",
                line=line,
                column=column_label(position + 1),
            )
    return Header(stripped, line)


def check_width(record: list[str], header: Header, *, file: str, line: int) -> None:
    """A record must have the header's number of fields (a trailing empty one
    from a trailing delimiter aside)."""
    width = len(header.names)
    if len(record) < width or any(cell.strip() for cell in record[width:]):
        raise ProfileFileError(
            file,
            f"the record has {len(record)} fields, the header {width}",
            line=line,
        )

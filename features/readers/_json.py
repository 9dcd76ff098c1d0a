"""Profiles as JSON: one profile or a list of them (JSON), or one per line (JSONL).

Each profile is a `Profile` object (README, "The profile"). A JSONL file is
streamed, one line at a time; a JSON file's text is read whole and its list items
decoded one at a time, so only the text and the current profile are held.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from features._schema import Profile
from features.readers._delimited import open_text
from features.readers._errors import ProfileFileError, first_invalid_field

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def read_profile_json_text(text: str, *, file: str) -> Iterator[Profile]:
    """The profiles in JSON ``text``: an object, or a list of objects.

    Parameters
    ----------
    text
        The document.
    file
        The name its errors give (the path, or ``<stdin>``).

    Raises
    ------
    ProfileFileError
        Invalid JSON (line and column), or an invalid profile (the line its
        object starts on, and the field).
    """
    try:
        for line, value in _documents(text):
            yield _profile(value, file=file, line=line)
    except json.JSONDecodeError as error:
        raise ProfileFileError(
            file, f"not valid JSON: {error.msg}", line=error.lineno,
            column=str(error.colno),
        ) from None  # fmt: skip


def read_profile_json(path: Path) -> Iterator[Profile]:
    """The profiles in a JSON file (see `read_profile_json_text`)."""
    with open_text(path) as handle:
        text = handle.read()
    yield from read_profile_json_text(text, file=str(path))


def read_profile_jsonl(path: Path) -> Iterator[Profile]:
    """The profiles in a JSON Lines file, one object per line (blank lines
    skipped), read one line at a time."""
    with open_text(path) as handle:
        yield from read_profile_lines(handle, file=str(path))


def read_profile_lines(lines: Iterator[str], *, file: str) -> Iterator[Profile]:
    """Profiles from JSON Lines text (a file or stdin)."""
    number = 0
    try:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as error:
                raise ProfileFileError(
                    file, f"not valid JSON: {error.msg}", line=number,
                    column=str(error.colno),
                ) from None  # fmt: skip
            yield _profile(value, file=file, line=number)
    except UnicodeDecodeError:
        raise ProfileFileError(file, "not UTF-8 text", line=number + 1) from None


def _profile(value: Any, *, file: str, line: int) -> Profile:
    if not isinstance(value, dict):
        raise ProfileFileError(
            file, "a profile must be a JSON object ({...})", line=line
        )
    try:
        return Profile.model_validate(value)
    except ValidationError as error:
        field, problem = first_invalid_field(error)
        raise ProfileFileError(file, problem, line=line, field=field) from None


def _documents(text: str) -> Iterator[tuple[int, Any]]:
    """(line, value) of the document, or of each item of a top-level list."""
    start = _skip_space(text, 0)
    if text[start : start + 1] != "[":
        yield text.count("\n", 0, start) + 1, json.loads(text)
        return
    lines = _LineCounter(text)
    position = _skip_space(text, start + 1)
    more = text[position : position + 1] != "]"  # [] is an empty list
    while more:
        value, end = _DECODER.raw_decode(text, position)
        yield lines.at(position), value
        position = _skip_space(text, end)
        separator = text[position : position + 1]
        if separator not in (",", "]"):
            raise json.JSONDecodeError("Expecting ',' delimiter", text, position)
        more = separator == ","
        if more:  # a value must follow: [1,] is refused by raw_decode
            position = _skip_space(text, position + 1)
    after = _skip_space(text, position + 1)
    if after != len(text):
        raise json.JSONDecodeError("Extra data", text, after)


def _skip_space(text: str, position: int) -> int:
    match = _SPACE.match(text, position)
    return match.end() if match else position


class _LineCounter:
    """1-based line of increasing positions in a text, counted incrementally."""

    def __init__(self, text: str) -> None:
        self._text, self._position, self._line = text, 0, 1

    def at(self, position: int) -> int:
        self._line += self._text.count("\n", self._position, position)
        self._position = position
        return self._line

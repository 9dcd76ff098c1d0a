"""The error every profile reader raises: where in which file, and what is wrong.

A message names the file, the 1-based line, the column (its number, and its header
name when that is a documented name) or the profile field, never the value found
there: a file's cells are patient data, and error messages end up in logs.
"""

from __future__ import annotations

from pydantic import ValidationError


class ProfileFileError(ValueError):
    """A file that cannot be read as tumour profiles.

    Parameters
    ----------
    file
        The file as the user named it (or a pattern such as
        ``folder/*.purple.purity.tsv`` when its name holds a sample id).
    reason
        What is wrong and what is accepted, without the value.
    line
        1-based line of the file, when the problem has one.
    column
        Column number with its documented header name, e.g. ``"3 (gene)"``.
    field
        The profile field, e.g. ``"alterations.0.kind"``, for JSON input.
    """

    def __init__(
        self,
        file: str,
        reason: str,
        *,
        line: int | None = None,
        column: str | None = None,
        field: str | None = None,
    ) -> None:
        self.file, self.reason = file, reason
        self.line, self.column, self.field = line, column, field
        where = [file]
        where += [] if line is None else [f"line {line}"]
        where += [] if column is None else [f"column {column}"]
        where += [] if field is None else [f"field {field}"]
        super().__init__(f"{', '.join(where)}: {reason}")


def column_label(number: int, name: str | None = None) -> str:
    """``3 (gene)``: a 1-based column number and, if documented, its name."""
    return str(number) if name is None else f"{number} ({name})"


def first_invalid_field(error: ValidationError) -> tuple[str, str]:
    """The first invalid field's dotted location and the problem, without the
    input (pydantic's messages never quote it; ``include_input=False`` drops it
    from the details), plus how many other fields are invalid."""
    details = error.errors(include_input=False)
    field = ".".join(str(part) for part in details[0]["loc"]) or "profile"
    problem = details[0]["msg"].removeprefix("Value error, ")
    if len(details) > 1:
        others = sorted({".".join(str(p) for p in d["loc"]) for d in details[1:]})
        problem += f" (also invalid: {', '.join(others)})"
    return field, problem

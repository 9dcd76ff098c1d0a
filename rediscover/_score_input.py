"""What ``rediscover score`` reads: which reader a path needs, and the profiles.

Formats (README, "Scoring from files"): profile JSON (``.json``, ``-`` for stdin)
and JSON Lines (``.jsonl``, ``.ndjson``); a profile table (``.csv``, or ``.tsv`` /
``.txt`` whose header has ``sample_id``); a MAF (``.maf``, or ``.tsv`` / ``.txt``
whose header has ``Tumor_Sample_Barcode``) with ``--cna`` and ``--sv`` tables; a
Hartwig sample folder (it holds ``*.purple.purity.tsv``); a cBioPortal study folder
(it holds ``data_mutations.txt``, ``data_cna.txt`` or ``data_sv.txt``).
``--format`` names the format when the name does not tell it.

The libraries load when profiles are read, not when the parser is built.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from features import Profile
    from training.data import StudyProfiles

INPUT_FORMATS = ("auto", "json", "jsonl", "csv", "tsv", "maf", "hartwig", "cbioportal")
# Formats whose files say nothing of the tumour type: --tumour-type gives it.
NEEDS_TUMOUR_TYPE = ("maf", "hartwig")
STUDY_FILES = ("data_mutations.txt", "data_cna.txt", "data_sv.txt")
_SUFFIXES = {
    ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv",
    ".maf": "maf",
}  # fmt: skip
_SHOWN_REJECTIONS = 5


@dataclass(frozen=True)
class ScoreInput:
    """A source of profiles, its format resolved and its options checked."""

    path: str  # as given; '-' is stdin
    format: str
    tumour_type: str | None = None
    copy_number: Path | None = None
    structural_variants: Path | None = None


def resolve_input(
    path: str,
    *,
    format: str = "auto",
    tumour_type: str | None = None,
    copy_number: Path | None = None,
    structural_variants: Path | None = None,
) -> ScoreInput:
    """The input with its format (``auto``: from the name, or the header of a
    ``.tsv`` / ``.txt``); an option the format cannot use is an error."""
    resolved = detect_format(path) if format == "auto" else format
    if path == "-" and resolved not in ("json", "jsonl"):
        raise ValueError("'-' (stdin) holds profile JSON or JSONL only")
    if resolved != "maf" and (copy_number or structural_variants):
        raise ValueError("--cna and --sv go with a MAF (--format maf)")
    if resolved in NEEDS_TUMOUR_TYPE and not tumour_type:
        raise ValueError(
            f"{path}: a {'Hartwig folder' if resolved == 'hartwig' else 'MAF'} "
            "does not say the tumour type: give --tumour-type"
        )
    if tumour_type and resolved not in (*NEEDS_TUMOUR_TYPE, "cbioportal"):
        raise ValueError(
            "--tumour-type goes with a Hartwig folder, a MAF or a cBioPortal study; "
            f"the profiles in {path} carry their own"
        )
    return ScoreInput(path, resolved, tumour_type, copy_number, structural_variants)


def detect_format(path: str) -> str:
    """The format ``path``'s name (or a table's header) says."""
    from features.readers import is_hartwig_folder

    if path == "-":
        return "json"
    location = Path(path)
    if location.is_dir():
        if is_hartwig_folder(location):
            return "hartwig"
        if any((location / name).is_file() for name in STUDY_FILES):
            return "cbioportal"
        raise ValueError(
            f"{path}: neither a Hartwig sample folder (no *.purple.purity.tsv) nor "
            f"a cBioPortal study (none of {', '.join(STUDY_FILES)})"
        )
    if not location.is_file():
        raise ValueError(f"{path}: no such file or folder")
    suffix = location.suffix.lower()
    if suffix == ".gz":
        suffix = Path(location.stem).suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    if suffix in (".tsv", ".txt"):
        return _table_kind(location)
    raise ValueError(
        f"{path}: the name does not say the format; give --format "
        f"({', '.join(INPUT_FORMATS[1:])})"
    )


def _table_kind(path: Path) -> str:
    """``maf`` or ``tsv`` (a profile table), by the first header line."""
    from features.readers import ProfileFileError

    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        header = next((line for line in handle if not line.startswith("#")), "")
    names = {name.strip() for name in header.split("\t")}
    if "Tumor_Sample_Barcode" in names:
        return "maf"
    if "sample_id" in names:
        return "tsv"
    raise ProfileFileError(
        str(path),
        "the header has neither Tumor_Sample_Barcode (a MAF) nor sample_id (a "
        "profile table); give --format",
    )


def read_input(source: ScoreInput) -> Iterator[Profile]:
    """The source's profiles, one at a time (JSONL and profile tables stream)."""
    from features import readers

    path = Path(source.path)
    if source.format == "json":
        text = sys.stdin.read() if source.path == "-" else None
        if text is not None:
            return readers.read_profile_json_text(text, file="<stdin>")
        return readers.read_profile_json(path)
    if source.format == "jsonl":
        if source.path == "-":
            return readers.read_profile_lines(sys.stdin, file="<stdin>")
        return readers.read_profile_jsonl(path)
    if source.format in ("csv", "tsv"):
        delimiter = "," if source.format == "csv" else "\t"
        return readers.read_profile_table(path, delimiter=delimiter)
    if source.format == "hartwig":
        assert source.tumour_type is not None
        return iter([readers.read_hartwig_sample(path, tumour_type=source.tumour_type)])
    return iter(_read_study(source).profiles.values())


def _read_study(source: ScoreInput) -> StudyProfiles:
    """A MAF (with its tables) or a study folder, by the cBioPortal importer's
    rules; any rejected row is an error here: a score must not miss an event."""
    from training.data import StudyMapping, read_genomic_files, read_study_profiles

    mapping = StudyMapping()
    if source.format == "maf":
        assert source.tumour_type is not None
        result = read_genomic_files(
            Path(source.path), copy_number=source.copy_number,
            structural_variants=source.structural_variants,
            tumour_type=source.tumour_type,
        )  # fmt: skip
        given = [Path(source.path), source.copy_number, source.structural_variants]
        paths = {p.name: str(p) for p in given if p is not None}
        copy_number = source.copy_number.name if source.copy_number else None
    else:
        if source.tumour_type:
            profile = mapping.profile.model_copy(
                update={"constant_tumour_type": source.tumour_type}
            )
            mapping = mapping.model_copy(update={"profile": profile})
        result = read_study_profiles(Path(source.path), mapping=mapping)
        paths = {r.file: str(Path(source.path) / r.file) for r in result.rejected}
        copy_number = mapping.copy_number.file
    if result.rejected:
        raise ValueError(_describe_rejections(result, paths, copy_number=copy_number))
    if not result.profiles:
        raise ValueError(f"{source.path}: no sample found in its genomic tables")
    return result


def _describe_rejections(
    result: StudyProfiles, paths: dict[str, str], *, copy_number: str | None
) -> str:
    """The first rejections as file, line, column: reason. A copy-number file's
    sample columns are named by number only: their names are sample ids."""
    from training.data import StudyMapping

    cna = StudyMapping().copy_number  # the layout both readers use
    gene_columns = {cna.gene, *cna.other_columns}
    shown = []
    for rejection in result.rejected[:_SHOWN_REJECTIONS]:
        name = rejection.column
        if rejection.file == copy_number and name not in gene_columns:
            name = None
        number = rejection.column_number
        column = f"{number} ({name})" if number and name else str(number or name or "")
        where = f", column {column}" if column else ""
        # The importer's reasons end with what it does instead ("; cell
        # ignored"); here the row is not scored at all.
        reason = rejection.reason.split("; ")[0]
        file = paths.get(rejection.file, rejection.file)
        shown.append(f"{file}, line {rejection.line}{where}: {reason}")
    more = len(result.rejected) - len(shown)
    hint = any(r.reason.startswith("no tumour type") for r in result.rejected)
    return (
        "; ".join(shown)
        + (f"; and {more} more rows or cells" if more else "")
        + (" (--tumour-type gives every sample one type)" if hint else "")
        + "; nothing was scored"
    )


def chunked(profiles: Iterable[Profile], size: int) -> Iterator[list[Profile]]:
    """Profiles in lists of ``size`` (the last may be shorter)."""
    batch: list[Profile] = []
    for profile in profiles:
        batch.append(profile)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch

"""A Hartwig Medical Foundation sample folder (hmftools pipeline output) as a profile.

Files, found in the folder or in its ``purple/``, ``linx/`` and ``chord/``
subfolders; each name starts with the sample id, which becomes the profile's:

``*.purple.purity.tsv`` (required)
    PURPLE's purity file, one row (hmftools ``purple/README.md``, "Purity
    Files"): ``msStatus`` ``MSI`` -> ``msi_high`` true, ``MSS`` -> false,
    ``UNKNOWN`` -> not given; ``tmbPerMb`` -> ``tmb_mut_per_mb``, not given when
    ``tmbStatus`` is ``UNKNOWN`` (somatic variants not supplied).
``*.purple.driver.catalog.somatic.tsv`` (required), and the optional
``*.purple.driver.catalog.germline.tsv``, ``*.linx.driver.catalog.tsv`` and
``*.linx.germline.driver.catalog.tsv``
    Driver catalogues (``purple/README.md``, "Driver Catalog File";
    ``purple/DriverCatalog.md``; LINX adds its disruptions, ``linx/README.md``,
    "Driver Catalog"). Only drivers with ``driverLikelihood`` >= 0.5 count: PURPLE
    gives 1 to every reportable amplification, homozygous deletion and homozygous
    disruption, and 0 to the het deletions, LOH and non-homozygous disruptions it
    lists beside them. ``driver`` becomes the alteration's kind:

    - ``MUTATION`` -> mutation, without a protein change (the catalogue has no
      column for it: the change is in the somatic VCF, which is not read);
    - ``AMP``, ``PARTIAL_AMP`` -> amplification;
    - ``DEL`` -> deletion;
    - ``HOM_DISRUPTION`` (older releases), ``HOM_DEL_DISRUPTION``,
      ``HOM_DUP_DISRUPTION``, ``DISRUPTION`` -> deletion: a gene broken by a
      structural variant has lost its function, as if deleted;
    - ``GERMLINE_MUTATION``, ``GERMLINE_DELETION``, ``GERMLINE_DISRUPTION`` ->
      mutation: an inherited loss-of-function variant (a BRCA2 germline
      deletion reads as a BRCA2 mutation, as DRUP's matching does);
    - ``GERMLINE_AMP`` -> amplification (a gained copy is not a mutation);
    - ``HET_DEL``, ``LOH``, ``UNKNOWN`` -> ignored (one copy remains).

    Any other driver type is refused. An alteration found twice (a canonical and
    an additional transcript, or somatic and germline) is kept once.
``*.linx.fusion.tsv``
    LINX's fusions (``linx/README.md``, "Fusions"); only rows with ``reported``
    ``true`` count. The genes are ``geneStart`` and ``geneEnd`` when the file has
    them (older releases), else the ``name`` ``5'GENE_3'GENE``. A fusion of a
    gene with itself (``EXON_DEL_DUP``) is left out, as the cBioPortal importer
    leaves out intragenic structural variants.
``*.chord.prediction.tsv`` or ``*_chord_prediction.txt``
    CHORD's HRD prediction (``chord/README.md``, "Predictions"). ``p_hrd`` is a
    probability, not a genomic-scar score, so it is put on the profile's
    ``hrd_score`` scale so that CHORD's own threshold (``p_hrd`` >= 0.5,
    ``HR_deficient``) lands on the scale's (>= 42, Myriad GIS): ``hrd_score`` =
    84 x ``p_hrd``. A model reads it as the same call, not as the same number.
    ``hr_status`` ``cannot_be_determined`` -> not given.

These files carry no tumour type: the caller gives it. A missing optional file
means no such events (the genes are then read as wild type). Errors name a file by
its pattern in the folder (``FOLDER/*.purple.purity.tsv``), not by its name, which
holds the sample id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from features._schema import Alteration, AlterationKind, Profile
from features.readers._delimited import (
    Header,
    check_width,
    header_of,
    numbered_records,
    open_text,
)
from features.readers._errors import ProfileFileError, first_invalid_field

logger = logging.getLogger(__name__)

PURITY = ".purple.purity.tsv"
SOMATIC_DRIVERS = ".purple.driver.catalog.somatic.tsv"
DRIVER_CATALOGUES = (
    SOMATIC_DRIVERS,
    ".purple.driver.catalog.germline.tsv",
    ".linx.driver.catalog.tsv",
    ".linx.germline.driver.catalog.tsv",
)
FUSIONS = ".linx.fusion.tsv"
CHORD = (".chord.prediction.tsv", "_chord_prediction.txt")
SUBFOLDERS = ("purple", "linx", "chord")

MIN_DRIVER_LIKELIHOOD = 0.5
# Myriad myChoice GIS >= 42 is HRD-positive (FDA labels, niraparib 2019, olaparib
# 2020; the drug knowledge's HRD rules); CHORD calls HR_deficient at p_hrd >= 0.5.
HRD_POSITIVE_SCORE = 42.0
CHORD_HRD_THRESHOLD = 0.5

_DRIVER_KINDS: dict[str, AlterationKind | None] = {
    "MUTATION": "mutation",
    "AMP": "amplification",
    "PARTIAL_AMP": "amplification",
    "DEL": "deletion",
    "HOM_DISRUPTION": "deletion",
    "HOM_DEL_DISRUPTION": "deletion",
    "HOM_DUP_DISRUPTION": "deletion",
    "DISRUPTION": "deletion",
    "GERMLINE_MUTATION": "mutation",
    "GERMLINE_DELETION": "mutation",
    "GERMLINE_DISRUPTION": "mutation",
    "GERMLINE_AMP": "amplification",
    "HET_DEL": None,
    "LOH": None,
    "UNKNOWN": None,
}


def is_hartwig_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a PURPLE purity file (directly or in purple/)."""
    return bool(_candidates(folder, PURITY))


def read_hartwig_sample(folder: Path, *, tumour_type: str) -> Profile:
    """The profile of the Hartwig sample folder ``folder`` (see the module).

    Raises
    ------
    ProfileFileError
        A required file missing or repeated, a file of another sample, a
        missing column, a value PURPLE, LINX or CHORD do not write (file, line,
        column, never the value).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ProfileFileError(str(folder), "no such folder")
    purity = _one_file(folder, PURITY, required=True)
    assert purity is not None
    sample_id = purity.path.name.removesuffix(PURITY)
    tmb, msi = _read_purity(purity)
    alterations: dict[tuple[str, str, str | None], Alteration] = {}
    for suffix in DRIVER_CATALOGUES:
        found = _one_file(folder, suffix, required=suffix == SOMATIC_DRIVERS)
        for event in _read_drivers(_of_sample(found, sample_id)):
            alterations.setdefault(_key(event), event)
    for event in _read_fusions(_of_sample(_one_file(folder, FUSIONS), sample_id)):
        alterations.setdefault(_key(event), event)
    chord = next((f for s in CHORD if (f := _one_file(folder, s)) is not None), None)
    hrd = _read_chord(_of_sample(chord, sample_id), sample_id)
    return Profile(
        sample_id=sample_id,
        tumour_type=tumour_type,
        alterations=tuple(alterations.values()),
        tmb_mut_per_mb=tmb,
        msi_high=msi,
        hrd_score=hrd,
    )


@dataclass(frozen=True)
class _File:
    path: Path
    suffix: str

    @property
    def shown(self) -> str:
        """The name errors give: the pattern, without the sample id."""
        return str(self.path.parent / f"*{self.suffix}")


def _candidates(folder: Path, suffix: str) -> list[Path]:
    places = [folder, *(folder / sub for sub in SUBFOLDERS)]
    return sorted(p for place in places for p in place.glob(f"*{suffix}"))


def _one_file(folder: Path, suffix: str, *, required: bool = False) -> _File | None:
    found = _candidates(folder, suffix)
    if len(found) > 1:
        raise ProfileFileError(
            f"{folder}/*{suffix}",
            f"{len(found)} files match; a Hartwig folder holds one sample",
        )
    if not found:
        if required:
            raise ProfileFileError(
                f"{folder}/*{suffix}", "no such file; a Hartwig sample folder needs it"
            )
        logger.info("no *%s in the Hartwig folder: none of its events", suffix)
        return None
    return _File(found[0], suffix)


def _of_sample(found: _File | None, sample_id: str) -> _File | None:
    if found is not None and found.path.name != f"{sample_id}{found.suffix}":
        raise ProfileFileError(
            found.shown, "names another sample than the *.purple.purity.tsv file"
        )
    return found


def _key(event: Alteration) -> tuple[str, str, str | None]:
    return event.kind, event.gene, event.partner_gene


@dataclass(frozen=True)
class _Row:
    """One record of a Hartwig TSV: its line and its cells by column name."""

    file: _File
    header: Header
    line: int
    cells: dict[str, str]

    def error(self, name: str, reason: str) -> ProfileFileError:
        """An error at this row's cell in column ``name``."""
        column = self.header.label(self.header.names.index(name))
        return ProfileFileError(self.file.shown, reason, line=self.line, column=column)

    def number(self, name: str, *, low: float, high: float) -> float:
        try:
            value = float(self.cells[name])
        except ValueError:
            value = float("nan")
        if not low <= value <= high:  # NaN fails too
            raise self.error(name, f"{name} must be a number from {low:g} to {high:g}")
        return value


def _rows(found: _File, *, required: tuple[str, ...]) -> Iterator[_Row]:
    with open_text(found.path, name=found.shown) as handle:
        records = numbered_records(handle, file=found.shown, delimiter="\t")
        header = header_of(records, file=found.shown)
        header.columns(found.shown, required=required)
        for line, record in records:
            check_width(record, header, file=found.shown, line=line)
            cells = {n: c.strip() for n, c in zip(header.names, record, strict=False)}
            yield _Row(found, header, line, cells)


def _read_purity(found: _File) -> tuple[float | None, bool | None]:
    rows = list(_rows(found, required=("msStatus", "tmbPerMb")))
    if len(rows) != 1:
        raise ProfileFileError(
            found.shown, f"{len(rows)} data rows; PURPLE writes one per sample"
        )
    [row] = rows
    statuses: dict[str, bool | None] = {"MSI": True, "MSS": False, "UNKNOWN": None}
    if row.cells["msStatus"] not in statuses:
        raise row.error("msStatus", "msStatus must be MSI, MSS or UNKNOWN")
    tmb: float | None = row.number("tmbPerMb", low=0, high=10_000)
    if row.cells.get("tmbStatus") == "UNKNOWN":
        tmb = None
    return tmb, statuses[row.cells["msStatus"]]


def _read_drivers(found: _File | None) -> Iterator[Alteration]:
    if found is None:
        return
    for row in _rows(found, required=("gene", "driver", "driverLikelihood")):
        if row.cells["driver"] not in _DRIVER_KINDS:
            known = ", ".join(_DRIVER_KINDS)
            raise row.error("driver", f"not a PURPLE or LINX driver type: {known}")
        kind = _DRIVER_KINDS[row.cells["driver"]]
        likelihood = row.number("driverLikelihood", low=0, high=1)
        if kind is not None and likelihood >= MIN_DRIVER_LIKELIHOOD:
            yield _alteration(row, kind=kind, gene=row.cells["gene"])


def _read_fusions(found: _File | None) -> Iterator[Alteration]:
    if found is None:
        return
    for row in _rows(found, required=("name", "reported")):
        reported = row.cells["reported"].lower()
        if reported not in ("true", "false"):
            raise row.error("reported", "reported must be true or false")
        if reported == "false":
            continue
        if "geneStart" in row.cells and "geneEnd" in row.cells:
            genes = [row.cells["geneStart"], row.cells["geneEnd"]]
        else:
            genes = row.cells["name"].split("_")
            if len(genes) != 2:
                raise row.error("name", "name must be 5'GENE_3'GENE")
        if genes[0] != genes[1]:
            yield _alteration(row, kind="fusion", gene=genes[0], partner=genes[1])


def _alteration(
    row: _Row, *, kind: AlterationKind, gene: str, partner: str | None = None
) -> Alteration:
    try:
        return Alteration(kind=kind, gene=gene, partner_gene=partner)
    except ValidationError as error:
        _, problem = first_invalid_field(error)
        column = "gene" if kind != "fusion" else _fusion_column(row)
        raise row.error(column, f"gene symbol: {problem}") from None


def _fusion_column(row: _Row) -> str:
    return "geneStart" if "geneStart" in row.cells else "name"


def _read_chord(found: _File | None, sample_id: str) -> float | None:
    if found is None:
        return None
    rows = list(_rows(found, required=("p_hrd", "hr_status")))
    mine = [r for r in rows if r.cells.get("sample", sample_id) == sample_id]
    if len(mine) != 1:
        raise ProfileFileError(
            found.shown, f"{len(mine)} rows of this sample; CHORD writes one"
        )
    [row] = mine
    status = row.cells["hr_status"]
    if status not in ("HR_deficient", "HR_proficient", "cannot_be_determined"):
        raise row.error(
            "hr_status",
            "hr_status must be HR_deficient, HR_proficient or cannot_be_determined",
        )
    p_hrd = row.number("p_hrd", low=0, high=1)
    if status == "cannot_be_determined":
        return None
    return round(p_hrd * HRD_POSITIVE_SCORE / CHORD_HRD_THRESHOLD, 6)

"""cBioPortal-style study folders as a cohort, with every rejected row reported.

A study folder holds delimited text tables in cBioPortal's file formats: mutations
(MAF), discrete copy number (genes x samples), structural variants, clinical sample
and patient tables, plus a treatment-outcome table (``sample_id``, ``drug``,
``responded`` or ``best_response``, ``start_date``). A `StudyMapping`, usually read
from YAML (see ``mappings/``), renames files and columns for studies that differ;
its defaults are cBioPortal's names. Lines starting with ``#`` between records are
comments (the 4-line clinical headers, the MAF ``#version`` line).

Rules
-----
Mutations
    A row whose variant class is in ``excluded_classes`` (default
    `EXCLUDED_VARIANT_CLASSES`: silent, intronic, UTR, flanking, intergenic,
    non-coding RNA and splice-region-only variants, in MAF and Sequence Ontology
    spelling) is excluded and counted, not rejected. A compound SO class
    (``missense_variant&splice_region_variant``) is excluded only if every part is.
    Rejected: empty sample, empty variant class, empty (or ``Unknown``) gene, gene
    not an HGNC-style symbol. The protein change loses ``p.`` and three-letter
    residues become one-letter (``p.Val600Glu`` -> ``V600E``); a value the profile
    schema refuses (``.``, ``p.=``) leaves the mutation without one (counted).
Copy number
    Values in ``amplification`` (2) / ``deletion`` (-2) become events; other numbers
    and empty cells carry none; a non-numeric cell is rejected (that cell only).
Structural variants
    Two different genes -> a fusion, Site1 taken as the 5' gene; one gene -> a fusion
    with an unknown partner; the same gene twice -> intragenic, excluded and counted.
Profiles
    One per sample with a row in any genomic table (each copy-number column counts),
    so a sample whose variants were all excluded gets a profile without mutations.
    Repeated events are deduplicated. A sample with more events than the schema
    allows has its mutations merged per gene, without protein change (counted).
    Tumour type, TMB and MSI come from the clinical tables (sample attributes win
    over patient attributes) or the mapping's constants.
Outcomes
    ``responded`` (0/1) when the column has a value, else derived from the best
    response by `ResponseRule`. Treatment rows of samples without genomic data, and
    samples with genomic data but no usable outcome, are rejected and left out.

A `Rejection` names file, 1-based line and column, never a patient's cell value
(controlled vocabulary such as a variant class or a best response is quoted).
"""

from __future__ import annotations

import csv
import gzip
import logging
import re
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from features import Alteration, Profile, canonical_tumour_type
from training.data._cohort import Cohort

logger = logging.getLogger(__name__)

MAPPINGS_FOLDER = Path(__file__).parent / "mappings"

EXCLUDED_VARIANT_CLASSES: tuple[str, ...] = (
    # MAF Variant_Classification
    "Silent", "Intron", "3'UTR", "5'UTR", "3'Flank", "5'Flank", "IGR", "RNA",
    "lincRNA", "Splice_Region",
    # Sequence Ontology consequences (VEP, SnpEff)
    "synonymous_variant", "stop_retained_variant", "start_retained_variant",
    "intron_variant", "3_prime_UTR_variant", "5_prime_UTR_variant",
    "5_prime_UTR_premature_start_codon_gain_variant", "upstream_gene_variant",
    "downstream_gene_variant", "intergenic_variant", "intragenic_variant",
    "non_coding_transcript_exon_variant", "non_coding_transcript_variant",
    "mature_miRNA_variant", "splice_region_variant", "splice_donor_5th_base_variant",
    "splice_donor_region_variant", "splice_polypyrimidine_tract_variant",
    "NMD_transcript_variant", "regulatory_region_variant", "TF_binding_site_variant",
)  # fmt: skip
# Not 'unk' or 'unknown': UNK is a gene symbol (Riaz 2017 has it). MAF's 'Unknown'
# gene (intergenic) is handled where genes are read.
MISSING_VALUES: tuple[str, ...] = (
    "", ".", "NA", "N/A", "NaN", "None", "null",
    "[Not Available]", "[Not Applicable]", "[Unknown]", "[Not Evaluated]",
)  # fmt: skip

_AMINO_ACIDS = {
    "Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q",
    "Glu": "E", "Gly": "G", "His": "H", "Ile": "I", "Leu": "L", "Lys": "K",
    "Met": "M", "Phe": "F", "Pro": "P", "Ser": "S", "Thr": "T", "Trp": "W",
    "Tyr": "Y", "Val": "V", "Ter": "*", "Sec": "U", "Pyl": "O", "Xaa": "X",
}  # fmt: skip
_THREE_LETTER = re.compile("|".join(_AMINO_ACIDS))
_MAX_ALTERATIONS: int = next(
    m.max_length
    for m in Profile.model_fields["alterations"].metadata
    if hasattr(m, "max_length")
)


class StudyFormatError(ValueError):
    """A study file or mapping that cannot be read at all (not a bad row)."""


# --- the mapping -------------------------------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str | None = Field(description="File name in the study folder; null: none.")
    sep: str = Field(default="\t", description="Field separator ('\\t' or ',').")

    @field_validator("sep")
    @classmethod
    def _check_sep(cls, value: str) -> str:
        value = {"tab": "\t", "comma": ","}.get(value, value)
        if len(value) != 1:
            raise ValueError("must be one character, e.g. '\\t' or ','")
        return value


class MutationColumns(_Section):
    """Mutation table (MAF): one row per variant."""

    file: str | None = "data_mutations.txt"
    sample: str = "Tumor_Sample_Barcode"
    gene: str = "Hugo_Symbol"
    protein_change: str | None = "HGVSp_Short"
    variant_class: str | None = Field(
        default="Variant_Classification",
        description="null when the table holds protein-changing variants only.",
    )
    excluded_classes: tuple[str, ...] = EXCLUDED_VARIANT_CLASSES


class CopyNumberColumns(_Section):
    """Discrete copy number: one row per gene, one column per sample."""

    file: str | None = "data_cna.txt"
    gene: str = "Hugo_Symbol"
    other_columns: tuple[str, ...] = ("Entrez_Gene_Id", "Cytoband")
    amplification: tuple[float, ...] = (2,)
    deletion: tuple[float, ...] = (-2,)


class StructuralVariantColumns(_Section):
    """Structural variants: one row per event, two gene sites."""

    file: str | None = "data_sv.txt"
    sample: str = "Sample_Id"
    gene: str = Field(default="Site1_Hugo_Symbol", description="The 5' gene.")
    partner_gene: str = Field(default="Site2_Hugo_Symbol", description="The 3' gene.")


class ClinicalSampleColumns(_Section):
    """Clinical sample table: one row per sample."""

    file: str | None = "data_clinical_sample.txt"
    sample: str = "SAMPLE_ID"
    patient: str = "PATIENT_ID"


class ClinicalPatientColumns(_Section):
    """Clinical patient table: one row per patient.

    Without a sample table, the patient id is the sample id (one sample each).
    """

    file: str | None = "data_clinical_patient.txt"
    patient: str = "PATIENT_ID"


class ProfileColumns(BaseModel):
    """Clinical attributes that fill the profile, and constants."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tumour_type: str | None = "CANCER_TYPE"
    constant_tumour_type: str | None = Field(
        default=None, description="Tumour type of every sample (overrides the column)."
    )
    tmb_mut_per_mb: str | None = "TMB_NONSYNONYMOUS"
    tmb_territory_mb: float | None = Field(
        default=None,
        gt=0,
        description="Without a TMB value: kept mutation rows / this many Mb.",
    )
    msi: str | None = "MSI_TYPE"
    msi_high_values: tuple[str, ...] = ("MSI-H", "MSI-High", "Instable", "High")
    msi_stable_values: tuple[str, ...] = ("MSS", "MSI-L", "MSI-Low", "Stable", "Low")


class TreatmentColumns(_Section):
    """Treatment-outcome table: one row per treatment episode."""

    file: str | None = "data_treatment_outcome.txt"
    sample: str = "sample_id"
    drug: str | None = "drug"
    constant_drug: str | None = Field(
        default=None, description="Drug of every row (overrides the column)."
    )
    responded: str | None = "responded"
    best_response: str | None = "best_response"
    pfs_weeks: str | None = Field(
        default="pfs_weeks",
        description="Weeks from start to progression; decides stable disease.",
    )
    start_date: str | None = "start_date"


class ResponseRule(BaseModel):
    """Best overall response (RECIST) -> responded, as clinical benefit by default.

    CR/PR -> 1; SD -> 1 if progression-free for at least ``stable_min_weeks`` (else
    0); PD -> 0; NE -> rejected. Put SD under ``non_responder`` and leave ``stable``
    empty for objective response instead.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    responder: tuple[str, ...] = ("CR", "PR")
    stable: tuple[str, ...] = ("SD",)
    non_responder: tuple[str, ...] = ("PD",)
    not_evaluable: tuple[str, ...] = ("NE",)
    stable_min_weeks: float = Field(default=16, ge=0)
    stable_without_duration: Literal["reject", "responder", "non_responder"] = "reject"

    @model_validator(mode="after")
    def _check_disjoint(self) -> ResponseRule:
        seen: Counter[str] = Counter(v.upper() for v in self._values())
        repeated = sorted(v for v, n in seen.items() if n > 1)
        if repeated:
            raise ValueError(f"values listed under two outcomes: {repeated}")
        return self

    def _values(self) -> tuple[str, ...]:
        return self.responder + self.stable + self.non_responder + self.not_evaluable

    @property
    def label_rule(self) -> str:
        """Name of the label this rule makes, stored with each treatment row."""
        return "clinical_benefit" if self.stable else "objective_response"

    def classify(self, best_response: str, pfs_weeks: float | None) -> int | str:
        """1 or 0, or the reason the row cannot be labelled."""
        value = best_response.strip().upper()
        if value in {v.upper() for v in self.responder}:
            return 1
        if value in {v.upper() for v in self.non_responder}:
            return 0
        if value in {v.upper() for v in self.not_evaluable}:
            return f"best response {best_response!r} is not evaluable"
        if value not in {v.upper() for v in self.stable}:
            return (
                f"best response {best_response!r} is not one of {list(self._values())}"
            )
        if pfs_weeks is not None and not np.isnan(pfs_weeks):
            return int(pfs_weeks >= self.stable_min_weeks)
        if self.stable_without_duration == "reject":
            return "stable disease without a progression-free time: benefit unknown"
        return int(self.stable_without_duration == "responder")


class StudyMapping(BaseModel):
    """Where a study keeps each table and column; defaults are cBioPortal's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    study_id: str | None = Field(
        default=None, description="cohort_id of the rows; default: the folder name."
    )
    mutations: MutationColumns = Field(default_factory=MutationColumns)
    copy_number: CopyNumberColumns = Field(default_factory=CopyNumberColumns)
    structural_variants: StructuralVariantColumns = Field(
        default_factory=StructuralVariantColumns
    )
    clinical_sample: ClinicalSampleColumns = Field(
        default_factory=ClinicalSampleColumns
    )
    clinical_patient: ClinicalPatientColumns = Field(
        default_factory=ClinicalPatientColumns
    )
    profile: ProfileColumns = Field(default_factory=ProfileColumns)
    treatments: TreatmentColumns = Field(default_factory=TreatmentColumns)
    response: ResponseRule = Field(default_factory=ResponseRule)
    missing_values: tuple[str, ...] = MISSING_VALUES


def load_mapping(path: Path) -> StudyMapping:
    """Read a `StudyMapping` from YAML; unknown keys are errors naming the key."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise StudyFormatError(f"{path}: cannot read the mapping: {exc}") from exc
    if not isinstance(data, dict):
        raise StudyFormatError(f"{path}: must be a mapping of sections to settings")
    try:
        return StudyMapping.model_validate(data)
    except ValidationError as exc:
        raise StudyFormatError(_describe_mapping_error(path, exc)) from exc


def _describe_mapping_error(path: Path, exc: ValidationError) -> str:
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"])
    if error["type"] != "extra_forbidden":
        return f"{path}: key {key!r}: {error['msg']}"
    model: type[BaseModel] = StudyMapping
    for part in error["loc"][:-1]:
        annotation = model.model_fields[str(part)].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
    return (
        f"{path}: unknown key {key!r}; accepted keys here: "
        f"{', '.join(model.model_fields)}"
    )


# --- results -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    """A row (or, with a column, a cell) that did not make it into the cohort."""

    file: str
    line: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f", column {self.column!r}" if self.column else ""
        return f"{self.file}, line {self.line}{where}: {self.reason}"


@dataclass(frozen=True)
class ImportResult:
    """The cohort, every rejected row, and counts of what happened to the rows."""

    cohort: Cohort
    rejected: list[Rejection]
    counts: dict[str, int]

    def rejected_by_reason(self) -> dict[str, int]:
        """Number of rejections per (file: reason), most frequent first."""
        reasons = Counter(f"{r.file}: {r.reason}" for r in self.rejected)
        return dict(reasons.most_common())


@dataclass
class RejectionLog:
    """Collects rejections and counts while a study is imported."""

    rejected: list[Rejection] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def reject(
        self, table: Table, rows: pd.Series, column: str | None, reason: str
    ) -> None:
        for position in np.flatnonzero(rows.to_numpy(dtype=bool)):
            self.rejected.append(
                Rejection(table.name, int(table.lines[position]), column, reason)
            )

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
        repeated = sorted({c for c in header if header.count(c) > 1})
        raise StudyFormatError(f"{path.name}: header repeats column(s) {repeated}")
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
        found = list(table.frame.columns)
        raise StudyFormatError(
            f"{table.name}: missing column {name!r} (mapping key "
            f"'{_section_name(section)}.{key}'); found {found[:8]}"
            + (" ..." if len(found) > 8 else "")
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
    treatments: Table


def read_study(folder: Path, mapping: StudyMapping, log: RejectionLog) -> StudyTables:
    """Read the mapped tables; a default file that is absent is skipped."""

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

    treatments = read(mapping.treatments)
    if treatments is None:
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


# --- genomic events ----------------------------------------------------------------

_EVENT_COLUMNS = ["sample_id", "kind", "gene", "protein_change", "partner_gene"]


def protein_change_of(value: str | None) -> str | None:
    """Schema form of an HGVS protein change (``p.Val600Glu`` -> ``V600E``), or None."""
    if value is None:
        return None
    change = value.strip().removeprefix("p.")
    change = _THREE_LETTER.sub(lambda m: _AMINO_ACIDS[m.group(0)], change)
    try:
        return Alteration(
            kind="mutation", gene="X", protein_change=change
        ).protein_change
    except ValidationError:
        return None


def is_excluded_class(variant_class: str, excluded: Collection[str]) -> bool:
    """Whether a variant class is excluded (a compound ``a&b``: all its parts)."""
    parts = [p.strip().lower() for p in variant_class.split("&") if p.strip()]
    return bool(parts) and all(p in excluded for p in parts)


def _keep_valid_genes(
    table: Table, ok: pd.Series, genes: pd.Series, column: str, log: RejectionLog
) -> pd.Series:
    """Reject rows still ok whose gene the schema refuses; return the rows still ok."""
    errors: dict[str, str] = {}
    for gene in genes[ok].dropna().unique():
        try:
            Alteration(kind="mutation", gene=gene)
        except ValidationError as exc:
            errors[gene] = exc.errors()[0]["msg"].removeprefix("Value error, ")
    reasons = genes.map(errors)
    for reason in reasons[ok].dropna().unique():
        ok = log.keep(table, ok, reasons == reason, column, f"gene {reason}")
    return ok


def _first_seen(table: Table, samples: pd.Series) -> pd.DataFrame:
    """Each sample's first row: sample_id, file, line, column (of the sample id)."""
    present = samples.notna().to_numpy()
    seen = pd.DataFrame(
        {"sample_id": samples[present].to_numpy(), "line": table.lines[present]}
    ).drop_duplicates("sample_id")
    return seen.assign(file=table.name, column=str(samples.name))


def mutation_events(
    table: Table, spec: MutationColumns, log: RejectionLog
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Events, samples seen (first line) and kept mutation rows per sample."""
    sample_col = _column(table, spec, "sample", required=True)
    gene_col = _column(table, spec, "gene", required=True)
    class_col = _column(table, spec, "variant_class")
    protein_col = _column(table, spec, "protein_change")
    frame = table.frame
    assert sample_col is not None and gene_col is not None
    log.counts["mutations.rows"] += len(frame)
    ok = pd.Series(True, index=frame.index)
    ok = log.keep(table, ok, frame[sample_col].isna(), sample_col, "empty sample id")
    if class_col is not None:
        classes = frame[class_col]
        ok = log.keep(table, ok, classes.isna(), class_col, "empty variant class")
        excluded_set = {c.lower() for c in spec.excluded_classes}
        excluded = ok & classes.map(
            lambda c: c is not None and is_excluded_class(c, excluded_set)
        ).astype(bool)
        for name, n in classes[excluded].value_counts().items():
            log.counts[f"mutations.excluded.{name}"] += int(n)
        log.counts["mutations.excluded"] += int(excluded.sum())
        ok &= ~excluded
    # MAF writes 'Unknown' for a variant outside any gene.
    genes = frame[gene_col].where(frame[gene_col].str.upper() != "UNKNOWN")
    ok = log.keep(table, ok, genes.isna(), gene_col, "empty gene")
    ok = _keep_valid_genes(table, ok, genes, gene_col, log)
    kept = frame[ok]
    raw_changes = (
        kept[protein_col] if protein_col else pd.Series(None, index=kept.index)
    )
    changes = raw_changes.map(
        {v: protein_change_of(v) for v in raw_changes.dropna().unique()}
    )
    log.counts["mutations.kept"] += len(kept)
    log.counts["mutations.without_protein_change"] += int(changes.isna().sum())
    events = pd.DataFrame(
        {
            "sample_id": kept[sample_col],
            "kind": "mutation",
            "gene": kept[gene_col].str.upper(),
            "protein_change": changes.astype(object).where(changes.notna(), None),
            "partner_gene": None,
        }
    )
    seen = _first_seen(table, frame[sample_col])
    rows_per_sample = kept[sample_col].value_counts().reindex(seen["sample_id"])
    return events, seen, rows_per_sample.fillna(0).astype("int64")


def copy_number_events(
    table: Table, spec: CopyNumberColumns, log: RejectionLog
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Amplification / deletion events and the samples (columns) profiled."""
    gene_col = _column(table, spec, "gene", required=True)
    assert gene_col is not None
    frame = table.frame
    samples = [
        c for c in frame.columns if c != gene_col and c not in spec.other_columns
    ]
    ok = pd.Series(True, index=frame.index)
    ok = log.keep(table, ok, frame[gene_col].isna(), gene_col, "empty gene")
    ok = _keep_valid_genes(table, ok, frame[gene_col], gene_col, log)
    cells = frame.loc[ok, samples]
    values = cells.apply(pd.to_numeric, errors="coerce")
    not_numeric = cells.notna() & values.isna()
    for sample in not_numeric.columns[not_numeric.any()]:
        bad = not_numeric[sample].reindex(frame.index, fill_value=False)
        log.reject(table, bad, sample, "copy number is not a number; cell ignored")
    genes = frame.loc[ok, gene_col].str.upper()
    events = []
    for kind, codes in (
        ("amplification", spec.amplification),
        ("deletion", spec.deletion),
    ):
        hits = values.isin(codes).to_numpy()
        rows, columns = np.nonzero(hits)
        log.counts[f"copy_number.{kind}s"] += len(rows)
        events.append(
            pd.DataFrame(
                {
                    "sample_id": np.asarray(samples, dtype=object)[columns],
                    "kind": kind,
                    "gene": genes.to_numpy()[rows],
                    "protein_change": None,
                    "partner_gene": None,
                }
            )
        )
    seen = pd.DataFrame(
        {
            "sample_id": samples,
            "line": table.header_line,
            "file": table.name,
            "column": samples,
        }
    )
    return pd.concat(events, ignore_index=True), seen


def fusion_events(
    table: Table, spec: StructuralVariantColumns, log: RejectionLog
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fusion events from structural variants, and the samples seen."""
    sample_col = _column(table, spec, "sample", required=True)
    site1 = _column(table, spec, "gene", required=True)
    site2 = _column(table, spec, "partner_gene", required=True)
    assert sample_col is not None and site1 is not None and site2 is not None
    frame = table.frame
    log.counts["structural_variants.rows"] += len(frame)
    ok = pd.Series(True, index=frame.index)
    ok = log.keep(table, ok, frame[sample_col].isna(), sample_col, "empty sample id")
    gene, partner = frame[site1].str.upper(), frame[site2].str.upper()
    neither = gene.isna() & partner.isna()
    ok = log.keep(table, ok, neither, site1, "neither gene of the event is given")
    ok = _keep_valid_genes(table, ok, gene, site1, log)
    ok = _keep_valid_genes(table, ok, partner, site2, log)
    intragenic = ok & (gene == partner)
    log.counts["structural_variants.intragenic"] += int(intragenic.sum())
    ok &= ~intragenic
    five_prime = gene.where(gene.notna(), partner)
    three_prime = partner.where(gene.notna() & (partner != gene), None)
    log.counts["structural_variants.fusions"] += int(ok.sum())
    events = pd.DataFrame(
        {
            "sample_id": frame.loc[ok, sample_col],
            "kind": "fusion",
            "gene": five_prime[ok],
            "protein_change": None,
            "partner_gene": three_prime[ok],
        }
    )
    return events, _first_seen(table, frame[sample_col])


# --- clinical attributes and profiles ------------------------------------------------


@dataclass(frozen=True)
class ClinicalAttributes:
    """Clinical attributes per sample, and the file line each value came from."""

    frame: pd.DataFrame  # index: sample id; attributes, _file, _line (+ _patient_*)
    patient_columns: frozenset[str] = frozenset()

    def value(self, sample: str, column: str | None) -> str | None:
        """The sample's value in column (None if missing)."""
        if column is None or sample not in self.frame.index:
            return None
        value: Any = self.frame.at[sample, column]
        return None if pd.isna(value) else str(value)

    def rejection(self, sample: str, column: str | None, reason: str) -> Rejection:
        """A rejection at the clinical row (sample or patient table) of a value."""
        prefix = "_patient" if column in self.patient_columns else ""
        row: Any = self.frame.loc[sample, [f"{prefix}_file", f"{prefix}_line"]]
        return Rejection(str(row.iloc[0]), int(row.iloc[1]), column, reason)


def clinical_attributes(
    samples: Table | None,
    patients: Table | None,
    mapping: StudyMapping,
    log: RejectionLog,
) -> ClinicalAttributes:
    """Sample attributes, joined with their patient's (sample values win)."""
    patient_spec = mapping.clinical_patient
    if samples is None:
        if patients is None:
            return ClinicalAttributes(pd.DataFrame(columns=["_file", "_line"]))
        key = _column(patients, patient_spec, "patient", required=True)
        return ClinicalAttributes(_unique_rows(patients, key, log))
    sample_spec = mapping.clinical_sample
    sample_key = _column(samples, sample_spec, "sample", required=True)
    attributes = _unique_rows(samples, sample_key, log)
    if patients is None:
        return ClinicalAttributes(attributes)
    link = _column(samples, sample_spec, "patient", required=True)
    patient_key = _column(patients, patient_spec, "patient", required=True)
    per_patient = _unique_rows(patients, patient_key, log)
    extra = [c for c in per_patient.columns if c not in attributes.columns]
    log.counts["clinical_patient.without_sample"] += int(
        (~per_patient.index.isin(attributes[link])).sum()
    )
    located = per_patient[extra].join(
        per_patient[["_file", "_line"]].add_prefix("_patient")
    )
    return ClinicalAttributes(attributes.join(located, on=link), frozenset(extra))


def _unique_rows(table: Table, key: str | None, log: RejectionLog) -> pd.DataFrame:
    assert key is not None
    frame = table.frame.assign(_file=table.name, _line=table.lines)
    ok = pd.Series(True, index=frame.index)
    ok = log.keep(table, ok, frame[key].isna(), key, "empty id")
    repeated = frame[key].duplicated() & frame[key].notna()
    ok = log.keep(table, ok, repeated, key, "id repeats an earlier row")
    return frame[ok].set_index(key)


def build_profiles(
    seen: pd.DataFrame,
    events: pd.DataFrame,
    clinical: ClinicalAttributes,
    mutation_rows: pd.Series,
    spec: ProfileColumns,
    log: RejectionLog,
) -> dict[str, Profile]:
    """One profile per sample seen in a genomic table (rejections reported)."""
    tumour_col = _attribute(clinical, spec, "tumour_type")
    tmb_col = _attribute(clinical, spec, "tmb_mut_per_mb")
    msi_col = _attribute(clinical, spec, "msi")
    by_sample = dict(list(events.groupby("sample_id", sort=False)))
    profiles: dict[str, Profile] = {}
    first = seen.drop_duplicates("sample_id")[["sample_id", "file", "line", "column"]]
    for sample, file, line, column in first.itertuples(index=False):
        tumour_type = spec.constant_tumour_type or clinical.value(sample, tumour_col)
        if tumour_type is None:
            log.rejected.append(
                _no_tumour_type(clinical, sample, tumour_col)
                or Rejection(file, int(line), column, _NO_CLINICAL_ROW)
            )
            continue
        tmb = _parse_tmb(clinical.value(sample, tmb_col))
        msi = _parse_msi(clinical.value(sample, msi_col), spec)
        for value, col in ((tmb, tmb_col), (msi, msi_col)):
            if isinstance(value, str):
                log.rejected.append(clinical.rejection(sample, col, value))
        if tmb is None and spec.tmb_territory_mb:
            tmb = mutation_rows.get(sample, np.nan) / spec.tmb_territory_mb
        try:
            profiles[sample] = Profile(
                sample_id=sample,
                tumour_type=canonical_tumour_type(tumour_type),
                alterations=_alterations(by_sample.get(sample), log),
                tmb_mut_per_mb=tmb if isinstance(tmb, float) and tmb >= 0 else None,
                msi_high=msi if isinstance(msi, bool) else None,
            )
        except ValidationError as exc:
            error = exc.errors()[0]
            reason = f"invalid profile field {error['loc'][0]}: {error['msg']}"
            log.rejected.append(Rejection(file, int(line), column, reason))
    return profiles


_NO_CLINICAL_ROW = (
    "no tumour type: sample not in the clinical tables and no "
    "profile.constant_tumour_type"
)


def _attribute(
    clinical: ClinicalAttributes, spec: ProfileColumns, key: str
) -> str | None:
    name = getattr(spec, key)
    if name is None or name in clinical.frame.columns:
        return name
    if key in spec.model_fields_set and not (
        key == "tumour_type" and spec.constant_tumour_type
    ):
        raise StudyFormatError(
            f"clinical tables: missing column {name!r} (mapping key 'profile.{key}')"
        )
    return None


def _no_tumour_type(
    clinical: ClinicalAttributes, sample: str, column: str | None
) -> Rejection | None:
    """Rejection at the sample's clinical row; None if it has no clinical row."""
    if sample not in clinical.frame.index:
        return None
    if column is None:
        return clinical.rejection(
            sample, None, "no tumour type: no profile.tumour_type column or constant"
        )
    return clinical.rejection(sample, column, "no tumour type: the value is empty")


def _parse_tmb(value: str | None) -> float | str | None:
    """TMB in mut/Mb, None if empty, or why the value is refused."""
    if value is None:
        return None
    number = pd.to_numeric(value, errors="coerce")
    if pd.isna(number) or number < 0:
        return "TMB is not a number >= 0; sample kept without TMB"
    return float(number)


def _parse_msi(value: str | None, spec: ProfileColumns) -> bool | str | None:
    """MSI-high flag, None if empty, or why the value is refused."""
    if value is None:
        return None
    if value.upper() in {v.upper() for v in spec.msi_high_values}:
        return True
    if value.upper() in {v.upper() for v in spec.msi_stable_values}:
        return False
    return (
        f"MSI value {value!r} is not one of {list(spec.msi_high_values)} or "
        f"{list(spec.msi_stable_values)}; sample kept without MSI"
    )


def _alterations(
    events: pd.DataFrame | None, log: RejectionLog
) -> tuple[Alteration, ...]:
    if events is None:
        return ()
    fields = _EVENT_COLUMNS[1:]
    unique = events.drop_duplicates(fields)
    log.counts["events.duplicates"] += len(events) - len(unique)
    if len(unique) > _MAX_ALTERATIONS:
        # A hypermutated tumour: keep every gene rather than reject the sample.
        log.counts["profiles.mutations_merged_per_gene"] += 1
        is_mutation = unique["kind"] == "mutation"
        unique = unique.assign(
            protein_change=unique["protein_change"].where(~is_mutation)
        ).drop_duplicates(fields)
    records = unique[fields].sort_values(fields, na_position="first")
    return tuple(
        Alteration(
            kind=kind,
            gene=gene,
            protein_change=None if pd.isna(change) else change,
            partner_gene=None if pd.isna(partner) else partner,
        )
        for kind, gene, change, partner in records.itertuples(index=False)
    )


# --- treatments and matching ---------------------------------------------------------


def treatment_rows(
    table: Table, mapping: StudyMapping, *, study_id: str, log: RejectionLog
) -> pd.DataFrame:
    """Validated treatment rows (with their ``_line``); bad rows rejected."""
    spec, rule = mapping.treatments, mapping.response
    sample_col = _column(table, spec, "sample", required=True)
    drug_col = (
        None if spec.constant_drug else _column(table, spec, "drug", required=True)
    )
    responded_col = _column(table, spec, "responded")
    best_col = _column(table, spec, "best_response")
    weeks_col = _column(table, spec, "pfs_weeks")
    date_col = _column(table, spec, "start_date")
    if responded_col is None and best_col is None:
        raise StudyFormatError(
            f"{table.name}: neither a responded column ({spec.responded!r}) nor a "
            f"best-response column ({spec.best_response!r}); one is required"
        )
    frame = table.frame
    log.counts["treatments.rows"] += len(frame)
    ok = pd.Series(True, index=frame.index)
    ok = log.keep(table, ok, frame[sample_col].isna(), sample_col, "empty sample id")
    drugs = (
        (
            pd.Series(spec.constant_drug, index=frame.index)
            if drug_col is None
            else frame[drug_col]
        )
        .str.strip()
        .str.lower()
    )
    ok = log.keep(table, ok, drugs.isna(), drug_col, "empty drug")
    weeks, bad = _numbers(table, weeks_col)
    ok = log.keep(table, ok, bad, weeks_col, "progression-free weeks not a number")
    dates, bad = _dates(table, date_col)
    ok = log.keep(table, ok, bad, date_col, "start date is not YYYY-MM-DD")
    responded, label_rule = _responses(
        table, ok, responded_col, best_col, weeks, rule, log
    )
    ok &= responded.notna()
    out = pd.DataFrame(
        {
            "sample_id": frame[sample_col],
            "drug": drugs,
            "responded": responded,
            "label_rule": label_rule,
            "cohort_id": study_id,
            "_line": table.lines,
        }
    )
    if best_col is not None:
        out["best_response"] = frame[best_col]
    if date_col is not None:
        out["start_date"] = dates
    out = out[ok]
    key = ["sample_id", "drug"] + (["start_date"] if date_col else [])
    repeated = out.duplicated(key)
    log.reject(
        table,
        repeated.reindex(frame.index, fill_value=False),
        sample_col,
        "repeats an earlier treatment row (same sample, drug and start date)",
    )
    return out[~repeated].astype({"responded": "int64"})


def _numbers(table: Table, column: str | None) -> tuple[pd.Series, pd.Series]:
    """Numeric values (NaN if empty) and where a value is not a number."""
    index = table.frame.index
    if column is None:
        return pd.Series(np.nan, index=index), pd.Series(False, index=index)
    values = pd.to_numeric(table.frame[column], errors="coerce")
    return values, table.frame[column].notna() & values.isna()


def _dates(table: Table, column: str | None) -> tuple[pd.Series, pd.Series]:
    """Dates (NaT if empty) and where a value is not a YYYY-MM-DD date."""
    index = table.frame.index
    if column is None:
        return pd.Series(pd.NaT, index=index), pd.Series(False, index=index)
    dates = pd.to_datetime(table.frame[column], format="%Y-%m-%d", errors="coerce")
    return dates, table.frame[column].notna() & dates.isna()


def _responses(
    table: Table,
    ok: pd.Series,
    responded_col: str | None,
    best_col: str | None,
    weeks: pd.Series,
    rule: ResponseRule,
    log: RejectionLog,
) -> tuple[pd.Series, pd.Series]:
    frame = table.frame
    responded = pd.Series(np.nan, index=frame.index)
    if responded_col is not None:
        given = frame[responded_col].map({"0": 0.0, "1": 1.0, "0.0": 0.0, "1.0": 1.0})
        bad = frame[responded_col].notna() & given.isna()
        ok = log.keep(table, ok, bad, responded_col, "responded must be 0 or 1")
        responded = given.where(ok)
    label_rule = pd.Series("given", index=frame.index).where(responded.notna())
    derived = label_best_responses(
        table, ok & responded.isna(), best_col, weeks, rule=rule, log=log
    )
    label_rule = label_rule.where(derived.isna(), rule.label_rule)
    return responded.fillna(derived), label_rule


def label_best_responses(
    table: Table,
    rows: pd.Series,
    column: str | None,
    pfs_weeks: pd.Series,
    *,
    rule: ResponseRule,
    log: RejectionLog,
) -> pd.Series:
    """responded (1.0 / 0.0) of the given rows from best response; NaN = rejected."""
    values = [None] * len(rows) if column is None else table.frame[column].tolist()
    weeks = pfs_weeks.astype("float64").tolist()
    out = [np.nan] * len(rows)
    for row in np.flatnonzero(rows.to_numpy(dtype=bool)).tolist():
        best = values[row]
        outcome = (
            "no outcome: responded and best response are empty"
            if best is None
            else rule.classify(best, weeks[row])
        )
        if isinstance(outcome, str):
            log.rejected.append(
                Rejection(table.name, int(table.lines[row]), column, outcome)
            )
        else:
            out[row] = float(outcome)
    return pd.Series(out, index=table.frame.index, dtype="float64")


def match_samples(
    profiles: dict[str, Profile],
    treatments: pd.DataFrame,
    seen: pd.DataFrame,
    *,
    treatment_table: Table,
    sample_column: str,
    log: RejectionLog,
) -> tuple[tuple[Profile, ...], pd.DataFrame]:
    """Keep samples that have both a profile and an outcome; reject the rest."""
    has_profile = treatments["sample_id"].isin(profiles.keys())
    for line in treatments.loc[~has_profile, "_line"]:
        log.rejected.append(
            Rejection(
                treatment_table.name,
                int(line),
                sample_column,
                "sample has no usable genomic data (no profile)",
            )
        )
    with_outcome = set(treatments["sample_id"])
    first = seen.drop_duplicates("sample_id")
    for sample, file, line, column in first[
        ["sample_id", "file", "line", "column"]
    ].itertuples(index=False):
        if sample in profiles and sample not in with_outcome:
            log.rejected.append(
                Rejection(
                    file,
                    int(line),
                    column,
                    "sample has genomic data but no usable treatment outcome",
                )
            )
    log.counts["samples.outcome_without_profile"] = int(
        treatments.loc[~has_profile, "sample_id"].nunique()
    )
    log.counts["samples.profile_without_outcome"] = len(profiles.keys() - with_outcome)
    kept = tuple(p for s, p in profiles.items() if s in with_outcome)
    return kept, treatments[has_profile].drop(columns="_line").reset_index(drop=True)


# --- the import ----------------------------------------------------------------------


def import_study(folder: Path, *, mapping: StudyMapping | None = None) -> ImportResult:
    """Import a cBioPortal-style study folder as a cohort (see the module rules).

    Parameters
    ----------
    folder
        The study folder.
    mapping
        File and column names; None uses cBioPortal's (`StudyMapping()`).

    Returns
    -------
    ImportResult
        The cohort (samples with a profile and an outcome), every rejected row or
        cell, and counts (rows read, excluded by variant class, events, samples).

    Raises
    ------
    StudyFormatError
        A file that cannot be read or lacks a required column (file and column named).
    """
    folder = Path(folder)
    mapping = mapping or StudyMapping()
    if not folder.is_dir():
        raise StudyFormatError(f"{folder}: not a folder")
    log = RejectionLog()
    tables = read_study(folder, mapping, log)
    events, seen, mutation_rows = _genomic_events(tables, mapping, log)
    clinical = clinical_attributes(
        tables.clinical_sample, tables.clinical_patient, mapping, log
    )
    profiles = build_profiles(
        seen, events, clinical, mutation_rows, mapping.profile, log
    )
    treatments = treatment_rows(
        tables.treatments,
        mapping,
        study_id=mapping.study_id or folder.name,
        log=log,
    )
    kept, treatments = match_samples(
        profiles,
        treatments,
        seen,
        treatment_table=tables.treatments,
        sample_column=mapping.treatments.sample,
        log=log,
    )
    cohort = Cohort(profiles=kept, treatments=treatments)
    _count_cohort(cohort, log)
    result = ImportResult(cohort, log.rejected, dict(sorted(log.counts.items())))
    _log_result(folder, result)
    return result


def _genomic_events(
    tables: StudyTables, mapping: StudyMapping, log: RejectionLog
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    events, seen = [pd.DataFrame(columns=_EVENT_COLUMNS)], []
    mutation_rows = pd.Series(dtype="int64")
    if tables.mutations is not None:
        found, samples, mutation_rows = mutation_events(
            tables.mutations, mapping.mutations, log
        )
        events.append(found)
        seen.append(samples)
    if tables.copy_number is not None:
        found, samples = copy_number_events(
            tables.copy_number, mapping.copy_number, log
        )
        events.append(found)
        seen.append(samples)
    if tables.structural_variants is not None:
        found, samples = fusion_events(
            tables.structural_variants, mapping.structural_variants, log
        )
        events.append(found)
        seen.append(samples)
    if not seen:
        raise StudyFormatError(
            "no mutation, copy-number or structural-variant table found; "
            "at least one genomic table is required"
        )
    everything = pd.concat([e for e in events if len(e)] or events, ignore_index=True)
    all_seen = pd.concat(seen, ignore_index=True)
    log.counts["samples.genomic"] = all_seen["sample_id"].nunique()
    return everything, all_seen, mutation_rows


def _count_cohort(cohort: Cohort, log: RejectionLog) -> None:
    profiles = cohort.profiles
    log.counts["samples.profiles"] = len(profiles)
    log.counts["samples.with_mutations"] = sum(
        any(a.kind == "mutation" for a in p.alterations) for p in profiles
    )
    log.counts["treatments.kept"] = len(cohort.treatments)
    log.counts["treatments.responders"] = int(cohort.treatments["responded"].sum())
    log.counts["rejected"] = len(log.rejected)


def _log_result(folder: Path, result: ImportResult) -> None:
    logger.info(
        "%s: %d profiles, %d treatment rows (%d responders), %d rejected",
        folder.name,
        result.counts["samples.profiles"],
        result.counts["treatments.kept"],
        result.counts["treatments.responders"],
        len(result.rejected),
    )
    for reason, n in result.rejected_by_reason().items():
        logger.info("rejected %d x %s", n, reason)

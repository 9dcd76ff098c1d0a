"""Where a cBioPortal-style study keeps its tables and columns: `StudyMapping`.

The rules the mapping drives are in `training.data._cbioportal`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

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
    def label_rule(self) -> Literal["clinical_benefit", "objective_response"]:
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

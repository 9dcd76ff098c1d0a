"""The tumour profile: the one schema every loader, model and request shares."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

AlterationKind = Literal["mutation", "amplification", "deletion", "fusion"]

_GENE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9\-\.]*$")
_PROTEIN_CHANGE = re.compile(r"^(?:p\.)?([A-Z*])(\d+)([A-Z*]|fs|del|ins|dup)?", re.I)


def _normalise_gene(value: str) -> str:
    symbol = value.strip().upper()
    if not _GENE_PATTERN.match(symbol):
        raise ValueError(
            "must be an HGNC gene symbol (letters, digits, '-' or '.'), e.g. 'BRAF'"
        )
    return symbol


class Alteration(BaseModel):
    """One genomic event in a tumour."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: AlterationKind = Field(
        description="Event type.", examples=["mutation", "amplification", "fusion"]
    )
    gene: Annotated[str, Field(min_length=1, max_length=32)] = Field(
        description="HGNC symbol (case-insensitive); for a fusion, the 5' gene.",
        examples=["BRAF"],
    )
    protein_change: str | None = Field(
        default=None,
        max_length=64,
        description="Protein change of a mutation, HGVS short form.",
        examples=["V600E"],
    )
    partner_gene: str | None = Field(
        default=None,
        max_length=32,
        description="The 3' partner of a fusion (HGNC symbol); only for fusions.",
        examples=["ABL1"],
    )

    @field_validator("gene", "partner_gene")
    @classmethod
    def _check_gene(cls, value: str | None) -> str | None:
        return None if value is None else _normalise_gene(value)

    @field_validator("protein_change")
    @classmethod
    def _check_protein_change(cls, value: str | None) -> str | None:
        if value is None:
            return None
        change = value.strip()
        if not _PROTEIN_CHANGE.match(change):
            raise ValueError("must look like 'V600E' or 'p.V600E'")
        return change.removeprefix("p.").upper()

    @model_validator(mode="after")
    def _check_partner(self) -> Alteration:
        if self.partner_gene is not None and self.kind != "fusion":
            raise ValueError("partner_gene is only accepted for kind 'fusion'")
        return self

    @property
    def codon(self) -> str | None:
        """Reference residue and position (``V600`` for ``V600E``), if known."""
        if self.protein_change is None:
            return None
        match = _PROTEIN_CHANGE.match(self.protein_change)
        return f"{match.group(1)}{match.group(2)}".upper() if match else None


class Profile(BaseModel):
    """A tumour sample's biomarker profile (the cohort contract's ``profiles`` row)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sample_id: str | None = Field(
        default=None,
        max_length=128,
        description="Opaque sample identifier; never a name or hospital number.",
    )
    tumour_type: str = Field(
        min_length=1,
        max_length=128,
        description="Tumour type, free text mapped to a canonical lower-case name.",
        examples=["melanoma", "colorectal"],
    )
    alterations: tuple[Alteration, ...] = Field(
        default=(),
        max_length=5000,
        description="Genomic events found in the tumour.",
    )
    tmb_mut_per_mb: float | None = Field(
        default=None, ge=0, le=10_000, description="Tumour mutational burden, mut/Mb."
    )
    msi_high: bool | None = Field(
        default=None, description="Microsatellite instability high (dMMR)."
    )
    hrd_score: float | None = Field(
        default=None, ge=0, description="Homologous recombination deficiency score."
    )

    @field_validator("tumour_type")
    @classmethod
    def _normalise_tumour_type(cls, value: str) -> str:
        name = " ".join(value.strip().lower().replace("_", " ").split())
        if not name:
            raise ValueError("must be a non-empty tumour type name")
        return name

"""The tumour profile: the one schema every loader, model and request shares."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

AlterationKind = Literal["mutation", "amplification", "deletion", "fusion"]

# Matched on the submitted text before upper-casing, and ASCII only: str.upper()
# would turn "ß" into "SS" and "ﬁ" into "FI", and re.IGNORECASE without re.ASCII
# lets the Kelvin sign match "k".
_GENE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-\.]*", re.ASCII)

# HGVS protein changes in one-letter short form (p. optional, any case), the whole
# string: substitution V600E, nonsense R661* (or R661X), synonymous G12=, unknown
# M1?; frameshift P72Rfs*17; del, dup, ins and delins, on one residue or a range
# (E746_A750del, A767_V769dupASV, E746_S752delinsV); extension *110Qext*17; and
# cBioPortal's splice-site form X125_splice.
_AA = "[ACDEFGHIKLMNPQRSTVWYUX]"
_POS = r"[1-9]\d{0,5}"
_RESIDUE = rf"(?:{_AA}|\*){_POS}"
_PROTEIN_CHANGE = re.compile(
    rf"""(?:p\.)?
    (?P<ref>{_AA}|\*)(?P<pos>{_POS})
    (?:
        (?:{_AA}|\*|=|\?)                                  # substitution
      | {_AA}?fs(?:\*(?:{_POS}|\?)|X{_POS})?               # frameshift
      | (?:_{_RESIDUE})?(?:del|dup)                          # deletion, duplication
      | (?:_{_RESIDUE})?(?:ins|delins)(?:{_AA}|\*)+          # insertion, delins
      | {_AA}?ext(?:\*?-?{_POS}|\*\?)?                      # extension
      | _splice                                            # cBioPortal splice site
    )""",
    re.ASCII | re.IGNORECASE | re.VERBOSE,
)


def _normalise_gene(value: str) -> str:
    symbol = value.strip()
    if not _GENE_PATTERN.fullmatch(symbol):
        raise ValueError(
            "must be an HGNC gene symbol (ASCII letters, digits, '-' or '.'), "
            "e.g. 'BRAF'"
        )
    return symbol.upper()


class Alteration(BaseModel):
    """One genomic event in a tumour."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: AlterationKind = Field(
        description="Event type.", examples=["mutation", "amplification", "fusion"]
    )
    gene: Annotated[str, Field(min_length=1, max_length=32)] = Field(
        description="HGNC symbol, ASCII letters, digits, '-' or '.' "
        "(case-insensitive); for a fusion, the 5' gene.",
        examples=["BRAF"],
    )
    protein_change: str | None = Field(
        default=None,
        max_length=64,
        description="Protein change of a mutation, HGVS one-letter short form, "
        "'p.' optional, case-insensitive: substitution (V600E, R661*), frameshift "
        "(P72Rfs*17), del/dup/ins/delins on a residue or range (E746_A750del, "
        "E746_S752delinsV), extension (*110Qext*17) or cBioPortal's splice form "
        "(X125_splice); nothing may follow it.",
        examples=["V600E", "E746_A750del"],
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
        if not _PROTEIN_CHANGE.fullmatch(change):
            raise ValueError(
                "must be an HGVS protein change in one-letter short form, e.g. "
                "'V600E', 'p.V600E', 'E746_A750del' or 'P72Rfs*17'"
            )
        # The pattern takes "p." in any case; the stored form has no prefix.
        return change[2:].upper() if change[:2].lower() == "p." else change.upper()

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
        return f"{match['ref']}{match['pos']}".upper() if match else None


# A number measured on the tumour: strict (JSON true or "12" is refused, not
# coerced), finite and non-negative; each field adds its upper bound, so a value
# never overflows the float32 the boosters read.
_Measure = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]


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
    tmb_mut_per_mb: _Measure | None = Field(
        default=None,
        le=10_000,
        description="Tumour mutational burden, mutations per megabase, 0 to 10,000: "
        "the most mutated tumours reported (POLE and mismatch-repair deficient) "
        "reach a few hundred; the bound leaves room for small-panel estimates.",
        examples=[12.5],
    )
    msi_high: bool | None = Field(
        default=None,
        strict=True,  # JSON "true" or 1 for a flag is refused, not coerced
        description="Microsatellite instability high (dMMR): true or false.",
        examples=[False],
    )
    hrd_score: _Measure | None = Field(
        default=None,
        le=150,
        description="Homologous recombination deficiency genomic-scar score (LOH + "
        "TAI + LST, as Myriad's GIS), 0 to 150: observed scores lie within 0-100, "
        "42 or more is HRD-positive.",
        examples=[42],
    )

    @field_validator("tumour_type")
    @classmethod
    def _normalise_tumour_type(cls, value: str) -> str:
        name = " ".join(value.strip().lower().replace("_", " ").split())
        if not name:
            raise ValueError("must be a non-empty tumour type name")
        return name

"""The tumour profile: the one schema every loader, model and request shares."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

AlterationKind = Literal["mutation", "amplification", "deletion", "fusion"]

# Matched on the submitted text before upper-casing, and ASCII only: str.upper()
# would turn "ß" into "SS" and "ﬁ" into "FI", and re.IGNORECASE without re.ASCII
# lets the Kelvin sign match "k". Surrounding white space is stripped first.
_GENE = r"[A-Za-z0-9][A-Za-z0-9.\-]*"
_GENE_PATTERN = re.compile(_GENE, re.ASCII)


def _either_case(word: str) -> str:
    """``word`` as a pattern matching it in any case, with no regex flag, so that
    the same text is a JSON Schema (ECMA-262) pattern."""
    return "".join(
        f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in word
    )


# HGVS protein changes in one-letter short form (p. optional, any case), the whole
# string: substitution V600E, nonsense R661* (or R661X), synonymous G12=, unknown
# M1?; frameshift P72Rfs*17; del, dup, ins and delins, on one residue or a range
# (E746_A750del, A767_V769dupASV, E746_S752delinsV); extension *110Qext*17; and
# cBioPortal's splice-site form X125_splice.
_AA = "[ACDEFGHIKLMNPQRSTVWYUXacdefghiklmnpqrstvwyux]"
_POS = "[1-9][0-9]{0,5}"
_RESIDUE = rf"(?:{_AA}|\*){_POS}"
_CHANGE_AFTER_RESIDUE = "|".join(
    [
        rf"(?:{_AA}|\*|=|\?)",  # substitution
        rf"{_AA}?{_either_case('fs')}(?:\*(?:{_POS}|\?)|[Xx]{_POS})?",  # frameshift
        rf"(?:_{_RESIDUE})?(?:{_either_case('del')}|{_either_case('dup')})",
        rf"(?:_{_RESIDUE})?(?:{_either_case('ins')}|{_either_case('delins')})"
        rf"(?:{_AA}|\*)+",  # insertion, delins
        rf"{_AA}?{_either_case('ext')}(?:\*?-?{_POS}|\*\?)?",  # extension
        f"_{_either_case('splice')}",  # cBioPortal splice site
    ]
)
_PROTEIN_CHANGE = re.compile(
    rf"(?:{_either_case('p.')})?(?P<ref>{_AA}|\*)(?P<pos>{_POS})"
    rf"(?:{_CHANGE_AFTER_RESIDUE})",
    re.ASCII,
)
# What str.strip() and str.split() take for white space, spelled out: a regex's
# \s differs between Python, ECMA-262 and Rust (tests check the list).
WHITE_SPACE = (
    r"\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f"
    r"\u205f\u3000"
)
# The published (JSON Schema) forms of the same rules: the whole text, with the
# white space around it that the validators strip.
_SCHEMA_GENE = f"^[{WHITE_SPACE}]*{_GENE}[{WHITE_SPACE}]*$"
_SCHEMA_PROTEIN_CHANGE = (
    f"^[{WHITE_SPACE}]*"
    + _PROTEIN_CHANGE.pattern.replace("?P<ref>", "").replace("?P<pos>", "")
    + f"[{WHITE_SPACE}]*$"
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

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        # _check_partner, as the published schema says it.
        json_schema_extra={
            "anyOf": [
                {"properties": {"kind": {"const": "fusion"}}},
                {"properties": {"partner_gene": {"type": "null"}}},
            ]
        },
    )

    kind: AlterationKind = Field(
        description="Event type.", examples=["mutation", "amplification", "fusion"]
    )
    gene: Annotated[str, Field(min_length=1, max_length=32)] = Field(
        description="HGNC symbol, ASCII letters, digits, '-' or '.' "
        "(case-insensitive); for a fusion, the 5' gene.",
        examples=["BRAF"],
        json_schema_extra={"pattern": _SCHEMA_GENE},
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
        json_schema_extra={"pattern": _SCHEMA_PROTEIN_CHANGE},
    )
    partner_gene: str | None = Field(
        default=None,
        max_length=32,
        description="The 3' partner of a fusion (HGNC symbol); only for fusions.",
        examples=["ABL1"],
        json_schema_extra={"pattern": _SCHEMA_GENE},
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
        # Something besides white space and underscores, which are folded away.
        json_schema_extra={"pattern": f"[^{WHITE_SPACE}_]"},
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

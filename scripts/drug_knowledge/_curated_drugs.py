"""The 37 DRUP drugs, and names and targets of those GDSC did not screen."""

from __future__ import annotations

import csv
from pathlib import Path

CURATED_SOURCE = "curated: DRUP drug; names and targets from its FDA label"

_CURATED_FILE = Path(__file__).with_name("curated_drugs.csv")
# A drug's synonyms, HGNC targets and pathway.
Entry = tuple[tuple[str, ...], tuple[str, ...], str]


def curated_drugs() -> dict[str, Entry]:
    """DRUP drugs GDSC did not screen: synonyms (brand, code names), HGNC targets
    and pathway (GDSC vocabulary), from the FDA labels / DrugBank.

    One row each in ``curated_drugs.csv``; a list's items are separated by ``;``.
    """
    with _CURATED_FILE.open(newline="", encoding="utf-8") as file:
        return {
            row["drug"]: (
                _listed(row["synonyms"]),
                _listed(row["targets"]),
                row["pathway"],
            )
            for row in csv.DictReader(file)
        }


def _listed(text: str) -> tuple[str, ...]:
    return tuple(text.split(";")) if text else ()


# Immune checkpoint drug classes, as patient cohorts that pool several antibodies
# name their treatment (e.g. the pooled 973-patient ICI cohort): the targets of the
# class's members, so the class takes the same TMB and MSI rules they do.
CLASS_SOURCE = "curated: immune checkpoint drug class; targets of its members' labels"
DRUG_CLASSES: dict[str, Entry] = {
    "anti-pd-1": (("anti-PD1",), ("PDCD1",), "Immune checkpoint"),
    "anti-pd-l1": (("anti-PDL1",), ("CD274",), "Immune checkpoint"),
    "anti-pd-1/pd-l1": ((), ("PDCD1", "CD274"), "Immune checkpoint"),
    "anti-ctla-4": (("anti-CTLA4",), ("CTLA4",), "Immune checkpoint"),
    "anti-ctla-4+anti-pd-1": (
        ("anti-ctla-4 then anti-pd-1",), ("CTLA4", "PDCD1"), "Immune checkpoint",
    ),
    "anti-ctla-4+anti-pd-1/pd-l1": (
        (), ("CTLA4", "PDCD1", "CD274"), "Immune checkpoint",
    ),
}  # fmt: skip

# Brand names the GDSC list lacks, and CIViC's names for GDSC compounds.
EXTRA_SYNONYMS: dict[str, tuple[str, ...]] = {
    "afatinib": ("Giotrif",),
    "cabozantinib": ("Cabometyx",),
    "imatinib": ("Glivec",),
    "palbociclib": ("Ibrance",),
    "talazoparib": ("Talzenna",),
    "5-fluorouracil": ("Fluorouracil",),
    "mitomycin-c": ("Mitomycin",),
}

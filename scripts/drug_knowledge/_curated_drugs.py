"""The 37 DRUP drugs, and names and targets of those GDSC did not screen."""

from __future__ import annotations

CURATED_SOURCE = "curated: DRUP drug; names and targets from its FDA label"

# DRUP drugs GDSC did not screen: synonyms (brand, code names), HGNC targets and
# pathway (GDSC vocabulary), from the FDA labels / DrugBank.
CURATED_DRUGS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "nivolumab": (
        ("Opdivo", "BMS-936558", "ONO-4538", "MDX-1106"),
        ("PDCD1",),
        "Immune checkpoint",
    ),
    "pembrolizumab": (
        ("Keytruda", "MK-3475", "lambrolizumab"),
        ("PDCD1",),
        "Immune checkpoint",
    ),
    "durvalumab": (("Imfinzi", "MEDI4736"), ("CD274",), "Immune checkpoint"),
    "atezolizumab": (
        ("Tecentriq", "MPDL3280A", "RG7446"),
        ("CD274",),
        "Immune checkpoint",
    ),
    "ipilimumab": (
        ("Yervoy", "MDX-010", "BMS-734016"),
        ("CTLA4",),
        "Immune checkpoint",
    ),
    "vemurafenib": (("Zelboraf", "PLX4032", "RG7204"), ("BRAF",), "ERK MAPK signaling"),
    "cobimetinib": (
        ("Cotellic", "GDC-0973", "XL518"),
        ("MAP2K1", "MAP2K2"),
        "ERK MAPK signaling",
    ),
    "binimetinib": (
        ("Mektovi", "MEK162", "ARRY-162"),
        ("MAP2K1", "MAP2K2"),
        "ERK MAPK signaling",
    ),
    "encorafenib": (("Braftovi", "LGX818"), ("BRAF",), "ERK MAPK signaling"),
    "ribociclib": (("Kisqali", "LEE011"), ("CDK4", "CDK6"), "Cell cycle"),
    "abemaciclib": (
        ("Verzenio", "Verzenios", "LY2835219"),
        ("CDK4", "CDK6"),
        "Cell cycle",
    ),
    "niraparib": (("Zejula", "MK-4827"), ("PARP1", "PARP2"), "Genome integrity"),
    "osimertinib": (("Tagrisso", "AZD9291"), ("EGFR",), "EGFR signaling"),
    "trastuzumab": (("Herceptin",), ("ERBB2",), "EGFR signaling"),
    "pertuzumab": (("Perjeta", "RG1273"), ("ERBB2",), "EGFR signaling"),
    "lorlatinib": (
        ("Lorbrena", "Lorviqua", "PF-06463922"),
        ("ALK", "ROS1"),
        "RTK signaling",
    ),
    "larotrectinib": (
        ("Vitrakvi", "LOXO-101"),
        ("NTRK1", "NTRK2", "NTRK3"),
        "RTK signaling",
    ),
    "entrectinib": (
        ("Rozlytrek", "RXDX-101"),
        ("NTRK1", "NTRK2", "NTRK3", "ROS1", "ALK"),
        "RTK signaling",
    ),
    "everolimus": (
        ("Afinitor", "RAD001", "Zortress"),
        ("MTOR",),
        "PI3K/MTOR signaling",
    ),
    "alpelisib": (("Piqray", "BYL719"), ("PIK3CA",), "PI3K/MTOR signaling"),
}

# Immune checkpoint drug classes, as patient cohorts that pool several antibodies
# name their treatment (e.g. the pooled 973-patient ICI cohort): the targets of the
# class's members, so the class takes the same TMB and MSI rules they do.
CLASS_SOURCE = "curated: immune checkpoint drug class; targets of its members' labels"
DRUG_CLASSES: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
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

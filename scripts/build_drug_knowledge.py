"""Build ``features/drug_knowledge.json`` from the GDSC drug list and CIViC evidence.

Run ``python scripts/build_drug_knowledge.py`` from the repository root (defaults read
``../shared/data``); rebuilding from the same inputs gives a byte-identical file.

Entries
    One per distinct lower-case GDSC ``Name`` (compounds screened twice are merged;
    the first pathway other than "Unclassified" wins) plus the 37 DRUP drugs
    (``DRUP_DRUGS``); drugs GDSC did not screen take synonyms, targets and pathway
    from ``CURATED_DRUGS``.  GDSC ``Targets`` are mapped to HGNC symbols with
    ``TARGET_ALIASES``; descriptions naming no gene (drug classes, families,
    complexes) are kept in ``unmapped_targets``.  A synonym claimed by two drugs
    (GDSC lists "Torisel" for rapamycin and temsirolimus) is dropped from both.

Rules (DRUP matching classes; van der Velden et al., Nature 574:127, 2019)
    1. ``LABEL_RULES``: the biomarker of an FDA/EMA-approved indication, with its
       on-label tumour types.  Also every CIViC biomarker with a level A sensitivity
       item for the drug that no curated class 1 or 3 rule covers; level A
       ("validated association") is the proxy for an approved indication, so its
       tumour types become on-label (the pan-cancer term "Cancer" is dropped;
       non-small cell lung cancer includes its histological subtypes).
       Tumour-agnostic approvals (NTRK fusions) list no on-label tumour type.
    2. ``PATHWAY_MODULES`` (upstream events of the pathway, switched on by the
       drug's targets) and activating events (mutation, amplification, fusion) of
       an oncogenic kinase target in ``ACTIVATABLE_TARGETS``.
    3. ``SUSCEPTIBILITIES``: HR-gene loss or HRD score >= 42 for PARP inhibitors;
       MSI-high or TMB >= 10 mut/Mb for PD-1 / PD-L1 / CTLA-4 antibodies.
    4. CIViC sensitivity items not covered by any rule above, one rule per
       biomarker.
    CIViC items used: ``Predictive``, ``Supports``, ``Sensitivity/Response``,
    level A-C; germline items only for the HR genes (the rest are pharmacogenetic
    polymorphisms, not tumour events); expression, methylation and wild-type items
    are skipped (profiles have no such events); exon-level or indel variants count
    as any mutation of the gene.  A drug named in a combination gets the item only
    when the item's gene is one of its targets or class 2/3 genes (cetuximab does
    not inherit BRAF V600E from encorafenib + cetuximab).  An item merges into the
    first rule (by class) that covers its biomarker (same gene and kinds; the rule's
    protein change absent, equal, or the item's codon; fusion genes included) -
    level A items only into class 1 or 3 - else it starts a new rule.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from features import canonical_tumour_type
from features._knowledge import (
    KNOWLEDGE_VERSION,
    DrugEntry,
    DrugKnowledge,
    SensitivityRule,
)

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
DEFAULT_GDSC = SHARED / "gdsc1000_v17" / "drug_list_gdsc_2019.csv"
DEFAULT_CIVIC = (
    SHARED / "civic_20220602" / "civic_evidence_via_pharmoncox_20220602.csv.gz"
)
DEFAULT_OUT = REPO / "features" / "drug_knowledge.json"

KNOWLEDGE_SOURCES = (
    "GDSC screened compounds list (cancerrxgene.org, downloaded 2019-06-24)",
    "CIViC evidence items 2022-06-02 (CC0), via pharmOncoX commit 863a9d82",
    "hand-curated FDA/EMA label biomarkers and DRUP matching classes "
    "(scripts/build_drug_knowledge.py)",
)
GDSC_SOURCE = "GDSC drug list 2019"
CIVIC_SOURCE = KNOWLEDGE_SOURCES[1]
CURATED_SOURCE = "curated: DRUP drug; names and targets from its FDA label"
DRUP_SOURCE = "DRUP matching classes (van der Velden 2019, Nature 574:127)"

MUT = ("mutation",)
AMP = ("amplification",)
FUSION = ("fusion",)
LOSS = ("mutation", "deletion")
ACTIVATING = ("mutation", "amplification", "fusion")

# The 37 DRUP-style drugs; a DRUP simulator uses exactly these names.
DRUP_DRUGS = (
    "nivolumab", "pembrolizumab", "durvalumab", "atezolizumab", "ipilimumab",
    "vemurafenib", "dabrafenib", "trametinib", "cobimetinib", "binimetinib",
    "encorafenib", "palbociclib", "ribociclib", "abemaciclib", "olaparib",
    "niraparib", "talazoparib", "erlotinib", "gefitinib", "osimertinib", "afatinib",
    "lapatinib", "trastuzumab", "pertuzumab", "crizotinib", "alectinib", "lorlatinib",
    "larotrectinib", "entrectinib", "everolimus", "alpelisib", "vismodegib",
    "imatinib", "nilotinib", "dasatinib", "cabozantinib", "sunitinib",
)  # fmt: skip

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

# GDSC target descriptions -> HGNC symbols; () = names no single gene.
TARGET_ALIASES: dict[str, tuple[str, ...]] = {
    "ABL": ("ABL1",), "ABL(T315I)": ("ABL1",), "BCR-ABL": ("ABL1",),
    "ADCK4": ("COQ8B",), "ALK4": ("ACVR1B",), "ALK5": ("TGFBR1",),
    "Angiopoietin-1 receptor": ("TEK",), "TIE2": ("TEK",),
    "BCL-W": ("BCL2L2",), "BCL-XL": ("BCL2L1",),
    "BET": ("BRD2", "BRD3", "BRD4", "BRDT"),
    "c-FGR": ("FGR",), "DNAPK": ("PRKDC",), "EIF2A": ("EIF2S1",),
    "Dihydrofolate reductase (DHFR)": ("DHFR",),
    "Endothelin-1 receptor (EDNRA)": ("EDNRA",),
    "Farnesyl-transferase (FNTA)": ("FNTA",),
    "ERK1": ("MAPK3",), "ERK2": ("MAPK1",), "ERK5": ("MAPK7",),
    "FAK": ("PTK2",), "FAK2": ("PTK2B",), "FXR": ("NR1H4",), "LXR": ("NR1H3", "NR1H2"),
    "G9a and GLP methyltransferases": ("EHMT2", "EHMT1"),
    "HSP90": ("HSP90AA1", "HSP90AB1"), "IR": ("INSR",),
    "IKK1": ("CHUK",), "IKK2": ("IKBKB",), "IKKB": ("IKBKB",),
    "JNK": ("MAPK8", "MAPK9", "MAPK10"), "JNK1": ("MAPK8",), "JNK2": ("MAPK9",),
    "JNK3": ("MAPK10",), "KSP": ("KIF11",), "LOK": ("STK10",),
    "MEK1": ("MAP2K1",), "MEK2": ("MAP2K2",), "MEK5": ("MAP2K5",),
    "MPS1": ("TTK",), "MTORC1": ("MTOR",), "MTORC2": ("MTOR",), "NAE": ("NAE1",),
    "N-myristoyltransferase 1/2": ("NMT1", "NMT2"),
    "p38": ("MAPK14", "MAPK11", "MAPK12", "MAPK13"), "p38alpha": ("MAPK14",),
    "p38beta": ("MAPK11",), "PB1": ("PBRM1",), "PDK1 (PDPK1)": ("PDPK1",),
    "PDGFR": ("PDGFRA", "PDGFRB"),
    "PI3K (class 1)": ("PIK3CA", "PIK3CB", "PIK3CD", "PIK3CG"),
    "PI3K (Class 1)": ("PIK3CA", "PIK3CB", "PIK3CD", "PIK3CG"),
    "PI3Kalpha": ("PIK3CA",), "PI3Kbeta": ("PIK3CB",), "PI3Kdelta": ("PIK3CD",),
    "PI3Kgamma": ("PIK3CG",), "PKCB": ("PRKCB",), "PPARdelta": ("PPARD",),
    "PPARgamma": ("PPARG",), "Procaspase-3": ("CASP3",), "Procaspase-7": ("CASP7",),
    "RAF": ("RAF1", "BRAF"), "RNA helicase A": ("DHX9",), "ROCK": ("ROCK1", "ROCK2"),
    "RON": ("MST1R",), "RSK2": ("RPS6KA3",), "S6K1": ("RPS6KB1",),
    "SHP-1 (PTPN6)": ("PTPN6",), "SHP-2 (PTPN11)": ("PTPN11",),
    "TAK": ("MAP3K7",), "TAK1": ("MAP3K7",), "TNKS1": ("TNKS",), "TOP2": ("TOP2A",),
    "VEGFR": ("FLT1", "KDR", "FLT4"), "VEGFR1": ("FLT1",), "VEGFR2": ("KDR",),
    "VEGFR3": ("FLT4",), "VEGFR3/FLT4": ("FLT4",),
    # gene-shaped, but families or unknown: no single HGNC symbol
    "CAMK2": (), "HDAC": (), "IKK": (), "IV": (), "PKC": (), "PPK": (), "RAR": (),
    "RSK": (), "SERCA": (), "TRCB": (),
}  # fmt: skip
_GENE_SHAPED = re.compile(r"^[A-Z][A-Z0-9]+$")

# Class 1: biomarkers of approved indications (gene, kinds, protein change or codon,
# fusion partner, on-label tumour types, source).
NSCLC = "non-small cell lung cancer"


class Label(NamedTuple):
    drug: str
    biomarker: str
    gene: str
    kinds: tuple[str, ...]
    change: str | None
    partner: str | None
    on_label: tuple[str, ...]
    source: str


_V600 = ("BRAF V600 mutation", "BRAF", MUT, "V600", None)
_EGFR = ("EGFR mutation", "EGFR", MUT, None, None)
_HER2 = ("ERBB2 amplification", "ERBB2", AMP, None, None)
_ALK = ("ALK fusion", "ALK", FUSION, None, None)
_ROS1 = ("ROS1 fusion", "ROS1", FUSION, None, None)
_BCR_ABL = ("BCR-ABL1 fusion", "ABL1", FUSION, None, "BCR")
_NTRK = [(f"{g} fusion", g, FUSION, None, None) for g in ("NTRK1", "NTRK2", "NTRK3")]
_MELANOMA_NSCLC_ATC = ("melanoma", NSCLC, "anaplastic thyroid cancer")
LABEL_RULES: tuple[Label, ...] = (
    Label(
        "vemurafenib",
        *_V600,
        ("melanoma", "erdheim-chester disease"),
        "FDA label vemurafenib (melanoma 2011; Erdheim-Chester disease 2017)",
    ),
    Label(
        "dabrafenib",
        *_V600,
        _MELANOMA_NSCLC_ATC,
        "FDA label dabrafenib (melanoma 2013; NSCLC 2017; anaplastic thyroid 2018)",
    ),
    Label(
        "trametinib",
        *_V600,
        _MELANOMA_NSCLC_ATC,
        "FDA label trametinib (melanoma 2013; NSCLC 2017; anaplastic thyroid 2018)",
    ),
    Label(
        "encorafenib",
        *_V600,
        ("melanoma", "colorectal"),
        "FDA label encorafenib (melanoma 2018; colorectal V600E 2020)",
    ),
    Label(
        "cobimetinib", *_V600, ("melanoma",), "FDA label cobimetinib (melanoma 2015)"
    ),
    Label(
        "binimetinib", *_V600, ("melanoma",), "FDA label binimetinib (melanoma 2018)"
    ),
    Label(
        "erlotinib",
        *_EGFR,
        (NSCLC,),
        "FDA label erlotinib (EGFR exon 19 del / L858R NSCLC 2013)",
    ),
    Label(
        "gefitinib",
        *_EGFR,
        (NSCLC,),
        "FDA label gefitinib (EGFR exon 19 del / L858R NSCLC 2015)",
    ),
    Label("afatinib", *_EGFR, (NSCLC,), "FDA label afatinib (EGFR-mutant NSCLC 2013)"),
    Label(
        "osimertinib",
        *_EGFR,
        (NSCLC,),
        "FDA label osimertinib (EGFR T790M 2015; exon 19 del / L858R 2018)",
    ),
    Label("lapatinib", *_HER2, ("breast",), "FDA label lapatinib (HER2+ breast 2007)"),
    Label(
        "trastuzumab",
        *_HER2,
        ("breast", "stomach"),
        "FDA label trastuzumab (HER2+ breast 1998; gastric 2010)",
    ),
    Label(
        "pertuzumab", *_HER2, ("breast",), "FDA label pertuzumab (HER2+ breast 2012)"
    ),
    Label(
        "crizotinib",
        *_ALK,
        (NSCLC, "anaplastic large cell lymphoma"),
        "FDA label crizotinib (ALK+ NSCLC 2011; ALK+ ALCL 2021)",
    ),
    Label("crizotinib", *_ROS1, (NSCLC,), "FDA label crizotinib (ROS1+ NSCLC 2016)"),
    Label("alectinib", *_ALK, (NSCLC,), "FDA label alectinib (ALK+ NSCLC 2015)"),
    Label("lorlatinib", *_ALK, (NSCLC,), "FDA label lorlatinib (ALK+ NSCLC 2018)"),
    *(
        Label(
            "larotrectinib",
            *n,
            (),
            "FDA label larotrectinib (NTRK fusion, tumour-agnostic 2018)",
        )
        for n in _NTRK
    ),
    *(
        Label(
            "entrectinib",
            *n,
            (),
            "FDA label entrectinib (NTRK fusion, tumour-agnostic 2019)",
        )
        for n in _NTRK
    ),
    Label("entrectinib", *_ROS1, (NSCLC,), "FDA label entrectinib (ROS1+ NSCLC 2019)"),
    Label(
        "imatinib",
        *_BCR_ABL,
        ("chronic myeloid leukaemia", "acute lymphoblastic leukaemia"),
        "FDA label imatinib (Ph+ CML 2001; Ph+ ALL 2006)",
    ),
    Label(
        "imatinib",
        "KIT mutation",
        "KIT",
        MUT,
        None,
        None,
        ("gastrointestinal stromal tumour",),
        "FDA label imatinib (KIT+ GIST 2002)",
    ),
    Label(
        "nilotinib",
        *_BCR_ABL,
        ("chronic myeloid leukaemia",),
        "FDA label nilotinib (Ph+ CML 2007)",
    ),
    Label(
        "dasatinib",
        *_BCR_ABL,
        ("chronic myeloid leukaemia", "acute lymphoblastic leukaemia"),
        "FDA label dasatinib (Ph+ CML, Ph+ ALL 2006)",
    ),
    Label(
        "alpelisib",
        "PIK3CA mutation",
        "PIK3CA",
        MUT,
        None,
        None,
        ("breast",),
        "FDA label alpelisib (PIK3CA-mutant HR+ breast 2019)",
    ),
)

# Class 2: upstream events of a pathway, for drugs whose targets include a trigger.
Events = tuple[tuple[str, tuple[str, ...]], ...]
PATHWAY_MODULES: dict[str, tuple[frozenset[str], Events, str]] = {
    "CDK4/6-cyclin D": (
        frozenset({"CDK4", "CDK6"}),
        (
            ("CDKN2A", LOSS),
            ("CDK4", AMP),
            ("CDK6", AMP),
            ("CCND1", AMP),
            ("CCND2", AMP),
            ("CCND3", AMP),
        ),
        "DRUP CDK4/6 cohorts (Haj Mohammad 2024, Acta Oncol 63)",
    ),
    "RAS-RAF-MEK": (
        frozenset({"MAP2K1", "MAP2K2", "MAPK1", "MAPK3"}),
        (
            ("KRAS", MUT),
            ("NRAS", MUT),
            ("HRAS", MUT),
            ("BRAF", ("mutation", "fusion")),
            ("MAP2K1", MUT),
            ("NF1", LOSS),
        ),
        DRUP_SOURCE,
    ),
    "PI3K-AKT-MTOR": (
        frozenset(
            {"PIK3CA", "PIK3CB", "PIK3CD", "PIK3CG", "AKT1", "AKT2", "AKT3", "MTOR"}
        ),
        (
            ("PIK3CA", ("mutation", "amplification")),
            ("PTEN", LOSS),
            ("PIK3R1", LOSS),
            ("AKT1", MUT),
            ("TSC1", LOSS),
            ("TSC2", LOSS),
            ("MTOR", MUT),
        ),
        DRUP_SOURCE,
    ),
    "Hedgehog": (
        frozenset({"SMO"}),
        (("PTCH1", LOSS), ("SUFU", LOSS), ("SMO", MUT)),
        "FDA label vismodegib (basal cell carcinoma 2012)",
    ),
}
# Oncogenic kinase targets whose own mutation, amplification or fusion is class 2.
ACTIVATABLE_TARGETS = frozenset({
    "ABL1", "AKT1", "ALK", "CDK4", "CDK6", "EGFR", "ERBB2", "ERBB3", "FGFR1", "FGFR2",
    "FGFR3", "FLT3", "IGF1R", "JAK2", "KIT", "MAP2K1", "MET", "MTOR", "NTRK1", "NTRK2",
    "NTRK3", "PDGFRA", "PDGFRB", "PIK3CA", "RET", "ROS1", "SMO",
})  # fmt: skip

# Class 3: homologous-recombination repair genes of the FDA olaparib label (2020,
# PROfound); HRD cut-off = Myriad myChoice genomic instability score >= 42.
HR_GENES = (
    "BRCA1", "BRCA2", "ATM", "BARD1", "BRIP1", "CDK12", "CHEK1", "CHEK2", "FANCL",
    "PALB2", "RAD51B", "RAD51C", "RAD51D", "RAD54L",
)  # fmt: skip
HRD_MIN_SCORE = 42.0
TMB_MIN_MUT_PER_MB = 10.0
PARP_TARGETS = frozenset({"PARP1", "PARP2"})
CHECKPOINT_TARGETS = frozenset({"PDCD1", "CD274", "CTLA4"})
HR_SOURCE = "FDA label olaparib (HRR genes, PROfound 2020)"
HRD_SOURCE = "Myriad myChoice GIS >= 42 (FDA labels niraparib 2019, olaparib 2020)"
MSI_SOURCE = "DRUP MSI + nivolumab, CBR 63% (van der Velden 2019, Nature 574:127)"
TMB_SOURCE = "TMB >= 10 mut/Mb (FDA label pembrolizumab, KEYNOTE-158, 2020)"
# On-label tumour types of the class 3 biomarkers, per drug (FDA labels).
BRCA_ON_LABEL = {
    "olaparib": ("ovarian", "breast", "pancreatic", "prostate"),
    "niraparib": ("ovarian",),
    "rucaparib": ("ovarian", "prostate"),
    "talazoparib": ("breast",),
}
HRD_ON_LABEL = {"olaparib": ("ovarian",), "niraparib": ("ovarian",)}
MSI_ON_LABEL = {
    "pembrolizumab": ("colorectal", "endometrial"),
    "nivolumab": ("colorectal",),
    "ipilimumab": ("colorectal",),
}

# CIViC disease names -> canonical tumour types (only where the synonym table lacks
# them); "cancer" is CIViC's pan-cancer term and names no tumour type.
CIVIC_TUMOUR_TYPES: dict[str, str | None] = {
    "cancer": None,
    "lung non-small cell carcinoma": NSCLC,
    "gastric adenocarcinoma": "stomach",
    "stomach carcinoma": "stomach",
    "stomach cancer": "stomach",
    "transitional cell carcinoma": "bladder",
    "congenital fibrosarcoma": "fibrosarcoma",
    "gastrointestinal stromal tumor": "gastrointestinal stromal tumour",
    "ovarian cancer": "ovarian",
    "pancreatic cancer": "pancreatic",
    "prostate cancer": "prostate",
    "endometrial cancer": "endometrial",
}
SUBTYPES = {
    NSCLC: (
        "lung adenocarcinoma",
        "lung squamous cell carcinoma",
        "lung large cell carcinoma",
    )
}
SKIPPED_VARIANTS = frozenset({
    "WILDTYPE", "SERUM LEVELS", "INTRON POLYMORPHISM", "ALTERNATIVE TRANSCRIPT",
    "ALK ALTERNATIVE ISOFORM", "ALK INTRON 19 ATI ISOFORM", "ALK(ATI)",
})  # fmt: skip
CIVIC_GENE_ALIASES = {"ABL": "ABL1"}
GDSC_COLUMNS = ("drug_id", "Name", "Synonyms", "Targets", "Target pathway")
CIVIC_COLUMNS = (
    "evidence_id", "variant_id", "variant_type", "variant", "alteration_type",
    "symbol", "therapeutic_context", "cancer_type", "evidence_description",
    "evidence_type", "evidence_level", "evidence_direction", "clinical_significance",
    "variant_origin",
)  # fmt: skip
FUSION_TYPES = frozenset({"TRANSLOCATION_FUSION", "TRANSLOCATION_FUSION_MUT"})
UNUSABLE_TYPES = frozenset({"EXP", "EXP_OVER", "EXP_UNDER", "METHYL"})
_CHANGE = re.compile(r"^[A-Z](\d+)[A-Z*]$")
_CODON = re.compile(r"^[A-Z](\d+)$")


class Biomarker(NamedTuple):
    """A CIViC variant in the terms of a sensitivity rule."""

    biomarker: str
    gene: str
    kinds: tuple[str, ...]
    change: str | None
    partner: str | None


class CivicItem(NamedTuple):
    """One CIViC evidence item attributed to one drug of the table."""

    drug: str
    eid: str
    level: str
    marker: Biomarker
    tumour_types: tuple[str, ...]
    source: str


# ---------------------------------------------------------------- GDSC entries


def split_names(text: object) -> list[str]:
    """Comma-separated names, stripped, blanks and repeats dropped, order kept."""
    if not isinstance(text, str):
        return []
    names = (name.strip() for name in text.split(","))
    return list(dict.fromkeys(name for name in names if name))


def map_targets(description: object) -> tuple[list[str], list[str]]:
    """HGNC symbols named by a GDSC target description, and the unmapped parts."""
    genes: list[str] = []
    unmapped: list[str] = []
    for token in split_names(description):
        mapped = TARGET_ALIASES.get(token)
        if mapped is None and _GENE_SHAPED.match(token):
            mapped = (token,)
        genes.extend(mapped or ())
        if not mapped:
            unmapped.append(token)
    return list(dict.fromkeys(genes)), unmapped


def gdsc_entries(drugs: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Entry fields per lower-case GDSC name; repeated screens are merged."""
    entries: dict[str, dict[str, Any]] = {}
    for row in drugs.sort_values("drug_id", kind="stable").to_dict("records"):
        name = str(row["Name"]).strip()
        targets, unmapped = map_targets(row["Targets"])
        pathway = str(row["Target pathway"]).strip()
        entry = entries.setdefault(
            name.lower(),
            {
                "synonyms": [],
                "targets": targets,
                "unmapped_targets": unmapped,
                "pathway": pathway,
                "gdsc_drug_ids": [],
                "sources": [GDSC_SOURCE],
            },
        )
        entry["synonyms"] += split_names(row["Synonyms"])
        entry["gdsc_drug_ids"].append(int(row["drug_id"]))
        if entry["pathway"] == "Unclassified":
            entry["pathway"] = pathway
    return entries


def curated_entries(known: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Entry fields of the DRUP drugs that are not in ``known``."""
    missing = [drug for drug in DRUP_DRUGS if drug not in set(known)]
    unexplained = sorted(set(missing) - set(CURATED_DRUGS))
    if unexplained:
        raise ValueError(f"DRUP drugs neither in GDSC nor curated: {unexplained}")
    return {
        drug: {
            "synonyms": list(CURATED_DRUGS[drug][0]),
            "targets": list(CURATED_DRUGS[drug][1]),
            "unmapped_targets": [],
            "pathway": CURATED_DRUGS[drug][2],
            "gdsc_drug_ids": [],
            "sources": [CURATED_SOURCE],
        }
        for drug in missing
    }


def clean_synonyms(entries: dict[str, dict[str, Any]]) -> None:
    """Drop synonyms equal to the own key, repeated, or claimed by another drug."""
    for key, entry in entries.items():
        unique: dict[str, str] = {}
        for name in (*entry["synonyms"], *EXTRA_SYNONYMS.get(key, ())):
            unique.setdefault(name.lower(), name)
        entry["synonyms"] = [name for lower, name in unique.items() if lower != key]
    claims = Counter(s.lower() for e in entries.values() for s in e["synonyms"])
    for key, entry in entries.items():
        clashing = [s for s in entry["synonyms"] if claims[s.lower()] > 1]
        clashing += [s for s in entry["synonyms"] if s.lower() in entries]
        for synonym in sorted(set(clashing)):
            logger.info("dropping synonym %r of %s: another drug uses it", synonym, key)
        entry["synonyms"] = [s for s in entry["synonyms"] if s not in clashing]


# ------------------------------------------------------------- curated rules


def expand_tumour_types(names: Iterable[str]) -> tuple[str, ...]:
    """Canonical tumour types, with the subtypes of a parent type added."""
    canonical = [canonical_tumour_type(name) for name in names]
    expanded = [t for name in canonical for t in (name, *SUBTYPES.get(name, ()))]
    return tuple(dict.fromkeys(expanded))


def label_rules(drug: str) -> list[SensitivityRule]:
    """Class 1 rules of a drug's approved biomarker indications."""
    return [
        SensitivityRule.model_validate(
            {
                "matching_class": 1,
                "biomarker": label.biomarker,
                "gene": label.gene,
                "kinds": label.kinds,
                "protein_change": label.change,
                "partner_gene": label.partner,
                "on_label_tumour_types": expand_tumour_types(label.on_label),
                "sources": (label.source,),
            }
        )
        for label in LABEL_RULES
        if label.drug == drug
    ]


def gene_rule(
    matching_class: int, gene: str, kinds: Sequence[str], source: str
) -> SensitivityRule:
    """A gene-level rule with a readable biomarker name."""
    words = {
        MUT: "mutation",
        AMP: "amplification",
        LOSS: "loss of function",
        ACTIVATING: "mutation, amplification or fusion",
    }
    kind_text = words.get(tuple(kinds), " or ".join(kinds))
    return SensitivityRule.model_validate(
        {
            "matching_class": matching_class,
            "biomarker": f"{gene} {kind_text}",
            "gene": gene,
            "kinds": tuple(kinds),
            "sources": (source,),
        }
    )


def pathway_rules(targets: Sequence[str]) -> list[SensitivityRule]:
    """Class 2 rules: pathway modules switched on by the targets, activated targets."""
    rules = [
        gene_rule(2, gene, kinds, f"{module} pathway; {source}")
        for module, (triggers, events, source) in PATHWAY_MODULES.items()
        if triggers & set(targets)
        for gene, kinds in events
    ]
    rules += [
        gene_rule(2, gene, ACTIVATING, f"activated drug target; {DRUP_SOURCE}")
        for gene in targets
        if gene in ACTIVATABLE_TARGETS
    ]
    return rules


def susceptibility_rules(drug: str, targets: Sequence[str]) -> list[SensitivityRule]:
    """Class 3 rules: HR deficiency for PARP, MSI / TMB for checkpoint inhibitors."""
    rules: list[SensitivityRule] = []
    if PARP_TARGETS & set(targets):
        for gene in HR_GENES:
            on_label = BRCA_ON_LABEL.get(drug, ()) if gene in ("BRCA1", "BRCA2") else ()
            rule = gene_rule(3, gene, LOSS, HR_SOURCE)
            rules.append(rule.model_copy(update={"on_label_tumour_types": on_label}))
        rules.append(signature_rule("hrd_score", HRD_MIN_SCORE, HRD_ON_LABEL.get(drug)))
    if CHECKPOINT_TARGETS & set(targets):
        rules.append(signature_rule("msi_high", None, MSI_ON_LABEL.get(drug)))
        rules.append(signature_rule("tmb_mut_per_mb", TMB_MIN_MUT_PER_MB, None))
    return rules


def signature_rule(
    signature: str, min_value: float | None, on_label: Sequence[str] | None
) -> SensitivityRule:
    """A class 3 rule on MSI, TMB or HRD score."""
    if signature == "msi_high":
        biomarker, source = "msi high", MSI_SOURCE
    elif signature == "tmb_mut_per_mb":
        biomarker, source = f"tmb >= {min_value:g} mut/Mb", TMB_SOURCE
    else:
        biomarker, source = f"hrd score >= {min_value:g}", HRD_SOURCE
    return SensitivityRule.model_validate(
        {
            "matching_class": 3,
            "biomarker": biomarker,
            "signature": signature,
            "min_value": min_value,
            "on_label_tumour_types": tuple(on_label or ()),
            "sources": (source,),
        }
    )


def curated_rules(drug: str, targets: Sequence[str]) -> list[SensitivityRule]:
    """All curated rules of a drug, ordered by class, duplicates dropped."""
    rules = [
        *label_rules(drug),
        *pathway_rules(targets),
        *susceptibility_rules(drug, targets),
    ]
    unique: dict[tuple[Any, ...], SensitivityRule] = {}
    for rule in rules:
        unique.setdefault(_rule_key(rule), rule)
    return sorted(unique.values(), key=lambda rule: rule.matching_class)


def _rule_key(rule: SensitivityRule) -> tuple[Any, ...]:
    return (rule.matching_class, rule.gene, rule.kinds, rule.protein_change,
            rule.partner_gene, rule.signature)  # fmt: skip


# --------------------------------------------------------------- CIViC items


def civic_sensitivity(civic: pd.DataFrame) -> pd.DataFrame:
    """Predictive, supporting, sensitivity items of level A-C, usable events only."""
    level = civic["evidence_level"].astype(str).str[0]
    keep = (
        (civic["evidence_type"] == "Predictive")
        & (civic["evidence_direction"] == "Supports")
        & (civic["clinical_significance"] == "Sensitivity/Response")
        & level.isin(["A", "B", "C"])
        & civic["therapeutic_context"].notna()
        & ~civic["alteration_type"].isin(UNUSABLE_TYPES)
        & ~civic["variant_type"].fillna("").str.contains("synonymous")
        & ((civic["variant_origin"] != "Germline") | civic["symbol"].isin(HR_GENES))
    )
    items = civic.loc[keep].assign(level=level[keep])
    return items.assign(variant=items["variant"].fillna("").astype(str))


def primary_changes(civic: pd.DataFrame) -> dict[int, str]:
    """Per CIViC variant, the protein change (or codon) its descriptions name most.

    pharmOncoX lists every alias of a variant (``V600E``, ``V640E`` from another
    isoform, ``V600``); the one written in the evidence texts is the variant's name.
    """
    primary: dict[int, str] = {}
    for variant_id, rows in civic.groupby("variant_id", sort=True):
        aliases = set(rows["variant"].dropna().astype(str))
        for pattern in (_CHANGE, _CODON):
            found = sorted(a for a in aliases if pattern.match(a))
            if found:
                texts = set(rows["evidence_description"].dropna().astype(str))
                primary[int(str(variant_id))] = min(
                    found, key=lambda a: (-_mentions(a, texts), _position(a), a)
                )
                break
    return primary


def _mentions(alias: str, texts: set[str]) -> int:
    word = re.compile(rf"\b{re.escape(alias)}\b")
    return sum(1 for text in texts if word.search(text))


def _position(alias: str) -> int:
    return int(re.sub(r"\D", "", alias))


def describe_variant(rows: pd.DataFrame, change: str | None) -> Biomarker | None:
    """The rule form of one evidence item's variant, None if profiles can't show it."""
    types = set(rows["alteration_type"])
    names = [v for v in dict.fromkeys(rows["variant"]) if v]
    if {name.upper() for name in names} & SKIPPED_VARIANTS:
        return None
    symbol = str(rows["symbol"].iloc[0])
    if types & FUSION_TYPES:
        genes = [CIVIC_GENE_ALIASES.get(g, g) for g in symbol.split("-", 1)]
        partner = genes[1] if len(genes) > 1 else None
        return Biomarker(f"{'-'.join(genes)} fusion", genes[0], FUSION, None, partner)
    gene = CIVIC_GENE_ALIASES.get(symbol, symbol)
    if "CNA" in types and "AMPLIFICATION" in names:
        return Biomarker(f"{gene} amplification", gene, AMP, None, None)
    if ("CNA" in types and "DELETION" in names) or types & {"MUT_LOF", "MUT_LOF_FS"}:
        return Biomarker(f"{gene} loss of function", gene, LOSS, None, None)
    if change is not None:
        return Biomarker(f"{gene} {change}", gene, MUT, change, None)
    return Biomarker(f"{gene} mutation", gene, MUT, None, None)


def civic_tumour_types(cancer_type: object) -> tuple[str, ...]:
    """Canonical tumour types of a CIViC disease name (none for pan-cancer)."""
    name = " ".join(str(cancer_type).strip().lower().split())
    mapped = CIVIC_TUMOUR_TYPES.get(name, name)
    return () if mapped is None else expand_tumour_types([mapped])


def civic_items(civic: pd.DataFrame, entries: dict[str, DrugEntry]) -> list[CivicItem]:
    """CIViC sensitivity items attributed to the drugs of the table."""
    names = {n.lower(): k for k, e in entries.items() for n in (k, *e.synonyms)}
    primary = primary_changes(civic)
    items = []
    for eid, rows in civic_sensitivity(civic).groupby("evidence_id", sort=True):
        change = primary.get(int(rows["variant_id"].iloc[0]))
        marker = describe_variant(rows, change)
        if marker is None:
            continue
        drugs = split_names(rows["therapeutic_context"].iloc[0])
        for drug in sorted({names[d.lower()] for d in drugs if d.lower() in names}):
            if _attributable(entries[drug], marker, len(drugs)):
                items.append(civic_item(drug, str(eid), rows, marker, change))
    return items


def civic_item(
    drug: str, eid: str, rows: pd.DataFrame, marker: Biomarker, change: str | None
) -> CivicItem:
    """One item for one drug, with a readable source line."""
    first = rows.iloc[0]
    names = [v for v in dict.fromkeys(rows["variant"]) if v]
    variant = change or (names[0] if names else marker.kinds[0])
    level, disease = str(first["level"]), str(first["cancer_type"])
    source = f"CIViC {eid} ({level}; {first['symbol']} {variant}; {disease})"
    return CivicItem(drug, eid, level, marker, civic_tumour_types(disease), source)


def _attributable(entry: DrugEntry, marker: Biomarker, n_drugs: int) -> bool:
    # In a combination, an item speaks for a drug only through that drug's genes.
    related = {*entry.targets, *entry.pathway_genes}
    return n_drugs == 1 or bool({marker.gene, marker.partner} & related)


# ------------------------------------------------------ merging CIViC into rules


def covers(rule: SensitivityRule, marker: Biomarker) -> bool:
    """Whether every event the CIViC biomarker describes satisfies the rule."""
    if rule.gene is None or (rule.kinds and not set(marker.kinds) <= set(rule.kinds)):
        return False
    if marker.kinds == FUSION:
        needed = {rule.gene, rule.partner_gene} - {None}
        return needed <= {marker.gene, marker.partner}
    if rule.gene != marker.gene:
        return False
    change = marker.change
    codon = change[:-1] if change is not None and _CHANGE.match(change) else None
    return rule.protein_change is None or rule.protein_change in (change, codon)


def merge_item(rules: list[SensitivityRule], item: CivicItem) -> None:
    """Add a CIViC item to the first rule covering it, or append a new rule."""
    allowed = (1, 3) if item.level == "A" else (1, 2, 3, 4)
    on_label = item.tumour_types if item.level == "A" else ()
    for index, rule in enumerate(rules):
        if rule.matching_class in allowed and covers(rule, item.marker):
            level = min(filter(None, (rule.civic_level, item.level)))
            rules[index] = rule.model_copy(
                update={
                    "civic_level": level,
                    "sources": tuple(dict.fromkeys((*rule.sources, item.source))),
                    "on_label_tumour_types": tuple(
                        dict.fromkeys((*rule.on_label_tumour_types, *on_label))
                    ),
                }
            )
            return
    rules.append(new_civic_rule(item, on_label))
    rules.sort(key=lambda rule: rule.matching_class)


def new_civic_rule(item: CivicItem, on_label: tuple[str, ...]) -> SensitivityRule:
    """A class 1 (level A) or class 4 rule made from one CIViC item."""
    marker = item.marker
    return SensitivityRule.model_validate(
        {
            "matching_class": 1 if item.level == "A" else 4,
            "biomarker": marker.biomarker,
            "gene": marker.gene,
            "kinds": marker.kinds,
            "protein_change": marker.change,
            "partner_gene": marker.partner,
            "on_label_tumour_types": on_label,
            "civic_level": item.level,
            "sources": (item.source,),
        }
    )


def _item_order(item: CivicItem) -> tuple[Any, ...]:
    # Level A first, then broad biomarkers before narrow ones, so that narrow items
    # merge into the broad rules instead of starting their own.
    marker = item.marker
    specificity = (
        (marker.partner is not None)
        + (marker.change is not None)
        + bool(marker.change and _CHANGE.match(marker.change))
    )
    eid_number = int(item.eid.removeprefix("EID"))
    return (item.level, specificity, marker.gene, marker.biomarker, eid_number)


# ------------------------------------------------------------------- assembly


def base_entries(drugs: pd.DataFrame) -> dict[str, DrugEntry]:
    """GDSC and curated DRUP drugs with their curated rules (no CIViC yet)."""
    fields = gdsc_entries(drugs)
    fields.update(curated_entries(fields))
    clean_synonyms(fields)
    entries = {}
    for drug in sorted(fields):
        rules = curated_rules(drug, fields[drug]["targets"])
        genes = [r.gene for r in rules if r.gene and r.matching_class in (2, 3)]
        entries[drug] = DrugEntry.model_validate(
            {
                "drug": drug,
                **fields[drug],
                "rules": rules,
                "pathway_genes": sorted(set(genes)),
            }
        )
    return entries


def attach_civic(
    entries: dict[str, DrugEntry], items: Sequence[CivicItem]
) -> dict[str, DrugEntry]:
    """Entries with the CIViC items merged into (or added to) their rules."""
    rules = {drug: list(entry.rules) for drug, entry in entries.items()}
    for item in sorted(items, key=_item_order):
        merge_item(rules[item.drug], item)
    with_civic = {item.drug for item in items}
    return {
        drug: DrugEntry.model_validate(
            {
                **entry.model_dump(exclude={"rules", "sources"}),
                "rules": rules[drug],
                "sources": [
                    *entry.sources,
                    *([CIVIC_SOURCE] if drug in with_civic else []),
                ],
            }
        )
        for drug, entry in entries.items()
    }


def build_knowledge(drugs: pd.DataFrame, civic: pd.DataFrame) -> DrugKnowledge:
    """The drug knowledge table from the GDSC drug list and CIViC evidence."""
    entries = base_entries(drugs)
    items = civic_items(civic, entries)
    logger.info("CIViC: %d (evidence item, drug) pairs used", len(items))
    return DrugKnowledge(
        knowledge_version=KNOWLEDGE_VERSION,
        sources=KNOWLEDGE_SOURCES,
        entries=attach_civic(entries, items),
    )


def render(knowledge: DrugKnowledge) -> str:
    """Deterministic JSON text of the table (sorted keys, one trailing newline)."""
    data = knowledge.model_dump(mode="json", exclude_defaults=True)
    text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=True) + "\n"
    if DrugKnowledge.model_validate(json.loads(text)) != knowledge:
        raise RuntimeError("the drug knowledge table does not round-trip through JSON")
    return text


def check_columns(frame: pd.DataFrame, columns: Iterable[str], path: Path) -> None:
    """Raise a readable error when an input table lacks a column the build reads."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(
            f"{path}: missing column(s) {missing}; found {list(frame.columns)}"
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--gdsc-drug-list",
        type=Path,
        default=DEFAULT_GDSC,
        help="GDSC screened-compounds CSV (drug_id, Name, Synonyms, Targets, "
        "Target pathway); default: %(default)s",
    )
    parser.add_argument(
        "--civic",
        type=Path,
        default=DEFAULT_CIVIC,
        help="CIViC evidence CSV(.gz) as exported from pharmOncoX; "
        "default: %(default)s",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="JSON to write; default: %(default)s",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Read the inputs, build the table, write it; return the exit status."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    for option, path in (
        ("--gdsc-drug-list", args.gdsc_drug_list),
        ("--civic", args.civic),
    ):
        if not path.is_file():
            logger.error("%s: file not found: %s", option, path)
            return 2
    drugs = pd.read_csv(args.gdsc_drug_list)
    civic = pd.read_csv(args.civic, low_memory=False)
    try:
        check_columns(drugs, GDSC_COLUMNS, args.gdsc_drug_list)
        check_columns(civic, CIVIC_COLUMNS, args.civic)
    except ValueError as error:
        logger.error("%s", error)
        return 2
    knowledge = build_knowledge(drugs, civic)
    args.out.write_text(render(knowledge), encoding="utf-8")
    with_rules = sum(1 for entry in knowledge.entries.values() if entry.rules)
    logger.info(
        "wrote %s: %d drugs, %d with rules",
        args.out,
        len(knowledge.entries),
        with_rules,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

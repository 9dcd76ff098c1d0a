"""Hand-curated biomarkers of DRUP matching classes 1-3 (FDA labels, DRUP)."""

from __future__ import annotations

from typing import NamedTuple

DRUP_SOURCE = "DRUP matching classes (van der Velden 2019, Nature 574:127)"

MUT = ("mutation",)
AMP = ("amplification",)
FUSION = ("fusion",)
LOSS = ("mutation", "deletion")
ACTIVATING = ("mutation", "amplification", "fusion")

# Class 1: biomarkers of approved indications (gene, kinds, protein change or codon,
# fusion partner, on-label tumour types, source).
NSCLC = "non-small cell lung cancer"
# On-label NSCLC includes its histological subtypes.
SUBTYPES = {
    NSCLC: (
        "lung adenocarcinoma",
        "lung squamous cell carcinoma",
        "lung large cell carcinoma",
    )
}


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

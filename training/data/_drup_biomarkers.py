"""DRUP's drugs, the biomarkers that match them, and the planted subgroups.

Fixed knowledge of the DRUP simulator (`training.data._simulate`); the numbers it
can be given are in `DrupParams`.
"""

from __future__ import annotations

from collections.abc import Mapping

EventKey = tuple[str, str]  # (gene, kind)

PD1_DRUGS = frozenset({"nivolumab", "pembrolizumab", "durvalumab", "atezolizumab"})
ICI_DRUGS = PD1_DRUGS | {"ipilimumab"}
BRAF_MEK_DRUGS = frozenset(
    {"vemurafenib", "dabrafenib", "encorafenib", "trametinib", "cobimetinib",
     "binimetinib"}
)  # fmt: skip
CDK46_DRUGS = frozenset({"palbociclib", "ribociclib", "abemaciclib"})
PARP_DRUGS = frozenset({"olaparib", "niraparib", "talazoparib"})
HER2_DRUGS = frozenset({"trastuzumab", "pertuzumab", "lapatinib"})
NTRK_DRUGS = frozenset({"larotrectinib", "entrectinib"})

# Biomarker -> matched drugs, following DRUP's matching classes: the
# drug's on-label marker elsewhere, an upstream pathway variant, or a susceptibility.
BIOMARKER_DRUGS: Mapping[str, tuple[str, ...]] = {
    "MSI-high": ("nivolumab", "pembrolizumab", "durvalumab", "atezolizumab"),
    "TMB-high": ("nivolumab", "pembrolizumab", "durvalumab", "atezolizumab",
                 "ipilimumab"),
    "BRAF V600": ("vemurafenib", "dabrafenib", "encorafenib", "trametinib",
                  "cobimetinib", "binimetinib"),
    "BRAF non-V600": ("trametinib", "cobimetinib", "binimetinib"),
    "NRAS mutation": ("binimetinib", "trametinib"),
    "NF1 loss": ("trametinib", "cobimetinib"),
    "CDK4/6 pathway": ("palbociclib", "ribociclib", "abemaciclib"),
    "BRCA1/2 or HRD": ("olaparib", "niraparib", "talazoparib"),
    "ERBB2 amplification": ("trastuzumab", "pertuzumab", "lapatinib"),
    "ERBB2 mutation": ("lapatinib", "afatinib"),
    "EGFR mutation": ("erlotinib", "gefitinib", "osimertinib", "afatinib"),
    "EGFR amplification": ("erlotinib", "gefitinib", "afatinib"),
    "ALK fusion": ("crizotinib", "alectinib", "lorlatinib"),
    "ROS1 fusion": ("crizotinib", "lorlatinib", "entrectinib"),
    "ALK mutation": ("crizotinib", "alectinib", "lorlatinib"),
    "MET alteration": ("crizotinib", "cabozantinib"),
    "RET fusion": ("cabozantinib",),
    "NTRK fusion": ("larotrectinib", "entrectinib"),
    "PIK3CA mutation": ("alpelisib", "everolimus"),
    "PTEN loss": ("everolimus",),
    "TSC1/2 or MTOR": ("everolimus",),
    "KIT/PDGFRA": ("imatinib", "nilotinib", "dasatinib", "sunitinib"),
    "PTCH1/SMO": ("vismodegib",),
    "VHL loss": ("sunitinib", "cabozantinib"),
}  # fmt: skip

# Biomarkers defined by any of these events (the others need MSI, TMB, HRD or BRAF).
_EVENT_BIOMARKERS: Mapping[str, tuple[EventKey, ...]] = {
    "NRAS mutation": (("NRAS", "mutation"),),
    "NF1 loss": (("NF1", "mutation"), ("NF1", "deletion")),
    "CDK4/6 pathway": (
        ("CDKN2A", "deletion"), ("CDKN2A", "mutation"), ("CDK4", "amplification"),
        ("CDK6", "amplification"), ("CCND1", "amplification"),
        ("CCND2", "amplification"), ("CCND3", "amplification"),
    ),
    "ERBB2 amplification": (("ERBB2", "amplification"),),
    "ERBB2 mutation": (("ERBB2", "mutation"),),
    "EGFR mutation": (("EGFR", "mutation"),),
    "EGFR amplification": (("EGFR", "amplification"),),
    "ALK fusion": (("ALK", "fusion"),),
    "ROS1 fusion": (("ROS1", "fusion"),),
    "ALK mutation": (("ALK", "mutation"),),
    "MET alteration": (("MET", "amplification"), ("MET", "mutation")),
    "RET fusion": (("RET", "fusion"),),
    "NTRK fusion": (("NTRK1", "fusion"), ("NTRK2", "fusion"), ("NTRK3", "fusion")),
    "PIK3CA mutation": (("PIK3CA", "mutation"),),
    "PTEN loss": (("PTEN", "mutation"), ("PTEN", "deletion")),
    "TSC1/2 or MTOR": (
        ("TSC1", "mutation"), ("TSC1", "deletion"), ("TSC2", "mutation"),
        ("TSC2", "deletion"), ("MTOR", "mutation"),
    ),
    "KIT/PDGFRA": (
        ("KIT", "mutation"), ("PDGFRA", "mutation"), ("PDGFRA", "amplification"),
    ),
    "PTCH1/SMO": (("PTCH1", "mutation"), ("PTCH1", "deletion"), ("SMO", "mutation")),
    "VHL loss": (("VHL", "mutation"), ("VHL", "deletion")),
}  # fmt: skip
_BRCA_EVENTS: tuple[EventKey, ...] = (
    ("BRCA1", "mutation"), ("BRCA1", "deletion"),
    ("BRCA2", "mutation"), ("BRCA2", "deletion"),
)  # fmt: skip
_RAS_EVENTS: tuple[EventKey, ...] = (
    ("KRAS", "mutation"), ("NRAS", "mutation"), ("HRAS", "mutation"),
)  # fmt: skip
_MAPK_BIOMARKERS = frozenset({"NRAS mutation", "BRAF non-V600", "NF1 loss"})
_TSC_EVENTS = _EVENT_BIOMARKERS["TSC1/2 or MTOR"][:4]
# Gastro-intestinal types where ERBB2 amplification predicts anti-HER2 benefit
# (assumption from HERACLES, MyPathway and ToGA; not true elsewhere off-label).
_GI_ERBB2_TYPES = frozenset({"colorectal", "biliary tract", "oesophageal", "stomach"})

# Assumption: the most frequent class II/III BRAF changes (Owsley et al. 2021,
# PMC7797994), drawn uniformly.
_BRAF_NON_V600 = ("G469A", "K601E", "G466V", "D594G", "N581S", "L597V")
# 5' partner, 3' gene of the common fusions of each family (assumption: textbook).
_FUSION_PARTNERS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "NTRK": (("ETV6", "NTRK3"), ("TPM3", "NTRK1"), ("LMNA", "NTRK1")),
    "ALK": (("EML4", "ALK"),),
    "ROS1": (("CD74", "ROS1"),),
    "RET": (("CCDC6", "RET"), ("KIF5B", "RET"), ("NCOA4", "RET")),
}

SUBGROUPS: tuple[str, ...] = (
    "msi_pd1", "tmb_ici_colorectal_mss", "tmb_very_high_ici", "braf_v600_colorectal",
    "braf_v600_rare", "braf_v600_common", "cdk46_pathway", "parp_brca_hrd_high",
    "parp_hrd_high", "parp_brca_hrd_low", "erbb2_amp_gi_ras_wt", "erbb2_amp_other",
    "ntrk_fusion", "tsc_everolimus",
)  # fmt: skip
BASELINE = "baseline"

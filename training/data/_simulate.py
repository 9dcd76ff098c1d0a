"""A DRUP-shaped cohort simulator with known truth (DESIGN.md section 5).

The simulator reproduces the published shape of the Dutch Drug Rediscovery Protocol
(DRUP): patients with an actionable biomarker are enrolled in cohorts of tumour type x
biomarker x drug; a cohort treats 8 evaluable patients and expands to 24 only if at
least one had clinical benefit. Each patient's true probability of clinical benefit is
recorded beside the drawn outcome, so tests and reports can measure how well a model
recovers it.

How a patient is made, in order:

1. a tumour type is drawn from `DrupParams.tumour_type_weights` (39% rare cancers);
2. MSI status is drawn with the tumour type's patient prevalence, and a real GDSC cell
   line of that tumour type and MSI status is resampled: its alterations are the
   patient's, so alteration frequencies per tumour type are GDSC's (cell-line excess
   CDKN2A deletions are thinned, `cell_line_event_keep`);
3. what GDSC lacks is added: BRAF protein change (V600E or a non-V600 change), gene
   fusions (NTRK, ALK, ROS1, RET), TMB (log-normal, per tumour type, high with MSI) and
   an HRD score (high with BRCA1/2 alterations);
4. the patient's biomarkers are matched to drugs (`BIOMARKER_DRUGS`, skipping a drug on
   label in that tumour type); the best evidence rank wins, an open cohort is joined if
   one exists, else a cohort is opened for the least-used matching drug; the patient is
   referred with probability `referral_weight`; unmatched or unreferred patients are
   screen failures and another patient is screened;
5. the true probability of clinical benefit is that of the first planted subgroup
   (`_planted_subgroup`) that applies, else a baseline logistic model whose intercept is
   calibrated so the evaluable patients' mean probability is `target_clinical_benefit`;
6. the patient is evaluable with probability `evaluable_fraction`; an evaluable
   patient's benefit is Bernoulli(true probability), best response and exceptional
   response are drawn given it, and the cohort's two-stage state is updated.

Enrolment dates are sorted uniform draws between `start_date` and `end_date`, so
enrolment order within every cohort is date order. Outcomes are assumed known at the
next enrolment (DRUP waits 16 weeks; the order of decisions is what matters here).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from features import Alteration, Profile
from training.data._cohort import Cohort

logger = logging.getLogger(__name__)

EventKey = tuple[str, str]  # (gene, kind)

# The 37 DRUP drugs, lower-case generic names (the drug knowledge table's keys).
DRUGS: tuple[str, ...] = (
    "nivolumab", "pembrolizumab", "durvalumab", "atezolizumab", "ipilimumab",
    "vemurafenib", "dabrafenib", "trametinib", "cobimetinib", "binimetinib",
    "encorafenib", "palbociclib", "ribociclib", "abemaciclib", "olaparib",
    "niraparib", "talazoparib", "erlotinib", "gefitinib", "osimertinib", "afatinib",
    "lapatinib", "trastuzumab", "pertuzumab", "crizotinib", "alectinib", "lorlatinib",
    "larotrectinib", "entrectinib", "everolimus", "alpelisib", "vismodegib",
    "imatinib", "nilotinib", "dasatinib", "cabozantinib", "sunitinib",
)  # fmt: skip
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

# Biomarker -> matched drugs, following DRUP's matching classes (DESIGN.md 5): the
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

# ---------------------------------------------------------------------------------
# Default parameter tables. Every number says where it comes from: "DRUP <year>" is
# a DESIGN.md section 5 fact; "row N" is a row of published_cohort_summaries/
# cohort_level_results.csv (1-based, header excluded); "assumption" is a judgement,
# usually rounded from the literature named, not verified against the source.
# ---------------------------------------------------------------------------------

# Tumour-type mix of enrolled patients. Hoes 2022 (as reported by Cancer Therapy
# Advisor): most common non-rare NSCLC 90/500 and colorectal 73/500, most common rare
# bile duct 20 and CNS 23; the rest is assumption. Rare types sum to 0.39 (DRUP 2026:
# 39.1% rare cancers).
_TUMOUR_TYPE_WEIGHTS: dict[str, float] = {
    # common (incidence >= 6 per 100,000 a year): 0.61
    "colorectal": 0.15, "lung adenocarcinoma": 0.09,
    "lung squamous cell carcinoma": 0.02, "non-small cell lung cancer": 0.02,
    "small cell lung cancer": 0.01, "breast": 0.07, "prostate": 0.05,
    "pancreatic": 0.04, "ovarian": 0.03, "bladder": 0.03, "melanoma": 0.02,
    "kidney": 0.02, "endometrial": 0.03, "stomach": 0.02, "cervical": 0.01,
    # rare: 0.39
    "biliary tract": 0.08, "glioma": 0.06, "head and neck": 0.05, "oesophageal": 0.04,
    "thyroid": 0.03, "liver": 0.03, "mesothelioma": 0.03, "soft tissue sarcoma": 0.04,
    "osteosarcoma": 0.015, "ewing sarcoma": 0.01, "chondrosarcoma": 0.005,
}  # fmt: skip
# Rare = incidence < 6 per 100,000 a year (RARECARE, as used by Hoes 2022). Which
# borderline types fall below it (oesophageal, thyroid, liver, head and neck subsites
# rare; cervical, stomach common) is an assumption from European incidence.
_RARE_TUMOUR_TYPES: tuple[str, ...] = (
    "biliary tract", "glioma", "head and neck", "oesophageal", "thyroid", "liver",
    "mesothelioma", "soft tissue sarcoma", "osteosarcoma", "ewing sarcoma",
    "chondrosarcoma",
)  # fmt: skip
# GDSC tumour types resampled for a simulated type when not just itself
# (assumption: closest GDSC types; GDSC has 9 + 9 + 3 soft-tissue sarcoma lines).
_SOURCE_TYPES: dict[str, tuple[str, ...]] = {
    "soft tissue sarcoma": ("soft tissue sarcoma", "rhabdomyosarcoma", "fibrosarcoma"),
    "non-small cell lung cancer": (
        "non-small cell lung cancer", "lung large cell carcinoma",
    ),
}  # fmt: skip
# MSI-high prevalence in patients. Colorectal 0.15, endometrial 0.30, stomach 0.20,
# elsewhere 0.025: the figures (primary tumours; Bonneville 2017 order of
# magnitude). GDSC MSI_FACTOR gives 0.32 / 0.64 / 0.14: cell lines over-represent MSI.
_MSI_PREVALENCE: dict[str, float] = {
    "colorectal": 0.15, "endometrial": 0.30, "stomach": 0.20,
}  # fmt: skip
# Median TMB (mut/Mb) per type: MSK-IMPACT medians of Samstein 2019 (shared data
# ici_samstein2019_msk_tmb, computed here): bladder 8.8, breast 3.9, oesophagus/stomach
# 5.9, glioma 4.4, head and neck 5.9, melanoma 9.8, NSCLC 7.0, renal 3.9. Colorectal
# (MSK 7.9 is MSI-enriched) and small-cell lung are assumptions; others use the default.
_TMB_MEDIAN: dict[str, float] = {
    "bladder": 8.8, "breast": 3.9, "oesophageal": 5.9, "stomach": 5.9, "glioma": 4.4,
    "head and neck": 5.9, "melanoma": 9.8, "lung adenocarcinoma": 7.0,
    "lung squamous cell carcinoma": 7.0, "non-small cell lung cancer": 7.0,
    "kidney": 3.9, "colorectal": 3.9, "small cell lung cancer": 7.0,
}  # fmt: skip
# Share of tumours without a BRCA1/2 alteration that are HRD-high (assumption: high
# in ovarian and breast, some pancreatic and prostate; pan-cancer HRD a few percent,
# Nguyen et al. 2020 order of magnitude).
_HRD_HIGH_PREVALENCE: dict[str, float] = {
    "ovarian": 0.35, "breast": 0.15, "pancreatic": 0.08, "prostate": 0.08,
}  # fmt: skip
# Share of BRAF mutations that are V600 (pan-cancer 0.62, Owsley et al. 2021,
# PMC7797994); per-type values are assumptions (melanoma, colorectal and thyroid
# mostly V600; lung about 40%).
_BRAF_V600_FRACTION: dict[str, float] = {
    "melanoma": 0.90, "colorectal": 0.85, "thyroid": 0.98,
    "lung adenocarcinoma": 0.40, "lung squamous cell carcinoma": 0.40,
    "non-small cell lung cancer": 0.40,
}  # fmt: skip
# Fusion prevalence per family: {"default": p, tumour type: p}. Assumptions rounded
# from the literature: NTRK 0.3% of solid tumours, more in thyroid, sarcoma and
# salivary (Westphalen 2021); ALK 4% and ROS1 1.5% of NSCLC, ALK in inflammatory
# myofibroblastic sarcomas; RET 10% of thyroid, 1.5% of NSCLC; 0.1-0.3% elsewhere
# (ALK 0.3% keeps alectinib in every simulated cohort: 30 of 30 seeds checked).
_LUNG = ("lung adenocarcinoma", "lung squamous cell carcinoma",
         "non-small cell lung cancer")  # fmt: skip
_FUSION_PREVALENCE: dict[str, dict[str, float]] = {
    "NTRK": {"default": 0.003, "thyroid": 0.02, "soft tissue sarcoma": 0.01,
             "glioma": 0.005, "head and neck": 0.01},
    "ALK": {"default": 0.003, "soft tissue sarcoma": 0.02,
            **dict.fromkeys(_LUNG, 0.04)},
    "ROS1": {"default": 0.002, "glioma": 0.005, **dict.fromkeys(_LUNG, 0.015)},
    "RET": {"default": 0.001, "thyroid": 0.10, **dict.fromkeys(_LUNG, 0.015)},
}  # fmt: skip
# Evidence rank per biomarker, 1 = strongest; a patient with several matches gets the
# best-ranked one (DESIGN.md 5: "the drug with the highest evidence level"). Ranks
# are an assumption: on-label marker in another type 1, pathway or susceptibility
# markers 2, weak or indirect markers 3.
_EVIDENCE_RANK: dict[str, int] = {
    "MSI-high": 1, "BRAF V600": 1, "NTRK fusion": 1, "ALK fusion": 1,
    "ROS1 fusion": 1, "RET fusion": 1, "EGFR mutation": 1, "ERBB2 amplification": 1,
    "TMB-high": 2, "BRCA1/2 or HRD": 2, "BRAF non-V600": 2, "ERBB2 mutation": 2,
    "MET alteration": 2, "PIK3CA mutation": 2, "TSC1/2 or MTOR": 2, "KIT/PDGFRA": 2,
    "PTCH1/SMO": 2, "VHL loss": 2,
    "CDK4/6 pathway": 3, "PTEN loss": 3, "NRAS mutation": 3, "NF1 loss": 3,
    "EGFR amplification": 3, "ALK mutation": 3,
}  # fmt: skip
# Probability that a screened patient whose chosen match is this biomarker is
# enrolled (drug supply, clinician choice); assumption. CDK4/6 pathway 0.35 is tuned:
# it puts ~8% of patients on CDK4/6 inhibitors (Hoes 2022: 14% of rare, 4% of other
# patients, ~7% overall); other weak markers 0.5, the rest 1.
_REFERRAL_WEIGHT: dict[str, float] = {
    **dict.fromkeys(_EVIDENCE_RANK, 1.0),
    "CDK4/6 pathway": 0.35, "PTEN loss": 0.5, "EGFR amplification": 0.5,
    "NF1 loss": 0.5,
}  # fmt: skip
# Drugs on label in a tumour type, hence not given there in DRUP (assumption: EMA
# indications of 2016-2022, summarised).
_ON_LABEL: dict[str, tuple[str, ...]] = {
    "melanoma": (*sorted(BRAF_MEK_DRUGS), "nivolumab", "pembrolizumab", "ipilimumab"),
    **dict.fromkeys(_LUNG, (
        "erlotinib", "gefitinib", "osimertinib", "afatinib", "crizotinib",
        "alectinib", "lorlatinib", "entrectinib", "dabrafenib", "trametinib",
        *sorted(ICI_DRUGS),
    )),
    "small cell lung cancer": ("atezolizumab", "durvalumab"),
    "breast": ("trastuzumab", "pertuzumab", "lapatinib", *sorted(CDK46_DRUGS),
               "olaparib", "talazoparib", "alpelisib", "everolimus", "pembrolizumab"),
    "ovarian": ("olaparib", "niraparib"),
    "prostate": tuple(sorted(PARP_DRUGS)),
    "pancreatic": ("olaparib", "erlotinib"),
    "kidney": ("sunitinib", "cabozantinib", "everolimus", "nivolumab",
               "pembrolizumab", "ipilimumab"),
    "bladder": tuple(sorted(PD1_DRUGS)),
    "stomach": ("trastuzumab", "nivolumab", "pembrolizumab"),
    "oesophageal": ("trastuzumab", "nivolumab", "pembrolizumab"),
    "head and neck": ("nivolumab", "pembrolizumab"),
    "liver": ("atezolizumab", "cabozantinib"),
    "thyroid": ("cabozantinib",),
    "endometrial": ("pembrolizumab",),
    "cervical": ("pembrolizumab",),
    "mesothelioma": ("nivolumab", "ipilimumab"),
    "biliary tract": ("durvalumab",),
}  # fmt: skip
# Clinical benefit probability of each planted subgroup (see _planted_subgroup).
_SUBGROUP_BENEFIT: dict[str, float] = {
    "msi_pd1": 0.63,  # DRUP 2019 / 2024, rows 2 and 6
    "tmb_ici_colorectal_mss": 0.05,  # row 3: MSS colorectal TMB cohort closed, stage 1
    "tmb_very_high_ici": 0.45,  # assumption; Samstein 2019: top TMB does better
    "braf_v600_colorectal": 0.10,  # assumption; BRAF-inhibitor alone: ORR ~5% in CRC
    "braf_v600_rare": 0.75,  # Hoes 2022, row 4
    "braf_v600_common": 0.50,  # assumption from VE-BASKET NSCLC ORR 42%, row 9
    "cdk46_pathway": 0.15,  # DRUP 2024, row 7
    "parp_brca_hrd_high": 0.55,  # assumption: BRCA1/2 with a genomic scar
    "parp_hrd_high": 0.35,  # assumption: HRD without BRCA1/2
    "parp_brca_hrd_low": 0.10,  # assumption: monoallelic BRCA1/2, no scar
    "erbb2_amp_gi_ras_wt": 0.55,  # assumption from HERACLES (disease control ~60%)
    "erbb2_amp_other": 0.15,  # assumption
    "ntrk_fusion": 0.75,  # assumption from larotrectinib ORR 75% (Drilon 2018)
    "tsc_everolimus": 0.45,  # assumption: TSC1/2 exceptional responders to mTOR
}  # fmt: skip
# Baseline log-odds per evidence rank (assumption: better evidence, more benefit).
_EVIDENCE_LOG_ODDS: dict[int, float] = {1: 0.4, 2: 0.0, 3: -0.6}
# Probability of an exceptional response given the best response (assumption, tuned so
# 7.0% of evaluable patients are exceptional responders, DRUP 2026).
_EXCEPTIONAL_GIVEN: dict[str, float] = {"CR": 0.8, "PR": 0.3, "SD>=16w": 0.08}


class DrupParams(BaseModel):
    """Every number of the DRUP simulator, each with its source (see comments).

    The tables' defaults are the module's ``_UPPER_CASE`` dictionaries, whose
    comments give each number's source.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Size and design
    n_patients: int = Field(default=1610, ge=1)  # DRUP 2026: 1,610 patients
    evaluable_fraction: float = Field(default=1363 / 1610, gt=0, le=1)  # DRUP 2026
    stage1_size: int = Field(default=8, ge=1)  # DRUP protocol (DESIGN.md 5)
    stage2_size: int = Field(default=24, ge=1)  # DRUP protocol (DESIGN.md 5)
    stage1_min_benefit: int = Field(default=1, ge=1)  # DRUP protocol (DESIGN.md 5)
    start_date: date = date(2016, 1, 1)  # the issue: enrolment 2016-2024
    end_date: date = date(2024, 12, 31)  # the issue
    # Tumour types
    tumour_type_weights: dict[str, float] = Field(
        default_factory=_TUMOUR_TYPE_WEIGHTS.copy
    )
    rare_tumour_types: tuple[str, ...] = _RARE_TUMOUR_TYPES
    source_types: dict[str, tuple[str, ...]] = Field(default_factory=_SOURCE_TYPES.copy)
    # Biomarkers GDSC lacks or over-calls
    msi_prevalence: dict[str, float] = Field(default_factory=_MSI_PREVALENCE.copy)
    msi_prevalence_default: float = Field(default=0.025, ge=0, le=1)  # the issue
    tmb_median_mut_per_mb: dict[str, float] = Field(default_factory=_TMB_MEDIAN.copy)
    # assumption: the lower MSK-IMPACT medians (breast, renal 3.9)
    tmb_median_default_mut_per_mb: float = Field(default=3.9, gt=0)
    # assumption: MSI-high tumours typically carry 20-50 mut/Mb
    tmb_median_msi_mut_per_mb: float = Field(default=30.0, gt=0)
    # pooled within-type SD of ln(TMB) in MSK-IMPACT (Samstein 2019), computed: 0.95
    tmb_log_sd: float = Field(default=0.95, ge=0)
    tmb_high_mut_per_mb: float = Field(default=10.0, gt=0)  # FDA TMB-high cut-off
    tmb_very_high_mut_per_mb: float = Field(default=20.0, gt=0)  # assumption
    # HRD-high cut-off: the myChoice genomic-instability score of Telli et al. 2016
    hrd_high_score: float = Field(default=42.0, gt=0)
    hrd_high_prevalence: dict[str, float] = Field(
        default_factory=_HRD_HIGH_PREVALENCE.copy
    )
    hrd_high_prevalence_default: float = Field(default=0.03, ge=0, le=1)  # assumption
    # assumption: most BRCA1/2-altered tumours lose the second allele
    brca_hrd_high_fraction: float = Field(default=0.6, ge=0, le=1)
    # assumption: HRD score ~ Normal(mean, sd) clipped to its side of the cut-off
    hrd_high_mean: float = 60.0
    hrd_low_mean: float = 20.0
    hrd_sd: float = Field(default=10.0, ge=0)
    braf_v600_fraction: dict[str, float] = Field(
        default_factory=_BRAF_V600_FRACTION.copy
    )
    braf_v600_fraction_default: float = Field(default=0.62, ge=0, le=1)  # Owsley 2021
    fusion_prevalence: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {k: v.copy() for k, v in _FUSION_PREVALENCE.items()}
    )
    # Keep-probability of a GDSC event (key "GENE kind"): CDKN2A is deleted in 58% of
    # GDSC lines but ~15% of tumours (TCGA pan-cancer, approximate): keep 1 in 4.
    cell_line_event_keep: dict[str, float] = Field(
        default_factory=lambda: {"CDKN2A deletion": 0.25}
    )
    # Matching
    evidence_rank: dict[str, int] = Field(default_factory=_EVIDENCE_RANK.copy)
    referral_weight: dict[str, float] = Field(default_factory=_REFERRAL_WEIGHT.copy)
    on_label: dict[str, tuple[str, ...]] = Field(default_factory=_ON_LABEL.copy)
    max_screens_per_patient: int = Field(default=500, ge=1)  # guards the search only
    # Response
    target_clinical_benefit: float = Field(default=0.349, gt=0, lt=1)  # DRUP 2026
    subgroup_benefit: dict[str, float] = Field(default_factory=_SUBGROUP_BENEFIT.copy)
    evidence_log_odds: dict[int, float] = Field(default_factory=_EVIDENCE_LOG_ODDS.copy)
    tp53_log_odds: float = -0.3  # assumption: TP53-mutant tumours benefit less
    # SD of a per-cohort (tumour type x biomarker x drug) log-odds effect on the
    # baseline. Assumption: published cohorts range from 0/8 (row 3) to 63% (row 2).
    cohort_log_odds_sd: float = Field(default=1.0, ge=0)
    # assumption: RAS co-mutation bypasses a targeted drug (e.g. anti-HER2, anti-EGFR)
    ras_comutation_log_odds: float = -0.7
    calibration_rounds: int = Field(default=2, ge=0)  # passes re-solving the intercept
    # DRUP 2026: ORR 15.7% of 34.9% with benefit -> 45% of benefit is CR/PR
    objective_response_share: float = Field(default=0.157 / 0.349, ge=0, le=1)
    # row 2: 1 CR among 12 objective responses to nivolumab in MSI tumours
    complete_response_share: float = Field(default=1 / 12, ge=0, le=1)
    exceptional_given: dict[str, float] = Field(default_factory=_EXCEPTIONAL_GIVEN.copy)

    @model_validator(mode="after")
    def _check_tables(self) -> DrupParams:
        if self.stage1_size >= self.stage2_size:
            raise ValueError("stage1_size must be smaller than stage2_size")
        if self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        if not self.tumour_type_weights or min(self.tumour_type_weights.values()) <= 0:
            raise ValueError("tumour_type_weights needs positive weights")
        _check_keys("subgroup_benefit", self.subgroup_benefit, SUBGROUPS)
        _check_keys("evidence_rank", self.evidence_rank, BIOMARKER_DRUGS)
        _check_keys("referral_weight", self.referral_weight, BIOMARKER_DRUGS)
        _check_keys("fusion_prevalence", self.fusion_prevalence, _FUSION_PARTNERS)
        _check_keys("exceptional_given", self.exceptional_given, _EXCEPTIONAL_GIVEN)
        missing = set(self.evidence_rank.values()) - set(self.evidence_log_odds)
        if missing:
            raise ValueError(f"evidence_log_odds lacks rank(s) {sorted(missing)}")
        unknown = {d for drugs in self.on_label.values() for d in drugs} - set(DRUGS)
        if unknown:
            raise ValueError(f"on_label names unknown drug(s) {sorted(unknown)}")
        for name in ("subgroup_benefit", "referral_weight", "msi_prevalence",
                     "exceptional_given", "cell_line_event_keep"):  # fmt: skip
            values = getattr(self, name).values()
            if any(not 0 <= v <= 1 for v in values):
                raise ValueError(f"{name} values must be probabilities in [0, 1]")
        return self

    @property
    def rare_share(self) -> float:
        """Expected share of rare-cancer patients implied by the tumour-type mix."""
        total = sum(self.tumour_type_weights.values())
        rare = set(self.rare_tumour_types)
        weights = self.tumour_type_weights.items()
        return sum(w for t, w in weights if t in rare) / total


def _check_keys(
    name: str, table: Mapping[str, object], expected: Iterable[str]
) -> None:
    wanted = set(expected)
    if set(table) != wanted:
        extra, missing = sorted(set(table) - wanted), sorted(wanted - set(table))
        raise ValueError(
            f"{name} must have exactly the keys {sorted(wanted)}; "
            f"unknown {extra}, missing {missing}"
        )


@dataclass(frozen=True)
class SimulatedCohort:
    """A simulated DRUP cohort and its truth.

    Attributes
    ----------
    cohort
        Profiles of every enrolled patient and the evaluable patients' treatments:
        ``sample_id, drug, responded, start_date, cohort_id, best_response,
        evaluable, exceptional``.
    truth
        One row per enrolled patient (evaluable or not): ``sample_id, drug,
        cohort_id, tumour_type, rare_cancer, biomarker, stage, evaluable,
        true_probability, subgroup`` (the planted rule that applied, or
        ``"baseline"``).
    params
        The parameters used.
    n_screened
        Patients screened, including screen failures.
    """

    cohort: Cohort
    truth: pd.DataFrame
    params: DrupParams
    n_screened: int

    def cohort_table(self) -> pd.DataFrame:
        """One row per cohort: counts, benefit in stage 1 and overall, status."""
        outcomes = self.cohort.treatments[["sample_id", "responded"]]
        rows = self.truth.merge(outcomes, on="sample_id", how="left")
        evaluable = rows[rows["evaluable"]]
        first = evaluable[evaluable["stage"] == 1].groupby("cohort_id")["responded"]
        table = pd.DataFrame(
            {
                "n_enrolled": rows.groupby("cohort_id").size(),
                "n_evaluable": evaluable.groupby("cohort_id").size(),
                "n_benefit_stage1": first.sum(),
                "n_benefit": evaluable.groupby("cohort_id")["responded"].sum(),
            }
        ).fillna(0)
        table = table.astype("int64")
        table["status"] = [
            _cohort_status(n, b1, self.params)
            for n, b1 in zip(
                table["n_evaluable"], table["n_benefit_stage1"], strict=True
            )
        ]
        return table.reset_index()


def _cohort_status(n_evaluable: int, stage1_benefit: int, params: DrupParams) -> str:
    if n_evaluable >= params.stage2_size:
        return "completed"
    if n_evaluable < params.stage1_size:
        return "stage 1 open"
    if stage1_benefit >= params.stage1_min_benefit:
        return "stage 2 open"
    return "closed after stage 1"


# --- source profiles ------------------------------------------------------------


@dataclass(frozen=True)
class _Pools:
    """GDSC profiles by simulated tumour type and MSI status."""

    profiles: tuple[Profile, ...]
    events: tuple[frozenset[EventKey], ...]
    by_type: Mapping[tuple[str, bool], np.ndarray]


def _source_pools(source: Cohort, params: DrupParams) -> _Pools:
    profiles = source.profiles
    events = tuple(frozenset((a.gene, a.kind) for a in p.alterations) for p in profiles)
    types = np.array([p.tumour_type for p in profiles])
    msi = np.array([bool(p.msi_high) for p in profiles])
    by_type: dict[tuple[str, bool], np.ndarray] = {}
    missing = []
    for simulated in params.tumour_type_weights:
        wanted = params.source_types.get(simulated, (simulated,))
        rows = np.flatnonzero(np.isin(types, wanted))
        if rows.size == 0:
            missing.append(simulated)
        for status in (False, True):
            same = rows[msi[rows] == status]
            by_type[simulated, status] = same if same.size else rows
    if missing:
        raise ValueError(
            f"source cohort has no profile to resample for tumour type(s) {missing} "
            "(see DrupParams.source_types); pass the GDSC cohort (load_gdsc) or "
            "remove them from tumour_type_weights"
        )
    return _Pools(profiles=profiles, events=events, by_type=by_type)


# --- one screened patient -------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    tumour_type: str
    line: int
    events: frozenset[EventKey]
    dropped: frozenset[EventKey]
    braf_change: str | None
    fusions: tuple[Alteration, ...]
    msi: bool
    tmb: float
    hrd: float

    @property
    def braf_v600(self) -> bool:
        return self.braf_change is not None and self.braf_change.startswith("V600")


def _draw_candidate(
    rng: np.random.Generator, tumour_type: str, pools: _Pools, params: DrupParams
) -> _Candidate:
    msi = bool(
        rng.random()
        < params.msi_prevalence.get(tumour_type, params.msi_prevalence_default)
    )
    rows = pools.by_type[tumour_type, msi]
    line = int(rows[rng.integers(rows.size)])
    events = set(pools.events[line])
    dropped = set()
    for key in sorted(events):
        keep = params.cell_line_event_keep.get(f"{key[0]} {key[1]}")
        if keep is not None and rng.random() >= keep:
            dropped.add(key)
    events -= dropped
    braf_change = _draw_braf_change(rng, tumour_type, events, params)
    fusions = _draw_fusions(rng, tumour_type, params)
    events |= {(g, "fusion") for f in fusions for g in (f.gene, f.partner_gene) if g}
    median = (
        params.tmb_median_msi_mut_per_mb
        if msi
        else params.tmb_median_mut_per_mb.get(
            tumour_type, params.tmb_median_default_mut_per_mb
        )
    )
    # Rounded as a report would give them, so the profile shows what the truth used.
    tmb = round(median * math.exp(params.tmb_log_sd * rng.standard_normal()), 2)
    return _Candidate(
        tumour_type=tumour_type,
        line=line,
        events=frozenset(events),
        dropped=frozenset(dropped),
        braf_change=braf_change,
        fusions=fusions,
        msi=msi,
        tmb=tmb,
        hrd=_draw_hrd(rng, tumour_type, events, params),
    )


def _draw_braf_change(
    rng: np.random.Generator,
    tumour_type: str,
    events: set[EventKey],
    params: DrupParams,
) -> str | None:
    if ("BRAF", "mutation") not in events:
        return None
    v600 = params.braf_v600_fraction.get(tumour_type, params.braf_v600_fraction_default)
    if rng.random() < v600:
        return "V600E"
    return _BRAF_NON_V600[int(rng.integers(len(_BRAF_NON_V600)))]


def _draw_fusions(
    rng: np.random.Generator, tumour_type: str, params: DrupParams
) -> tuple[Alteration, ...]:
    fusions = []
    for family, partners in _FUSION_PARTNERS.items():
        prevalence = params.fusion_prevalence[family]
        if rng.random() < prevalence.get(tumour_type, prevalence.get("default", 0.0)):
            gene, partner = partners[int(rng.integers(len(partners)))]
            fusions.append(Alteration(kind="fusion", gene=gene, partner_gene=partner))
    return tuple(fusions)


def _draw_hrd(
    rng: np.random.Generator,
    tumour_type: str,
    events: set[EventKey],
    params: DrupParams,
) -> float:
    if any(key in events for key in _BRCA_EVENTS):
        p_high = params.brca_hrd_high_fraction
    else:
        p_high = params.hrd_high_prevalence.get(
            tumour_type, params.hrd_high_prevalence_default
        )
    cut = params.hrd_high_score
    score = params.hrd_sd * float(rng.standard_normal())
    if rng.random() < p_high:
        return round(max(cut, params.hrd_high_mean + score), 1)
    return round(min(max(params.hrd_low_mean + score, 0.0), cut - 0.1), 1)


def _biomarkers_of(candidate: _Candidate, params: DrupParams) -> list[str]:
    """The biomarkers (keys of `BIOMARKER_DRUGS`) a screened patient carries."""
    found = []
    if candidate.msi:
        found.append("MSI-high")
    elif candidate.tmb >= params.tmb_high_mut_per_mb:
        found.append("TMB-high")
    if candidate.braf_change is not None:
        found.append("BRAF V600" if candidate.braf_v600 else "BRAF non-V600")
    brca = any(key in candidate.events for key in _BRCA_EVENTS)
    if brca or candidate.hrd >= params.hrd_high_score:
        found.append("BRCA1/2 or HRD")
    found += [
        name
        for name, keys in _EVENT_BIOMARKERS.items()
        if any(key in candidate.events for key in keys)
    ]
    return found


# --- matching and enrolment -------------------------------------------------------


@dataclass
class _CohortState:
    log_odds: float  # the cohort's baseline effect
    n_evaluable: int = 0
    n_benefit: int = 0
    open: bool = True


def _cohort_log_odds(seed: int, cohort_id: str, sd: float) -> float:
    """The cohort's effect: fixed by seed and id, whatever the enrolment order."""
    key = int.from_bytes(hashlib.sha256(cohort_id.encode()).digest()[:8], "big")
    return sd * float(np.random.default_rng([seed, 2, key]).standard_normal())


@dataclass(frozen=True)
class _Patient:
    candidate: _Candidate
    biomarker: str
    drug: str
    cohort_id: str
    stage: int
    evaluable: bool
    responded: bool
    probability: float
    subgroup: str
    eta: float | None  # baseline log-odds without the intercept; None if planted


@dataclass
class _Enrolment:
    seed: int
    cohorts: dict[str, _CohortState] = field(default_factory=dict)
    drug_use: Counter[str] = field(default_factory=Counter)
    patients: list[_Patient] = field(default_factory=list)
    n_screened: int = 0


def _cohort_id(tumour_type: str, biomarker: str, drug: str) -> str:
    return f"{tumour_type}|{biomarker}|{drug}"


def _choose(
    rng: np.random.Generator,
    candidate: _Candidate,
    state: _Enrolment,
    params: DrupParams,
) -> tuple[str, str] | None:
    """(biomarker, drug) for a screened patient, or None when nothing is open."""
    tumour_type = candidate.tumour_type
    excluded = set(params.on_label.get(tumour_type, ()))
    options = []
    for marker in _biomarkers_of(candidate, params):
        for drug in BIOMARKER_DRUGS[marker]:
            cohort = state.cohorts.get(_cohort_id(tumour_type, marker, drug))
            if drug not in excluded and (cohort is None or cohort.open):
                options.append((marker, drug))
    if not options:
        return None
    best = min(params.evidence_rank[marker] for marker, _ in options)
    options = [o for o in options if params.evidence_rank[o[0]] == best]
    running = [o for o in options if _cohort_id(tumour_type, *o) in state.cohorts]
    if not running:
        # A new cohort opens for the matching drug used least so far.
        fewest = min(state.drug_use[drug] for _, drug in options)
        running = [o for o in options if state.drug_use[o[1]] == fewest]
    return running[int(rng.integers(len(running)))]


def _planted_subgroup(
    candidate: _Candidate, drug: str, params: DrupParams
) -> str | None:
    """The planted subgroup (a key of `DrupParams.subgroup_benefit`) that applies."""
    events, tumour_type = candidate.events, candidate.tumour_type
    tmb_high = candidate.tmb >= params.tmb_high_mut_per_mb
    if drug in PD1_DRUGS and candidate.msi:
        return "msi_pd1"
    if drug in ICI_DRUGS and tmb_high and not candidate.msi:
        if tumour_type == "colorectal":
            return "tmb_ici_colorectal_mss"
        if candidate.tmb >= params.tmb_very_high_mut_per_mb:
            return "tmb_very_high_ici"
    if drug in BRAF_MEK_DRUGS and candidate.braf_v600:
        if tumour_type == "colorectal":
            return "braf_v600_colorectal"
        rare = tumour_type in params.rare_tumour_types
        return "braf_v600_rare" if rare else "braf_v600_common"
    if drug in CDK46_DRUGS:
        return "cdk46_pathway"
    if drug in PARP_DRUGS:
        brca = any(key in events for key in _BRCA_EVENTS)
        if candidate.hrd >= params.hrd_high_score:
            return "parp_brca_hrd_high" if brca else "parp_hrd_high"
        return "parp_brca_hrd_low" if brca else None
    if drug in HER2_DRUGS and ("ERBB2", "amplification") in events:
        ras = any(key in events for key in _RAS_EVENTS)
        gi = tumour_type in _GI_ERBB2_TYPES
        return "erbb2_amp_gi_ras_wt" if gi and not ras else "erbb2_amp_other"
    if drug in NTRK_DRUGS and "NTRK fusion" in _biomarkers_of(candidate, params):
        return "ntrk_fusion"
    if drug == "everolimus" and any(key in events for key in _TSC_EVENTS):
        return "tsc_everolimus"
    return None


def _baseline_eta(
    candidate: _Candidate, biomarker: str, drug: str, params: DrupParams
) -> float:
    """Baseline log-odds of benefit, without the calibrated intercept."""
    eta = params.evidence_log_odds[params.evidence_rank[biomarker]]
    if ("TP53", "mutation") in candidate.events:
        eta += params.tp53_log_odds
    targeted = drug not in ICI_DRUGS and biomarker not in _MAPK_BIOMARKERS
    if targeted and any(key in candidate.events for key in _RAS_EVENTS):
        eta += params.ras_comutation_log_odds
    return eta


def _treat(
    rng: np.random.Generator,
    candidate: _Candidate,
    choice: tuple[str, str],
    state: _Enrolment,
    *,
    params: DrupParams,
    intercept: float,
) -> _Patient:
    biomarker, drug = choice
    cohort_id = _cohort_id(candidate.tumour_type, biomarker, drug)
    if cohort_id not in state.cohorts:
        effect = _cohort_log_odds(state.seed, cohort_id, params.cohort_log_odds_sd)
        state.cohorts[cohort_id] = _CohortState(log_odds=effect)
    cohort = state.cohorts[cohort_id]
    subgroup = _planted_subgroup(candidate, drug, params)
    eta: float | None = None
    if subgroup is not None:
        probability = params.subgroup_benefit[subgroup]
    else:
        eta = _baseline_eta(candidate, biomarker, drug, params) + cohort.log_odds
        probability = 1.0 / (1.0 + math.exp(-(intercept + eta)))
    stage = 1 if cohort.n_evaluable < params.stage1_size else 2
    evaluable = bool(rng.random() < params.evaluable_fraction)
    responded = evaluable and bool(rng.random() < probability)
    if evaluable:
        cohort.n_evaluable += 1
        cohort.n_benefit += responded
        failed = cohort.n_benefit < params.stage1_min_benefit
        if cohort.n_evaluable == params.stage1_size and failed:
            cohort.open = False
        if cohort.n_evaluable >= params.stage2_size:
            cohort.open = False
    state.drug_use[drug] += 1
    return _Patient(
        candidate=candidate,
        biomarker=biomarker,
        drug=drug,
        cohort_id=cohort_id,
        stage=stage,
        evaluable=evaluable,
        responded=responded,
        probability=probability,
        subgroup=subgroup or BASELINE,
        eta=eta,
    )


def _enrol(
    seed: int, *, pools: _Pools, params: DrupParams, intercept: float
) -> _Enrolment:
    """Screen patients until `params.n_patients` are enrolled."""
    rng = np.random.default_rng(seed)
    types = list(params.tumour_type_weights)
    weights = np.array([params.tumour_type_weights[t] for t in types])
    weights = weights / weights.sum()
    state = _Enrolment(seed=seed)
    limit = params.n_patients * params.max_screens_per_patient
    while len(state.patients) < params.n_patients:
        if state.n_screened > limit:
            raise RuntimeError(
                f"screened {state.n_screened} patients but enrolled only "
                f"{len(state.patients)}; too few matching cohorts remain open"
            )
        tumour_type = types[int(rng.choice(len(types), p=weights))]
        for _ in range(params.max_screens_per_patient):
            state.n_screened += 1
            candidate = _draw_candidate(rng, tumour_type, pools, params)
            choice = _choose(rng, candidate, state, params)
            if choice is None or rng.random() >= params.referral_weight[choice[0]]:
                continue
            patient = _treat(
                rng, candidate, choice, state, params=params, intercept=intercept
            )
            state.patients.append(patient)
            break
    return state


def _calibrated_intercept(
    patients: Sequence[_Patient], *, target: float, current: float
) -> float:
    """Intercept giving evaluable patients a mean true probability of `target`."""
    evaluable = [p for p in patients if p.evaluable]
    etas = np.array([p.eta for p in evaluable if p.eta is not None], dtype=float)
    planted = sum(p.probability for p in evaluable if p.eta is None)
    needed = target * len(evaluable) - planted
    if etas.size == 0 or not 0 < needed < etas.size:
        logger.warning(
            "baseline cannot reach clinical benefit %.3f (planted subgroups give "
            "%.1f of %.1f needed benefits); intercept kept at %.2f",
            target,
            planted,
            target * len(evaluable),
            current,
        )
        return current
    low, high = -20.0, 20.0
    for _ in range(60):
        middle = (low + high) / 2
        total = float(np.sum(1.0 / (1.0 + np.exp(-(etas + middle)))))
        low, high = (middle, high) if total < needed else (low, middle)
    return (low + high) / 2


# --- outputs ----------------------------------------------------------------------


def simulate_drup(
    *, seed: int, params: DrupParams | None = None, source: Cohort
) -> SimulatedCohort:
    """Simulate a DRUP-shaped cohort whose true response probabilities are known.

    Parameters
    ----------
    seed
        Seed of every random draw; the same seed, parameters and source give the
        same cohort (same `Cohort.data_hash`).
    params
        Simulator parameters; `DrupParams()` (DRUP's published shape) by default.
    source
        Cohort whose profiles are resampled per tumour type: the GDSC cell lines
        (`load_gdsc`). Required: the simulator reads no files itself.

    Returns
    -------
    SimulatedCohort
        The cohort (profiles of all enrolled patients, treatments of the evaluable
        ones) and the truth table of every enrolled patient.
    """
    params = params or DrupParams()
    started = time.perf_counter()
    pools = _source_pools(source, params)
    target = params.target_clinical_benefit
    intercept = math.log(target / (1 - target))
    for _ in range(params.calibration_rounds):
        trial = _enrol(seed, pools=pools, params=params, intercept=intercept)
        intercept = _calibrated_intercept(
            trial.patients, target=target, current=intercept
        )
    state = _enrol(seed, pools=pools, params=params, intercept=intercept)
    simulated = _assemble(
        state, pools=pools, params=params, rng=np.random.default_rng([seed, 1])
    )
    _log_summary(simulated, intercept=intercept, seconds=time.perf_counter() - started)
    return simulated


def _assemble(
    state: _Enrolment, *, pools: _Pools, params: DrupParams, rng: np.random.Generator
) -> SimulatedCohort:
    patients = state.patients
    ids = [f"DRUP-{number:06d}" for number in rng.permutation(len(patients)) + 1]
    span = (params.end_date - params.start_date).days
    days = np.sort(rng.integers(0, span + 1, size=len(patients)))
    dates = [(params.start_date + timedelta(days=int(d))).isoformat() for d in days]
    profiles = tuple(
        _profile(sample_id, p.candidate, pools)
        for sample_id, p in zip(ids, patients, strict=True)
    )
    rows = []
    for sample_id, start, patient in zip(ids, dates, patients, strict=True):
        if patient.evaluable:
            best = _best_response(rng, patient.responded, params)
            exceptional = (
                patient.responded and rng.random() < params.exceptional_given[best]
            )
            rows.append((sample_id, patient.drug, int(patient.responded), start,
                         patient.cohort_id, best, True, int(exceptional)))  # fmt: skip
    treatments = pd.DataFrame(
        rows,
        columns=["sample_id", "drug", "responded", "start_date", "cohort_id",
                 "best_response", "evaluable", "exceptional"],
    )  # fmt: skip
    return SimulatedCohort(
        cohort=Cohort(profiles=profiles, treatments=treatments),
        truth=_truth_table(ids, patients, params),
        params=params,
        n_screened=state.n_screened,
    )


def _profile(sample_id: str, candidate: _Candidate, pools: _Pools) -> Profile:
    alterations = list(candidate.fusions)
    for event in pools.profiles[candidate.line].alterations:
        key = (event.gene, event.kind)
        if key in candidate.dropped:
            continue
        if key == ("BRAF", "mutation") and candidate.braf_change is not None:
            event = event.model_copy(update={"protein_change": candidate.braf_change})
        alterations.append(event)
    alterations.sort(
        key=lambda a: (a.kind, a.gene, a.partner_gene or "", a.protein_change or "")
    )
    return Profile(
        sample_id=sample_id,
        tumour_type=candidate.tumour_type,
        alterations=tuple(alterations),
        tmb_mut_per_mb=candidate.tmb,
        msi_high=candidate.msi,
        hrd_score=candidate.hrd,
    )


def _best_response(
    rng: np.random.Generator, responded: bool, params: DrupParams
) -> str:
    if not responded:
        return "PD"
    if rng.random() < params.objective_response_share:
        return "CR" if rng.random() < params.complete_response_share else "PR"
    return "SD>=16w"


def _truth_table(
    ids: Sequence[str], patients: Sequence[_Patient], params: DrupParams
) -> pd.DataFrame:
    rare = set(params.rare_tumour_types)
    return pd.DataFrame(
        {
            "sample_id": list(ids),
            "drug": [p.drug for p in patients],
            "cohort_id": [p.cohort_id for p in patients],
            "tumour_type": [p.candidate.tumour_type for p in patients],
            "rare_cancer": [p.candidate.tumour_type in rare for p in patients],
            "biomarker": [p.biomarker for p in patients],
            "stage": [p.stage for p in patients],
            "evaluable": [p.evaluable for p in patients],
            "true_probability": [p.probability for p in patients],
            "subgroup": [p.subgroup for p in patients],
        }
    )


def _log_summary(
    simulated: SimulatedCohort, *, intercept: float, seconds: float
) -> None:
    treatments, truth = simulated.cohort.treatments, simulated.truth
    logger.info(
        "simulated DRUP: %d patients (%d screened), %d evaluable, %d drugs, "
        "%d cohorts, rare %.3f, clinical benefit %.3f (true mean %.3f), "
        "objective response %.3f, exceptional %.3f, baseline intercept %.2f (%.1f s)",
        len(truth),
        simulated.n_screened,
        len(treatments),
        treatments["drug"].nunique(),
        truth["cohort_id"].nunique(),
        truth["rare_cancer"].mean(),
        treatments["responded"].mean(),
        truth.loc[truth["evaluable"], "true_probability"].mean(),
        treatments["best_response"].isin(["CR", "PR"]).mean(),
        treatments["exceptional"].mean(),
        intercept,
        seconds,
    )

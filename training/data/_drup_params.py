"""`DrupParams`: every number of the DRUP simulator, with its default tables.

Each table's comment says where its numbers come from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

from features import DRUP_DRUGS
from training.data._drup_biomarkers import (
    _FUSION_PARTNERS,
    BIOMARKER_DRUGS,
    BRAF_MEK_DRUGS,
    CDK46_DRUGS,
    ICI_DRUGS,
    PARP_DRUGS,
    PD1_DRUGS,
    SUBGROUPS,
)

# ---------------------------------------------------------------------------------
# Default parameter tables. Every number says where it comes from: "DRUP <year>" is
# a published DRUP fact; "row N" is a row of published_cohort_summaries/
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
# Median TMB (mut/Mb) per type: MSK-IMPACT medians of Samstein 2019 (cBioPortal
# study tmb_mskcc_2018, computed once, not shipped): bladder 8.8, breast 3.9,
# oesophagus/stomach 5.9, glioma 4.4, head and neck 5.9, melanoma 9.8, NSCLC 7.0,
# renal 3.9. Colorectal (MSK 7.9 is MSI-enriched) and small-cell lung are
# assumptions; others use the default.
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
# best-ranked one (DRUP: "the drug with the highest evidence level"). Ranks
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
    stage1_size: int = Field(default=8, ge=1)  # DRUP protocol
    stage2_size: int = Field(default=24, ge=1)  # DRUP protocol
    stage1_min_benefit: int = Field(default=1, ge=1)  # DRUP protocol
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
        unknown = {d for drugs in self.on_label.values() for d in drugs} - set(
            DRUP_DRUGS
        )
        if unknown:
            raise ValueError(f"on_label names unknown drug(s) {sorted(unknown)}")
        for name in ("subgroup_benefit", "referral_weight", "msi_prevalence",
                     "exceptional_given", "cell_line_event_keep"):  # fmt: skip
            values = getattr(self, name).values()
            if any(not 0 <= v <= 1 for v in values):
                raise ValueError(f"{name} values must be probabilities in [0, 1]")
        return self


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

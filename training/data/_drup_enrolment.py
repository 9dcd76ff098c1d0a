"""DRUP enrolment: matching patients to cohorts, true benefit, two-stage rule.

Steps 4 to 6 of the simulation (`training.data._simulate`).
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

from training.data._drup_biomarkers import (
    _BRCA_EVENTS,
    _GI_ERBB2_TYPES,
    _MAPK_BIOMARKERS,
    _RAS_EVENTS,
    _TSC_EVENTS,
    BASELINE,
    BIOMARKER_DRUGS,
    BRAF_MEK_DRUGS,
    CDK46_DRUGS,
    HER2_DRUGS,
    ICI_DRUGS,
    NTRK_DRUGS,
    PARP_DRUGS,
    PD1_DRUGS,
)
from training.data._drup_params import DrupParams
from training.data._drup_patients import (
    _biomarkers_of,
    _Candidate,
    _draw_candidate,
    _Pools,
)

logger = logging.getLogger(__name__)


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
    # The probability without the cohort's random effect: what a model can know
    # of a patient in a cohort it has never seen (the new-cohort ceiling).
    new_cohort_probability: float
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
        probability = new_cohort = params.subgroup_benefit[subgroup]
    else:
        baseline = _baseline_eta(candidate, biomarker, drug, params)
        eta = baseline + cohort.log_odds
        probability = float(expit(intercept + eta))
        new_cohort = float(expit(intercept + baseline))
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
        new_cohort_probability=new_cohort,
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
        total = float(np.sum(expit(etas + middle)))
        low, high = (middle, high) if total < needed else (low, middle)
    return (low + high) / 2

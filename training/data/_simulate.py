"""A DRUP-shaped cohort simulator with known truth (two-stage cohorts of 8 then 24,
clinical benefit near 35%, 37 drugs).

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

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd

from features import Profile
from training.data._cohort import Cohort
from training.data._drup_enrolment import (
    _calibrated_intercept,
    _enrol,
    _Enrolment,
    _Patient,
)
from training.data._drup_params import DrupParams
from training.data._drup_patients import _Candidate, _Pools, _source_pools

logger = logging.getLogger(__name__)


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
        true_probability, new_cohort_probability, subgroup``: the probability
        with and without the cohort's random effect, and the planted rule that
        applied (or ``"baseline"``).
    params
        The parameters used.
    n_screened
        Patients screened, including screen failures.
    """

    cohort: Cohort
    truth: pd.DataFrame
    params: DrupParams
    n_screened: int


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
            "new_cohort_probability": [p.new_cohort_probability for p in patients],
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

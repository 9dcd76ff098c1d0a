"""The gate's verdict on a challenger, measured without MLflow: the drift of the
new episodes, champion and challenger on them, and every check.

`training.retraining.retrain` calls it with the registered champion;
`benchmarks/bench_gate.py` with a champion it has just trained, to measure how
often the gate refuses genuine batches and promotes corrupted ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from models import ResponderModel
from training.config import Config
from training.data import Cohort
from training.fitting import CrossValidation
from training.retraining._drift import DriftReport, drift_report
from training.retraining._gate import GateResult, HoldOutMetrics, apply_gate
from training.retraining._history import cohort_outcomes, drug_histories
from training.retraining._holdout import (
    chance_median,
    compare_holdout,
    cv_median,
    holdout_frame,
    rate_change,
)


@dataclass(frozen=True)
class Assessment:
    """The gate's result, the metrics it judged and the drift report."""

    gate: GateResult
    holdout: HoldOutMetrics
    drift: DriftReport


def assess(
    cohort: Cohort,
    cv: CrossValidation,
    challenger: ResponderModel,
    *,
    champion: ResponderModel,
    reference: Cohort,
    config: Config,
) -> Assessment:
    """Judge ``challenger`` (trained on ``cohort``, cross-validated as ``cv``)
    against ``champion`` (trained on ``reference``) on the episodes of ``cohort``
    that ``reference`` lacks."""
    settings, training = config.gate, config.training
    # The drift of the new episodes (those the champion never saw) from its data.
    drift = drift_report(reference, cohort, new_only=True)
    frame = holdout_frame(
        cv, cohort, reference, champion=champion, challenger=challenger
    )
    metrics = compare_holdout(
        frame, champion=champion.metadata, challenger=challenger.metadata,
        n_bootstrap=training.n_bootstrap, seed=training.seed, alpha=settings.alpha,
        drug_margin=settings.drug_auroc_margin,
    )  # fmt: skip
    median, drugs = chance_median(
        cv, min_episodes=settings.drug_min_episodes,
        min_events=settings.drug_min_events, n_bootstrap=training.n_bootstrap,
        seed=training.seed, alpha=settings.alpha,
    )  # fmt: skip
    metrics = replace(
        metrics, cv_auroc_median=median, cv_auroc_median_drugs=len(drugs),
        cv_auroc_median_champion=cv_median(champion.metadata, drugs),
        response_rate=rate_change(drift),
        drug_history=drug_histories(
            *cohort_outcomes(frame, cohort, reference), seed=training.seed
        ),
    )  # fmt: skip
    return Assessment(apply_gate(metrics, settings=settings), metrics, drift)

"""The evaluation protocol: folds -> model and baselines out of fold -> metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from features import canonical_tumour_type
from training.data import Cohort
from training.evaluation._baselines import BASELINES, fit_baselines
from training.evaluation._metrics import MIN_EVENTS, score_subsets, summarise_groups
from training.evaluation._ranking import paired_auroc, ranking_metrics
from training.fitting import CrossValidation, FitPlan, cross_validate_cohort

logger = logging.getLogger(__name__)

DECISIONS = frozenset({"rule"})  # 0/1 decisions: no calibration metrics
TRUTH = "truth"  # simulated cohorts: the true probability, the ceiling


@dataclass(frozen=True)
class Evaluation:
    """One split's out-of-fold predictions and their metrics.

    ``predictions`` has one row per scored episode (``sample_id``, ``drug``,
    ``tumour_type``, ``responded``, ``fold`` and a column per prediction); it
    holds sample ids and stays in memory. ``metrics`` holds aggregates only.
    """

    split: str
    predictions: pd.DataFrame
    metrics: dict[str, Any]
    cv: CrossValidation
    columns: tuple[str, ...]


def evaluate_folds(
    cohort: Cohort,
    *,
    plan: FitPlan,
    folds: pd.Series,
    split: str,
    truth: pd.DataFrame | None = None,
) -> Evaluation:
    """Cross-validate the model and fit every baseline on the same ``folds``,
    then score the held-out episodes (see `training.evaluation` for the parts)."""
    started = time.perf_counter()
    config, knowledge = plan.config, plan.knowledge
    cv = cross_validate_cohort(cohort, plan=plan, folds=folds)
    baselines = fit_baselines(
        cv.oof, cohort.profiles, folds=folds, knowledge=knowledge,
        settings=config.training, min_count=config.features.min_count,
    )  # fmt: skip
    fit_seconds = time.perf_counter() - started
    frame = prediction_frame(cv, baselines, cohort, folds=folds, truth=truth)
    columns: tuple[str, ...] = ("model", "logistic", "rate_shrunk", "rate", "rule")
    columns += (TRUTH,) if truth is not None else ()
    metrics = score_predictions(
        frame, columns, n_bootstrap=config.training.n_bootstrap,
        seed=config.training.seed, n_jobs=config.training.n_jobs,
    )  # fmt: skip
    metrics["ranking"] = ranking_metrics(frame, cohort, knowledge=knowledge)
    metrics["paired"] = {
        baseline: paired_auroc(
            frame,
            "model",
            baseline,
            n_bootstrap=config.training.n_bootstrap,
            seed=config.training.seed,
        )
        for baseline in ("rate_shrunk", "biomarker")
    }
    fitted = frame.groupby("drug")["logistic_fitted"].mean()
    for drug, share in fitted.items():
        metrics["drugs"][str(drug)]["logistic_fitted"] = float(share)
    metrics["seconds"] = {
        "fit": round(fit_seconds, 1),
        "metrics": round(time.perf_counter() - started - fit_seconds, 1),
    }
    logger.info("%s split evaluated: %s", split, metrics["seconds"])
    return Evaluation(split, frame, metrics, cv, columns)


def prediction_frame(
    cv: CrossValidation,
    baselines: pd.DataFrame,
    cohort: Cohort,
    *,
    folds: pd.Series,
    truth: pd.DataFrame | None,
) -> pd.DataFrame:
    """Held-out episodes with the model's, each baseline's (and the true)
    probability; episodes the model did not score are left out."""
    types = {p.sample_id: canonical_tumour_type(p.tumour_type) for p in cohort.profiles}
    oof = cv.oof[["sample_id", "drug", "responded", "per_drug", "pooled"]]
    frame = oof.assign(
        tumour_type=oof["sample_id"].map(types),
        fold=folds.reindex(oof["sample_id"]).fillna(-1).astype(int).to_numpy(),
        model=cv.predictions().to_numpy(),
        **{name: baselines[name].to_numpy() for name in BASELINES},
        logistic_fitted=baselines["logistic_fitted"].to_numpy(),
    )
    if truth is not None:
        known = truth[["sample_id", "drug", "true_probability"]]
        frame = frame.merge(
            known.rename(columns={"true_probability": TRUTH}),
            on=["sample_id", "drug"], how="left", validate="one_to_one",
        )  # fmt: skip
    scored = frame["model"].notna() & (frame["fold"] >= 0)
    return frame[scored].reset_index(drop=True)


def score_predictions(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    n_bootstrap: int,
    seed: int,
    min_events: int = MIN_EVENTS,
    n_jobs: int = 1,
) -> dict[str, Any]:
    """Counts, metrics with 95% intervals and curves: overall, per drug and per
    tumour type, and the spread of the per-drug and per-type values."""
    scored = score_subsets(
        frame, columns, by=("drug", "tumour_type"), curves=("overall", "drug"),
        decisions=DECISIONS, n_bootstrap=n_bootstrap, seed=seed, n_jobs=n_jobs,
    )  # fmt: skip
    drugs, types = scored["drug"], scored["tumour_type"]
    return {
        "columns": list(columns),
        "min_events": min_events,
        "overall": scored["overall"],
        "summary": {
            "drugs": summarise_groups(drugs, columns, min_events=min_events),
            "tumour_types": summarise_groups(types, columns, min_events=min_events),
        },
        "drugs": drugs,
        "tumour_types": types,
    }


def auroc_table(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Per drug: episodes, events and the AUROC of each column where it has
    predictions (NaN where a column has none or one outcome only)."""
    rows = []
    for drug, group in frame.groupby("drug", sort=True):
        row: dict[str, Any] = {"drug": drug, "n": len(group)}
        row["events"] = int(group["responded"].sum())
        for column in columns:
            scored = group.dropna(subset=[column])
            y = scored["responded"].to_numpy()
            both = len(y) > 0 and 0 < y.sum() < len(y)
            row[column] = roc_auc_score(y, scored[column]) if both else np.nan
        rows.append(row)
    return pd.DataFrame(rows)

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
from training.config import Config
from training.data import Cohort
from training.evaluation._baselines import (
    BASELINES,
    COHORT_BASELINES,
    fit_baselines,
)
from training.evaluation._metrics import MIN_EVENTS, score_subsets, summarise_groups
from training.evaluation._ranking import paired_auroc, ranking_metrics
from training.evaluation._uncertainty import (
    held_out_uncertainty,
    summarise_uncertainty,
)
from training.fitting import CrossValidation, FitPlan, cross_validate_cohort

logger = logging.getLogger(__name__)

DECISIONS = frozenset({"rule"})  # 0/1 decisions: no calibration metrics
MODEL_COLUMNS = ("model", "logistic", "rate_shrunk", "rate", "rule")
TRUTH = "truth"  # simulated cohorts: the true probability, the ceiling
# ... and without the cohort's random effect: the ceiling for a new cohort
NEW_COHORT = "truth_new_cohort"


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
    return evaluate_origins(
        cohort, [(cohort, folds)], plan=plan, split=split, truth=truth
    )


def evaluate_origins(
    cohort: Cohort,
    origins: Sequence[tuple[Cohort, pd.Series]],
    *,
    plan: FitPlan,
    split: str,
    truth: pd.DataFrame | None = None,
) -> Evaluation:
    """:func:`evaluate_folds` over several (cohort, folds) origins, e.g. the
    blocks of `prospective_origins`, each fitted on its own cohort; the held-out
    episodes of all origins are scored together (an origin's folds are numbered
    after the previous origin's). ``cohort`` holds every origin's samples."""
    started = time.perf_counter()
    config, knowledge = plan.config, plan.knowledge
    frames, first_fold = [], 0
    for fitted, folds in origins:
        cv = cross_validate_cohort(fitted, plan=plan, folds=folds)
        baselines = fit_baselines(
            cv.oof, fitted.profiles, folds=folds, knowledge=knowledge,
            settings=config.training, min_count=config.features.min_count,
            cohorts=_cohorts_of(fitted, cv.oof),
        )  # fmt: skip
        frame = prediction_frame(cv, baselines, fitted, folds=folds, truth=truth)
        frames.append(frame.assign(fold=frame["fold"] + first_fold))
        first_fold += int(folds.max()) + 1
    fit_seconds = time.perf_counter() - started
    frame = pd.concat(frames, ignore_index=True)
    columns = _columns(frame)
    metrics = score_predictions(
        frame, columns, n_bootstrap=config.training.n_bootstrap,
        seed=config.training.seed, n_jobs=config.training.n_jobs,
    )  # fmt: skip
    metrics["ranking"] = ranking_metrics(frame, cohort, knowledge=knowledge)
    compared = ("rate_shrunk", "biomarker", *columns[len(MODEL_COLUMNS) :])
    metrics["paired"] = {
        baseline: paired_auroc(
            frame,
            "model",
            baseline,
            n_bootstrap=config.training.n_bootstrap,
            seed=config.training.seed,
        )
        for baseline in compared
        if baseline not in (TRUTH, NEW_COHORT)
    }
    if len(origins) == 1 and frame["fold"].nunique() > 1:
        metrics["uncertainty"] = _measured_uncertainty(cv, cohort, frame, config=config)
    shares = frame.groupby("drug")["logistic_fitted"].mean()
    for drug, share in shares.items():
        metrics["drugs"][str(drug)]["logistic_fitted"] = float(share)
    metrics["seconds"] = {
        "fit": round(fit_seconds, 1),
        "metrics": round(time.perf_counter() - started - fit_seconds, 1),
    }
    logger.info("%s split evaluated: %s", split, metrics["seconds"])
    return Evaluation(split, frame, metrics, cv, columns)


def _measured_uncertainty(
    cv: CrossValidation, cohort: Cohort, frame: pd.DataFrame, *, config: Config
) -> dict[str, Any]:
    """Coverage of the conformal sets and the score-bin intervals on held-out
    folds (`held_out_uncertainty`), against the true probability where known."""
    held_out = held_out_uncertainty(cv, cohort, settings=config.uncertainty)
    truth = frame[["sample_id", "drug", TRUTH]].dropna()
    if len(truth):
        held_out = held_out.merge(truth, on=["sample_id", "drug"], how="left")
    return summarise_uncertainty(held_out, coverage=config.uncertainty.coverage)


def _cohorts_of(cohort: Cohort, oof: pd.DataFrame) -> pd.Series | None:
    # Each out-of-fold episode's cohort_id, where the cohort records one.
    if "cohort_id" not in cohort.treatments:
        return None
    key = cohort.treatments.set_index(["sample_id", "drug"])["cohort_id"]
    return key.reindex(pd.MultiIndex.from_frame(oof[["sample_id", "drug"]]))


def _columns(frame: pd.DataFrame) -> tuple[str, ...]:
    """The scored columns: the model and baselines, then the cohort baselines and
    the simulated truth (with and without the cohort's effect) where present."""
    extra = (*COHORT_BASELINES, TRUTH, NEW_COHORT)
    return MODEL_COLUMNS + tuple(c for c in extra if frame[c].notna().any())


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
        model=cv.held_out_predictions().to_numpy(),
        **{name: baselines[name].to_numpy() for name in BASELINES},
        **{
            name: baselines[name].to_numpy() if name in baselines else np.nan
            for name in COHORT_BASELINES
        },
        logistic_fitted=baselines["logistic_fitted"].to_numpy(),
    )
    names = {"true_probability": TRUTH, "new_cohort_probability": NEW_COHORT}
    known = pd.DataFrame(columns=["sample_id", "drug", *names])
    if truth is not None:
        known = truth[["sample_id", "drug", *(c for c in names if c in truth)]]
    frame = frame.merge(
        known.rename(columns=names), on=["sample_id", "drug"], how="left",
        validate="one_to_one",
    ).reindex(columns=[*frame.columns, TRUTH, NEW_COHORT])  # fmt: skip
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

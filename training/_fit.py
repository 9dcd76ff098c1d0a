"""Per-drug XGBoost training: grouped CV for the metrics, then a final fit."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xgboost as xgb
from tqdm.auto import tqdm

from features import Profile, ProfileVectorizer, canonical_tumour_type
from models import CvMetrics, DrugInfo
from training._config import TrainingConfig, XGBoostConfig
from training._cv import assign_folds, score_out_of_fold

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DrugFit:
    """A drug's final booster and what the bundle records about it."""

    booster: xgb.Booster
    info: DrugInfo


def fit_booster(
    X: np.ndarray, y: np.ndarray, *, params: XGBoostConfig, seed: int
) -> xgb.Booster:
    """Fit one binary:logistic booster with the configured hyper-parameters."""
    booster_params = {
        "objective": "binary:logistic",
        "eval_metric": "logloss",
        "tree_method": "hist",
        "max_depth": params.max_depth,
        "eta": params.learning_rate,
        "subsample": params.subsample,
        "colsample_bytree": params.colsample_bytree,
        "min_child_weight": params.min_child_weight,
        "lambda": params.reg_lambda,
        "nthread": params.n_jobs,
        "seed": seed,
    }
    matrix = xgb.DMatrix(X, label=y, missing=np.nan)
    return xgb.train(booster_params, matrix, num_boost_round=params.n_estimators)


def trainable_drugs(treatments: pd.DataFrame, *, settings: TrainingConfig) -> list[str]:
    """Drugs with enough labelled samples and enough of each outcome."""
    counts = treatments.groupby("drug")["responded"].agg(["size", "sum"])
    enough = (
        (counts["size"] >= settings.min_samples)
        & (counts["sum"] >= settings.min_responders)
        & (counts["size"] - counts["sum"] >= settings.min_responders)
    )
    skipped = int((~enough).sum())
    if skipped:
        logger.info("skipping %d drugs with too few samples or responders", skipped)
    return sorted(counts.index[enough])


def cross_validate(
    profiles: Sequence[Profile],
    treatments: pd.DataFrame,
    *,
    settings: TrainingConfig,
    params: XGBoostConfig,
    min_count: int,
) -> dict[str, CvMetrics]:
    """Out-of-fold metrics per drug in ``treatments``.

    The vectorizer's vocabulary is refitted on each fold's training samples, so no
    held-out sample shapes the features it is scored on.
    """
    folds = assign_folds(treatments, n_splits=settings.cv_folds, seed=settings.seed)
    by_drug = dict(tuple(treatments.groupby("drug")))
    sample_ids = [p.sample_id for p in profiles]
    fold_of = folds.reindex(sample_ids).to_numpy()
    row_of = pd.Series(np.arange(len(profiles)), index=sample_ids)
    oof = {drug: np.full(len(episodes), np.nan) for drug, episodes in by_drug.items()}
    for fold in tqdm(
        range(settings.cv_folds), desc="cross-validation folds", unit="fold"
    ):
        train_profiles = [
            p for p, f in zip(profiles, fold_of, strict=True) if f != fold
        ]
        vectorizer = ProfileVectorizer(min_count=min_count).fit(train_profiles)
        X = vectorizer.transform(profiles)
        for drug, episodes in tqdm(
            by_drug.items(), desc=f"fold {fold + 1}", leave=False
        ):
            rows = row_of[episodes["sample_id"]].to_numpy()
            test = fold_of[rows] == fold
            y = episodes["responded"].to_numpy()
            booster = fit_booster(
                X[rows[~test]], y[~test], params=params, seed=settings.seed
            )
            oof[drug][test] = booster.predict(
                xgb.DMatrix(X[rows[test]], missing=np.nan)
            )
    return {
        drug: score_out_of_fold(
            episodes["responded"].to_numpy(),
            oof[drug],
            n_bootstrap=settings.n_bootstrap,
            seed=settings.seed,
        )
        for drug, episodes in by_drug.items()
    }


def fit_final(
    profiles: Sequence[Profile],
    treatments: pd.DataFrame,
    *,
    vectorizer: ProfileVectorizer,
    cv: dict[str, CvMetrics],
    settings: TrainingConfig,
    params: XGBoostConfig,
) -> dict[str, DrugFit]:
    """Fit every drug's booster on all its labelled samples (one per drug present)."""
    X = vectorizer.transform(profiles)
    row_of = pd.Series(np.arange(len(profiles)), index=[p.sample_id for p in profiles])
    tumour_type = {p.sample_id: canonical_tumour_type(p.tumour_type) for p in profiles}
    fits = {}
    for drug, episodes in tqdm(
        treatments.groupby("drug"), desc="final fit", unit="drug"
    ):
        y = episodes["responded"].to_numpy()
        booster = fit_booster(
            X[row_of[episodes["sample_id"]].to_numpy()],
            y,
            params=params,
            seed=settings.seed,
        )
        fits[str(drug)] = DrugFit(
            booster=booster,
            info=DrugInfo(
                n_training_samples=len(episodes),
                n_responders=int(y.sum()),
                tumour_types=sorted({tumour_type[s] for s in episodes["sample_id"]}),
                label_rule=_label_rule(episodes),
                cv=cv[drug],
            ),
        )
    return fits


def _label_rule(episodes: pd.DataFrame) -> str:
    if "label_rule" not in episodes:
        return "given"
    return str(episodes["label_rule"].iloc[0])

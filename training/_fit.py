"""Per-drug XGBoost training: grouped CV for the metrics, then a final fit."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

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
        "nthread": params.nthread,
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
    sample_ids = [p.sample_id for p in profiles]
    fold_of = folds.reindex(sample_ids).to_numpy()
    row_of = pd.Series(np.arange(len(profiles)), index=sample_ids)
    tasks = {
        str(drug): (
            row_of[episodes["sample_id"]].to_numpy(),
            episodes["responded"].to_numpy(),
        )
        for drug, episodes in treatments.groupby("drug")
    }
    oof = {drug: np.full(len(y), np.nan) for drug, (_, y) in tasks.items()}
    total = settings.cv_folds * len(tasks)
    with (
        tqdm(total=total, desc="cross-validation", unit="fit") as progress,
        ThreadPoolExecutor(max_workers=settings.n_jobs) as pool,
    ):
        for fold in range(settings.cv_folds):
            train = [p for p, f in zip(profiles, fold_of, strict=True) if f != fold]
            X = ProfileVectorizer(min_count=min_count).fit(train).transform(profiles)
            step = partial(
                _fit_predict,
                X=X,
                in_fold=fold_of == fold,
                params=params,
                seed=settings.seed,
            )
            for drug, (held_out, predicted) in zip(
                tasks, pool.map(step, tasks.values()), strict=True
            ):
                oof[drug][held_out] = predicted
                progress.update()
    return {
        drug: score_out_of_fold(
            y, oof[drug], n_bootstrap=settings.n_bootstrap, seed=settings.seed
        )
        for drug, (_, y) in tasks.items()
    }


def _fit_predict(
    task: tuple[np.ndarray, np.ndarray],
    *,
    X: np.ndarray,
    in_fold: np.ndarray,
    params: XGBoostConfig,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    rows, y = task
    held_out = in_fold[rows]
    booster = fit_booster(X[rows[~held_out]], y[~held_out], params=params, seed=seed)
    return held_out, booster.predict(xgb.DMatrix(X[rows[held_out]], missing=np.nan))


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
    by_drug = {str(drug): episodes for drug, episodes in treatments.groupby("drug")}

    def fit(episodes: pd.DataFrame) -> xgb.Booster:
        rows = row_of[episodes["sample_id"]].to_numpy()
        y = episodes["responded"].to_numpy()
        return fit_booster(X[rows], y, params=params, seed=settings.seed)

    with ThreadPoolExecutor(max_workers=settings.n_jobs) as pool:
        boosters = list(
            tqdm(pool.map(fit, by_drug.values()), total=len(by_drug), desc="final fit")
        )
    return {
        drug: DrugFit(
            booster=booster,
            info=DrugInfo(
                n_training_samples=len(episodes),
                n_responders=int(episodes["responded"].sum()),
                tumour_types=sorted({tumour_type[s] for s in episodes["sample_id"]}),
                label_rule=_label_rule(episodes),
                cv=cv[drug],
            ),
        )
        for (drug, episodes), booster in zip(by_drug.items(), boosters, strict=True)
    }


def _label_rule(episodes: pd.DataFrame) -> str:
    if "label_rule" not in episodes:
        return "given"
    return str(episodes["label_rule"].iloc[0])

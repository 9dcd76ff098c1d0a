"""Per-drug XGBoost training: grouped CV for the metrics, then a final fit."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Protocol

import numpy as np
import pandas as pd
import xgboost as xgb
from tqdm.auto import tqdm

from features import Profile, ProfileVectorizer
from training.config import TrainingConfig, XGBoostConfig

logger = logging.getLogger(__name__)


class Trainer(Protocol):
    """Fits one booster: :func:`fit_booster` in this process, or
    :class:`training.fitting.DaskTrainer` on a Dask cluster. Every fit of a training run
    goes through one trainer, so the CV loop exists once."""

    def __call__(
        self, X: np.ndarray, y: np.ndarray, *, params: XGBoostConfig, seed: int
    ) -> xgb.Booster: ...


def booster_params(params: XGBoostConfig, *, seed: int) -> dict[str, Any]:
    """XGBoost's parameters for one binary:logistic booster."""
    return {
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


def fit_booster(
    X: np.ndarray, y: np.ndarray, *, params: XGBoostConfig, seed: int
) -> xgb.Booster:
    """Fit one binary:logistic booster with the configured hyper-parameters."""
    matrix = xgb.DMatrix(X, label=y, missing=np.nan)
    return xgb.train(
        booster_params(params, seed=seed), matrix, num_boost_round=params.n_estimators
    )


def trainable_drugs(treatments: pd.DataFrame, *, settings: TrainingConfig) -> list[str]:
    """Drugs with enough labelled samples and enough of each outcome for own models."""
    counts = treatments.groupby("drug")["responded"].agg(["size", "sum"])
    enough = (
        (counts["size"] >= settings.min_samples)
        & (counts["sum"] >= settings.min_responders)
        & (counts["size"] - counts["sum"] >= settings.min_responders)
    )
    return sorted(counts.index[enough])


def fold_matrices(
    profiles: Sequence[Profile], fold_of: np.ndarray, *, n_folds: int, min_count: int
) -> list[np.ndarray]:
    """Per fold, all profiles encoded by a vectorizer fitted on that fold's training
    samples only, so no held-out sample shapes the features it is scored on."""
    matrices = []
    for fold in range(n_folds):
        train = [p for p, f in zip(profiles, fold_of, strict=True) if f != fold]
        vectorizer = ProfileVectorizer(min_count=min_count).fit(train)
        matrices.append(vectorizer.transform(profiles))
    return matrices


def cross_validate(
    matrices: Sequence[np.ndarray],
    fold_of: np.ndarray,
    episodes: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    settings: TrainingConfig,
    params: XGBoostConfig,
    trainer: Trainer = fit_booster,
) -> dict[str, np.ndarray]:
    """Out-of-fold probabilities of each drug's own model, in episode order.

    ``episodes`` maps a drug to (profile row of each episode, outcome); ``fold_of``
    gives each profile row's fold and ``matrices[k]`` the features for fold ``k``.
    """
    oof = {drug: np.full(len(y), np.nan) for drug, (_, y) in episodes.items()}
    with (
        tqdm(
            total=len(matrices) * len(episodes), desc="per-drug CV", unit="fit"
        ) as bar,
        ThreadPoolExecutor(max_workers=settings.n_jobs) as pool,
    ):
        for fold, X in enumerate(matrices):
            step = partial(
                _fit_predict,
                X=X,
                in_fold=fold_of == fold,
                params=params,
                seed=settings.seed,
                trainer=trainer,
            )
            results = pool.map(step, episodes.values())
            for drug, (held_out, predicted) in zip(episodes, results, strict=True):
                oof[drug][held_out] = predicted
                bar.update()
    return oof


def _fit_predict(
    task: tuple[np.ndarray, np.ndarray],
    *,
    X: np.ndarray,
    in_fold: np.ndarray,
    params: XGBoostConfig,
    seed: int,
    trainer: Trainer,
) -> tuple[np.ndarray, np.ndarray]:
    rows, y = task
    held_out = in_fold[rows]
    if not held_out.any() or held_out.all():  # nothing to score, or to learn from
        return held_out, np.full(int(held_out.sum()), np.nan)
    booster = trainer(X[rows[~held_out]], y[~held_out], params=params, seed=seed)
    return held_out, booster.predict(xgb.DMatrix(X[rows[held_out]], missing=np.nan))


def fit_final(
    X: np.ndarray,
    episodes: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    settings: TrainingConfig,
    params: XGBoostConfig,
    trainer: Trainer = fit_booster,
) -> dict[str, xgb.Booster]:
    """Fit every drug's own booster on all its labelled samples."""

    def fit(task: tuple[np.ndarray, np.ndarray]) -> xgb.Booster:
        rows, y = task
        return trainer(X[rows], y, params=params, seed=settings.seed)

    with ThreadPoolExecutor(max_workers=settings.n_jobs) as pool:
        boosters = tqdm(
            pool.map(fit, episodes.values()), total=len(episodes), desc="per-drug fit"
        )
        return dict(zip(episodes, boosters, strict=True))

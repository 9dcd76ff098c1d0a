"""Per-drug XGBoost training: grouped CV for the metrics, then a final fit."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

import numpy as np
import pandas as pd
import xgboost as xgb
from tqdm.auto import tqdm

from features import Profile, ProfileVectorizer
from training.config import TrainingConfig, XGBoostConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelledRows:
    """The rows one booster fits on (or scores): features, outcomes (0/1) and
    each row's starting margin (the log-odds of its tumour type's rate for the
    drug, :class:`models.TumourTypeRates`)."""

    X: np.ndarray
    y: np.ndarray
    base_margin: np.ndarray

    def take(self, rows: np.ndarray) -> LabelledRows:
        """The rows ``rows`` (a boolean mask or positions)."""
        return LabelledRows(self.X[rows], self.y[rows], self.base_margin[rows])

    def matrix(self) -> xgb.DMatrix:
        """XGBoost's matrix of the rows, NaN marking a missing value."""
        return xgb.DMatrix(
            self.X, label=self.y, base_margin=self.base_margin, missing=np.nan
        )


class Trainer(Protocol):
    """Fits one booster: :func:`fit_booster` in this process, or
    :class:`training.fitting.DaskTrainer` on a Dask cluster. Every fit of a training run
    goes through one trainer, so the CV loop exists once."""

    def __call__(
        self, rows: LabelledRows, *, params: XGBoostConfig, seed: int
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


def fit_booster(rows: LabelledRows, *, params: XGBoostConfig, seed: int) -> xgb.Booster:
    """Fit one binary:logistic booster with the configured hyper-parameters,
    starting each row from its base margin."""
    return xgb.train(
        booster_params(params, seed=seed),
        rows.matrix(),
        num_boost_round=params.n_estimators,
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


def fold_vectorizers(
    profiles: Sequence[Profile], fold_of: np.ndarray, *, n_folds: int, min_count: int
) -> list[ProfileVectorizer]:
    """Per fold, a vectorizer fitted on that fold's training samples only, so no
    held-out sample shapes the features it is scored on."""
    return [
        ProfileVectorizer(min_count=min_count).fit(
            [p for p, f in zip(profiles, fold_of, strict=True) if f != fold]
        )
        for fold in range(n_folds)
    ]


def fold_matrices(
    profiles: Sequence[Profile], fold_of: np.ndarray, *, n_folds: int, min_count: int
) -> list[np.ndarray]:
    """Per fold, all profiles encoded by that fold's :func:`fold_vectorizers`."""
    vectorizers = fold_vectorizers(
        profiles, fold_of, n_folds=n_folds, min_count=min_count
    )
    return [vectorizer.transform(profiles) for vectorizer in vectorizers]


@dataclass(frozen=True)
class Episodes:
    """The treatment episodes a run fits on, as arrays in episode order."""

    rows: np.ndarray  # the episode's profile row
    y: np.ndarray  # responded (0/1)
    fold: np.ndarray  # the fold that holds it out, -1: never held out
    flags: np.ndarray  # its drug's target-match flags for its profile (n, k)
    drug: np.ndarray  # its drug

    def positions(self, drug: str) -> np.ndarray:
        """The episodes of one drug."""
        return np.flatnonzero(self.drug == drug)

    def design(self, X: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """A per-drug booster's matrix: the profile features, then the drug's
        target-match flags (exempt from the vectorizer's ``min_count``)."""
        return np.hstack([X[self.rows[positions]], self.flags[positions]])

    def labelled(
        self, X: np.ndarray, positions: np.ndarray, *, margin: np.ndarray
    ) -> LabelledRows:
        """A per-drug booster's rows: :meth:`design`, outcomes and margins."""
        return LabelledRows(
            self.design(X, positions), self.y[positions], margin[positions]
        )


def cross_validate(
    matrices: Sequence[np.ndarray],
    episodes: Episodes,
    drugs: Sequence[str],
    *,
    margins: Sequence[np.ndarray],
    settings: TrainingConfig,
    params: XGBoostConfig,
    trainer: Trainer = fit_booster,
) -> np.ndarray:
    """Out-of-fold probabilities of each drug's own model, in episode order (NaN
    for episodes of other drugs or never held out).

    ``matrices[k]`` holds the profile features of fold ``k``'s vectorizer and
    ``margins[k]`` every episode's offset (log-odds) fitted without fold ``k``.
    """
    oof = np.full(len(episodes.y), np.nan)
    tasks = [(k, episodes.positions(d)) for k in range(len(matrices)) for d in drugs]
    step = partial(
        _fit_predict, matrices=matrices, episodes=episodes, margins=margins,
        params=params, seed=settings.seed, trainer=trainer,
    )  # fmt: skip
    with ThreadPoolExecutor(max_workers=settings.n_jobs) as pool:
        results = pool.map(step, tasks)
        for held_out, predicted in tqdm(
            results, total=len(tasks), desc="per-drug CV", unit="fit"
        ):
            oof[held_out] = predicted
    return oof


def _fit_predict(
    task: tuple[int, np.ndarray],
    *,
    matrices: Sequence[np.ndarray],
    episodes: Episodes,
    margins: Sequence[np.ndarray],
    params: XGBoostConfig,
    seed: int,
    trainer: Trainer,
) -> tuple[np.ndarray, np.ndarray]:
    fold, positions = task
    held = episodes.fold[positions] == fold
    train, test = positions[~held], positions[held]
    if not len(test) or not len(train):  # nothing to score, or to learn from
        return test, np.full(len(test), np.nan)
    X, margin = matrices[fold], margins[fold]
    booster = trainer(
        episodes.labelled(X, train, margin=margin), params=params, seed=seed
    )
    return test, booster.predict(episodes.labelled(X, test, margin=margin).matrix())


def fit_final(
    X: np.ndarray,
    episodes: Episodes,
    drugs: Sequence[str],
    *,
    margin: np.ndarray,
    settings: TrainingConfig,
    params: XGBoostConfig,
    trainer: Trainer = fit_booster,
) -> dict[str, xgb.Booster]:
    """Fit every drug's own booster on all its labelled episodes."""

    def fit(drug: str) -> xgb.Booster:
        mine = episodes.labelled(X, episodes.positions(drug), margin=margin)
        return trainer(mine, params=params, seed=settings.seed)

    with ThreadPoolExecutor(max_workers=settings.n_jobs) as pool:
        boosters = tqdm(pool.map(fit, drugs), total=len(drugs), desc="per-drug fit")
        return dict(zip(drugs, boosters, strict=True))

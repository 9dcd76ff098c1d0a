"""Cross-validation of per-drug and pooled models on shared folds, and the one
decision it feeds: which model kind serves each drug."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from features import DrugKnowledge
from models import CvMetrics, ServedBy
from training.config import Config, PooledConfig, TrainingConfig, XGBoostConfig
from training.data import Cohort
from training.fitting._boosters import (
    Trainer,
    cross_validate,
    fit_booster,
    fold_matrices,
    trainable_drugs,
)
from training.fitting._folds import assign_folds, score_out_of_fold
from training.fitting._pooled import cross_validate_pooled, pair_block


def pooled_wanted(
    treatments: pd.DataFrame, *, pooled: PooledConfig, min_samples: int
) -> bool:
    """Whether to train the pooled model (``auto``: most drugs have little data)."""
    if pooled.enabled != "auto":
        return pooled.enabled == "always"
    return bool(treatments.groupby("drug").size().median() < min_samples)


@dataclass(frozen=True)
class CrossValidation:
    """Out-of-fold probabilities of both model kinds, one row per episode."""

    # sample_id, drug, responded, fold (-1: never held out), per_drug, pooled
    # (NaN: not fitted)
    oof: pd.DataFrame
    cv_per_drug: dict[str, CvMetrics]
    cv_pooled: dict[str, CvMetrics]

    @cached_property
    def served(self) -> dict[str, ServedBy]:
        """Per drug, the model kind that serves it: the one with the lower
        cross-validated Brier score (a proper score, defined even where a drug's
        held-out episodes are all one outcome, so every drug gets a decision)."""
        served: dict[str, ServedBy] = {}
        for drug in sorted(set(self.cv_per_drug) | set(self.cv_pooled)):
            own, pooled = self.cv_per_drug.get(drug), self.cv_pooled.get(drug)
            better = own is None or (pooled is not None and pooled.brier < own.brier)
            served[drug] = "pooled" if better else "per-drug"
        return served

    def predictions(self, served: Mapping[str, str] | None = None) -> pd.Series:
        """Each episode's out-of-fold probability from the model kind serving its
        drug (``served``, by default :attr:`served`); NaN where never scored."""
        kind = self.oof["drug"].map(self.served if served is None else served)
        return self.oof["pooled"].where(kind.eq("pooled"), self.oof["per_drug"])


def cross_validate_cohort(
    cohort: Cohort,
    *,
    config: Config,
    drugs: Sequence[str],
    knowledge: DrugKnowledge,
    folds: pd.Series | None = None,
    trainer: Trainer = fit_booster,
) -> CrossValidation:
    """Cross-validation of per-drug and pooled models on the same folds.

    ``folds`` maps each sample id to the fold (0, 1, ...) in which it is held out,
    or -1 for samples that are only ever trained on (e.g. before a temporal cut);
    by default, grouped stratified k-fold from the config. ``trainer`` fits each
    booster (here, or on a Dask cluster with :class:`training.fitting.DaskTrainer`).
    """
    settings = config.training
    treatments = cohort.treatments[cohort.treatments["drug"].isin(drugs)]
    profiles = list(cohort.profiles)
    rows = cohort.rows(treatments["sample_id"])
    if folds is None:
        folds = assign_folds(treatments, n_splits=settings.cv_folds, seed=settings.seed)
    # Profiles without episodes (fold -1) are never held out.
    fold_of = folds.reindex([p.sample_id for p in profiles]).fillna(-1).to_numpy()
    matrices = fold_matrices(
        profiles,
        fold_of,
        n_folds=int(fold_of.max()) + 1,
        min_count=config.features.min_count,
    )
    own = episodes(treatments, rows, trainable_drugs(treatments, settings=settings))
    oof = treatments[["sample_id", "drug", "responded"]].reset_index(drop=True)
    oof["fold"] = fold_of[rows].astype(int)
    oof["per_drug"] = np.nan
    drug_of = oof["drug"].to_numpy()
    predicted = cross_validate(
        matrices, fold_of, own, settings=settings, params=config.xgboost,
        trainer=trainer,
    )  # fmt: skip
    for drug, probabilities in predicted.items():
        oof.loc[drug_of == drug, "per_drug"] = probabilities
    oof["pooled"] = np.nan
    # Drugs too small for a model of their own (select_drugs keeps them when the
    # whole cohort wants pooling) can only be served pooled.
    if len(own) < len(set(drug_of)) or pooled_wanted(
        treatments, pooled=config.pooled, min_samples=settings.min_samples
    ):
        block = pair_block(
            profiles, rows, treatments["drug"].tolist(),
            vocabulary=sorted(set(drug_of)), knowledge=knowledge,
        )  # fmt: skip
        oof["pooled"] = cross_validate_pooled(
            matrices, fold_of, treatments, rows=rows, block=block,
            settings=settings, params=pooled_params(config), trainer=trainer,
        )  # fmt: skip
    return CrossValidation(
        oof=oof,
        cv_per_drug=_metrics(oof, "per_drug", settings=settings),
        cv_pooled=_metrics(oof, "pooled", settings=settings),
    )


def _metrics(
    oof: pd.DataFrame, column: str, *, settings: TrainingConfig
) -> dict[str, CvMetrics]:
    scored = oof.dropna(subset=[column])
    return {
        str(drug): score_out_of_fold(
            group["responded"].to_numpy(),
            group[column].to_numpy(),
            n_bootstrap=settings.n_bootstrap,
            seed=settings.seed,
        )
        for drug, group in scored.groupby("drug")
    }


def pooled_params(config: Config) -> XGBoostConfig:
    # One booster, so it may use every worker thread the drugs would have used.
    return config.xgboost.model_copy(update={"nthread": config.training.n_jobs})


def episodes(
    treatments: pd.DataFrame, rows: np.ndarray, drugs: Sequence[str]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    drug_of = treatments["drug"].to_numpy()
    y = treatments["responded"].to_numpy()
    return {drug: (rows[drug_of == drug], y[drug_of == drug]) for drug in drugs}

"""Train the bundle from a cohort: select drugs, cross-validate, choose, fit."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version

import numpy as np
import pandas as pd

from features import (
    DrugKnowledge,
    Profile,
    ProfileVectorizer,
    canonical_tumour_type,
    pair_feature_names,
)
from models import BundleMetadata, CvMetrics, DrugInfo, ResponderModel
from training._config import Config, PooledConfig, TrainingConfig, XGBoostConfig
from training._cv import assign_folds, score_out_of_fold
from training._fit import (
    Trainer,
    cross_validate,
    fit_booster,
    fit_final,
    fold_matrices,
    trainable_drugs,
)
from training._pooled import choose_served, cross_validate_pooled, pair_block
from training._uncertainty import fit_uncertainty
from training.data import Cohort
from training.explanation import summarise_explanations

logger = logging.getLogger(__name__)


def pooled_wanted(
    treatments: pd.DataFrame, *, pooled: PooledConfig, min_samples: int
) -> bool:
    """Whether to train the pooled model (``auto``: most drugs have little data)."""
    if pooled.enabled != "auto":
        return pooled.enabled == "always"
    return bool(treatments.groupby("drug").size().median() < min_samples)


def select_drugs(
    cohort: Cohort, *, config: Config, only: Sequence[str] | None = None
) -> list[str]:
    """Drugs to train: enough data for a model, optionally restricted to ``only``."""
    treatments = cohort.treatments
    if only is not None:
        unknown = sorted(set(only) - set(cohort.drugs))
        if unknown:
            raise ValueError(
                f"--drugs names drugs not in the cohort: {unknown}; "
                f"known drugs include {list(cohort.drugs[:5])}"
            )
        treatments = treatments[treatments["drug"].isin(only)]
    drugs = set(trainable_drugs(treatments, settings=config.training))
    if pooled_wanted(
        treatments, pooled=config.pooled, min_samples=config.training.min_samples
    ):
        counts = treatments.groupby("drug").size()
        drugs |= set(counts.index[counts >= config.pooled.min_samples])
    if not drugs:
        raise ValueError("no drug has enough labelled samples to train a model")
    logger.info(
        "%d of %d drugs have enough data", len(drugs), treatments["drug"].nunique()
    )
    return sorted(drugs)


@dataclass(frozen=True)
class CrossValidation:
    """Out-of-fold probabilities of both model kinds, one row per episode."""

    # sample_id, drug, responded, fold (-1: never held out), per_drug, pooled
    # (NaN: not fitted)
    oof: pd.DataFrame
    cv_own: dict[str, CvMetrics]
    cv_pooled: dict[str, CvMetrics]


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
    booster (here, or on a Dask cluster with :class:`training.DaskTrainer`).
    """
    settings = config.training
    treatments = cohort.treatments[cohort.treatments["drug"].isin(drugs)]
    profiles = list(cohort.profiles)
    rows = _profile_rows(profiles, treatments)
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
    own = _episodes(treatments, rows, trainable_drugs(treatments, settings=settings))
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
            settings=settings, params=_pooled_params(config), trainer=trainer,
        )  # fmt: skip
    return CrossValidation(
        oof=oof,
        cv_own=_metrics(oof, "per_drug", settings=settings),
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


def train_bundle(
    cohort: Cohort,
    *,
    config: Config,
    drugs: Sequence[str],
    data_source: str,
    knowledge: DrugKnowledge,
    trainer: Trainer = fit_booster,
) -> ResponderModel:
    """Cross-validate per-drug and pooled models on shared folds, keep the better
    per drug, then fit the chosen models on all data (each fit by ``trainer``)."""
    cv = cross_validate_cohort(
        cohort, config=config, drugs=drugs, knowledge=knowledge, trainer=trainer
    )
    return fit_bundle(
        cohort,
        cv,
        config=config,
        drugs=drugs,
        data_source=data_source,
        knowledge=knowledge,
        trainer=trainer,
    )


def fit_bundle(
    cohort: Cohort,
    cv: CrossValidation,
    *,
    config: Config,
    drugs: Sequence[str],
    data_source: str,
    knowledge: DrugKnowledge,
    trainer: Trainer = fit_booster,
) -> ResponderModel:
    """Fit, on all data, the model that cross-validation chose for each drug."""
    served = choose_served(cv.cv_own, cv.cv_pooled)
    treatments = cohort.treatments[cohort.treatments["drug"].isin(drugs)]
    profiles = list(cohort.profiles)
    rows = _profile_rows(profiles, treatments)
    vectorizer = ProfileVectorizer(min_count=config.features.min_count).fit(profiles)
    X = vectorizer.transform(profiles)
    per_drug = [d for d, how in served.items() if how == "per-drug"]
    boosters = fit_final(
        X, _episodes(treatments, rows, per_drug),
        settings=config.training, params=config.xgboost, trainer=trainer,
    )  # fmt: skip
    vocabulary = sorted(treatments["drug"].unique())
    pooled = None
    if len(per_drug) < len(served):
        block = pair_block(
            profiles, rows, treatments["drug"].tolist(),
            vocabulary=vocabulary, knowledge=knowledge,
        )  # fmt: skip
        pooled = trainer(
            np.hstack([X[rows], block]), treatments["responded"].to_numpy(),
            params=_pooled_params(config), seed=config.training.seed,
        )  # fmt: skip
    names = list(vectorizer.get_feature_names_out())
    metadata = BundleMetadata(
        package_version=version("rediscover"),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        data_source=data_source,
        data_hash=cohort.data_hash(),
        feature_names=names,
        pooled_feature_names=pair_feature_names(names, vocabulary) if pooled else [],
        drugs=_drug_infos(profiles, treatments, served, cv.cv_own, cv.cv_pooled),
    )
    uncertainty = fit_uncertainty(cv, cohort, settings=config.uncertainty)
    model = ResponderModel(
        vectorizer, boosters, metadata=metadata, knowledge=knowledge,
        uncertainty=uncertainty, pooled=pooled,
    )  # fmt: skip
    # Summaries need the fitted model (its SHAP values), so they are added last.
    model.explanations = summarise_explanations(
        model, cohort, cv, seed=config.training.seed, n_jobs=config.training.n_jobs
    )
    return model


def _pooled_params(config: Config) -> XGBoostConfig:
    # One booster, so it may use every worker thread the drugs would have used.
    return config.xgboost.model_copy(update={"nthread": config.training.n_jobs})


def _profile_rows(profiles: Sequence[Profile], treatments: pd.DataFrame) -> np.ndarray:
    row_of = pd.Series(np.arange(len(profiles)), index=[p.sample_id for p in profiles])
    return row_of[treatments["sample_id"]].to_numpy()


def _episodes(
    treatments: pd.DataFrame, rows: np.ndarray, drugs: Sequence[str]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    drug_of = treatments["drug"].to_numpy()
    y = treatments["responded"].to_numpy()
    return {drug: (rows[drug_of == drug], y[drug_of == drug]) for drug in drugs}


def _drug_infos(
    profiles: Sequence[Profile],
    treatments: pd.DataFrame,
    served: dict[str, str],
    cv_own: dict[str, CvMetrics],
    cv_pooled: dict[str, CvMetrics],
) -> dict[str, DrugInfo]:
    tumour_type = {p.sample_id: canonical_tumour_type(p.tumour_type) for p in profiles}
    infos = {}
    for drug, group in treatments.groupby("drug"):
        how = served[str(drug)]
        own, pooled = cv_own.get(str(drug)), cv_pooled.get(str(drug))
        chosen = own if how == "per-drug" else pooled
        assert chosen is not None  # choose_served only picks models that were scored
        infos[str(drug)] = DrugInfo(
            n_training_samples=len(group),
            n_responders=int(group["responded"].sum()),
            tumour_types=sorted({tumour_type[s] for s in group["sample_id"]}),
            label_rule=str(group["label_rule"].iloc[0])
            if "label_rule" in group
            else "given",
            served_by=how,  # type: ignore[arg-type]
            cv=chosen,
            cv_per_drug=own,
            cv_pooled=pooled,
        )
    return infos

"""Train the bundle from a cohort: select drugs, cross-validate, choose, fit."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import version

import numpy as np
import pandas as pd

from features import ProfileVectorizer, pair_feature_names
from models import BundleMetadata, DrugInfo, Offsets, ResponderModel, logit
from training.config import Config
from training.data import Cohort
from training.fitting._biomarker import biomarker_scores, fit_biomarker
from training.fitting._boosters import LabelledRows, fit_final, trainable_drugs
from training.fitting._cross_validation import (
    COLUMNS,
    CrossValidation,
    cross_validate_cohort,
    episodes_of,
    pooled_block,
    pooled_params,
    pooled_wanted,
)
from training.fitting._plan import FitPlan
from training.fitting._rates import episode_rates
from training.fitting._summaries import summarise_explanations
from training.fitting._uncertainty import fit_uncertainty

logger = logging.getLogger(__name__)


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


def train_bundle(
    cohort: Cohort,
    *,
    plan: FitPlan,
    data_source: str,
    cv: CrossValidation | None = None,
) -> ResponderModel:
    """Fit, on all data, the model kind that cross-validation chose for each drug
    (per-drug and pooled models cross-validated on shared folds; ``cv``, run here
    when not given), each booster fitted by ``plan.trainer``."""
    if cv is None:
        cv = cross_validate_cohort(cohort, plan=plan)
    config, knowledge = plan.config, plan.knowledge
    served = cv.served
    treatments = cohort.treatments[cohort.treatments["drug"].isin(plan.drugs)]
    treatments = treatments.reset_index(drop=True)
    profiles = list(cohort.profiles)
    vectorizer = ProfileVectorizer(min_count=config.features.min_count).fit(profiles)
    X = vectorizer.transform(profiles)
    episodes = episodes_of(
        cohort, treatments, fold_of=np.full(len(profiles), -1), knowledge=knowledge
    )
    types = cohort.tumour_type[treatments["sample_id"]].to_numpy()
    rates, rate = episode_rates(
        episodes.drug, types, episodes.y, fit=np.ones(len(types), dtype=bool)
    )
    biomarker = {}
    for drug in (d for d, how in served.items() if how == "biomarker"):
        mine = episodes.drug == drug
        scores = biomarker_scores(
            cohort.profiles, episodes.rows[mine], episodes.drug[mine],
            knowledge=knowledge,
        )  # fmt: skip
        biomarker[drug] = fit_biomarker(scores, episodes.y[mine])
    per_drug = [d for d, how in served.items() if how == "per-drug"]
    boosters = fit_final(
        X, episodes, per_drug, margin=logit(rate), settings=config.training,
        params=config.xgboost, trainer=plan.trainer,
    )  # fmt: skip
    vocabulary = sorted(treatments["drug"].unique())
    pooled = None
    if "pooled" in served.values():
        rows = LabelledRows(
            np.hstack([X[episodes.rows], pooled_block(cohort, treatments, knowledge)]),
            episodes.y,
            logit(rate),
        )
        pooled = plan.trainer(
            rows, params=pooled_params(config), seed=config.training.seed
        )
    names = list(vectorizer.get_feature_names_out())
    metadata = BundleMetadata(
        package_version=version("rediscover"),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        data_source=data_source,
        data_hash=cohort.data_hash(),
        population=cohort.population,
        endpoint=cohort.endpoint,
        feature_names=names,
        pooled_feature_names=pair_feature_names(names, vocabulary) if pooled else [],
        drugs=_drug_infos(cohort, treatments, cv),
    )
    uncertainty = fit_uncertainty(cv, cohort, settings=config.uncertainty)
    model = ResponderModel(
        vectorizer, boosters, metadata=metadata, knowledge=knowledge,
        uncertainty=uncertainty, pooled=pooled,
        offsets=Offsets(
            drugs=rates,
            biomarker={d: fit for d, fit in biomarker.items() if fit is not None},
        ),
    )  # fmt: skip
    # Summaries need the fitted model (its SHAP values), so they are added last.
    model.explanations = summarise_explanations(
        model, cohort, cv, seed=config.training.seed, n_jobs=config.training.n_jobs
    )
    return model


def _drug_infos(
    cohort: Cohort, treatments: pd.DataFrame, cv: CrossValidation
) -> dict[str, DrugInfo]:
    infos = {}
    for drug, group in treatments.groupby("drug"):
        how, scores = cv.served[str(drug)], cv.scores(str(drug))
        infos[str(drug)] = DrugInfo(
            n_training_samples=len(group),
            n_responders=int(group["responded"].sum()),
            tumour_types=sorted(set(cohort.tumour_type[group["sample_id"]])),
            label_rule=str(group["label_rule"].iloc[0])
            if "label_rule" in group
            else "given",
            served_by=how,
            cv=scores[how],
            **{f"cv_{COLUMNS[kind]}": metrics for kind, metrics in scores.items()},
        )
    return infos

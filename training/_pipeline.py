"""Train the per-drug bundle from a cohort: select drugs, cross-validate, fit."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import version

from features import ProfileVectorizer
from models import BundleMetadata, ResponderModel
from training._config import Config
from training._fit import cross_validate, fit_final, trainable_drugs
from training.data import Cohort

logger = logging.getLogger(__name__)


def select_drugs(
    cohort: Cohort, *, config: Config, only: Sequence[str] | None = None
) -> list[str]:
    """Drugs to train: enough data, optionally restricted to ``only``."""
    drugs = trainable_drugs(cohort.treatments, settings=config.training)
    if only is None:
        return drugs
    unknown = sorted(set(only) - set(cohort.drugs))
    if unknown:
        raise ValueError(
            f"--drugs names drugs not in the cohort: {unknown}; "
            f"known drugs include {cohort.drugs[:5]}"
        )
    chosen = [d for d in drugs if d in set(only)]
    if not chosen:
        raise ValueError("none of the requested drugs has enough labelled samples")
    return chosen


def train_bundle(
    cohort: Cohort, *, config: Config, drugs: Sequence[str], data_source: str
) -> ResponderModel:
    """Cross-validate, then fit on all data, one booster per drug."""
    treatments = cohort.treatments[cohort.treatments["drug"].isin(drugs)]
    profiles = cohort.profiles
    cv = cross_validate(
        profiles,
        treatments,
        settings=config.training,
        params=config.xgboost,
        min_count=config.features.min_count,
    )
    vectorizer = ProfileVectorizer(min_count=config.features.min_count).fit(profiles)
    fits = fit_final(
        profiles,
        treatments,
        vectorizer=vectorizer,
        cv=cv,
        settings=config.training,
        params=config.xgboost,
    )
    metadata = BundleMetadata(
        package_version=version("rediscover"),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        data_source=data_source,
        data_hash=cohort.data_hash(),
        feature_names=list(vectorizer.get_feature_names_out()),
        drugs={drug: fit.info for drug, fit in fits.items()},
    )
    boosters = {drug: fit.booster for drug, fit in fits.items()}
    return ResponderModel(vectorizer, boosters, metadata=metadata)

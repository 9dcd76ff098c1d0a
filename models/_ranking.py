"""Turn a bundle's per-drug scores and SHAP values into ranked drug lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from features import Match, Profile
from models._bundle import ResponderModel


@dataclass(frozen=True)
class FeatureContribution:
    """One feature's value in the profile and its SHAP contribution (log-odds)."""

    feature: str
    value: float | None
    shap: float


@dataclass(frozen=True)
class DrugScore:
    """One drug's predicted response for one profile."""

    drug: str
    probability: float
    rank: int
    n_training_samples: int
    tumour_type_seen: bool
    served_by: str
    matched_biomarker: Match | None
    top_features: tuple[FeatureContribution, ...]


def rank_drugs(
    model: ResponderModel, profiles: Sequence[Profile], *, top_k: int = 5
) -> list[list[DrugScore]]:
    """Rank every drug by probability of response, per profile, with top SHAP features.

    Parameters
    ----------
    model
        A loaded bundle.
    profiles
        Tumour profiles to score.
    top_k
        How many features, by absolute SHAP value, to report per drug.
    """
    values = model.design(profiles)
    contributions = model.explain(profiles)
    # SHAP values sum to the margin, so one pass gives both the explanation and the
    # probability (half the booster calls of predicting twice).
    probabilities = {
        drug: 1.0 / (1.0 + np.exp(-c.sum(axis=1))) for drug, c in contributions.items()
    }
    ranked = []
    for row, profile in enumerate(profiles):
        order = sorted(model.drugs, key=lambda d: -probabilities[d][row])
        ranked.append(
            [
                DrugScore(
                    drug=drug,
                    probability=float(probabilities[drug][row]),
                    rank=rank,
                    n_training_samples=model.metadata.drugs[drug].n_training_samples,
                    tumour_type_seen=model.tumour_type_seen(profile, drug),
                    served_by=model.metadata.drugs[drug].served_by,
                    matched_biomarker=model.knowledge.match(profile, drug),
                    top_features=_top_features(
                        contributions[drug][row, :-1],
                        values[drug][row],
                        model.feature_names(drug),
                        top_k,
                    ),
                )
                for rank, drug in enumerate(order, start=1)
            ]
        )
    return ranked


def _top_features(
    shap_row: np.ndarray, value_row: np.ndarray, names: Sequence[str], top_k: int
) -> tuple[FeatureContribution, ...]:
    # Stable sort so ties (often exact zeros) keep column order and results repeat.
    top = np.argsort(-np.abs(shap_row), kind="stable")[:top_k]
    return tuple(
        FeatureContribution(
            feature=names[i],
            value=None if np.isnan(value_row[i]) else float(value_row[i]),
            shap=float(shap_row[i]),
        )
        for i in top
        if shap_row[i] != 0.0
    )

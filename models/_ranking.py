"""Turn a bundle's per-drug scores and SHAP values into ranked drug lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from features import Match, Profile, canonical_tumour_type
from models._bundle import ResponderModel


@dataclass(frozen=True)
class FeatureContribution:
    """One feature's value in the profile and its SHAP contribution (log-odds)."""

    feature: str
    value: float | None
    shap: float


@dataclass(frozen=True)
class DrugScore:
    """One drug's predicted response for one profile.

    ``probability`` is calibrated; ``raw_probability`` is the booster's own, whose
    log-odds the SHAP values in ``top_features`` add up to.  ``interval`` is the 95%
    Wilson interval of ``probability`` read as a rate among the held-out training
    episodes with similar calibrated scores; ``prediction_set`` the conformal set
    (0 = non-responder, 1 = responder) at nominal ``coverage``; ``in_domain`` is
    false, with a ``reason``, when the drug, tumour type or profile lies outside the
    training data.
    """

    drug: str
    probability: float
    raw_probability: float
    interval: tuple[float, float]
    prediction_set: tuple[int, ...]
    coverage: float
    in_domain: bool
    reason: str | None
    rank: int
    n_training_samples: int
    tumour_type_seen: bool
    served_by: str
    matched_biomarker: Match | None
    top_features: tuple[FeatureContribution, ...]


def rank_drugs(
    model: ResponderModel, profiles: Sequence[Profile], *, top_k: int = 5
) -> list[list[DrugScore]]:
    """Rank every drug by calibrated probability of response, per profile, with
    intervals, conformal sets, domain flags and the top SHAP features.

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
    contributions = model.explain(profiles, design=values)
    # SHAP values sum to the margin, so one pass gives both the explanation and the
    # probability (half the booster calls of predicting twice).
    raw = {
        drug: 1.0 / (1.0 + np.exp(-c.sum(axis=1))) for drug, c in contributions.items()
    }
    tumour_types = [canonical_tumour_type(p.tumour_type) for p in profiles]
    profile_reasons = model.uncertainty.domain.reasons(profiles)
    assessed = {
        drug: model.uncertainty.assess(
            drug,
            raw[drug],
            tumour_types,
            seen_tumour_types=model.metadata.drugs[drug].tumour_types,
            profile_reasons=profile_reasons,
        )
        for drug in model.drugs
    }
    ranked = []
    for row, profile in enumerate(profiles):
        # Isotonic calibration ties scores within a step; the raw score breaks ties.
        order = sorted(
            model.drugs, key=lambda d: (-assessed[d].probability[row], -raw[d][row])
        )
        scores = []
        for rank, drug in enumerate(order, start=1):
            info, assessment = model.metadata.drugs[drug], assessed[drug]
            scores.append(
                DrugScore(
                    drug=drug,
                    probability=float(assessment.probability[row]),
                    raw_probability=float(raw[drug][row]),
                    interval=(float(assessment.low[row]), float(assessment.high[row])),
                    prediction_set=assessment.sets[row],
                    coverage=model.uncertainty.coverage,
                    in_domain=assessment.reasons[row] is None,
                    reason=assessment.reasons[row],
                    rank=rank,
                    n_training_samples=info.n_training_samples,
                    tumour_type_seen=model.tumour_type_seen(profile, drug),
                    served_by=info.served_by,
                    matched_biomarker=model.knowledge.match(profile, drug),
                    top_features=_top_features(
                        contributions[drug][row, :-1],
                        values[drug][row],
                        model.feature_names(drug),
                        top_k,
                    ),
                )
            )
        ranked.append(scores)
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

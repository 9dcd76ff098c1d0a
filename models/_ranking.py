"""Turn a bundle's per-drug scores and SHAP values into ranked drug lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.special import expit

from features import Match, Profile, canonical_tumour_type
from models._bundle import ResponderModel


@dataclass(frozen=True)
class FeatureContribution:
    """One feature's value in the profile and its SHAP contribution (log-odds)."""

    feature: str
    value: float | None
    shap: float


# How a ranked list is ordered (README, "How drugs are ranked"):
# evidence: DRUP matching class first (1 best, unmatched last), then probability;
# probability: calibrated probability alone; lift: probability minus the drug's
# rate in the tumour type (what the genome adds).
RankBy = Literal["evidence", "probability", "lift"]
RANK_BY: tuple[RankBy, ...] = ("evidence", "probability", "lift")
UNMATCHED = 5  # sorts after matching class 4
CELL_LINE_REASON = (
    "cell-line model: the score is the chance that cell lines like this tumour are "
    "sensitive to the drug (ln IC50 below its threshold), not a patient's "
    "probability of response"
)


@dataclass(frozen=True)
class DrugScore:
    """One drug's predicted response for one profile.

    ``probability`` is calibrated; ``raw_probability`` is the booster's own, whose
    log-odds the SHAP values in ``top_features`` add up to.  ``interval`` is the 95%
    Wilson interval of ``probability`` read as a rate among the held-out training
    episodes with similar calibrated scores; ``prediction_set`` the conformal set
    (0 = non-responder, 1 = responder) at nominal ``coverage``; ``in_domain`` is
    false, with a ``reason``, when the drug, tumour type or profile lies outside the
    training data. ``base_rate`` is the drug's response rate in the profile's
    tumour type (where the score starts), calibrated like ``probability``, and
    ``lift`` = ``probability`` minus it (0 for a drug served by its rate).
    """

    drug: str
    probability: float
    raw_probability: float
    base_rate: float
    lift: float
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
    model: ResponderModel,
    profiles: Sequence[Profile],
    *,
    top_k: int = 5,
    rank_by: RankBy = "evidence",
) -> list[list[DrugScore]]:
    """Rank every drug per profile (by ``rank_by``), with calibrated
    probabilities, base rates, intervals, conformal sets, domain flags and the top
    SHAP features.

    Parameters
    ----------
    model
        A loaded bundle.
    profiles
        Tumour profiles to score.
    top_k
        How many features, by absolute SHAP value, to report per drug.
    rank_by
        The order: see `RankBy`.
    """
    values = model.design(profiles)
    contributions = model.explain(profiles, design=values)
    # SHAP values sum to the margin, so one pass gives both the explanation and the
    # probability (half the booster calls of predicting twice).
    raw = {drug: expit(c.sum(axis=1)) for drug, c in contributions.items()}
    # The tumour type's rate on the drug's calibrated scale: a rate-served drug's
    # probability is its base rate exactly, and the lift is the genome's alone.
    base = {
        drug: model.uncertainty.calibrated(drug, model.base_rate(profiles, drug))
        for drug in model.drugs
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
        matches = {drug: model.knowledge.match(profile, drug) for drug in model.drugs}
        probability = {d: float(assessed[d].probability[row]) for d in model.drugs}
        order = sorted(
            model.drugs,
            key=lambda d: _sort_key(
                rank_by, match=matches[d], probability=probability[d],
                base_rate=float(base[d][row]), raw=float(raw[d][row]),
            ),
        )  # fmt: skip
        scores = []
        for rank, drug in enumerate(order, start=1):
            info, assessment = model.metadata.drugs[drug], assessed[drug]
            reasons = _with_population(assessment.reasons, model)
            scores.append(
                DrugScore(
                    drug=drug,
                    probability=probability[drug],
                    raw_probability=float(raw[drug][row]),
                    base_rate=float(base[drug][row]),
                    lift=probability[drug] - float(base[drug][row]),
                    interval=(float(assessment.low[row]), float(assessment.high[row])),
                    prediction_set=assessment.sets[row],
                    coverage=model.uncertainty.coverage,
                    in_domain=reasons[row] is None,
                    reason=reasons[row],
                    rank=rank,
                    n_training_samples=info.n_training_samples,
                    tumour_type_seen=model.tumour_type_seen(profile, drug),
                    served_by=info.served_by,
                    matched_biomarker=matches[drug],
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


def _with_population(
    reasons: Sequence[str | None], model: ResponderModel
) -> list[str | None]:
    # A cell line's sensitivity is not a patient's response: always said.
    if model.metadata.population != "cell_line":
        return list(reasons)
    return [
        CELL_LINE_REASON if r is None else f"{r}; {CELL_LINE_REASON}" for r in reasons
    ]


def _sort_key(
    rank_by: RankBy,
    *,
    match: Match | None,
    probability: float,
    base_rate: float,
    raw: float,
) -> tuple[float, ...]:
    # Isotonic calibration ties scores within a step; the raw score breaks ties.
    if rank_by == "lift":
        return (-(probability - base_rate), -probability, -raw)
    if rank_by == "probability":
        return (-probability, -raw)
    matching_class = UNMATCHED if match is None else match.matching_class
    return (matching_class, -probability, -raw)


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

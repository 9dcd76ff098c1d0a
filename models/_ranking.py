"""Turn a bundle's per-drug scores and SHAP values into ranked drug lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from features import Match, Profile
from models._bundle import ResponderModel
from models._scoring import Scores


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
EXPLAIN_TOP = 10  # drugs per ranking that get their top SHAP features
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
    Wilson interval of the response rate observed among the held-out training
    episodes in the same score bin (measured: it holds the bin's true rate about
    90% of the time); ``prediction_set`` the conformal set
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
    explain_top: int = EXPLAIN_TOP,
) -> list[list[DrugScore]]:
    """Rank every drug per profile (by ``rank_by``), with calibrated
    probabilities, base rates, intervals, conformal sets, domain flags and, for
    the first ``explain_top`` drugs of each ranking, the top SHAP features.

    Parameters
    ----------
    model
        A loaded bundle.
    profiles
        Tumour profiles to score.
    top_k
        How many features, by absolute SHAP value, to report per explained drug.
    rank_by
        The order: see `RankBy`.
    explain_top
        How many drugs, from the top of each ranking, get ``top_features``
        (SHAP values cost more than scores); the others get none.
    """
    scorer = model.scorer
    scores = scorer.score(profiles, rank_by=rank_by)
    boosted = set(scorer.boosted)
    ranked = []
    for row, order in enumerate(scores.order.tolist()):
        shown = [c for c in order[:explain_top] if c in boosted]
        shap = scorer.shap(scores, row, shown) if top_k > 0 else {}
        view = RowView(model, scores, row)
        ranked.append(
            [
                view.drug_score(
                    column,
                    rank,
                    top_features=_top_features(
                        shap[column][:-1],
                        scorer.feature_values(scores, row, column),
                        scorer.feature_names[column],
                        top_k,
                    )
                    if column in shap
                    else (),
                )
                for rank, column in enumerate(order, start=1)
            ]
        )
    return ranked


class RowView:
    """One profile's row of :class:`Scores` as Python values, to build its
    :class:`DrugScore` objects quickly."""

    def __init__(self, model: ResponderModel, scores: Scores, row: int) -> None:
        self.drugs = scores.drugs
        self.info = [model.metadata.drugs[d] for d in scores.drugs]
        self.coverage = model.uncertainty.coverage
        population = model.metadata.population
        caveat = CELL_LINE_REASON if population == "cell_line" else None
        self.reasons = _reasons(scores, row, model.scorer.known, caveat)
        self.probability = scores.probability[row].tolist()
        self.raw = scores.raw[row].tolist()
        self.base_rate = scores.base_rate[row].tolist()
        self.seen = scores.seen[row].tolist()
        self.low, self.high = scores.low[row].tolist(), scores.high[row].tolist()
        self.sets = scores.prediction_sets(row)
        self.matches = scores.matches[row]

    def drug_score(
        self,
        column: int,
        rank: int,
        top_features: tuple[FeatureContribution, ...] = (),
    ) -> DrugScore:
        """The :class:`DrugScore` of the drug in ``column`` at ``rank``."""
        probability, base_rate = self.probability[column], self.base_rate[column]
        return DrugScore(
            drug=self.drugs[column],
            probability=probability,
            raw_probability=self.raw[column],
            base_rate=base_rate,
            lift=probability - base_rate,
            interval=(self.low[column], self.high[column]),
            prediction_set=self.sets[column],
            coverage=self.coverage,
            in_domain=self.reasons[column] is None,
            reason=self.reasons[column],
            rank=rank,
            n_training_samples=self.info[column].n_training_samples,
            tumour_type_seen=self.seen[column],
            served_by=self.info[column].served_by,
            matched_biomarker=self.matches.get(column),
            top_features=top_features,
        )


def _reasons(
    scores: Scores, row: int, known: np.ndarray, population: str | None
) -> list[str | None]:
    """Why each drug's score for one profile is out of domain, or None: the drug
    has no held-out predictions, or did not see the tumour type, or the profile
    is unusual; and always the population's caveat, when it has one."""
    tumour_type = scores.tumour_types[row]
    usual = _joined(scores.profile_reasons[row], population)
    reasons: list[str | None] = [usual] * len(scores.drugs)
    for column in np.flatnonzero(~scores.seen[row]).tolist():
        unseen = f"tumour type {tumour_type!r} not in {scores.drugs[column]}'s "
        reasons[column] = _joined(
            f"{unseen}training data", scores.profile_reasons[row], population
        )
    for column in np.flatnonzero(~known).tolist():
        drug = scores.drugs[column]
        reasons[column] = _joined(
            f"drug {drug!r} has no held-out training predictions", population
        )
    return reasons


def _joined(*reasons: str | None) -> str | None:
    return "; ".join(r for r in reasons if r) or None


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

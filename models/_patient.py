"""Why one profile got its score for one drug.

The booster's TreeSHAP contributions live in log-odds; a reader thinks in
probabilities.  :func:`explain_patient` converts them **sequentially**: features are
taken in order of decreasing |SHAP|, starting from the drug's base value (its
response rate in the profile's tumour type, moved by the trees' mean over training
samples), and each feature's step is

    Δp = sigmoid(running log-odds + φ) - sigmoid(running log-odds)

so the steps add up exactly from the base probability to the model's raw
probability.  A feature's Δp depends on where in that order it comes (the sigmoid is
not linear); its sign never does, and neither does the order of the features.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.special import expit

from features import Match, Profile, event_tokens
from models._bundle import ResponderModel
from models._explanations import MIN_CELL, DrugExplanation
from models._ranking import DrugScore, RowView

KeyChoice = Literal["matched biomarker", "largest positive SHAP"]


class UnknownDrugError(KeyError):
    """The model does not score the drug asked about."""


@dataclass(frozen=True)
class WaterfallStep:
    """One bar of the waterfall: a feature (or the rest, grouped) moving the raw
    probability of response from ``start`` to ``end``."""

    feature: str
    value: float | None
    shap: float
    start: float
    end: float

    @property
    def delta(self) -> float:
        """The step in probability units (positive: towards response)."""
        return self.end - self.start


@dataclass(frozen=True)
class KeyAlteration:
    """The alteration behind the score and how the drug's training samples with it
    fared; ``n`` and ``responders`` are None when fewer than 5 samples carried it
    or the bundle stores no counts."""

    feature: str
    chosen_by: KeyChoice
    n: int | None
    responders: int | None
    statement: str


@dataclass(frozen=True)
class PatientExplanation:
    """One drug's score for one profile, explained.

    ``score`` is the drug's entry of :func:`models.rank_drugs` (calibrated
    probability, interval, conformal set, domain flag, matched biomarker, rank);
    ``base_rate`` the drug's response rate in the profile's tumour type (the
    boosters' offset); ``base_probability`` the SHAP base value (that rate moved
    by the trees' average over training samples); ``steps`` the SHAP waterfall
    from ``base_probability`` to ``raw_probability`` (see the module docstring),
    empty for a drug served by its rate (no genomic signal learned); ``summary``
    the drug's stored global explanation.
    """

    drug: str
    base_rate: float
    base_probability: float
    raw_probability: float
    steps: tuple[WaterfallStep, ...]
    score: DrugScore
    key_alteration: KeyAlteration | None
    summary: DrugExplanation | None


def explain_patient(
    model: ResponderModel, profile: Profile, drug: str, *, top_k: int = 10
) -> PatientExplanation:
    """Explain one drug's score for one profile.

    Parameters
    ----------
    model
        A loaded bundle.
    profile
        The tumour profile.
    drug
        A drug the model scores (generic name, or a synonym the bundle's drug
        knowledge resolves).
    top_k
        Features shown as their own step; the rest are grouped as one.

    Raises
    ------
    UnknownDrugError
        (a ``KeyError``) The model does not score ``drug``.
    """
    if top_k < 0:
        raise ValueError(f"top_k must be 0 or more; got {top_k}")
    drug = _resolve_drug(model, drug)
    scorer = model.scorer
    scores = scorer.score([profile], rank_by="evidence")
    column = scores.drugs.index(drug)
    rank = 1 + scores.order[0].tolist().index(column)
    score = RowView(model, scores, 0).drug_score(column, rank)
    names = scorer.feature_names[column]
    if column in scorer.boosted:
        contributions = scorer.shap(scores, 0, [column])[column]
        shap, base = contributions[:-1], float(contributions[-1])
        values = scorer.feature_values(scores, 0, column)
    else:  # served by its rate or biomarker: no features, the margin is the base
        shap, values = np.zeros(0), np.zeros(0)
        base = float(scores.margin[0, column])
    steps = _waterfall(shap, values, names, base=base, top_k=top_k)
    summary = model.explanation(drug)
    return PatientExplanation(
        drug=drug,
        base_rate=score.base_rate,
        base_probability=float(expit(base)),
        raw_probability=steps[-1].end if steps else float(expit(base)),
        steps=steps,
        score=score,
        key_alteration=_key_alteration(
            model,
            profile,
            drug,
            match=score.matched_biomarker,
            shap=shap,
            names=names,
            summary=summary,
        ),
        summary=summary,
    )


def _resolve_drug(model: ResponderModel, drug: str) -> str:
    name = drug.strip().lower()
    if name in model.metadata.drugs:
        return name
    generic = model.knowledge.resolve(name)
    if generic in model.metadata.drugs:
        return generic
    some = ", ".join(model.drugs[:3])
    raise UnknownDrugError(
        f"drug {drug!r} is not scored by this model ({len(model.drugs)} drugs, "
        f"e.g. {some})"
    )


def _waterfall(
    shap: np.ndarray,
    values: np.ndarray,
    names: Sequence[str],
    *,
    base: float,
    top_k: int,
) -> tuple[WaterfallStep, ...]:
    # Stable sort: ties keep column order, so the same request gives the same bars.
    order = [i for i in np.argsort(-np.abs(shap), kind="stable") if shap[i] != 0.0]
    shown, rest = order[:top_k], order[top_k:]
    bars = [
        (names[i], None if np.isnan(values[i]) else float(values[i]), float(shap[i]))
        for i in shown
    ]
    if rest:
        noun = "feature" if len(rest) == 1 else "features"
        bars.append((f"other {len(rest)} {noun}", None, float(shap[rest].sum())))
    steps, margin = [], base
    for feature, value, phi in bars:
        start, margin = float(expit(margin)), margin + phi
        steps.append(WaterfallStep(feature, value, phi, start, float(expit(margin))))
    return tuple(steps)


def _key_alteration(
    model: ResponderModel,
    profile: Profile,
    drug: str,
    *,
    match: Match | None,
    shap: np.ndarray,
    names: Sequence[str],
    summary: DrugExplanation | None,
) -> KeyAlteration | None:
    """The matched biomarker's feature column if it has one, else the profile's
    alteration column with the largest positive SHAP value."""
    carried = [] if match is None else _matched_tokens(model, profile, drug, match)
    chosen_by: KeyChoice = "matched biomarker"
    if not carried:
        chosen_by = "largest positive SHAP"
        tokens = set(event_tokens(profile))
        positive = [i for i, n in enumerate(names) if n in tokens and shap[i] > 0]
        if not positive:
            return None
        carried = [names[max(positive, key=lambda i: shap[i])]]
    cells = summary.carriers if summary is not None else {}
    columns = set(names)
    feature = next(
        (t for t in carried if t in cells),
        next((t for t in carried if t in columns), carried[0]),
    )
    return _counted(feature, chosen_by, drug, summary)


def _matched_tokens(
    model: ResponderModel, profile: Profile, drug: str, match: Match
) -> list[str]:
    """Feature names of the alteration the drug's best biomarker match rests on,
    most specific first (``hotspot BRAF V600`` before ``mutation BRAF``)."""
    bare = profile.model_copy(
        update={"msi_high": None, "tmb_mut_per_mb": None, "hrd_score": None}
    )
    for alteration in profile.alterations:
        single = bare.model_copy(update={"alterations": (alteration,)})
        if _same(model.knowledge.match(single, drug), match):
            return list(reversed(list(event_tokens(single))))
    # A signature: MSI is a column of its own; TMB and HRD are numbers, not carriers.
    return ["msi high"] if match.alteration == "msi high" else []


def _same(found: Match | None, match: Match) -> bool:
    return found is not None and (found.matching_class, found.alteration) == (
        match.matching_class,
        match.alteration,
    )


def _counted(
    feature: str, chosen_by: KeyChoice, drug: str, summary: DrugExplanation | None
) -> KeyAlteration:
    if summary is None:
        statement = f"no training counts are stored for {drug} in this model"
        return KeyAlteration(feature, chosen_by, None, None, statement)
    cell = summary.carriers.get(feature)
    if cell is None or cell.n < MIN_CELL:
        statement = f"fewer than {MIN_CELL} training samples with {drug} had {feature}"
        return KeyAlteration(feature, chosen_by, None, None, statement)
    statement = (
        f"{cell.responders} of {cell.n} training samples with {drug} and "
        f"{feature} responded ({cell.responders / cell.n:.0%})"
    )
    return KeyAlteration(feature, chosen_by, cell.n, cell.responders, statement)

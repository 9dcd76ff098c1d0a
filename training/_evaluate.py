"""What the evaluation and the CLI share: served out-of-fold predictions, the
matching-rule baseline, and the top SHAP features per drug."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from features import DrugKnowledge, Profile
from models import ResponderModel
from training._pipeline import CrossValidation
from training._pooled import choose_served


def served_predictions(cv: CrossValidation) -> pd.Series:
    """Each episode's out-of-fold probability from the model CV chose for its drug."""
    served = choose_served(cv.cv_own, cv.cv_pooled)
    pooled = cv.oof["drug"].map(served).eq("pooled")
    return cv.oof["pooled"].where(pooled, cv.oof["per_drug"])


def matching_rule(
    oof: pd.DataFrame, profiles: Sequence[Profile], knowledge: DrugKnowledge
) -> np.ndarray:
    """The baseline in use today: treat every biomarker-matched patient (1 or 0)."""
    by_id = {p.sample_id: p for p in profiles}
    pairs = zip(oof["sample_id"], oof["drug"], strict=True)
    return np.array(
        [knowledge.match(by_id[s], d) is not None for s, d in pairs], dtype=float
    )


def top_shap_features(
    model: ResponderModel,
    profiles: Sequence[Profile],
    treatments: pd.DataFrame,
    *,
    k: int = 5,
) -> dict[str, list[tuple[str, float]]]:
    """Per drug, the k features with the largest mean |SHAP| over its episodes."""
    treated = treatments[treatments["drug"].isin(list(model.metadata.drugs))]
    strength = _mean_abs_shap(model, profiles, treated)
    top = {}
    for drug, values in strength.items():
        names = model.feature_names(drug)
        order = np.argsort(-values)[:k]
        top[drug] = [(names[i], float(values[i])) for i in order]
    return top


def _mean_abs_shap(
    model: ResponderModel,
    profiles: Sequence[Profile],
    treated: pd.DataFrame,
    *,
    chunk: int = 200,
) -> dict[str, np.ndarray]:
    # One pass explains every drug for a chunk of profiles; explaining each drug's
    # profiles separately would explain all drugs each time (quadratic in drugs).
    by_id = {p.sample_id: p for p in profiles}
    ids = list(dict.fromkeys(treated["sample_id"]))
    drugs_of = treated.groupby("sample_id")["drug"].agg(list)
    totals: dict[str, np.ndarray] = {}
    for start in range(0, len(ids), chunk):
        batch = ids[start : start + chunk]
        contributions = model.explain([by_id[s] for s in batch])
        for row, sample_id in enumerate(batch):
            for drug in drugs_of[sample_id]:
                values = np.abs(contributions[drug][row, :-1]).astype(float)
                totals[drug] = totals.get(drug, 0.0) + values
    counts = treated.groupby("drug").size()
    return {drug: totals[drug] / counts[drug] for drug in sorted(totals)}

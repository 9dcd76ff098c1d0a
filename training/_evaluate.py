"""Evaluation of a cohort's cross-validated predictions, against truth when known."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

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


def summarise(
    cv: CrossValidation,
    profiles: Sequence[Profile],
    *,
    knowledge: DrugKnowledge,
    truth: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Overall and per-drug AUROC of the model, the matching rule and (with truth)
    the true probabilities, which bound what any model can reach."""
    frame = cv.oof.assign(
        model=served_predictions(cv).to_numpy(),
        rule=matching_rule(cv.oof, profiles, knowledge),
    )
    columns = ["model", "rule", "per_drug", "pooled"]
    if truth is not None:
        frame = frame.merge(
            truth[["sample_id", "drug", "true_probability"]],
            on=["sample_id", "drug"],
            how="left",
            validate="one_to_one",
        )
        columns.append("true_probability")
    summary: dict[str, Any] = {"overall": _aurocs(frame, columns)}
    if truth is not None:
        rho = spearmanr(frame["model"], frame["true_probability"]).statistic
        summary["overall"]["spearman_model_vs_truth"] = float(rho)
    summary["drugs"] = {
        str(drug): {"n": len(group), "responders": int(group["responded"].sum()),
                    **_aurocs(group, columns)}
        for drug, group in frame.groupby("drug")
    }  # fmt: skip
    return summary


def _aurocs(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for column in columns:
        scored = frame.dropna(subset=[column])
        y = scored["responded"].to_numpy()
        both = len(scored) and 0 < y.sum() < len(y)
        out[f"auroc_{column}"] = (
            float(roc_auc_score(y, scored[column])) if both else None
        )
    return out


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

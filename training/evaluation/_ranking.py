"""How well each ranking rule orders the drugs of a held-out sample, and the
paired per-drug comparison of the model with a baseline.

A tumour board reads the top of one patient's list, so the rules of
:data:`models.RANK_BY` are compared on that: for every held-out sample, its scored
drugs are ordered by the rule, and the top ``k`` are judged by

- ``precision_at_k``: the share of them the sample responded to;
- ``relative_sensitivity_at_k`` (where the cohort has ``ln_ic50``): their mean
  z-score of ln IC50 within the drug (negative: the sample is more sensitive to
  them than the drug's typical sample), which does not depend on how each drug's
  responder threshold was set, unlike the first.

``probability`` is the served model's out-of-fold probability (not yet
calibrated: the calibrators are fitted on these), ``lift`` that minus the drug's
out-of-fold tumour-type rate, ``evidence`` the DRUP matching class first (1
best, unmatched last), then the probability.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from features import DrugKnowledge
from models import RANK_BY
from training.data import Cohort
from training.evaluation._bootstrap import auroc, bootstrap_weights, percentile_interval
from training.evaluation._metrics import MIN_EVENTS

TOP_K = 5
UNMATCHED = 5  # sorts after matching class 4


def ranking_metrics(
    frame: pd.DataFrame,
    cohort: Cohort,
    *,
    knowledge: DrugKnowledge,
    k: int = TOP_K,
) -> dict[str, Any]:
    """Each rule's mean top-``k`` precision (and relative sensitivity) over the
    held-out samples with at least ``k`` scored drugs.

    ``frame`` is an evaluation's prediction frame (``sample_id``, ``drug``,
    ``responded``, ``model``, ``rate_shrunk``).
    """
    scored = frame.dropna(subset=["model", "rate_shrunk"])
    scored = scored[scored.groupby("sample_id")["drug"].transform("size") >= k]
    if scored.empty:
        return {"k": k, "samples": 0, "rules": {}}
    scored = scored.assign(
        matching_class=_matching_classes(scored, cohort, knowledge),
        lift=scored["model"] - scored["rate_shrunk"],
        z=_ic50_z(scored, cohort),
    )
    keys = {
        "evidence": (["matching_class", "model"], [True, False]),
        "probability": (["model"], [False]),
        "lift": (["lift", "model"], [False, False]),
    }
    rules = {}
    for rule in RANK_BY:
        columns, ascending = keys[rule]
        top = (
            scored.sort_values(["sample_id", *columns], ascending=[True, *ascending])
            .groupby("sample_id")
            .head(k)
        )
        per_sample = top.groupby("sample_id")
        rules[rule] = {
            "precision_at_k": float(per_sample["responded"].mean().mean()),
            "relative_sensitivity_at_k": (
                None if top["z"].isna().all() else float(per_sample["z"].mean().mean())
            ),
        }
    return {
        "k": k,
        "samples": int(scored["sample_id"].nunique()),
        "base_rate": float(scored.groupby("sample_id")["responded"].mean().mean()),
        "rules": rules,
    }


def _matching_classes(
    frame: pd.DataFrame, cohort: Cohort, knowledge: DrugKnowledge
) -> np.ndarray:
    profile = cohort.profile
    out = []
    for sample_id, drug in zip(frame["sample_id"], frame["drug"], strict=True):
        match = knowledge.match(profile[sample_id], drug)
        out.append(UNMATCHED if match is None else match.matching_class)
    return np.array(out)


def _ic50_z(frame: pd.DataFrame, cohort: Cohort) -> pd.Series:
    treatments = cohort.treatments
    if "ln_ic50" not in treatments.columns:
        return pd.Series(np.nan, index=frame.index)
    by_drug = treatments.groupby("drug")["ln_ic50"]
    z = (treatments["ln_ic50"] - by_drug.transform("mean")) / by_drug.transform("std")
    lookup = pd.Series(
        z.to_numpy(), index=pd.MultiIndex.from_frame(treatments[["sample_id", "drug"]])
    )
    keys = pd.MultiIndex.from_frame(frame[["sample_id", "drug"]])
    return pd.Series(lookup.reindex(keys).to_numpy(), index=frame.index)


def paired_auroc(
    frame: pd.DataFrame, model: str, baseline: str, *, n_bootstrap: int, seed: int
) -> dict[str, Any]:
    """Per drug, the AUROC of ``model`` minus that of ``baseline`` on the same
    held-out episodes, with a 95% bootstrap interval (samples resampled, both
    columns on each resample); drugs need `MIN_EVENTS` of each outcome.

    Both AUROCs count only pairs of episodes held out in the same fold
    (:func:`within_fold_auroc`): each fold's scores come from one fitted model,
    and a pair across folds compares two models' scales, not two patients. A
    model that is a monotone refit of a baseline per fold thus ties it.

    Returns the median difference, how many drugs' intervals lie above and below
    0, and the per-drug rows.
    """
    rows: list[dict[str, Any]] = []
    for drug, group in frame.dropna(subset=[model, baseline]).groupby("drug"):
        y = group["responded"].to_numpy()
        if min(y.sum(), len(y) - y.sum()) < MIN_EVENTS:
            continue
        ids, folds = group["sample_id"].to_numpy(), group["fold"].to_numpy()
        a, b = group[model].to_numpy(), group[baseline].to_numpy()
        weights = [
            np.ones((1, len(y))),
            *bootstrap_weights(ids, n_bootstrap=n_bootstrap, seed=seed),
        ]
        delta, *resampled = [
            within_fold_auroc(y, a, W, folds) - within_fold_auroc(y, b, W, folds)
            for W in weights
        ]
        samples = np.concatenate(resampled)
        delta = float(delta[0])
        if np.isnan(delta):  # no fold holds both outcomes
            continue
        rows.append(
            {"drug": str(drug), "delta": delta, "ci": percentile_interval(samples)}
        )
    above = sum(r["ci"] is not None and r["ci"][0] > 0 for r in rows)
    below = sum(r["ci"] is not None and r["ci"][1] < 0 for r in rows)
    return {
        "model": model,
        "baseline": baseline,
        "drugs": len(rows),
        "median_delta": float(np.median([r["delta"] for r in rows])) if rows else None,
        "ci_above_0": int(above),
        "ci_below_0": int(below),
        "per_drug": rows,
    }


def within_fold_auroc(
    y: np.ndarray, p: np.ndarray, W: np.ndarray, folds: np.ndarray
) -> np.ndarray:
    """Weighted AUROC (one per row of ``W``) over the responder / non-responder
    pairs held out in the same fold: each fold's AUROC weighted by its pairs;
    NaN where no fold holds both outcomes."""
    y = np.asarray(y, dtype=float)
    area, pairs = np.zeros(len(W)), np.zeros(len(W))
    for fold in np.unique(folds):
        mine = folds == fold
        n_pairs = (W[:, mine] @ y[mine]) * (W[:, mine] @ (1 - y[mine]))
        fold_area = auroc(y[mine], p[mine], W[:, mine])
        area += np.where(n_pairs > 0, fold_area, 0.0) * n_pairs
        pairs += n_pairs
    with np.errstate(invalid="ignore", divide="ignore"):
        return area / pairs

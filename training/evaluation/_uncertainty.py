"""Measured coverage and in-domain versus flagged performance on held-out folds.

For each fold k, calibration, conformal thresholds, score bins and the domain are
fitted on the other folds' out-of-fold predictions and applied to fold k, exactly
as the bundle applies them to a new patient.  (The out-of-fold predictions of the
other folds come from boosters that saw fold k's outcomes, so this is cross-fitting,
not a fully nested split; the boosters themselves never saw the episode they score.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score

from models import UncertaintyModel
from training.config import UncertaintyConfig
from training.data import Cohort
from training.fitting import CrossValidation, episode_frame, fit_episodes


def held_out_uncertainty(
    cv: CrossValidation, cohort: Cohort, *, settings: UncertaintyConfig
) -> pd.DataFrame:
    """One row per held-out episode: fold, raw and calibrated probability, interval
    (``low``, ``high``), conformal set, ``covered``, domain flags and ``reason``."""
    frame = episode_frame(cv, cohort)
    by_id = {p.sample_id: p for p in cohort.profiles}
    parts = []
    for fold in sorted(int(f) for f in frame["fold"].unique() if f >= 0):
        train, test = frame[frame["fold"] != fold], frame[frame["fold"] == fold]
        profiles = [by_id[s] for s in train["sample_id"].unique()]
        model = fit_episodes(train, profiles, settings=settings)
        seen = {
            str(drug): set(group)
            for drug, group in train.groupby("drug")["tumour_type"]
        }
        parts.append(_assess(model, test, by_id, seen=seen))
    return pd.concat(parts).sort_index()


def _assess(
    model: UncertaintyModel,
    test: pd.DataFrame,
    by_id: dict[Any, Any],
    *,
    seen: dict[str, set[str]],
) -> pd.DataFrame:
    # A sample's profile is judged once, however many drugs it was given.
    samples = test["sample_id"].unique()
    profiles = [by_id[s] for s in samples]
    domain = model.domain
    judged = pd.DataFrame(
        {
            # object, not pandas' string dtype, which would turn None into NaN
            "reason": pd.Series(domain.reasons(profiles), index=samples, dtype=object),
            "unseen_genes": domain.unseen_events(profiles) > domain.unseen_threshold,
            "unusual": domain.surprisal(profiles) > domain.surprisal_threshold,
        },
        index=samples,
    ).loc[test["sample_id"]]
    reasons = judged["reason"].tolist()
    out = test.assign(
        probability=np.nan, low=np.nan, high=np.nan, prediction_set=None, reason=None,
        unseen_genes=judged["unseen_genes"].to_numpy(),
        unusual=judged["unusual"].to_numpy(),
        unseen_tumour_type=[
            t not in seen.get(d, set())
            for d, t in zip(test["drug"], test["tumour_type"], strict=True)
        ],
        unknown_drug=~test["drug"].isin(list(model.drugs)),
    )  # fmt: skip
    for drug, rows in test.groupby("drug").indices.items():
        a = model.assess(
            str(drug),
            test["raw"].to_numpy()[rows],
            list(test["tumour_type"].to_numpy()[rows]),
            seen_tumour_types=seen.get(str(drug), set()),
            profile_reasons=[reasons[i] for i in rows],
        )
        index = test.index[rows]
        out.loc[index, ["probability", "low", "high"]] = np.c_[
            a.probability, a.low, a.high
        ]
        out.loc[index, "prediction_set"] = pd.Series(a.sets, index=index)
        out.loc[index, "reason"] = pd.Series(a.reasons, index=index, dtype=object)
    out["in_domain"] = out["reason"].isna()
    out["covered"] = [
        y in labels
        for y, labels in zip(out["responded"], out["prediction_set"], strict=True)
    ]
    return out


def summarise_uncertainty(frame: pd.DataFrame, *, coverage: float) -> dict[str, Any]:
    """Coverage (overall, per outcome, per drug and tumour type), set sizes,
    calibration gain and performance in domain versus flagged."""
    sizes = frame["prediction_set"].map(len)
    y = frame["responded"]
    by_drug = frame.groupby("drug")["covered"].agg(["mean", "size"])
    by_group = frame.groupby(["drug", "tumour_type"])["covered"].agg(["mean", "size"])
    return {
        "nominal_coverage": coverage,
        "n_episodes": len(frame),
        "coverage": float(frame["covered"].mean()),
        "coverage_responders": float(frame.loc[y == 1, "covered"].mean()),
        "coverage_non_responders": float(frame.loc[y == 0, "covered"].mean()),
        "coverage_per_drug": _spread(by_drug["mean"][by_drug["size"] >= 20]),
        "coverage_per_drug_tumour_type": _spread(
            by_group["mean"][by_group["size"] >= 20]
        ),
        "share_both_labels": float((sizes == 2).mean()),
        "mean_interval_width": float((frame["high"] - frame["low"]).mean()),
        "interval_coverage_observed": _interval_coverage(frame, "responded"),
        "interval_coverage_truth": _interval_coverage(frame, "truth")
        if "truth" in frame
        else None,
        "brier_raw": float(brier_score_loss(y, frame["raw"])),
        "brier_calibrated": float(brier_score_loss(y, frame["probability"])),
        "share_out_of_domain": float((~frame["in_domain"]).mean()),
        "flag_shares": {
            flag: float(frame[flag].mean())
            for flag in (
                "unseen_tumour_type",
                "unseen_genes",
                "unusual",
                "unknown_drug",
            )
        },
        "in_domain": _performance(frame[frame["in_domain"]]),
        "out_of_domain": _performance(frame[~frame["in_domain"]]),
    }


def _interval_coverage(frame: pd.DataFrame, column: str) -> float:
    """Share of held-out episodes whose score bin's interval holds the bin's mean
    ``column`` among them: the observed response rate (which also varies by
    sampling, so it is covered less often than the bin's true rate) or, on a
    simulated cohort, the true probability. A bin is a (fold, drug, interval)
    group: one training fold's bin applied to its held-out episodes."""
    bins = frame.groupby(["fold", "drug", "low", "high"])[column].agg(["mean", "size"])
    low = bins.index.get_level_values("low")
    high = bins.index.get_level_values("high")
    inside = (bins["mean"] >= low) & (bins["mean"] <= high)
    return float(np.average(inside, weights=bins["size"]))


def _spread(values: pd.Series) -> dict[str, float | int | None]:
    if values.empty:
        return {"n": 0, "median": None, "min": None, "max": None}
    return {
        "n": len(values),
        "median": float(values.median()),
        "min": float(values.min()),
        "max": float(values.max()),
    }


def _performance(frame: pd.DataFrame) -> dict[str, float | int | None]:
    y = frame["responded"].to_numpy()
    both = 0 < y.sum() < len(y)
    per_drug = [
        roc_auc_score(g["responded"], g["probability"])
        for _, g in frame.groupby("drug")
        if len(g) >= 20 and 0 < g["responded"].sum() < len(g)
    ]
    return {
        "n": len(frame),
        "responders": int(y.sum()),
        "auroc": float(roc_auc_score(y, frame["probability"])) if both else None,
        "median_drug_auroc": float(np.median(per_drug)) if per_drug else None,
        "n_drugs_with_auroc": len(per_drug),
        "brier": float(brier_score_loss(y, frame["probability"])) if len(y) else None,
        "mean_probability": float(frame["probability"].mean()) if len(y) else None,
        "response_rate": float(y.mean()) if len(y) else None,
        "coverage": float(frame["covered"].mean()) if len(y) else None,
    }

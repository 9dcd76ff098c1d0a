"""Figures of an evaluation, as PNG bytes (a bare Figure: no pyplot, no display)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

COLOURS = {
    "model": "#cc3311",
    "logistic": "#0077bb",
    "rate_shrunk": "#009988",
    "rate": "#999933",
    "rule": "#ee7733",
    "biomarker": "#ee3377",
    "truth": "#555555",
    "treat_all": "#aaaaaa",
}
LABELS = {
    "model": "model",
    "logistic": "logistic regression",
    "rate_shrunk": "response rate, shrunk by tumour type",
    "rate": "response rate",
    "rule": "matching rule",
    "biomarker": "known biomarker alone",
    "cohort_rate": "cohort's response rate, shrunk",
    "evidence": "evidence class's response rate",
    "combined": "cohort's rate, shrunk to its class",
    "truth": "true probability",
    "truth_new_cohort": "true probability, new cohort",
    "treat_all": "treat all",
}


def curves_png(
    frame: pd.DataFrame, scored: Mapping[str, Any], columns: Sequence[str], title: str
) -> bytes:
    """ROC, reliability and decision curves of one subset, side by side."""
    figure = Figure(figsize=(13, 4.2))
    roc, reliability, decision = figure.subplots(1, 3)
    _roc(roc, frame, columns)
    _reliability(reliability, scored["reliability"], columns)
    _decision(decision, scored["decision_curve"], columns)
    figure.suptitle(
        f"{title}: {scored['n']} episodes, {scored['events']} events "
        f"(prevalence {scored['prevalence']:.1%})"
    )
    handles, labels = decision.get_legend_handles_labels()
    figure.legend(
        handles, labels, loc="lower center", ncol=len(labels), fontsize="small",
        frameon=False,
    )  # fmt: skip
    figure.tight_layout(rect=(0, 0.08, 1, 0.95))
    return _png(figure)


def spread_png(
    groups: Mapping[str, Mapping[str, Any]], columns: Sequence[str]
) -> bytes:
    """Box plot of the per-drug AUROC of each column."""
    figure = Figure(figsize=(8, 3.6))
    axis = figure.subplots()
    values = [
        [
            v
            for g in groups.values()
            if (v := g["metrics"][c]["auroc"]["value"]) is not None
        ]
        for c in columns
    ]
    axis.boxplot(
        values, orientation="horizontal", tick_labels=[LABELS[c] for c in columns]
    )
    axis.axvline(0.5, color="grey", linestyle="--", linewidth=1)
    axis.set(xlabel="held-out AUROC per drug", xlim=(0, 1))
    axis.invert_yaxis()
    figure.tight_layout()
    return _png(figure)


def _roc(axis: Axes, frame: pd.DataFrame, columns: Sequence[str]) -> None:
    y = frame["responded"].to_numpy()
    for column in columns:
        if 0 < y.sum() < len(y):
            fpr, tpr, _ = roc_curve(y, frame[column].to_numpy())
            axis.plot(fpr, tpr, **_style(column))
    axis.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    axis.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")


def _reliability(
    axis: Axes, curves: Mapping[str, Mapping[str, list[float]]], columns: Sequence[str]
) -> None:
    for column in columns:
        if column in curves:
            curve = curves[column]
            axis.plot(curve["predicted"], curve["observed"], marker="o",
                      markersize=3, **_style(column))  # fmt: skip
    axis.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    axis.set(xlabel="mean predicted probability", ylabel="observed response rate",
             title="Reliability (deciles of prediction)")  # fmt: skip


def _decision(
    axis: Axes, curve: Mapping[str, list[float]], columns: Sequence[str]
) -> None:
    thresholds = np.asarray(curve["threshold"])
    for column in (*columns, "treat_all"):
        axis.plot(thresholds, curve[column], **_style(column))
    axis.axhline(0, color="grey", linestyle=":", linewidth=1)
    top = max(0.01, *(max(curve[c]) for c in (*columns, "treat_all")))
    axis.set(xlabel="threshold probability", ylabel="net benefit",
             title="Decision curve", ylim=(-0.1 * top, 1.1 * top))  # fmt: skip


def _style(column: str) -> dict[str, Any]:
    dashed = column in ("truth", "treat_all")
    return {
        "color": COLOURS.get(column, "black"),
        "label": LABELS.get(column, column),
        "linewidth": 2 if column == "model" else 1.2,
        "linestyle": "--" if dashed else "-",
    }


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()

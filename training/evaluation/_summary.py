"""Flat aggregate metrics of an evaluation document, for a tracking store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def run_metrics(document: Mapping[str, Any]) -> dict[str, float]:
    """Flat aggregate metrics: counts, and per prediction column the overall
    metrics and the spread of the per-drug AUROC and calibration."""
    overall = document["overall"]
    flat = {k: float(overall[k]) for k in ("n", "events", "samples", "prevalence")}
    flat["drugs"] = float(len(document["drugs"]))
    for column in document["columns"]:
        for metric, estimate in overall["metrics"][column].items():
            if estimate["value"] is not None:
                flat[f"{column}.{metric}"] = float(estimate["value"])
        for key, value in document["summary"]["drugs"][column].items():
            if value is not None:
                flat[f"{column}.per_drug.{key}"] = float(value)
    return flat

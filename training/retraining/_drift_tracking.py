"""Log a drift report to an MLflow run: metrics, tables, JSON and one figure."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from mlflow.entities import Metric

from training.retraining._drift import DriftReport

ARTIFACT_PATH = "drift"
_TOP_FEATURES = 15
_TOP_TYPES = 15
_COLOURS = {"reference": "#4477aa", "current": "#cc3311"}


def log_drift(client: mlflow.MlflowClient, run_id: str, report: DriftReport) -> None:
    """Log `report` to run `run_id`: its summary as metrics (finite values only;
    all of them are in ``drift.json``) and, under ``drift/``, one CSV per table,
    ``drift.json`` and ``drift.png``."""
    metrics = [
        Metric(name, value, 0, 0)
        for name, value in report.summary().items()
        if math.isfinite(value)
    ]
    client.log_batch(run_id, metrics=metrics)
    with tempfile.TemporaryDirectory() as tmp:
        write_drift(report, Path(tmp))
        client.log_artifacts(run_id, tmp, artifact_path=ARTIFACT_PATH)


def write_drift(report: DriftReport, folder: Path) -> list[Path]:
    """Write the report's tables, ``drift.json`` and ``drift.png`` into `folder`."""
    paths = []
    for name, table in report.tables().items():
        paths.append(folder / f"{name}.csv")
        table.to_csv(paths[-1], index=False)
    paths.append(folder / "drift.json")
    paths[-1].write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    paths.append(folder / "drift.png")
    plot_drift(report, paths[-1])
    return paths


def plot_drift(report: DriftReport, path: Path) -> None:
    """Top prevalence shifts beside the tumour-type mix, reference vs current."""
    # A bare Figure needs no pyplot backend, so this works on a headless server.
    figure = Figure(figsize=(12, 6))
    left, right = figure.subplots(1, 2)
    shifts = report.prevalence.dropna(subset=["difference"]).head(_TOP_FEATURES)
    _paired_bars(
        left, shifts.set_index("feature"), "prevalence",
        title=f"Largest prevalence shifts (top {len(shifts)})",
    )  # fmt: skip
    types = report.tumour_types.set_index("tumour_type")
    largest = types[["proportion_reference", "proportion_current"]].max(axis=1)
    _paired_bars(
        right, types.loc[largest.nlargest(_TOP_TYPES).index], "proportion",
        title="Tumour-type mix (small types pooled into other)",
    )  # fmt: skip
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def _paired_bars(axis: Axes, table: pd.DataFrame, column: str, *, title: str) -> None:
    """Horizontal bars of `column`_reference and `column`_current per row."""
    rows = np.arange(len(table))
    for offset, side in ((-0.2, "reference"), (0.2, "current")):
        values = table[f"{column}_{side}"].to_numpy(dtype=float)
        axis.barh(
            rows + offset, np.nan_to_num(values), height=0.4,
            color=_COLOURS[side], label=side,
        )  # fmt: skip
    axis.set_yticks(rows.tolist(), [str(label) for label in table.index], fontsize=8)
    axis.invert_yaxis()
    axis.set(xlabel=column, title=title)
    axis.title.set_fontsize(10)
    axis.legend(loc="lower right")

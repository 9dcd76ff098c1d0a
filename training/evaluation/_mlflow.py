"""Log an evaluation to MLflow: a run tagged ``kind=evaluation`` holding aggregate
metrics and the JSON and HTML files (which hold no sample id)."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlflow.entities import Metric, Param

from training._config import TrackingConfig
from training._tracking import client_for, ensure_experiment


def log_evaluation(
    tracking: TrackingConfig,
    document: Mapping[str, Any],
    *,
    files: Sequence[Path],
    params: Mapping[str, Any],
) -> str:
    """Log aggregate metrics and ``files`` (JSON, HTML) to a new MLflow run
    tagged ``kind=evaluation``; returns the run id."""
    client = client_for(tracking)
    experiment_id = ensure_experiment(client, tracking)
    tags = {"kind": "evaluation", "split": str(document["split"])}
    run = client.create_run(
        experiment_id, tags=tags, run_name=f"evaluate-{document['split']}"
    )
    run_id = run.info.run_id
    metrics = [Metric(k, v, 0, 0) for k, v in run_metrics(document).items()]
    client.log_batch(
        run_id, metrics=metrics, params=[Param(k, str(v)) for k, v in params.items()]
    )
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            (Path(tmp) / path.name).write_bytes(path.read_bytes())
        client.log_artifacts(run_id, tmp)
    client.set_terminated(run_id, "FINISHED")
    return str(run_id)


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

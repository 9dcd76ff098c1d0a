"""MLflow runs: one helper opens every run kind (train, evaluation, explanation,
retrain) with the resolved config logged, and marks it FAILED if its body raises."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import mlflow
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from mlflow.entities import Metric, Param

from models import ResponderModel, redact_credentials
from training.config import Config, TrackingConfig
from training.evaluation import run_metrics

RunKind = Literal["train", "evaluation", "explanation", "retrain"]


def client_for(tracking: TrackingConfig) -> mlflow.MlflowClient:
    """A client bound to the configured store (no global MLflow state)."""
    return mlflow.MlflowClient(tracking_uri=tracking.uri, registry_uri=tracking.uri)


def ensure_experiment(client: mlflow.MlflowClient, tracking: TrackingConfig) -> str:
    """The configured experiment's id; created, with its artifact folder, if new."""
    experiment = client.get_experiment_by_name(tracking.experiment)
    if experiment is not None:
        return str(experiment.experiment_id)
    return str(
        client.create_experiment(
            tracking.experiment,
            artifact_location=tracking.artifact_root.resolve().as_uri(),
        )
    )


@contextmanager
def tracked_run(
    config: Config,
    *,
    kind: RunKind,
    name: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """Open an MLflow run tagged ``kind`` with the resolved config logged; yield
    its id. The run is marked FAILED if the body raises, so a crash is visible."""
    client = client_for(config.tracking)
    experiment_id = ensure_experiment(client, config.tracking)
    run = client.create_run(
        experiment_id, tags={"kind": kind, **(tags or {})}, run_name=name or kind
    )
    run_id = run.info.run_id
    client.log_batch(run_id, params=run_params(config))
    try:
        yield run_id
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED")


def log_results(
    config: Config,
    run_id: str,
    *,
    metrics: Mapping[str, float],
    files: Sequence[Path] = (),
    folder: Path | None = None,
) -> None:
    """Log aggregate ``metrics`` and ``files`` (or a whole ``folder``) to a run."""
    client = client_for(config.tracking)
    client.log_batch(
        run_id, metrics=[Metric(k, float(v), 0, 0) for k, v in metrics.items()]
    )
    if folder is not None:
        client.log_artifacts(run_id, str(folder))
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            (Path(tmp) / path.name).write_bytes(path.read_bytes())
        if files:
            client.log_artifacts(run_id, tmp)


def log_evaluation(
    config: Config, document: Mapping[str, Any], *, files: Sequence[Path]
) -> str:
    """Log an evaluation's aggregate metrics and its JSON and HTML ``files`` (which
    hold no sample id) to a new run of kind ``evaluation``; returns the run id."""
    split = str(document["split"])
    with tracked_run(
        config, kind="evaluation", name=f"evaluate-{split}", tags={"split": split}
    ) as run_id:
        log_results(config, run_id, metrics=run_metrics(document), files=files)
    return run_id


def log_explanations(
    config: Config, folder: Path, *, metrics: Mapping[str, float]
) -> str:
    """Log ``folder``'s files and aggregate ``metrics`` to a new run of kind
    ``explanation``; returns the run id."""
    with tracked_run(config, kind="explanation", name="explain") as run_id:
        log_results(config, run_id, metrics=metrics, folder=folder)
    return run_id


def log_training(
    config: Config, run_id: str, model: ResponderModel, *, seconds: float
) -> None:
    """Log summary metrics, the per-drug CV table and an AUROC histogram."""
    client = client_for(config.tracking)
    table = cv_table(model)
    auroc = table["auroc"].dropna()
    summary = {
        "n_drugs": len(table),
        "cv_auroc_median": float(auroc.median()),
        "cv_auroc_min": float(auroc.min()),
        "cv_auroc_max": float(auroc.max()),
        "cv_brier_median": float(table["brier"].median()),
        "training_seconds": seconds,
    }
    client.log_batch(run_id, metrics=[Metric(k, v, 0, 0) for k, v in summary.items()])
    client.set_tag(run_id, "data_hash", model.metadata.data_hash)
    with tempfile.TemporaryDirectory() as tmp:
        table.to_csv(Path(tmp) / "cv_metrics.csv", index=False)
        _plot_auroc(auroc.to_numpy(), Path(tmp) / "cv_auroc.png")
        client.log_artifacts(run_id, tmp)


def cv_table(model: ResponderModel) -> pd.DataFrame:
    """One row per drug: training counts and out-of-fold metrics (aggregates only)."""
    rows = []
    for drug, info in sorted(model.metadata.drugs.items()):
        low, high = info.cv.auroc_ci or (np.nan, np.nan)
        rows.append(
            {
                "drug": drug,
                "served_by": info.served_by,
                "n_samples": info.n_training_samples,
                "n_responders": info.n_responders,
                "prevalence": info.cv.prevalence,
                "auroc": info.cv.auroc,
                "auroc_ci_low": low,
                "auroc_ci_high": high,
                "auprc": info.cv.auprc,
                "brier": info.cv.brier,
                "auroc_per_drug": info.cv_per_drug.auroc if info.cv_per_drug else None,
                "auroc_pooled": info.cv_pooled.auroc if info.cv_pooled else None,
                "brier_per_drug": info.cv_per_drug.brier if info.cv_per_drug else None,
                "brier_pooled": info.cv_pooled.brier if info.cv_pooled else None,
            }
        )
    return pd.DataFrame(rows)


def run_params(config: Config) -> list[Param]:
    """The resolved config as MLflow params, store credentials blanked.

    A store URI may carry a password (``postgresql://user:secret@host/db``).
    """
    flat = _flatten(config.model_dump(mode="json"))
    return [Param(key, redact_credentials(str(value))) for key, value in flat]


def _flatten(tree: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _plot_auroc(auroc: np.ndarray, path: Path) -> None:
    # A bare Figure needs no pyplot backend, so this works on a headless server.
    figure = Figure(figsize=(6, 4))
    axis = figure.subplots()
    axis.hist(auroc, bins=np.linspace(0.3, 1.0, 29).tolist(), color="#4477aa")
    axis.axvline(0.5, color="grey", linestyle="--", label="chance")
    axis.axvline(float(np.median(auroc)), color="#cc3311", label="median")
    axis.set(xlabel="cross-validated AUROC", ylabel="drugs", title="Per-drug CV AUROC")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)

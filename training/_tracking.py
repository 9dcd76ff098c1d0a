"""MLflow tracking and registry: one run per training, one version per bundle."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from mlflow.entities import Metric, Param
from mlflow.exceptions import MlflowException

from models import ResponderModel
from training._config import Config, TrackingConfig
from training._model_card import MODEL_CARD, model_card, registry_description

logger = logging.getLogger(__name__)

CHAMPION = "champion"


def client_for(tracking: TrackingConfig) -> mlflow.MlflowClient:
    """A client bound to the configured store (no global MLflow state)."""
    return mlflow.MlflowClient(tracking_uri=tracking.uri, registry_uri=tracking.uri)


def champion_version(tracking: TrackingConfig) -> str | None:
    """The registry version the ``champion`` alias points at, or None."""
    try:
        mv = client_for(tracking).get_model_version_by_alias(
            tracking.registered_model, CHAMPION
        )
    except MlflowException:
        return None
    return str(mv.version)


@contextmanager
def training_run(config: Config, *, tags: dict[str, str]) -> Iterator[str]:
    """Open an MLflow run with the resolved config logged; yield its id.

    The run is marked FAILED if the body raises, so a crash is visible in the UI.
    """
    client = client_for(config.tracking)
    experiment = client.get_experiment_by_name(config.tracking.experiment)
    experiment_id = (
        experiment.experiment_id
        if experiment is not None
        else client.create_experiment(
            config.tracking.experiment,
            artifact_location=config.tracking.artifact_root.resolve().as_uri(),
        )
    )
    run = client.create_run(experiment_id, tags=tags, run_name="train")
    run_id = run.info.run_id
    params = [Param(k, str(v)) for k, v in _flatten(config.model_dump(mode="json"))]
    client.log_batch(run_id, params=params)
    try:
        yield run_id
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED")


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


def register_bundle(
    config: Config,
    run_id: str,
    model: ResponderModel,
    *,
    cohort_summary: Mapping[str, Any] | None = None,
    evaluation: Mapping[str, Any] | None = None,
) -> str:
    """Log the bundle to the run, register it as a new version, alias it champion.

    The model card is logged next to the bundle (``model_card.md``; outside it, so
    the bundle's checksums stay its own) and its summary becomes the version's
    description. The alias moves only after the version exists, so a failure
    anywhere before leaves the current champion in place.
    """
    client = client_for(config.tracking)
    name = config.tracking.registered_model
    card = partial(
        model_card, model, config=config,
        cohort_summary=cohort_summary or {}, evaluation=evaluation,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        bundle = model.save(Path(tmp) / "bundle")
        client.log_artifacts(run_id, str(bundle), artifact_path="bundle")
        (Path(tmp) / MODEL_CARD).write_text(card())
        client.log_artifact(run_id, str(Path(tmp) / MODEL_CARD))
    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(name, description="Per-drug responder models")
    artifact_uri = client.get_run(run_id).info.artifact_uri
    version = client.create_model_version(
        name,
        source=f"{artifact_uri}/bundle",
        run_id=run_id,
        description=registry_description(card(per_subgroup=False)),
        tags={
            "data_hash": model.metadata.data_hash,
            "data_source": model.metadata.data_source,
            "package_version": model.metadata.package_version,
        },
    )
    client.set_registered_model_alias(name, CHAMPION, version.version)
    logger.info("registered %s version %s as %s", name, version.version, CHAMPION)
    return str(version.version)


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

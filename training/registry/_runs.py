"""MLflow runs: one helper opens every run kind (train, evaluation, explanation,
retrain) through MLflow's fluent API, so the run gets MLflow's own tags (user,
source, git commit), with the resolved config logged, and marks it FAILED if its
body raises; a run whose command was killed is marked FAILED by the next command
that looks (`fail_orphaned_runs`); the cohorts a run reads are logged as its
dataset inputs."""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import mlflow
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from mlflow.data.code_dataset_source import CodeDatasetSource
from mlflow.data.meta_dataset import MetaDataset
from mlflow.entities import Metric, Param
from mlflow.environment_variables import MLFLOW_TRACKING_URI
from mlflow.exceptions import MlflowException
from mlflow.tracking._tracking_service.utils import _use_tracking_uri

from models import ResponderModel, redact_credentials
from training.config import Config, TrackingConfig
from training.data import Cohort
from training.evaluation import run_metrics
from training.registry._lineage import SHORT_HASH
from training.registry._lock import lease_is_free, run_lease

logger = logging.getLogger(__name__)

RunKind = Literal["train", "evaluation", "explanation", "retrain"]
# How a run used a cohort (the dataset input's context).
CohortUse = Literal["training", "evaluation", "explanation", "champion training"]
LEASE_TAG = "lease"  # the run's lease (`run_lease`): held while its command runs
KILLED = (
    "its command ended without finishing the run (killed, or the machine stopped); "
    "found by a later rediscover command"
)


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
    its id. The run is the fluent API's active run in the block (MLflow's
    ``log_model`` and ``log_input`` log to it), in the configured store; it is
    marked FAILED if the body raises, so a crash is visible; if the process dies
    instead, its lease, held from before the run exists, lets `fail_orphaned_runs`
    mark it later."""
    client = client_for(config.tracking)
    experiment_id = ensure_experiment(client, config.tracking)
    token = uuid.uuid4().hex
    with (
        run_lease(config.tracking.uri, token=token),
        fluent_store(config.tracking.uri),
        mlflow.start_run(
            experiment_id=experiment_id, run_name=name or kind,
            tags={"kind": kind, LEASE_TAG: token, **(tags or {})},
        ) as run,
    ):  # fmt: skip
        client.log_batch(run.info.run_id, params=run_params(config))
        yield run.info.run_id


def fail_orphaned_runs(config: Config) -> list[str]:
    """Mark FAILED every RUNNING run whose command is gone (its lease is free);
    returns their ids. A version such a run registered without a decision is
    tagged ``decision=interrupted``. Runs of stores without locks (an HTTP
    tracking server), and runs opened before leases existed, are left alone."""
    client = client_for(config.tracking)
    experiment = client.get_experiment_by_name(config.tracking.experiment)
    if experiment is None:
        return []
    running = client.search_runs(
        [experiment.experiment_id], filter_string="attributes.status = 'RUNNING'"
    )
    failed = []
    for run in running:
        token = run.data.tags.get(LEASE_TAG)
        if not token:
            continue
        with lease_is_free(config.tracking.uri, token=token) as free:
            run_id = run.info.run_id
            # Re-read under the lease: it may have finished since the search.
            if not free or client.get_run(run_id).info.status != "RUNNING":
                continue
            client.set_tag(run_id, "failed_because", KILLED)
            client.set_terminated(run_id, "FAILED")
        _mark_interrupted(client, config.tracking.registered_model, run_id)
        logger.warning("marked run %s FAILED: %s", run_id, KILLED)
        failed.append(run_id)
    return failed


def _mark_interrupted(client: mlflow.MlflowClient, name: str, run_id: str) -> None:
    versions = client.search_model_versions(f"name = '{name}' and run_id = '{run_id}'")
    for version in versions:
        if "decision" not in version.tags and not version.aliases:
            client.set_model_version_tag(
                name, version.version, "decision", "interrupted"
            )
            client.set_model_version_tag(
                name, version.version, "decision_reason",
                "registered by a command that was killed before it decided; "
                "`rediscover promote` it to use it",
            )  # fmt: skip


@contextmanager
def fluent_store(uri: str) -> Iterator[None]:
    """Point MLflow's fluent API at ``uri`` for the block, then put back what was
    there: it has no per-call store, and setting one also sets the process'
    ``MLFLOW_TRACKING_URI``, which must not outlive the run."""
    environment = os.environ.get(MLFLOW_TRACKING_URI.name)
    try:
        # MLflow's own (private) helper for this; it restores its global URI.
        with _use_tracking_uri(uri):
            yield
    finally:
        if environment is None:
            os.environ.pop(MLFLOW_TRACKING_URI.name, None)
        else:
            os.environ[MLFLOW_TRACKING_URI.name] = environment


def log_cohort(cohort: Cohort, *, name: str, use: CohortUse) -> None:
    """Log ``cohort`` as a dataset input of the active run: its ``name``, its
    content hash (first 12 hex, as the versions' ``cohort_version``) as digest
    and aggregate counts as input tags; never a sample id or a profile."""
    if mlflow.active_run() is None:  # log_input would start a run of its own
        raise RuntimeError("log a cohort inside tracked_run")
    treatments = cohort.treatments
    counts = {
        "n_samples": len(cohort.profiles),
        "n_episodes": len(treatments),
        "n_drugs": int(treatments["drug"].nunique()),
        "n_responders": int(treatments["responded"].sum()),
    }
    # MetaDataset holds no data: its `profile` is None, not abstract (mypy's view).
    dataset = MetaDataset(  # type: ignore[abstract]
        CodeDatasetSource({"data_source": name}),
        name=name,
        digest=cohort.data_hash()[:SHORT_HASH],
    )
    tags = {k: str(v) for k, v in counts.items()}
    try:
        mlflow.log_input(dataset, context=use, tags=tags)
    except MlflowException:
        # Two runs logging the same new cohort at once race on MLflow's
        # check-then-insert of the dataset row (unique per experiment, name and
        # digest). The loser's transaction rolls back whole; a second attempt
        # finds the winner's row and links to it. A second failure is real.
        mlflow.log_input(dataset, context=use, tags=tags)


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
    config: Config,
    document: Mapping[str, Any],
    *,
    files: Sequence[Path],
    cohort: Cohort,
    cohort_name: str,
) -> str:
    """Log an evaluation's aggregate metrics, its JSON and HTML ``files`` (which
    hold no sample id) and its cohort (`log_cohort`) to a new run of kind
    ``evaluation``; returns the run id."""
    split = str(document["split"])
    with tracked_run(
        config, kind="evaluation", name=f"evaluate-{split}", tags={"split": split}
    ) as run_id:
        log_cohort(cohort, name=cohort_name, use="evaluation")
        log_results(config, run_id, metrics=run_metrics(document), files=files)
    return run_id


def log_explanations(
    config: Config,
    folder: Path,
    *,
    metrics: Mapping[str, float],
    cohort: Cohort,
    cohort_name: str,
) -> str:
    """Log ``folder``'s files, aggregate ``metrics`` and the cohort explained
    (`log_cohort`) to a new run of kind ``explanation``; returns the run id."""
    with tracked_run(config, kind="explanation", name="explain") as run_id:
        log_cohort(cohort, name=cohort_name, use="explanation")
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
    # A fixed place: "best" searches for one and, on a busy machine, warns that
    # it took long (an error under pytest).
    axis.legend(loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=100)

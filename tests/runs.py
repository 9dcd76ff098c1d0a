"""What an MLflow run of any kind must hold: the resolved config, MLflow's own
tags, and each cohort it read as a dataset input (aggregates only)."""

from __future__ import annotations

import json
from collections.abc import Mapping

import mlflow

from training.config import Config
from training.data import Cohort
from training.registry import SHORT_HASH, run_params

AUTOMATIC_TAGS = {"mlflow.user", "mlflow.source.name", "mlflow.source.type"}


def assert_run_records(
    run_id: str, *, config: Config, cohorts: Mapping[str, Cohort]
) -> None:
    """The run holds ``config`` as params, MLflow's automatic tags, and one
    dataset input per ``cohorts`` entry (its use -> the cohort): digest the
    cohort's content hash, tags its counts, no sample id anywhere."""
    uri = config.tracking.uri
    run = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri).get_run(run_id)
    # log_model adds the pyfunc model's config (what its table calls the version).
    expected = {p.key: p.value for p in run_params(config)}
    params = {k: v for k, v in run.data.params.items() if k != "model_version"}
    differ = {k for k in expected.keys() | params.keys()
              if expected.get(k) != params.get(k)}  # fmt: skip
    assert not differ, {k: (params.get(k), expected.get(k)) for k in differ}
    assert run.data.tags.keys() >= AUTOMATIC_TAGS
    inputs = {
        tags["mlflow.data.context"]: (entry.dataset, tags)
        for entry in run.inputs.dataset_inputs
        if (tags := {t.key: t.value for t in entry.tags})
    }
    assert inputs.keys() == cohorts.keys()
    for use, cohort in cohorts.items():
        dataset, tags = inputs[use]
        assert dataset.digest == cohort.data_hash()[:SHORT_HASH]
        assert tags["n_samples"] == str(len(cohort.profiles))
        assert tags["n_episodes"] == str(len(cohort.treatments))
        text = json.dumps([dataset.to_dictionary(), tags])
        assert not any(f'"{p.sample_id}"' in text for p in cohort.profiles[:500])

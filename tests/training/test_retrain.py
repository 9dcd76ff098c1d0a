"""``retrain`` on a real MLflow store and cohort store: the gate promotes a
challenger trained on more of the same data, refuses one trained on a batch with
shuffled outcomes, and no crash or concurrent retrain ever moves the champion
wrongly."""

from functools import partial
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from features import load_drug_knowledge
from models import alias_version
from tests.conftest import make_planted_profiles
from tests.runs import assert_run_records
from tests.training.conftest import small_config
from training.config import Config
from training.data import Cohort, append_cohort, read_cohort, read_cohort_version
from training.fitting import FitPlan, select_drugs, train_bundle
from training.registry import (
    MAX_REASON,
    LockTimeoutError,
    audit_log,
    client_for,
    move_alias,
    promotion_lock,
)
from training.retraining import RetrainResult, retrain

KNOWLEDGE = load_drug_knowledge()
DRUGS = ("braf inhibitor", "placebo")


def planted_batch(first: int, n: int, *, seed: int, shuffled: bool = False) -> Cohort:
    """``n`` new patients (ids from ``first`` on), each treated with both drugs:
    BRAF-mutant tumours respond to the BRAF inhibitor, placebo is noise. With
    ``shuffled``, each drug's outcomes are permuted: same response rates, no
    signal left (a corrupted batch)."""
    profiles, truth = make_planted_profiles(n, seed=seed)
    profiles = [
        p.model_copy(update={"sample_id": f"p{first + i}"})
        for i, p in enumerate(profiles)
    ]
    rng = np.random.default_rng(seed + 1000)
    outcomes = [rng.random(n) < truth, rng.random(n) < 0.3]
    if shuffled:
        outcomes = [rng.permutation(y) for y in outcomes]
    treatments = pd.DataFrame(
        {
            "sample_id": [p.sample_id for p in profiles] * 2,
            "drug": np.repeat(DRUGS, n),
            "responded": np.concatenate(outcomes).astype(int),
        }
    )
    return Cohort(profiles=tuple(profiles), treatments=treatments)


def retrain_store(store: Path, config: Config, **options: str) -> RetrainResult:
    """What ``rediscover retrain --data STORE`` runs."""
    return retrain(
        read_cohort(store), config=config, source="planted store",
        find_cohort=partial(read_cohort_version, store), knowledge=KNOWLEDGE,
        by=options.get("by", "tester"), reason=options.get("reason", "test"),
    )  # fmt: skip


def store_with_champion(tmp_path: Path, config: Config) -> Path:
    """A cohort store of 300 patients whose first model is champion (v1), with a
    second batch of 200 appended (not yet trained on)."""
    store = tmp_path / "store"
    append_cohort(store, planted_batch(0, 300, seed=1), source="first")
    first = retrain_store(store, config)
    assert first.promoted and first.gate is None and first.version == "1"
    append_cohort(store, planted_batch(300, 200, seed=2), source="second")
    return store


def champion(config: Config) -> str | None:
    client = client_for(config.tracking)
    return alias_version(client, config.tracking.registered_model, "champion")


def version_tags(config: Config, version: str) -> dict[str, str]:
    client = client_for(config.tracking)
    entry = client.get_model_version(config.tracking.registered_model, version)
    return dict(entry.tags)


def test_gate_promotes_more_data_and_refuses_a_shuffled_batch(tmp_path: Path) -> None:
    config = small_config(tmp_path, min_samples=50)
    store = store_with_champion(tmp_path, config)

    second = retrain_store(store, config, by="ana", reason="monthly data")
    assert second.gate is not None and second.holdout is not None
    assert second.gate.passed, second.gate.reasons
    assert second.promoted and second.version == "2" and champion(config) == "2"
    # The hold-out is exactly the 200 new patients' 400 episodes.
    assert second.holdout.n == 400
    braf = next(d for d in second.holdout.drugs if d.drug == "braf inhibitor")
    assert braf.champion is not None and braf.champion > 0.7  # the planted signal
    # Within-drug AUROC: the placebo's pairs, noise, pull it towards 0.5.
    assert second.holdout.auroc_champion.value is not None
    assert 0.6 < second.holdout.auroc_champion.value < braf.champion
    assert second.holdout.calibration is not None
    client = client_for(config.tracking)
    name = config.tracking.registered_model
    assert alias_version(client, name, "previous") == "1"
    tags = version_tags(config, "2")
    assert tags["gate"] == "passed" and tags["decision"] == "champion"
    assert tags["champion_set_by"] == "ana"
    assert tags["champion_reason"] == "monthly data: gate passed"
    assert tags["n_samples"] == "500" and tags["n_episodes"] == "1000"
    assert tags["cohort_version"] == read_cohort(store).data_hash()[:12]
    assert tags["code_version"].startswith("0.1.0+")
    assert tags["previous_champion"] == "1"
    run = client.get_run(second.run_id)
    assert run.data.tags["kind"] == "retrain"
    first = read_cohort_version(store, version_tags(config, "1")["data_hash"])
    assert_run_records(
        second.run_id, config=config,
        cohorts={"training": read_cohort(store), "champion training": first},
    )  # fmt: skip
    assert run.data.metrics["gate_passed"] == 1.0
    assert "drift_n_new_episodes" in run.data.metrics  # the drift report's summary

    append_cohort(store, planted_batch(500, 200, seed=3, shuffled=True), source="bad")
    third = retrain_store(store, config)
    assert third.gate is not None and not third.gate.passed
    assert not third.promoted and third.version == "3"
    failed = {c.name for c in third.gate.checks if not c.passed}
    # Both models score noise at chance on the shuffled episodes, so the hold-out
    # comparison alone cannot see it; the champion's drop below its own CV can.
    assert "data_consistency" in failed
    assert champion(config) == "2"
    assert alias_version(client, name, "challenger") == "3"
    tags = version_tags(config, "3")
    assert tags["gate"] == "failed" and tags["decision"] == "challenger"
    assert "shuffled" in tags["gate_reasons"]
    assert tags["challenger_reason"].startswith("gate failed: ")
    champion_moves = [m for m in audit_log(client, name) if m.alias == "champion"]
    assert [(m.version, m.replaced) for m in champion_moves] == [
        ("1", None), ("2", "1"),
    ]  # fmt: skip


def test_missing_champion_data_fails_the_gate_with_the_reason(tmp_path: Path) -> None:
    config = small_config(tmp_path, min_samples=50)
    store = store_with_champion(tmp_path, config)

    def nowhere(data_hash: str) -> Cohort:
        raise ValueError(f"no cohort version {data_hash[:12]} in this store")

    result = retrain(
        read_cohort(store), config=config, source="planted store",
        find_cohort=nowhere, knowledge=KNOWLEDGE, by="tester", reason="test",
    )  # fmt: skip
    assert result.gate is not None and not result.promoted
    (reason,) = result.gate.reasons
    assert "training data of champion v1" in reason and "no cohort version" in reason
    assert champion(config) == "1"
    assert version_tags(config, result.version)["gate"] == "failed"


@pytest.mark.parametrize(
    ("step", "error"),
    [("alias move", "registry went away"), ("champion bundle", "SHA-256 mismatch")],
)
def test_a_crash_leaves_the_champion_untouched(
    step: str, error: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = small_config(tmp_path, min_samples=50)
    store = store_with_champion(tmp_path, config)
    client = client_for(config.tracking)
    name = config.tracking.registered_model
    if step == "alias move":

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("registry went away")

        monkeypatch.setattr(mlflow.MlflowClient, "set_registered_model_alias", broken)
    else:  # the champion's registered artifacts are damaged
        files = client.get_model_version_download_uri(name, "1")
        bundle = (
            Path(files.removeprefix("file://"))
            / version_tags(config, "1")["bundle_path"]
        )
        next(bundle.glob("boosters/*.ubj")).write_bytes(b"not a booster")

    with pytest.raises(Exception, match=error):
        retrain_store(store, config)
    monkeypatch.undo()
    assert champion(config) == "1"
    assert alias_version(client, name, "previous") is None
    runs = client.search_runs(
        [client.get_experiment_by_name(config.tracking.experiment).experiment_id],
        filter_string="tags.kind = 'retrain'",
    )
    assert sorted(r.info.status for r in runs) == ["FAILED", "FINISHED"]


def test_nothing_new_fails_the_minimum_data_check(tmp_path: Path) -> None:
    config = small_config(tmp_path, min_samples=50)
    store = tmp_path / "store"
    append_cohort(store, planted_batch(0, 300, seed=1), source="first")
    assert retrain_store(store, config).promoted
    result = retrain_store(store, config)
    assert result.gate is not None and result.holdout is not None
    assert not result.promoted and result.holdout.n == 0
    assert result.gate.reasons[0].startswith("0 new episodes")
    assert champion(config) == "1"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite store in tmp_path, and a fresh PostgreSQL database (when one is
    available: see ``postgres_tracking_uri``)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/mlflow.db"
    return str(request.getfixturevalue("postgres_tracking_uri"))


def test_the_promotion_lock_excludes_every_other_holder(store_uri: str) -> None:
    # While one holder has it, another (a new connection or open file, as another
    # process would have) waits, then gives up.
    with (
        promotion_lock(store_uri, name="rediscover"),
        pytest.raises(LockTimeoutError, match="held for more than"),
        promotion_lock(store_uri, name="rediscover", timeout=0.3),
    ):
        pass
    with promotion_lock(store_uri, name="rediscover", timeout=0.3):
        pass  # released on exit


def test_small_drugs_kept_for_pooling_are_trained_pooled(tmp_path: Path) -> None:
    # Grown data once made this fail: over all drugs the median is small (pool),
    # over the drugs kept it is not, yet the small ones need the pooled model.
    config = small_config(tmp_path, min_samples=50)
    cohort = planted_batch(0, 200, seed=4)
    extra = pd.DataFrame(
        {
            "sample_id": [f"p{i}" for i in range(10)] * 2 + ["p0", "p1"] * 3,
            "drug": ["drug c"] * 10 + ["drug d"] * 10
            + ["drug e"] * 2 + ["drug f"] * 2 + ["drug g"] * 2,
            "responded": [0, 1] * 13,
        }
    )  # fmt: skip
    cohort = Cohort(cohort.profiles, pd.concat([cohort.treatments, extra]))
    drugs = select_drugs(cohort, config=config)
    assert drugs == ["braf inhibitor", "drug c", "drug d", "placebo"]
    plan = FitPlan(config, drugs=drugs, knowledge=KNOWLEDGE)
    model = train_bundle(cohort, plan=plan, data_source="t")
    served = {d: i.served_by for d, i in model.metadata.drugs.items()}
    assert served["drug c"] == served["drug d"] == "pooled"


def test_a_long_reason_is_cut_to_fit_the_registry(store_uri: str) -> None:
    # PostgreSQL keeps tag values in VARCHAR(5000); a gate that lists many
    # degraded drugs must not fail after the alias has moved.
    client = mlflow.MlflowClient(tracking_uri=store_uri, registry_uri=store_uri)
    client.create_registered_model("rediscover")
    run = client.create_run(client.create_experiment("retrain"))
    version = client.create_model_version("rediscover", "file:///x", run.info.run_id)
    move = move_alias(
        client, "rediscover", "challenger", str(version.version),
        by="tester", reason="drug x degraded; " * 600,
    )  # fmt: skip
    assert len(move.reason) == MAX_REASON
    assert audit_log(client, "rediscover")[-1].reason == move.reason

"""``rediscover evaluate`` end to end on a simulated DRUP cohort (real GDSC
profiles resampled, so real_data)."""

import json
from pathlib import Path

import pytest
import yaml

from rediscover.cli import main
from tests.runs import assert_run_records
from tests.training.conftest import small_config
from training.data import Cohort, read_cohort, simulate_drup, write_cohort
from training.registry import client_for

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def drup_folder(gdsc: Cohort, tmp_path_factory: pytest.TempPathFactory) -> Path:
    simulated = simulate_drup(seed=1, source=gdsc)
    folder = tmp_path_factory.mktemp("drup") / "cohort"
    write_cohort(simulated.cohort, folder, truth=simulated.truth)
    return folder


def test_evaluate_prospective_split_writes_metrics_report_and_run(
    drup_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "mlflow.yml"
    settings = small_config(tmp_path).model_dump(mode="json")
    config.write_text(yaml.safe_dump(settings))
    metrics = tmp_path / "out" / "metrics.json"
    code = main([
        "--config", str(config), "evaluate", "--data", str(drup_folder),
        "--split", "prospective", "--min-samples", "40", "--json", str(metrics),
    ])  # fmt: skip
    assert code == 0
    result = json.loads(metrics.read_text())
    assert result["split"] == "prospective"
    assert result["columns"] == [
        "model", "logistic", "rate_shrunk", "rate", "rule",
        "cohort_rate", "evidence", "combined", "truth", "truth_new_cohort",
    ]  # fmt: skip
    overall = result["overall"]
    # The patients enrolled after the first 40% are scored.
    assert 0.55 < overall["n"] / 1400 < 0.65
    truth, rule = overall["metrics"]["truth"], overall["metrics"]["rule"]
    assert truth["auroc"]["value"] > 0.65  # the ceiling any model could reach
    # Without the cohort's own effect, which no model can know of a new cohort,
    # the ceiling is lower.
    new_cohort = overall["metrics"]["truth_new_cohort"]["auroc"]["value"]
    assert new_cohort < truth["auroc"]["value"] - 0.03
    assert rule["auroc"]["value"] == pytest.approx(0.5, abs=0.05)  # all matched
    assert "<img" in metrics.with_suffix(".html").read_text()
    out = capsys.readouterr().out
    assert "truth" in out and "rate_shr" in out and "top SHAP" in out
    client = client_for(small_config(tmp_path).tracking)
    (run,) = client.search_runs(
        [e.experiment_id for e in client.search_experiments()],
        filter_string="tags.kind = 'evaluation'",
    )
    resolved = small_config(tmp_path, min_samples=40)
    cohort = read_cohort(drup_folder)
    assert_run_records(run.info.run_id, config=resolved, cohorts={"evaluation": cohort})


def test_cross_study_needs_gdsc(
    drup_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", "--data", str(drup_folder), "--split", "cross-study"]) == 2
    assert "--data gdsc" in capsys.readouterr().err

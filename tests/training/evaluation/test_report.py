import json
import re
from pathlib import Path

import pytest

from features import load_drug_knowledge
from tests.runs import assert_run_records
from tests.training.conftest import small_config
from tests.training.evaluation.synthetic import SIGNAL, planted_cohort
from training.evaluation import (
    Evaluation,
    evaluate_folds,
    grouped_folds,
    plotted_drugs,
    write_report,
)
from training.fitting import FitPlan
from training.registry import client_for, log_evaluation

COHORT = planted_cohort()


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory: pytest.TempPathFactory) -> Evaluation:
    config = small_config(tmp_path_factory.mktemp("config"), min_samples=50)
    plan = FitPlan(config, drugs=list(COHORT.drugs), knowledge=load_drug_knowledge())
    return evaluate_folds(
        COHORT, plan=plan, folds=grouped_folds(COHORT, n_splits=3, seed=0),
        split="grouped",
    )  # fmt: skip


def document(evaluation: Evaluation) -> dict:
    return {"split": "grouped", "split_rule": "3-fold", **evaluation.metrics}


def test_model_and_baselines_are_scored_on_the_same_held_out_episodes(
    evaluation: Evaluation,
) -> None:
    frame = evaluation.predictions
    assert len(frame) == len(COHORT.treatments)
    assert frame[list(evaluation.columns)].notna().all().all()
    signal = evaluation.metrics["drugs"][SIGNAL]["metrics"]
    assert signal["model"]["auroc"]["value"] > 0.8
    assert signal["logistic"]["auroc"]["value"] > 0.8
    assert (
        signal["rule"]["auroc"]["value"] > 0.8
    )  # BRAF V600E is the rule and the truth
    low, high = signal["model"]["auroc"]["ci"]
    assert low < signal["model"]["auroc"]["value"] < high
    summary = evaluation.metrics["summary"]["drugs"]["model"]
    assert summary["auroc_n"] == 2


def test_report_writes_json_and_a_self_contained_html_with_the_plots(
    evaluation: Evaluation, tmp_path: Path
) -> None:
    content = document(evaluation)
    drugs = plotted_drugs(content)
    write_report(
        content, evaluation.predictions, json_path=tmp_path / "m.json",
        html_path=tmp_path / "r.html", drugs=drugs,
    )  # fmt: skip
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["drugs"][SIGNAL]["events"] == int(
        COHORT.treatments.query("drug == @SIGNAL")["responded"].sum()
    )
    assert set(metrics["overall"]["decision_curve"]) >= {
        "threshold",
        "treat_all",
        "rule",
    }
    html = (tmp_path / "r.html").read_text()
    # Box plot, overall curves and one figure per plotted drug, all embedded.
    assert html.count("src='data:image/png;base64,") == 2 + len(drugs)
    assert not re.search(r"(src|href)=['\"]?(http|//|/)", html)
    for text in ("Summary", "Curves", "calibration slope", SIGNAL):
        assert text in html
    ids = {p.sample_id for p in COHORT.profiles}
    for written in (html, (tmp_path / "m.json").read_text()):
        found = set(re.findall(r"[\"'>(\s]([sk]\d+)[\"'<)\s,]", written))
        assert not found & ids


def test_evaluation_is_logged_to_mlflow_as_aggregates(
    evaluation: Evaluation, tmp_path: Path
) -> None:
    config = small_config(tmp_path)
    content = document(evaluation)
    files = [tmp_path / "m.json", tmp_path / "r.html"]
    for path in files:
        path.write_text("{}")
    run_id = log_evaluation(
        config, content, files=files, cohort=COHORT, cohort_name="planted"
    )
    client = client_for(config.tracking)
    run = client.get_run(run_id)
    assert run.data.tags["kind"] == "evaluation"
    assert run.data.metrics["model.auroc"] == pytest.approx(
        evaluation.metrics["overall"]["metrics"]["model"]["auroc"]["value"]
    )
    assert "model.per_drug.auroc_median" in run.data.metrics
    logged = {a.path for a in client.list_artifacts(run_id)}
    assert logged == {"m.json", "r.html"}
    assert_run_records(run_id, config=config, cohorts={"evaluation": COHORT})

"""``rediscover explain`` end to end on a small planted cohort, real MLflow."""

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml

from rediscover.cli import main
from tests.runs import assert_run_records
from tests.training.conftest import small_config
from tests.training.explanation.planted import (
    ID_PREFIX,
    braf_not_colorectal,
    in_subgroup,
)
from training.data import write_cohort


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A cohort folder and a config writing MLflow runs under a temporary folder."""
    tmp_path = tmp_path_factory.mktemp("explain")
    folder = write_cohort(braf_not_colorectal(), tmp_path / "cohort")
    config = small_config(tmp_path)
    path = tmp_path / "mlflow.yml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json")))
    return folder, path, config.tracking.uri


@pytest.fixture(scope="module")
def explained(setup: tuple[Path, Path, str]) -> Path:
    folder, config, _ = setup
    out = folder.parent / "explained"
    code = main([
        "--config", str(config), "explain", "--data", str(folder),
        "--drug", "braf inhibitor", "--drug", "Placebo", "--min-samples", "50",
        "--out", str(out),
    ])  # fmt: skip
    assert code == 0
    return out


def test_explain_writes_plots_subgroups_summary_and_index(explained: Path) -> None:
    drug = explained / "braf_inhibitor"
    for name in ("shap_beeswarm.png", "shap_bar.png", "evaluation.png"):
        assert (drug / name).read_bytes().startswith(b"\x89PNG")
    assert len(list(drug.glob("dependence_*.png"))) == 3
    assert len(list(drug.glob("interaction_*.png"))) == 1
    summary = json.loads((explained / "summary.json").read_text())
    assert set(summary["drugs"]) == {"braf inhibitor", "placebo"}
    braf = summary["drugs"]["braf inhibitor"]
    # BRAF helps everywhere but in colorectal tumours: the interaction is found.
    assert "BRAF" in braf["interaction"]["biomarker"]
    assert "colorectal" in braf["interaction"]["context"]
    assert braf["held_out_auroc"]["value"] > 0.7
    best = braf["subgroups"][0]
    assert best["in_sample"]["n_selected"] == in_subgroup(braf_not_colorectal()).sum()
    # Held out and against the placebo, the planted rule stands; nothing does
    # for the drug without signal.
    assert best["finding"] and best["placebo_rate"] == 0
    assert best["rate_held_out_ci"][0] > braf["rate"]
    assert len(braf["placebo"]["best_held_out_lift"]) == 5
    assert braf["top_rule"]["beats_placebo"]
    placebo = summary["drugs"]["placebo"]
    assert not any(r["finding"] for r in placebo["subgroups"])
    assert not placebo["top_rule"]["beats_placebo"]
    table = pd.read_csv(explained / "subgroups.csv")
    assert table.loc[0, "drug"] == "braf inhibitor" and table.loc[0, "rank"] == 1
    assert table.loc[0, "finding"] and table.loc[0, "rate_held_out"] > braf["rate"]
    assert not table.loc[table["drug"] == "placebo", "finding"].any()
    page = (explained / "index.html").read_text()
    assert "src='braf_inhibitor/shap_beeswarm.png'" in page
    assert "http" not in page  # nothing from another host


def test_nothing_written_names_a_sample(explained: Path) -> None:
    texts = [p for p in explained.rglob("*") if p.suffix in (".csv", ".json", ".html")]
    assert len(texts) >= 5
    assert not any(ID_PREFIX in p.read_text() for p in texts)


def test_explain_logs_an_mlflow_run_with_the_files(
    explained: Path, setup: tuple[Path, Path, str]
) -> None:
    client = mlflow.MlflowClient(tracking_uri=setup[2])
    runs = client.search_runs(
        [e.experiment_id for e in client.search_experiments()],
        filter_string="tags.kind = 'explanation'",
    )
    assert len(runs) == 1
    run = runs[0]
    assert run.data.metrics["n_drugs"] == 2
    summary = json.loads((explained / "summary.json").read_text())
    findings = [r["finding"] for d in summary["drugs"].values() for r in d["subgroups"]]
    assert run.data.metrics["n_subgroup_findings"] == sum(findings) >= 1
    logged = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert {"index.html", "summary.json", "subgroups.csv", "braf_inhibitor"} <= logged
    assert not any(ID_PREFIX in v for v in run.data.params.values())
    config = small_config(setup[1].parent)
    resolved = config.model_copy(
        update={"training": config.training.model_copy(update={"min_samples": 50})}
    )
    assert_run_records(
        run.info.run_id, config=resolved, cohorts={"explanation": braf_not_colorectal()}
    )


def test_bad_requests_name_what_is_wrong(
    explained: Path, setup: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, config, _ = setup
    base = ["--config", str(config), "explain", "--data", str(folder)]
    assert main([*base, "--drug", "aspirin", "--out", str(folder.parent / "x")]) == 2
    assert "aspirin" in capsys.readouterr().err
    assert main([*base, "--top", "1", "--out", str(explained)]) == 2
    assert "--force" in capsys.readouterr().err
    too_few = ["--drug", "placebo", "--min-samples", "1000", "--out", "y"]
    assert main([*base, *too_few]) == 2
    assert "placebo (400 episodes" in capsys.readouterr().err
    no_placebo = ["--drug", "placebo", "--placebo", "0", "--out", "y"]
    assert main([*base, *no_placebo]) == 2
    assert "--placebo must be a positive number" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "--out", "z"])  # neither --drug nor --top
    assert "--drug" in capsys.readouterr().err


def test_explain_explains_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["explain", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "--top" in out and "--drug" in out and "kind=explanation" in out
    assert "--placebo" in out


def test_force_replaces_only_a_previous_explain_output(
    setup: tuple[Path, Path, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = setup[0]
    # Its own MLflow store: the module's run count stays as it was.
    config = tmp_path / "mlflow.yml"
    config.write_text(yaml.safe_dump(small_config(tmp_path).model_dump(mode="json")))
    # One placebo permutation: this test is about --force, not the placebo.
    base = ["--config", str(config), "explain", "--data", str(folder),
            "--drug", "braf inhibitor", "--min-samples", "50", "--force",
            "--placebo", "1"]  # fmt: skip
    reports = tmp_path / "reports"
    (reports / "old").mkdir(parents=True)
    (reports / "notes.txt").write_text("keep me")
    (reports / "old" / "index.html").write_text("<p>not an explain output</p>")
    assert main([*base, "--out", str(reports)]) == 2
    refused = capsys.readouterr()
    assert "not a previous `rediscover explain` output" in refused.err
    assert "explaining" not in refused.out  # refused before any work
    assert (reports / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in reports.iterdir()) == ["notes.txt", "old"]

    out = reports / "explain"
    assert main([*base, "--out", str(out)]) == 0
    (out / "stale.txt").write_text("from the previous run")
    assert main([*base, "--out", str(out)]) == 0
    assert not (out / "stale.txt").exists()
    assert (out / "braf_inhibitor" / "shap_bar.png").exists()
    assert sorted(p.name for p in reports.iterdir()) == ["explain", "notes.txt", "old"]

    # `--out . --force` from inside a previous output: refused, nothing deleted.
    monkeypatch.chdir(out)
    before = sorted(str(p) for p in out.rglob("*"))
    capsys.readouterr()
    assert main([*base, "--out", "."]) == 2
    assert "working directory" in capsys.readouterr().err
    assert sorted(str(p) for p in out.rglob("*")) == before

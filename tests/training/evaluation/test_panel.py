"""The textbook panel: a cited table, and a check of the served ranking on GDSC."""

import json
import re
from pathlib import Path

import pytest
import yaml

from models import ResponderModel
from rediscover.cli import main
from training.config import Config
from training.evaluation import load_panel, run_panel
from training.evaluation._panel import PANEL_FILE
from training.registry import register_bundle, tracked_run


def test_every_row_is_cited_and_valid() -> None:
    rows = load_panel()
    assert len(rows) == 7
    assert len({row.name for row in rows}) == len(rows)
    assert all(re.search(r"\((?:19|20)\d\d\)", row.citation) for row in rows)
    assert {"BRAF V600E melanoma", "BCR-ABL1 chronic myeloid leukaemia"} <= {
        row.name for row in rows
    }
    assert any(row.population == "patient" for row in rows)  # MSI-high colorectal


def test_a_bad_row_names_its_field(tmp_path: Path) -> None:
    rows = yaml.safe_load(PANEL_FILE.read_text())
    rows[1]["expected"] = []
    bad = tmp_path / "panel.yaml"
    bad.write_text(yaml.safe_dump(rows))
    with pytest.raises(ValueError, match="expected"):
        load_panel(bad)


@pytest.mark.real_data
@pytest.mark.slow
def test_the_served_gdsc_ranking_puts_the_textbook_drugs_first(
    gdsc_model: tuple[Config, ResponderModel],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every GDSC drug, trained small; the default order (evidence class, then
    probability) must pass every applicable row. No special case: the rows' drugs
    get there through their matching class and the model."""
    config, model = gdsc_model
    table = run_panel(model, load_panel(), rank_by=("evidence",))
    applicable = table[table["applicable"]]
    assert len(applicable) == 6  # MSI-high colorectal needs a patient bundle
    assert applicable["passed"].all(), applicable[["profile", "best_rank", "top"]]

    # The command: the registered champion, the same table, a JSON report.
    with tracked_run(config, kind="train", tags={}) as run_id:
        register_bundle(config, run_id, model)
    report = tmp_path / "panel.json"
    config_file = tmp_path / "mlflow.yml"
    config_file.write_text(
        yaml.safe_dump(
            {
                "tracking": {
                    "uri": config.tracking.uri,
                    "artifact_root": str(config.tracking.artifact_root),
                },
                "serving": {"cache_dir": str(config.serving.cache_dir)},
            }
        )
    )
    args = ["--config", str(config_file), "evaluate", "--panel", "--json", str(report)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "BCR-ABL1 chronic myeloid leukaemia" in out and "cell_line" in out
    rows = json.loads(report.read_text())
    assert {r["rank_by"] for r in rows} == {"evidence", "probability", "lift"}

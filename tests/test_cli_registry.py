"""``rediscover retrain``, ``promote``, ``rollback`` and ``history`` from the command
line, on a real MLflow store (SQLite, and PostgreSQL where one is available)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from models import alias_version
from rediscover.cli import main
from tests.conftest import write_cli_config
from tests.training.test_retrain import (
    champion,
    retrain_store,
    store_with_champion,
    version_tags,
)
from training.config import Config, load_config
from training.registry import audit_log, client_for

REDISCOVER = Path(sys.executable).parent / "rediscover"


@pytest.mark.parametrize("command", ["retrain", "promote", "rollback", "history"])
def test_every_registry_command_explains_its_options(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert "options:" in capsys.readouterr().out


def test_promote_and_rollback_record_who_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = write_cli_config(tmp_path)
    config = load_config(config_file)
    store = store_with_champion(tmp_path, config)
    assert retrain_store(store, config).promoted  # v2 champion, v1 previous
    cli = ["--config", str(config_file)]
    capsys.readouterr()

    assert main([*cli, "rollback", "--reason", "bad calibration", "--by", "bob"]) == 0
    assert "champion -> v1 (was v2)" in capsys.readouterr().out
    client = client_for(config.tracking)
    name = config.tracking.registered_model
    assert champion(config) == "1"
    assert alias_version(client, name, "rolled_back") == "2"
    assert alias_version(client, name, "previous") is None  # v1 had no predecessor
    tags = version_tags(config, "2")
    assert tags["rolled_back_set_by"] == "bob"
    assert tags["rolled_back_reason"] == "bad calibration"
    assert main([*cli, "rollback", "--reason", "again"]) == 2
    assert "no previous version" in capsys.readouterr().err

    assert main([*cli, "promote", "2", "--reason", "fixed", "--by", "carol"]) == 0
    assert champion(config) == "2"
    assert alias_version(client, name, "previous") == "1"
    # The champion holds no other alias: v2 is no longer "rolled_back".
    assert alias_version(client, name, "rolled_back") is None
    assert version_tags(config, "2")["champion_set_by"] == "carol"
    assert main([*cli, "promote", "2", "--reason", "twice"]) == 2
    assert "champion already" in capsys.readouterr().err
    assert main([*cli, "promote", "9", "--reason", "typo"]) == 2
    assert "registered versions: [1, 2]" in capsys.readouterr().err

    moves = [(m.alias, m.version, m.by) for m in audit_log(client, name)]
    assert moves[-4:] == [
        ("rolled_back", "2", "bob"), ("champion", "1", "bob"),
        ("previous", "1", "carol"), ("champion", "2", "carol"),
    ]  # fmt: skip

    assert main([*cli, "history", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    rows = {row["version"]: row for row in document["versions"]}
    assert rows["2"]["aliases"] == ["champion"]
    assert rows["2"]["gate"] == "passed" and rows["2"]["n_episodes"] == 1000
    # Within-drug hold-out AUROC of the planted BRAF signal: well above chance.
    assert rows["2"]["holdout_auroc_champion"] > 0.6
    assert rows["1"]["gate"] == "skipped" and rows["1"]["aliases"] == ["previous"]
    assert len(document["alias_moves"]) == len(moves)
    assert main([*cli, "history"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^\s+2  champion\s", out, re.MULTILINE) and "fixed" in out


def test_retrain_on_a_plain_folder_refuses_for_want_of_the_champion_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = write_cli_config(tmp_path)
    store = store_with_champion(tmp_path, load_config(config_file))
    current = store / "versions" / (store / "CURRENT").read_text().strip()
    code = main(["--config", str(config_file), "retrain", "--data", str(current)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "champion_data" in out and "not a versioned cohort store" in out
    assert "registered as challenger" in out


@pytest.fixture(params=["sqlite", "postgresql"])
def tracking_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/mlflow.db"
    return str(request.getfixturevalue("postgres_tracking_uri"))


def test_two_retrains_at_once_make_two_versions_and_one_promotion(
    tracking_uri: str, tmp_path: Path
) -> None:
    config_file = write_cli_config(tmp_path)
    config: Config = load_config(config_file, tracking_uri=tracking_uri)
    store = store_with_champion(tmp_path, config)
    env = os.environ | {"MLFLOW_TRACKING_URI": tracking_uri}
    command = [str(REDISCOVER), "--config", str(config_file), "retrain"]
    command += ["--data", str(store), "--reason", "race"]
    workers = [
        subprocess.Popen(
            [*command, "--by", f"worker {i}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in (1, 2)
    ]
    outputs = [worker.communicate(timeout=900) for worker in workers]
    for _, err in outputs:
        assert "Traceback" not in err and "error" not in err.lower(), err
    # One promoted (exit 0), one registered as challenger (exit 1).
    assert sorted(w.returncode for w in workers) == [0, 1], outputs

    client = client_for(config.tracking)
    name = config.tracking.registered_model
    versions = sorted(
        int(v.version) for v in client.search_model_versions(f"name = '{name}'")
    )
    assert versions == [1, 2, 3]
    winner = champion(config)
    loser = "3" if winner == "2" else "2"
    assert alias_version(client, name, "challenger") == loser
    assert version_tags(config, loser)["decision_reason"] == (
        f"champion moved to v{winner} during this retrain; run retrain again"
    )
    champion_moves = [
        m.version for m in audit_log(client, name) if m.alias == "champion"
    ]
    assert champion_moves == ["1", winner]

import json
from pathlib import Path

import mlflow
import pytest

from models import FORMAT_VERSION
from rediscover.cli import main
from tests.conftest import write_planted_project


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["data", "fetch"],
        ["data", "simulate"],
        ["data", "import"],
        ["train"],
        ["evaluate"],
        ["score"],
        ["serve"],
        ["bento"],
    ],
)
def test_every_command_explains_its_options(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    assert "options:" in capsys.readouterr().out


def test_bad_profile_error_names_the_field_not_the_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = tmp_path / "profile.json"
    profile.write_text(
        json.dumps(
            {
                "tumour_type": "melanoma",
                "alterations": [{"kind": "banana", "gene": "X"}],
            }
        )
    )
    assert main(["score", str(profile)]) == 2
    err = capsys.readouterr().err
    assert "alterations.0.kind" in err
    assert "banana" not in err


def test_bad_config_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "mlflow.yml"
    config.write_text("training:\n  cv_folds: one\n")
    profile = tmp_path / "p.json"
    profile.write_text("{}")
    assert main(["--config", str(config), "score", str(profile)]) == 2
    assert "training.cv_folds" in capsys.readouterr().err


def test_train_and_evaluate_take_a_cohort_folder(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for command in ("train", "evaluate"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "--data" in capsys.readouterr().out
    assert main(["train", "--data", "no/such/folder"]) == 2
    assert "--data must be 'gdsc' or a cohort folder" in capsys.readouterr().err


@pytest.mark.slow
def test_train_if_missing_replaces_a_champion_it_cannot_serve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, cohort = write_planted_project(tmp_path, n=120)
    train = ["--config", str(config), "train", "--data", str(cohort), "--if-missing"]
    assert main(train) == 0
    assert main(train) == 0
    assert "champion is version 1; not retraining" in capsys.readouterr().out

    # A champion saved by an older release (no bundle_format tag, or an old one)
    # would leave `make serve` stuck unready: --if-missing trains a new one.
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.set_model_version_tag("rediscover", "1", "bundle_format", "3")
    assert main(train) == 0
    assert "older bundle format" in capsys.readouterr().out
    champion = client.get_model_version_by_alias("rediscover", "champion")
    assert str(champion.version) == "2"
    assert champion.tags["bundle_format"] == str(FORMAT_VERSION)


@pytest.mark.real_data
def test_an_existing_output_folder_is_an_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    assert main(["data", "simulate", "drup", "--seed", "0", "--out", str(out)]) == 2
    assert f"{out} already exists" in capsys.readouterr().err

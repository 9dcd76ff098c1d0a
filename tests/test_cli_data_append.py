"""``rediscover data slice / append / versions``, and training on a cohort store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rediscover._data_commands import load_cohort
from rediscover.cli import main
from tests.conftest import write_planted_project
from training.config import load_config
from training.data import Cohort, read_cohort, read_truth, write_cohort
from training.registry import client_for


@pytest.fixture
def dated(tmp_path: Path) -> tuple[Path, Path]:
    """The planted project's config, and its cohort with a start_date per episode
    (2016-2023) and a truth table."""
    config, folder = write_planted_project(tmp_path, n=120)
    cohort = read_cohort(folder)
    years = np.random.default_rng(3).integers(2016, 2024, len(cohort.treatments))
    treatments = cohort.treatments.assign(start_date=[f"{y}-06-01" for y in years])
    ids = [p.sample_id for p in cohort.profiles]
    truth = pd.DataFrame({"sample_id": ids, "true_probability": 0.5})
    out = write_cohort(
        Cohort(profiles=cohort.profiles, treatments=treatments),
        tmp_path / "dated",
        truth=truth,
    )
    return config, out


def _run(config: Path, *args: object) -> int:
    return main(["--config", str(config), *map(str, args)])


@pytest.mark.parametrize("command", ["append", "versions", "slice"])
def test_every_new_data_command_explains_its_options(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["data", command, "--help"])
    assert exit_.value.code == 0
    assert "options:" in capsys.readouterr().out


def test_replaying_history_rebuilds_the_cohort(
    dated: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, cohort = dated
    early, late, store = tmp_path / "early", tmp_path / "late", tmp_path / "drup"
    assert (
        _run(config, "data", "slice", cohort, "--to", "2020-01-01", "--out", early) == 0
    )
    assert (
        _run(config, "data", "slice", cohort, "--from", "2020-01-01", "--out", late)
        == 0
    )
    assert "end excluded" in capsys.readouterr().out
    assert read_cohort(early).treatments["start_date"].max() < "2020"
    assert read_cohort(late).treatments["start_date"].min() >= "2020"

    assert _run(config, "data", "append", early, "--to", store) == 0
    assert "to a new store" in capsys.readouterr().out
    assert _run(config, "data", "append", late, "--to", store) == 0
    added = capsys.readouterr().out
    assert _run(config, "data", "append", late, "--to", store) == 0
    assert "nothing new" in capsys.readouterr().out

    full = read_cohort(cohort)
    assert read_cohort(store).data_hash() == full.data_hash()
    truth = read_truth(store)
    assert truth is not None and len(truth) == len(full.profiles)
    assert _run(config, "data", "versions", store, "--json") == 0
    versions = json.loads(capsys.readouterr().out)
    assert [v["is_current"] for v in versions] == [False, True]
    assert versions[1]["parent"] == versions[0]["version"]
    assert f"now at version {versions[1]['version']}" in added
    assert _run(config, "data", "versions", store) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[1].startswith(f"  {versions[0]['version']}")
    assert table[2].startswith(f"* {versions[1]['version']}")
    loaded, source = load_cohort(str(store), load_config(config))
    assert loaded.data_hash() == full.data_hash()
    assert source == f"cohort drup version {versions[1]['version']}"


def test_a_conflicting_append_exits_2_without_sample_ids(
    dated: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, cohort = dated
    store = tmp_path / "store"
    assert _run(config, "data", "append", cohort, "--to", store) == 0
    original = read_cohort(cohort)
    flipped = original.treatments.assign(responded=1 - original.treatments.responded)
    bad = write_cohort(
        Cohort(profiles=original.profiles, treatments=flipped), tmp_path / "bad"
    )
    capsys.readouterr()
    assert _run(config, "data", "append", bad, "--to", store) == 2
    err = capsys.readouterr().err
    assert "treatments.csv line 2 of the new data" in err
    assert "conflicts with line 2 of stored version" in err
    assert not any(p.sample_id in err for p in original.profiles)
    assert len(list((store / "versions").iterdir())) == 1


def test_slice_errors_name_the_problem(
    dated: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, cohort = dated
    assert _run(config, "data", "slice", cohort, "--out", tmp_path / "x") == 2
    assert "give --from DATE, --to DATE or both" in capsys.readouterr().err
    taken = ("data", "slice", cohort, "--to", "2020-01-01", "--out", cohort)
    assert _run(config, *taken) == 2
    assert "already exists; give --force" in capsys.readouterr().err
    undated = config.parent / "cohort"
    args = ("data", "slice", undated, "--to", "2020-01-01", "--out", tmp_path / "y")
    assert _run(config, *args) == 2
    assert "no 'start_date' column" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_train_on_a_store_uses_its_current_version(
    dated: tuple[Path, Path], tmp_path: Path
) -> None:
    config, cohort = dated
    store = tmp_path / "drup"
    assert _run(config, "data", "append", cohort, "--to", store) == 0
    assert _run(config, "train", "--data", store) == 0
    tracking = load_config(config).tracking
    client = client_for(tracking)
    champion = client.get_model_version_by_alias(tracking.registered_model, "champion")
    assert champion.tags["data_hash"] == read_cohort(store).data_hash()
    assert champion.tags["data_source"].startswith("cohort drup version ")

"""``rediscover data fetch``: shipped sets into the cache, altered files refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rediscover.cli import main
from training.data import DATASETS
from training.data._ccle import DRUGS_FILE


def _config(folder: Path, shipped: Path) -> Path:
    path = folder / "mlflow.yml"
    path.write_text(f"data:\n  cache_dir: cache\n  shipped_dir: {shipped}\n")
    return path


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_fetch_puts_the_set_in_the_configured_cache(
    tmp_path: Path,
    shipped_data_dir: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    config = _config(tmp_path, shipped_data_dir)
    assert main(["--config", str(config), "data", "fetch", name]) == 0
    folder = tmp_path / "cache" / DATASETS[name].folder
    assert f"{folder} (SHA-256 verified)" in capsys.readouterr().out
    assert sorted(p.name for p in folder.iterdir()) == sorted(DATASETS[name].files)


def test_an_altered_shipped_file_is_exit_2_naming_the_file(
    tmp_path: Path, shipped_data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shipped = tmp_path / "data"
    shutil.copytree(shipped_data_dir, shipped)
    altered = shipped / DATASETS["ccle"].folder / DRUGS_FILE
    altered.write_text(altered.read_text().replace("Nilotinib", "Imatinib"))
    config = _config(tmp_path, shipped)
    assert main(["--config", str(config), "data", "fetch", "ccle"]) == 2
    err = capsys.readouterr().err
    assert f"error: {altered}: SHA-256 is " in err
    assert "Traceback" not in err
    assert not (tmp_path / "cache").exists()


def test_a_config_without_the_shipped_folder_says_which_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, tmp_path / "nowhere")
    # Missing data is the environment's problem (exit 3), not bad input.
    assert main(["--config", str(config), "data", "fetch", "gdsc"]) == 3
    assert "data.shipped_dir" in capsys.readouterr().err

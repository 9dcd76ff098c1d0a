"""Fetching a shipped data set: copy from data/, verify every pinned SHA-256."""

from __future__ import annotations

import filecmp
import hashlib
import re
import shutil
from pathlib import Path

import pytest

from training.data import (
    DATASETS,
    GDSC_FOLDER,
    ChecksumError,
    _fetch,
    fetch_dataset,
)
from training.data._gdsc import IC50_FILE, THRESHOLDS_FILE


def _refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError("fetch_dataset copied although the cache was complete")


def _copy_of_shipped(shipped_data_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(shipped_data_dir, copy)
    return copy


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_shipped_files_are_exactly_the_pinned_ones(
    shipped_data_dir: Path, name: str
) -> None:
    dataset = DATASETS[name]
    folder = shipped_data_dir / dataset.folder
    assert {p.name for p in folder.iterdir()} == {*dataset.files, "README.md"}
    readme = (folder / "README.md").read_text(encoding="utf-8")
    for file_name, digest in dataset.files.items():
        assert hashlib.sha256((folder / file_name).read_bytes()).hexdigest() == digest
        # the README's `sha256sum -c` block lists the same digest
        assert f"{digest}  {file_name}\n" in readme, file_name


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_fetch_copies_then_reuses(
    shipped_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    folder = fetch_dataset(name, tmp_path / "cache", data_dir=shipped_data_dir)
    dataset = DATASETS[name]
    assert folder == tmp_path / "cache" / dataset.folder
    assert sorted(p.name for p in folder.iterdir()) == sorted(dataset.files)
    for file_name in dataset.files:
        source = shipped_data_dir / dataset.folder / file_name
        assert filecmp.cmp(folder / file_name, source, shallow=False)
    # nothing but the finished folder is left in the cache
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [dataset.folder]
    monkeypatch.setattr(_fetch.shutil, "copyfile", _refuse)
    assert fetch_dataset(name, tmp_path / "cache", data_dir=shipped_data_dir) == folder


@pytest.mark.parametrize("damage", ["truncate", "delete", "extra file"])
def test_damaged_cache_is_fetched_again(
    shipped_data_dir: Path, tmp_path: Path, damage: str
) -> None:
    folder = fetch_dataset("gdsc", tmp_path, data_dir=shipped_data_dir)
    damaged = folder / IC50_FILE
    if damage == "truncate":
        damaged.write_bytes(damaged.read_bytes()[:100])
    elif damage == "delete":
        damaged.unlink()
    else:
        (folder / "MANIFEST.json").write_text("{}")  # e.g. left by an older fetch
    fetch_dataset("gdsc", tmp_path, data_dir=shipped_data_dir)
    assert _fetch.is_complete(folder, DATASETS["gdsc"].files)
    assert not (folder / "MANIFEST.json").exists()


def test_altered_shipped_file_is_named_and_not_copied(
    shipped_data_dir: Path, tmp_path: Path
) -> None:
    data = _copy_of_shipped(shipped_data_dir, tmp_path)
    altered = data / GDSC_FOLDER / THRESHOLDS_FILE
    altered.write_text(altered.read_text().replace("-0.60596", "-0.7"))
    expected = DATASETS["gdsc"].files[THRESHOLDS_FILE]
    with pytest.raises(ChecksumError, match=re.escape(f"{altered}: SHA-256 is ")):
        fetch_dataset("gdsc", tmp_path / "cache", data_dir=data)
    with pytest.raises(ChecksumError, match=f"expected {expected}"):
        fetch_dataset("gdsc", tmp_path / "cache", data_dir=data)
    assert not (tmp_path / "cache").exists()


def test_missing_shipped_file_or_folder_is_named(
    shipped_data_dir: Path, tmp_path: Path
) -> None:
    data = _copy_of_shipped(shipped_data_dir, tmp_path)
    (data / GDSC_FOLDER / IC50_FILE).unlink()
    with pytest.raises(ChecksumError, match=rf"{IC50_FILE}: file not found"):
        fetch_dataset("gdsc", tmp_path / "cache", data_dir=data)
    with pytest.raises(FileNotFoundError, match=r"absent/gdsc1000_v17: folder not"):
        fetch_dataset("gdsc", tmp_path / "cache", data_dir=tmp_path / "absent")


def test_unknown_set_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown data set 'gdsc2'.*'ccle', 'gdsc'"):
        fetch_dataset("gdsc2", tmp_path, data_dir=tmp_path)


def test_failed_copy_leaves_no_folder(
    shipped_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied: list[str] = []

    def copy_one_then_fail(source: Path, target: Path) -> None:
        if copied:
            raise OSError("disk full")
        copied.append(Path(source).name)
        target.write_bytes(Path(source).read_bytes())

    monkeypatch.setattr(_fetch.shutil, "copyfile", copy_one_then_fail)
    with pytest.raises(OSError, match="disk full"):
        fetch_dataset("gdsc", tmp_path, data_dir=shipped_data_dir)
    assert list(tmp_path.iterdir()) == []

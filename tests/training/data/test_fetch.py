"""Fetching the GDSC files: copy from the shared folder, or the sdist from PyPI."""

from __future__ import annotations

import filecmp
import os
from pathlib import Path

import pytest

from features import Alteration
from training.data import GDSC_FOLDER, _fetch, fetch_gdsc, load_gdsc
from training.data._fetch import SDIST_MEMBERS, SHARED_FILES

_NETWORK = os.environ.get("REDISCOVER_TEST_NETWORK") == "1"


def _refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError("fetch_gdsc copied or downloaded although the cache was full")


@pytest.mark.real_data
def test_copy_from_shared_then_reuse(
    shared_gdsc_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = fetch_gdsc(tmp_path / "cache", source_dir=shared_gdsc_dir)
    assert folder == tmp_path / "cache" / GDSC_FOLDER
    for name in SHARED_FILES:
        assert filecmp.cmp(folder / name, shared_gdsc_dir / name, shallow=False)
    # nothing but the finished folder is left in the cache
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [GDSC_FOLDER]
    monkeypatch.setattr(_fetch, "_copy_shared", _refuse)
    monkeypatch.setattr(_fetch, "_download_sdist", _refuse)
    assert fetch_gdsc(tmp_path / "cache", source_dir=shared_gdsc_dir) == folder


@pytest.mark.real_data
@pytest.mark.parametrize("damage", ["truncate", "delete"])
def test_damaged_cache_is_fetched_again(
    shared_gdsc_dir: Path, tmp_path: Path, damage: str
) -> None:
    folder = fetch_gdsc(tmp_path, source_dir=shared_gdsc_dir)
    damaged = folder / SHARED_FILES[0]
    if damage == "truncate":
        damaged.write_bytes(damaged.read_bytes()[:100])
    else:
        damaged.unlink()
    fetch_gdsc(tmp_path, source_dir=shared_gdsc_dir)
    assert filecmp.cmp(damaged, shared_gdsc_dir / SHARED_FILES[0], shallow=False)


@pytest.mark.real_data
def test_failed_copy_leaves_no_folder(
    shared_gdsc_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def copy_one_then_fail(source_dir: Path, staging: Path) -> None:
        (staging / SHARED_FILES[0]).write_bytes(
            (source_dir / SHARED_FILES[0]).read_bytes()
        )
        raise OSError("disk full")

    monkeypatch.setattr(_fetch, "_copy_shared", copy_one_then_fail)
    with pytest.raises(OSError, match="disk full"):
        fetch_gdsc(tmp_path, source_dir=shared_gdsc_dir)
    assert list(tmp_path.iterdir()) == []


def test_incomplete_source_names_missing_files(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in SHARED_FILES[:3]:
        (source / name).write_bytes(b"x")
    with pytest.raises(FileNotFoundError, match=SHARED_FILES[3]):
        fetch_gdsc(tmp_path / "cache", source_dir=source)
    assert list((tmp_path / "cache").iterdir()) == []


def test_cache_without_manifest_is_not_trusted(tmp_path: Path) -> None:
    folder = tmp_path / GDSC_FOLDER
    folder.mkdir()
    for name in SHARED_FILES:
        (folder / name).write_bytes(b"x")
    assert not _fetch.is_complete(folder, SHARED_FILES)


@pytest.fixture(scope="module")
def sdist_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fetch_gdsc(tmp_path_factory.mktemp("cache"), source_dir=None)


@pytest.mark.slow
@pytest.mark.skipif(not _NETWORK, reason="needs PyPI: set REDISCOVER_TEST_NETWORK=1")
def test_fetch_from_sdist(sdist_folder: Path, tmp_path: Path) -> None:
    assert {p.name for p in sdist_folder.iterdir()} == {
        *SDIST_MEMBERS.values(),
        "MANIFEST.json",
    }
    cohort = load_gdsc(sdist_folder)  # degraded: 11 named drugs, z-score labels
    assert len(cohort.profiles) == 988
    assert 5 <= len(cohort.drugs) <= 11
    assert set(cohort.treatments["label_rule"]) == {"zscore"}
    every_drug = load_gdsc(sdist_folder, unnamed_drugs="keep_id")
    assert len(every_drug.drugs) >= 260
    amplified = Alteration(kind="amplification", gene="CCND1")
    assert any(amplified in p.alterations for p in cohort.profiles)
    # a source folder that does not exist also falls back to the sdist (cache reused)
    assert fetch_gdsc(sdist_folder.parent, source_dir=tmp_path / "absent") == (
        sdist_folder
    )


@pytest.mark.slow
@pytest.mark.real_data
@pytest.mark.skipif(not _NETWORK, reason="needs PyPI: set REDISCOVER_TEST_NETWORK=1")
def test_sdist_matches_shared(sdist_folder: Path, shared_gdsc_dir: Path) -> None:
    for member, name in SDIST_MEMBERS.items():
        if name in SHARED_FILES:
            assert filecmp.cmp(sdist_folder / name, shared_gdsc_dir / name), member
    from_sdist = load_gdsc(sdist_folder, label_rule="zscore")
    from_shared = load_gdsc(shared_gdsc_dir, label_rule="zscore")
    # CNA genes from column names equal those from the annotation table
    assert from_sdist.profiles == from_shared.profiles

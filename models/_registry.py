"""Fetch a bundle registered in the MLflow model registry, by alias or version.

A registered version carries its bundle's digest (`bundle_digest`, the SHA-256 of
its ``checksums.json``) in the tag ``bundle_digest``, written when it was
registered. Every load checks the bundle against that tag, so a bundle whose files
were changed afterwards is refused even when its checksums were rewritten to
match. The local cache is only a copy: a cached bundle that fails either check is
discarded and downloaded again, once; a download that fails them is refused.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import tempfile
import uuid
from pathlib import Path

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from models._bundle import BundleIntegrityError, ResponderModel, verify_bundle

logger = logging.getLogger(__name__)

BUNDLE_DIGEST_TAG = "bundle_digest"
# Version tag: where the bundle lies inside the version's source (a pyfunc model
# keeps it as an artifact). Versions registered before it are the bundle itself.
BUNDLE_PATH_TAG = "bundle_path"

_URL_CREDENTIALS = re.compile(r"(\w+://)[^/@\s]+@")


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

    Returns the verified model and its registry version (see
    `load_registered_version`).
    """
    client = mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    version = client.get_model_version_by_alias(model_name, alias)
    logger.info("loading %s version %s (alias %s)", model_name, version.version, alias)
    return _load(version, tracking_uri=tracking_uri, cache_dir=cache_dir)


def load_registered_version(
    *, tracking_uri: str, model_name: str, version: str, cache_dir: Path
) -> ResponderModel:
    """Download (once) and load registered version ``version`` of ``model_name``.

    The download lands in ``cache_dir/<name>/v<version>-<hash of its artifact
    URI>`` through a temporary folder, so a failed or interrupted download never
    leaves a half-written bundle behind, and stores whose version numbers collide
    never share a cache entry.

    Raises
    ------
    BundleIntegrityError
        The version records no digest, or its registered artifacts fail their
        checksums or differ from the digest (the reason names no local path).
    """
    client = mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    entry = client.get_model_version(model_name, version)
    model, _ = _load(entry, tracking_uri=tracking_uri, cache_dir=cache_dir)
    return model


def _load(
    version: ModelVersion, *, tracking_uri: str, cache_dir: Path
) -> tuple[ResponderModel, str]:
    digest = version.tags.get(BUNDLE_DIGEST_TAG)
    if not digest:
        raise BundleIntegrityError(
            f"version {version.version} records no bundle digest (it was registered "
            "before rediscover recorded one), so its files cannot be checked; "
            "retrain with `rediscover train`"
        )
    # Versions are only unique within one store: key the cache on the artifact too.
    source_key = hashlib.sha256(str(version.source).encode()).hexdigest()[:12]
    target = Path(cache_dir) / version.name / f"v{version.version}-{source_key}"
    if target.is_dir():
        try:
            verify_bundle(target, digest=digest)
        except BundleIntegrityError as exc:
            logger.warning(
                "the cached copy of version %s fails verification (%s); "
                "discarding it and downloading the version again",
                version.version,
                exc,
            )
            _discard(target)
    if not target.is_dir():
        _download(version, target, digest=digest, tracking_uri=tracking_uri)
    return ResponderModel.load(target, digest=digest), str(version.version)


def _download(
    version: ModelVersion, target: Path, *, digest: str, tracking_uri: str
) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=target.parent))
    try:
        client = mlflow.MlflowClient(
            tracking_uri=tracking_uri, registry_uri=tracking_uri
        )
        bundle = download_bundle(client, version, staging)
        verify_bundle(bundle, digest=digest)  # the store's copy is refused
        try:
            Path(bundle).rename(target)
        except OSError:
            # Another worker downloaded the same version first: use theirs
            # (loading verifies every checksum and the digest again).
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _discard(folder: Path) -> None:
    # Renamed out of the way first (one atomic step), so no other worker picks up
    # a half-deleted folder; two workers discarding at once is harmless.
    doomed = folder.with_name(f".discarded-{uuid.uuid4().hex[:8]}")
    try:
        folder.rename(doomed)
    except OSError:
        return
    shutil.rmtree(doomed, ignore_errors=True)


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

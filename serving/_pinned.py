"""The bundle a Bento carries: pinned into BentoML's model store when the Bento is
built, served from there when the service runs from the Bento.

A pinned bundle is a BentoML model named :data:`PINNED_MODEL` whose folder holds the
bundle (checksummed files, no pickle) under ``bundle/``, and whose metadata records
the registry version it was pinned from and the SHA-256 of its ``checksums.json``.
Pinning the same champion twice yields the same model.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import bentoml
from bentoml.exceptions import NotFound

from models import ResponderModel, bundle_digest

logger = logging.getLogger(__name__)

PINNED_MODEL = "rediscover-bundle"
_BUNDLE_FOLDER = "bundle"


def pin_bundle(model: ResponderModel, *, version: str, source: str) -> str:
    """Save a verified bundle into BentoML's model store; return its tag.

    ``version`` is the registry version it was loaded as (what ``/score`` reports
    as ``model_version``), ``source`` says where it came from (no credentials).
    A bundle pinned before (same version, same ``checksums.json``) is not copied
    again: its tag is returned.
    """
    with tempfile.TemporaryDirectory(prefix="rediscover-pin-") as staging:
        bundle = model.save(Path(staging) / _BUNDLE_FOLDER)
        digest = bundle_digest(bundle)
        for pinned in _pinned_models():
            metadata = pinned.info.metadata
            if (metadata.get("registry_version"), metadata.get("checksums_sha256")) == (
                version, digest,
            ):  # fmt: skip
                return str(pinned.tag)
        with bentoml.models.create(
            PINNED_MODEL,
            labels={"registry_version": version},
            metadata={
                "registry_version": version,
                "source": source,
                "checksums_sha256": digest,
            },
        ) as pinned:
            shutil.copytree(bundle, pinned.path_of(_BUNDLE_FOLDER))
    return str(pinned.tag)


def _pinned_models() -> list[bentoml.Model]:
    try:
        return bentoml.models.list(PINNED_MODEL)
    except NotFound:  # none pinned yet
        return []


def load_pinned(tag: str) -> tuple[ResponderModel, str]:
    """Load and verify the pinned bundle ``tag``; return it and its registry version.

    Raises BundleIntegrityError (from :meth:`ResponderModel.load`) when its
    ``checksums.json`` is not the one pinned, or a file does not match it.
    """
    pinned = bentoml.models.get(tag)
    bundle = Path(pinned.path_of(_BUNDLE_FOLDER))
    logger.info("loading the pinned bundle %s", tag)
    metadata = pinned.info.metadata
    model = ResponderModel.load(bundle, digest=str(metadata["checksums_sha256"]))
    return model, str(metadata["registry_version"])

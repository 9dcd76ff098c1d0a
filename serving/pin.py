"""Pin the bundle the service would serve now into BentoML's model store.

``python -m serving.pin`` (run by ``rediscover bento`` and ``make bento``) reads the
service's own environment (see :class:`serving.ServingSettings`): it loads and
verifies the version the registry alias points at (or ``REDISCOVER_BUNDLE``),
saves it into BentoML's model store and prints its tag. ``bentoml build`` then
puts the latest pinned bundle into the Bento (``bentofile.yaml``), and the service
running from that Bento serves it, checksums verified again, without a registry.
"""

from __future__ import annotations

import os
import sys

from mlflow.exceptions import MlflowException

from models import BundleIntegrityError, redact_credentials
from serving._pinned import pin_bundle
from serving._settings import ServingSettings
from serving._source import load_bundle

# The CLI's exit code for "the environment lacks what the command needs" (no
# champion, registry unreachable): rediscover bento passes it on.
ENVIRONMENT_ERROR = 3


def _source(settings: ServingSettings) -> str:
    if settings.bundle is not None:
        return f"local bundle {settings.bundle.name}"
    uri = redact_credentials(settings.tracking_uri or "")
    return f"{uri} {settings.model_name}@{settings.alias}"


def main() -> int:
    try:
        settings = ServingSettings.from_env(os.environ)
        model, version = load_bundle(settings)
    except (MlflowException, BundleIntegrityError, OSError, ValueError) as exc:
        print(f"error: no bundle to pin: {exc}", file=sys.stderr)
        return ENVIRONMENT_ERROR
    print(pin_bundle(model, version=version, source=_source(settings)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

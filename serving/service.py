"""The BentoML service: profile in, every drug ranked by probability of response out.

Run with ``bentoml serve serving.service:Rediscover``.  Routes:

``POST /score``, ``POST /score_batch``
    Rank drugs for one or many profiles (see :mod:`serving._schemas`).
``GET /model``
    The bundle being served (version, provenance, per-drug CV metrics); 503 with
    the reason while it is loading or after it failed to load.
``GET /healthz``, ``GET /livez``, ``GET /readyz``, ``GET /metrics``
    BentoML's built-in probes.  ``/readyz`` asks :meth:`Rediscover.__is_ready__`, so
    it answers 503 until the bundle is loaded and its checksums verified.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
import uuid
from collections.abc import Sequence
from typing import NamedTuple

import bentoml
from bentoml.exceptions import InternalServerError, ServiceUnavailable
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from features import Profile
from models import (
    BundleIntegrityError,
    DrugScore,
    ResponderModel,
    load_registered_bundle,
    rank_drugs,
)
from serving._schemas import (
    DrugScoreOut,
    ModelInfo,
    ScoreBatchRequest,
    ScoreBatchResponse,
    ScoreRequest,
    ScoreResponse,
)
from serving._settings import ServingSettings

logger = logging.getLogger(__name__)

LOCAL_VERSION = "local"


class _Loaded(NamedTuple):
    model: ResponderModel
    version: str


def _load_bundle(settings: ServingSettings) -> _Loaded:
    """Load and verify the bundle the settings point at (local folder or registry)."""
    if settings.bundle is not None:
        return _Loaded(ResponderModel.load(settings.bundle), LOCAL_VERSION)
    if settings.tracking_uri is None:  # ServingSettings already refuses this
        raise ValueError("no model source configured")
    model, version = load_registered_bundle(
        tracking_uri=settings.tracking_uri,
        model_name=settings.model_name,
        alias=settings.alias,
        cache_dir=settings.cache_dir,
    )
    return _Loaded(model, version)


async def _model_route(request: Request) -> JSONResponse:
    service: Rediscover = bentoml.get_current_service()
    try:
        info = service.model_info()
    except ServiceUnavailable as exc:
        return JSONResponse({"error": str(exc)}, status_code=503)
    return JSONResponse(info.model_dump(mode="json"))


# BentoML APIs are POST only; GET routes come from a mounted ASGI app.  BentoML
# mounts it "passively", so it only answers the paths it defines.
_get_routes = Starlette(routes=[Route("/model", _model_route, methods=["GET"])])


@bentoml.service(name="rediscover", traffic={"timeout": 60})
@bentoml.asgi_app(_get_routes, path="/")
class Rediscover:
    """Rank off-label drugs for tumour profiles with a verified ResponderModel bundle.

    Settings come from the environment when the service starts (see
    :class:`serving.ServingSettings`); the bundle loads in a background thread so
    the probes answer while it downloads and verifies.
    """

    def __init__(self) -> None:
        self.settings = ServingSettings.from_env(os.environ)
        _show_info_logs()
        self._loaded: _Loaded | None = None
        self._failure: str | None = None
        self._loader = threading.Thread(
            target=self._load, name="rediscover-bundle-loader", daemon=True
        )
        self._loader.start()

    def _load(self) -> None:
        settings = self.settings
        source = settings.bundle or f"registry {settings.model_name}@{settings.alias}"
        started = time.perf_counter()
        # Any failure leaves the service unready for good: a bundle that fails
        # verification is never served.  Only our own integrity message is shown
        # to clients; others (e.g. from MLflow) may quote URIs and go to the log.
        try:
            loaded = _load_bundle(settings)
        except BundleIntegrityError as exc:
            self._failure = f"model bundle failed verification: {exc}"
            logger.exception("model bundle from %s failed verification", source)
            return
        except Exception as exc:
            self._failure = (
                f"model bundle failed to load ({type(exc).__name__}); "
                "see the server log"
            )
            logger.exception("loading the model bundle from %s failed", source)
            return
        self._loaded = loaded
        logger.info(
            "model bundle from %s (version %s, %d drugs) ready in %.1f s",
            source,
            loaded.version,
            len(loaded.model.drugs),
            time.perf_counter() - started,
        )

    def __is_ready__(self) -> bool:
        """BentoML's ``/readyz`` hook: true once the bundle is loaded and verified."""
        return self._loaded is not None

    def wait_until_ready(self, *, timeout: float) -> bool:
        """Block until the loader has finished (loaded or failed); return readiness."""
        self._loader.join(timeout)
        return self.__is_ready__()

    def _require_model(self) -> _Loaded:
        if self._loaded is not None:
            return self._loaded
        raise ServiceUnavailable(self._failure or "model bundle is still loading")

    def model_info(self) -> ModelInfo:
        """Describe the bundle being served; raises ServiceUnavailable until ready."""
        loaded = self._require_model()
        metadata = loaded.model.metadata.model_dump()
        return ModelInfo.model_validate({**metadata, "model_version": loaded.version})

    @bentoml.api
    def score(self, request: ScoreRequest, /) -> ScoreResponse:
        """Rank every drug for one tumour profile, most likely responder first."""
        loaded = self._require_model()
        request_id = uuid.uuid4().hex
        ranked = _rank(
            loaded, [request.profile], top_k=request.top_k, request_id=request_id
        )
        return ScoreResponse(
            model_version=loaded.version,
            request_id=request_id,
            results=_public(ranked[0]),
        )

    @bentoml.api
    def score_batch(self, request: ScoreBatchRequest, /) -> ScoreBatchResponse:
        """Rank every drug for each of several profiles, in submission order."""
        loaded = self._require_model()
        request_id = uuid.uuid4().hex
        ranked = _rank(
            loaded, request.profiles, top_k=request.top_k, request_id=request_id
        )
        return ScoreBatchResponse(
            model_version=loaded.version,
            request_id=request_id,
            results=[_public(scores) for scores in ranked],
        )


def _rank(
    loaded: _Loaded, profiles: Sequence[Profile], *, top_k: int, request_id: str
) -> list[list[DrugScore]]:
    started = time.perf_counter()
    try:
        ranked = rank_drugs(loaded.model, profiles, top_k=top_k)
    except Exception as exc:
        # The message may quote the profile: log where it failed, not what it said.
        frames = "".join(traceback.format_tb(exc.__traceback__))
        logger.error(
            "request_id=%s scoring failed with %s at\n%s",
            request_id,
            type(exc).__name__,
            frames,
        )
        raise InternalServerError(f"scoring failed (request_id={request_id})") from None
    logger.info(
        "request_id=%s scored profiles=%d top_k=%d model_version=%s in %.1f ms",
        request_id,
        len(profiles),
        top_k,
        loaded.version,
        1000 * (time.perf_counter() - started),
    )
    return ranked


def _show_info_logs() -> None:
    # `bentoml serve` leaves the root logger at WARNING, which would hide the
    # per-request lines; a level set by whoever configured logging wins.
    package_logger = logging.getLogger("serving")
    if package_logger.level == logging.NOTSET:
        package_logger.setLevel(logging.INFO)


def _public(scores: Sequence[DrugScore]) -> list[DrugScoreOut]:
    ordered = sorted(scores, key=lambda s: s.rank)
    return [DrugScoreOut.model_validate(s, from_attributes=True) for s in ordered]

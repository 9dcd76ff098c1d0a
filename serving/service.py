"""The BentoML service: profile in, every drug ranked by probability of response out.

Run with ``bentoml serve serving.service:Rediscover``.  Routes:

``POST /score``, ``POST /score_batch``
    Rank drugs for one or many profiles (see :mod:`serving._schemas`).
``GET /model``
    The bundle being served (version, when it went into service, provenance,
    per-drug CV metrics, the last refused reload); 503 with the reason while it is
    loading or after it failed to load.
``POST /explain``, ``GET /review``
    One drug's score for one profile explained; the review page that calls it
    (see :mod:`serving._review`).
``POST /report``
    One profile's tumour-board report, a printable HTML page (see
    :mod:`serving._report`).
``POST /admin/reload``
    With ``Authorization: Bearer $REDISCOVER_RELOAD_TOKEN``: serve the version the
    registry alias points at now (see :mod:`serving._reload`); 409 with the reason
    when that bundle is refused, the old one serving on.
``GET /healthz``, ``GET /livez``, ``GET /readyz``, ``GET /metrics``
    BentoML's built-in probes.  ``/readyz`` asks :meth:`Rediscover.__is_ready__`, so
    it answers 503 until the bundle is loaded and its checksums verified;
    ``/metrics`` carries our own figures too (see :mod:`serving._metrics`).
``GET /``, ``GET /docs.json``
    Our own front page (see :mod:`serving._home`), not BentoML's OpenAPI page; our
    own OpenAPI document, written from the request and response models (see
    :mod:`serving._openapi`).

With ``REDISCOVER_API_TOKEN`` set, the patient-data routes require it as a bearer
token; without, they answer on loopback only (see :mod:`serving._auth`).

Every request passes :class:`serving._boundary.RequestBoundary` first: body size
and media type, the request id, one log line per client error, security headers;
then :class:`serving._admission.Admission`, which bounds the scoring a worker
takes on at once.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import Any, cast

import anyio
import bentoml
import mlflow
from bentoml.exceptions import BentoMLException, ServiceUnavailable
from pydantic import SecretStr, TypeAdapter, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from features import Profile
from models import (
    DrugScore,
    ResponderModel,
    alias_version,
    rank_drugs,
)
from serving._admission import Admission, Limits
from serving._auth import BearerAuth
from serving._batch import batch_body, chunk_size, rank_in_chunks
from serving._boundary import AccessLogFilter, RequestBoundary, current_request_id
from serving._errors import mask_framework_exception_logs, masked_failures
from serving._home import home_page
from serving._metrics import service_metrics
from serving._openapi import docs_route
from serving._pinned import PINNED_MODEL
from serving._reload import ModelSlot, ServedBundle
from serving._report import REPORT_ROUTE, report_page
from serving._review import explain_response, review_files, review_page
from serving._routes import mounted_app
from serving._schemas import (
    DrugScoreOut,
    ExplainRequest,
    ExplainResponse,
    ModelInfo,
    ReloadErrorOut,
    ReloadOut,
    ScoreBatchRequest,
    ScoreBatchResponse,
    ScoreRequest,
    ScoreResponse,
)
from serving._settings import ServingSettings, service_workers
from serving._source import follows_alias, load_bundle

logger = logging.getLogger(__name__)

# Paths besides the scoring APIs that log lines may name (any other is client text).
_OTHER_ROUTES = (
    *("/", "/model", "/admin/reload", "/review", "/docs.json", "/schema.json"),
    *("/healthz", "/livez", "/readyz", "/metrics"),
)
# Our own routes (not BentoML APIs) whose POST body must be JSON.
_OUR_JSON_ROUTES = (REPORT_ROUTE,)


def _alias_version(settings: ServingSettings) -> str:
    """Ask the registry which version the served alias points at now."""
    uri = settings.tracking_uri
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    version = alias_version(client, settings.model_name, settings.alias)
    if version is None:
        raise LookupError(f"no {settings.model_name}@{settings.alias} in the registry")
    return version


def _model_slot(settings: ServingSettings) -> ModelSlot:
    def load() -> tuple[ResponderModel, str]:
        return load_bundle(settings)

    def lookup() -> str:
        return _alias_version(settings)

    return ModelSlot(
        load,
        lookup=lookup if follows_alias(settings) else None,
        observe=service_metrics().observe_model,
    )


def _observe_request(route: str, method: str, status: int, seconds: float) -> None:
    service_metrics().observe_request(route, method, status, seconds)


def _count_scores(ranked: Sequence[Sequence[DrugScore]]) -> None:
    total = sum(len(scores) for scores in ranked)
    outside = sum(not score.in_domain for scores in ranked for score in scores)
    service_metrics().observe_scores(in_domain=total - outside, out_of_domain=outside)


async def _model_route(request: Request) -> JSONResponse:
    service: Rediscover = bentoml.get_current_service()
    try:
        info = service.model_info()
    except ServiceUnavailable as exc:
        return JSONResponse({"error": str(exc)}, status_code=503)
    return JSONResponse(info.model_dump(mode="json"))


async def _reload_route(request: Request) -> JSONResponse:
    service: Rediscover = bentoml.get_current_service()
    token = service.settings.reload_token
    if token is None:
        return JSONResponse(
            {"error": "reloading is disabled: set REDISCOVER_RELOAD_TOKEN"},
            status_code=404,
        )
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), expected
    ):
        return JSONResponse(
            {"error": "send Authorization: Bearer <REDISCOVER_RELOAD_TOKEN>"},
            status_code=403,
        )
    # Loading takes seconds: off the event loop, so requests keep being served.
    outcome = await run_in_threadpool(service.reload_now)
    status = 200 if outcome.error is None else 409
    return JSONResponse(outcome.model_dump(mode="json"), status_code=status)


async def _report_route(request: Request) -> Response:
    service: Rediscover = bentoml.get_current_service()
    return await report_page(request, served=service._require_model)


# BentoML APIs are POST only; the other routes come from a mounted app (in the
# OpenAPI document too).  BentoML mounts it "passively", so it only answers the
# paths it defines.
_mounted = mounted_app(
    model_info=_model_route, reload=_reload_route, report=_report_route,
    home=home_page, docs=docs_route, review=review_page, review_files=review_files(),
)  # fmt: skip


@bentoml.service(
    name="rediscover",
    workers=service_workers(os.environ),
    traffic={"timeout": 60},
)
@bentoml.asgi_app(_mounted, path="/")
class Rediscover:
    """Rank off-label drugs for tumour profiles with a verified ResponderModel bundle.

    Settings come from the environment when the service starts (see
    :class:`serving.ServingSettings`); the bundle loads in a background thread so
    the probes answer while it downloads and verifies.  A registry bundle is then
    followed: a new version of the alias is loaded beside the old one and swapped
    in; one that fails verification is refused and the old one serves on.
    """

    def __init__(self) -> None:
        self.settings = ServingSettings.from_env(
            os.environ, pinned_model=_pinned_model()
        )
        _show_info_logs()
        mask_framework_exception_logs()
        _quiet_access_log()
        self._slot = _model_slot(self.settings)
        # Batches take turns on a thread of their own, beside /score's.
        self._batch_thread = anyio.CapacityLimiter(1)
        self._loader = threading.Thread(
            target=self._load, name="rediscover-bundle-loader", daemon=True
        )
        self._loader.start()

    def _load(self) -> None:
        settings = self.settings
        source = (
            settings.bundle
            or settings.pinned_model
            or f"registry {settings.model_name}@{settings.alias}"
        )
        logger.info("loading the model bundle from %s", source)
        # A bundle that fails verification is never served; the watcher retries
        # when the alias moves (or, after a transient failure, on its next check).
        self._slot.load_first()
        self._slot.start_watching(settings.reload_interval_s)

    @bentoml.on_startup
    async def _wait_for_bundle(self) -> None:
        # A worker serves once this returns: one that replaces a lost worker
        # takes no request before its bundle is warm (bounded by startup_wait_s).
        wait = self.settings.startup_wait_s
        await anyio.to_thread.run_sync(self._loader.join, wait)

    @bentoml.on_shutdown
    def _stop_watching(self) -> None:
        self._slot.stop_watching()

    def __is_ready__(self) -> bool:
        """BentoML's ``/readyz`` hook: true once a verified bundle is in service."""
        return self._slot.served is not None

    def wait_until_ready(self, *, timeout: float) -> bool:
        """Block until the loader has finished (loaded or failed); return readiness."""
        self._loader.join(timeout)
        return self.__is_ready__()

    def _require_model(self) -> ServedBundle:
        # Read once per request: a reload swaps the slot, never this request's model.
        if (served := self._slot.served) is not None:
            return served
        failure = self._slot.last_failure
        raise ServiceUnavailable(
            failure.reason if failure else "model bundle is still loading"
        )

    def model_info(self) -> ModelInfo:
        """Describe the bundle being served; raises ServiceUnavailable until ready."""
        loaded = self._require_model()
        failure = self._slot.last_failure
        return ModelInfo.model_validate(
            {
                **loaded.model.metadata.model_dump(),
                "model_version": loaded.version,
                "alias": self.settings.alias if self._slot.follows_alias else None,
                "loaded_at": loaded.loaded_at,
                "last_reload_error": None
                if failure is None
                else ReloadErrorOut.model_validate(failure, from_attributes=True),
            }
        )

    def reload_now(self) -> ReloadOut:
        """Serve the alias' version now if it is not served yet (/admin/reload)."""
        result = self._slot.reload_now()
        return ReloadOut.model_validate(result, from_attributes=True)

    @bentoml.api
    def score(self, request: ScoreRequest, /) -> ScoreResponse:
        """Rank every drug for one tumour profile, most likely responder first."""
        loaded = self._require_model()
        header, ranked = _rank(loaded, [request.profile], request)
        return ScoreResponse(**header, results=_public(ranked[0]))

    # The body is JSON made in the batch thread (see serving._batch), so the
    # answer is a Response; the schema is the model it serialises.
    @bentoml.api(output_spec=ScoreBatchResponse)
    async def score_batch(self, request: ScoreBatchRequest, /) -> Response:
        """Rank every drug for each of several profiles, in submission order.

        Ranked chunk by chunk in the worker's batch thread, so a batch never holds
        up ``/score``; a timed-out or abandoned batch stops at its next chunk.
        """
        loaded = self._require_model()
        n_drugs = len(loaded.model.metadata.drugs)
        _check_batch_size(
            request, n_drugs=n_drugs, max_bytes=self.settings.max_response_bytes
        )
        request_id = current_request_id()
        started = time.perf_counter()

        def rank_chunk(profiles: Sequence[Profile]) -> list[bytes]:
            with masked_failures("scoring", request_id=request_id):
                ranked = _rank_profiles(loaded, profiles, request)
                _count_scores(ranked)
                # One call per profile: a call holds the GIL (and /score) throughout.
                return [_PUBLIC_SCORES.dump_json(_public(r)) for r in ranked]

        rankings = await rank_in_chunks(
            rank_chunk, request.profiles, chunk=chunk_size(n_drugs),
            limiter=self._batch_thread,
        )  # fmt: skip
        _log_scored(request_id, request, loaded, n=len(rankings), started=started)
        header = ScoreBatchResponse(**_header(loaded, request_id), results=[])
        body = await anyio.to_thread.run_sync(
            batch_body, header, rankings, limiter=self._batch_thread
        )
        return Response(body, media_type="application/json")

    @bentoml.api
    def explain(self, request: ExplainRequest, /) -> ExplainResponse:
        """Explain one drug's score for one profile: SHAP waterfall in probability
        units, evidence, training counts and the drug's global summary."""
        loaded = self._require_model()
        return explain_response(
            loaded.model,
            request,
            model_version=loaded.version,
            request_id=current_request_id(),
        )


def _max_body_bytes() -> int:
    try:
        service: Rediscover = bentoml.get_current_service()
    except BentoMLException:  # no instance yet (app starting): the default limit
        return int(ServingSettings.model_fields["max_body_bytes"].default)
    return service.settings.max_body_bytes


def _admission_limits() -> Limits:
    try:
        service: Rediscover = bentoml.get_current_service()
    except BentoMLException:  # no instance yet (app starting): the defaults
        fields = ServingSettings.model_fields
        return Limits(
            batches=int(fields["max_batches"].default),
            requests=int(fields["max_requests"].default),
        )
    settings = service.settings
    return Limits(batches=settings.max_batches, requests=settings.max_requests)


# bentoml.asgi_app is typed as returning the class; it returns the Service.
_service = cast("bentoml.Service[Rediscover]", Rediscover)
_service.add_asgi_middleware(
    RequestBoundary,
    json_routes=[*(api.route for api in _service.apis.values()), *_OUR_JSON_ROUTES],
    known_routes=_OTHER_ROUTES,
    max_body_bytes=_max_body_bytes,
    observe=_observe_request,
)
# Inside the boundary, so a refusal carries the request id like any error.
_service.add_asgi_middleware(
    Admission,
    batch_routes=[_service.apis["score_batch"].route],
    request_routes=[_service.apis["score"].route, _service.apis["explain"].route,
                    REPORT_ROUTE],
    limits=_admission_limits,
)  # fmt: skip


def _pinned_model() -> str | None:
    """The tag of the bundle the Bento carries, when the service runs from a Bento
    (BentoML sets ``bento`` when it loads the service from one)."""
    if _service.bento is None:
        return None
    tags = [m.tag for m in _service.bento.info.all_models]
    return next((str(t) for t in tags if t.name == PINNED_MODEL), None)


def _api_token() -> SecretStr | None:
    try:
        service: Rediscover = bentoml.get_current_service()
    except BentoMLException:
        raise LookupError("no service instance yet") from None
    return service.settings.api_token


# Inside the boundary, so a 401 carries the request id and is logged as one line.
_service.add_asgi_middleware(BearerAuth, token=_api_token)


def _quiet_access_log() -> None:
    # BentoML's access line quotes the path and Content-Type as sent.
    access_logger = logging.getLogger("bentoml.access")
    if not any(isinstance(f, AccessLogFilter) for f in access_logger.filters):
        routes = [
            *_OTHER_ROUTES, *_OUR_JSON_ROUTES,
            *(api.route for api in _service.apis.values()),
        ]  # fmt: skip
        access_logger.addFilter(AccessLogFilter(routes))


def _rank(
    loaded: ServedBundle,
    profiles: Sequence[Profile],
    request: ScoreRequest | ScoreBatchRequest,
) -> tuple[dict[str, Any], list[list[DrugScore]]]:
    """The response's common fields (model version, request id, population,
    endpoint) and each profile's ranked scores."""
    request_id = current_request_id()
    started = time.perf_counter()
    with masked_failures("scoring", request_id=request_id):
        ranked = _rank_profiles(loaded, profiles, request)
    _count_scores(ranked)
    _log_scored(request_id, request, loaded, n=len(profiles), started=started)
    return _header(loaded, request_id), ranked


def _rank_profiles(
    loaded: ServedBundle,
    profiles: Sequence[Profile],
    request: ScoreRequest | ScoreBatchRequest,
) -> list[list[DrugScore]]:
    return rank_drugs(
        loaded.model, profiles, top_k=request.top_k, rank_by=request.rank_by,
        explain_top=request.explain_top,
    )  # fmt: skip


def _log_scored(
    request_id: str,
    request: ScoreRequest | ScoreBatchRequest,
    loaded: ServedBundle,
    *,
    n: int,
    started: float,
) -> None:
    logger.info(
        "request_id=%s scored profiles=%d top_k=%d model_version=%s in %.1f ms",
        request_id,
        n,
        request.top_k,
        loaded.version,
        1000 * (time.perf_counter() - started),
    )


def _header(loaded: ServedBundle, request_id: str) -> dict[str, Any]:
    metadata = loaded.model.metadata
    return {
        "model_version": loaded.version, "request_id": request_id,
        "population": metadata.population, "endpoint": metadata.endpoint,
    }  # fmt: skip


# Generous sizes of one drug's score and of one SHAP feature in a /score response,
# in JSON bytes (measured on the test bundle: ~475 and ~75).
_SCORE_BYTES = 600
_FEATURE_BYTES = 80


def _check_batch_size(
    request: ScoreBatchRequest, *, n_drugs: int, max_bytes: int
) -> None:
    """Refuse a batch whose response could exceed ``max_bytes`` (400, `profiles`)."""
    explained = min(request.explain_top, n_drugs)
    per_profile = n_drugs * _SCORE_BYTES + explained * _FEATURE_BYTES * request.top_k
    if len(request.profiles) * per_profile <= max_bytes:
        return
    error = PydanticCustomError(
        "batch_too_large",
        "at most {fits} profiles per batch with top_k={top_k} and "
        "explain_top={explain_top} for this model's {n_drugs} drugs (the response "
        "is bounded at {max_bytes} bytes); split the batch or lower top_k",
        {"fits": max(1, max_bytes // per_profile), "top_k": request.top_k,
         "explain_top": request.explain_top, "n_drugs": n_drugs,
         "max_bytes": max_bytes},
    )  # fmt: skip
    details = InitErrorDetails(type=error, loc=("profiles",), input=None)
    raise ValidationError.from_exception_data("ScoreBatchRequest", [details])


def _show_info_logs() -> None:
    # `bentoml serve` leaves the root logger at WARNING, which would hide the
    # per-request lines; a level set by whoever configured logging wins.
    package_logger = logging.getLogger("serving")
    if package_logger.level == logging.NOTSET:
        package_logger.setLevel(logging.INFO)


# One validation call for the whole list (a Python call per drug costs more).
_PUBLIC_SCORES = TypeAdapter(list[DrugScoreOut])


def _public(scores: Sequence[DrugScore]) -> list[DrugScoreOut]:
    return _PUBLIC_SCORES.validate_python(scores, from_attributes=True)

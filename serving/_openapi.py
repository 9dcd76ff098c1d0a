"""``GET /docs.json``: the OpenAPI document of every route, from our own models.

BentoML's generated document misstates our answers: it flattens ``X | None`` fields
of a response model into ``X`` (``/explain``'s ``key_alteration`` and ``summary``
are null at times), calls a 400's ``detail`` a string (it is a list of field
errors), and knows neither our routes (``/model``, ``/report``, ``/admin/reload``,
the pages) nor the boundary's answers (401, 403, 413, 415, 503). This document is
written from the same pydantic models that validate the requests and build the
responses (JSON Schema 2020-12, hence OpenAPI 3.1), so it cannot drift from them;
a schemathesis run against a real server (``tests/serving/test_schemathesis.py``)
checks every answer against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse

from serving import _schemas as schemas
from serving._auth import PROTECTED_ROUTES
from serving._report import REPORT_ROUTE
from serving._schemas import ErrorOut, ValidationErrorOut

REF_TEMPLATE = "#/components/schemas/{model}"
# Each model's schema (a $ref into the components), by the model and its mode.
_Refs = Mapping[tuple[Any, JsonSchemaMode], dict[str, Any]]
_BEARER = "bearer"


_ERRORS: Mapping[int, str] = {
    400: "The body is not valid JSON, or a field is missing, unknown, of the wrong "
    "type or out of bounds; `detail` names each.",
    401: "The service requires `Authorization: Bearer <REDISCOVER_API_TOKEN>` and "
    "the request had none, or another token.",
    403: "The service has no API token and answers this route on loopback only.",
    404: "The route does not exist, or `/explain`'s drug is not scored by the model.",
    409: "The bundle the alias points at was refused; the version in service "
    "serves on.",
    413: "The body is larger than REDISCOVER_MAX_BODY_BYTES (default 2 MiB).",
    415: "The body was not sent as `Content-Type: application/json`.",
    500: "An unexpected failure; the body says only the request id.",
    503: "No model bundle is in service yet (loading, or refused: `GET /model` "
    "says why).",
}


@dataclass(frozen=True, kw_only=True)
class _Operation:
    """One method of one route: its body and its answers by status.

    An answer is a model (a JSON body) or a media type (any body of that type).
    """

    summary: str
    request: type[BaseModel] | None = None
    answers: Mapping[int, type[BaseModel] | str] = field(default_factory=dict)


# The boundary's answers to any POST of a JSON route (see serving._boundary).
_JSON_ROUTE_ERRORS: Mapping[int, type[BaseModel]] = {
    400: ValidationErrorOut, 413: ErrorOut, 415: ErrorOut, 500: ErrorOut,
    503: ErrorOut,
}  # fmt: skip
_TEXT, _HTML = "text/plain", "text/html"


def _operations() -> dict[tuple[str, str], _Operation]:
    alive = _Operation(summary="200 while the process lives.", answers={200: _TEXT})
    return {
        ("/score", "post"): _Operation(
            summary="Rank every drug for one tumour profile.",
            request=schemas.ScoreRequest,
            answers={200: schemas.ScoreResponse, **_JSON_ROUTE_ERRORS},
        ),
        ("/score_batch", "post"): _Operation(
            summary="Rank every drug for each of several profiles.",
            request=schemas.ScoreBatchRequest,
            answers={200: schemas.ScoreBatchResponse, **_JSON_ROUTE_ERRORS},
        ),
        ("/explain", "post"): _Operation(
            summary="Explain one drug's score for one profile.",
            request=schemas.ExplainRequest,
            answers={200: schemas.ExplainResponse, 404: ErrorOut, **_JSON_ROUTE_ERRORS},
        ),
        (REPORT_ROUTE, "post"): _Operation(
            summary="One profile's tumour-board report, a printable HTML page.",
            request=schemas.ReportRequest,
            answers={200: _HTML, **_JSON_ROUTE_ERRORS},
        ),
        ("/model", "get"): _Operation(
            summary="The model bundle in service.",
            answers={200: schemas.ModelInfo, 503: ErrorOut},
        ),
        ("/admin/reload", "post"): _Operation(
            summary="With Authorization: Bearer <REDISCOVER_RELOAD_TOKEN>: serve the "
            "version the registry alias points at now.",
            answers={
                200: schemas.ReloadOut,
                403: ErrorOut,
                404: ErrorOut,
                409: schemas.ReloadOut,
            },
        ),
        ("/", "get"): _Operation(summary="The front page.", answers={200: _HTML}),
        ("/review", "get"): _Operation(
            summary="The review page.", answers={200: _HTML}
        ),
        ("/docs.json", "get"): _Operation(
            summary="This document.", answers={200: "application/json"}
        ),
        ("/healthz", "get"): alive,
        ("/livez", "get"): alive,
        ("/readyz", "get"): _Operation(
            summary="200 once a verified bundle is in service.",
            answers={200: _TEXT, 503: ErrorOut},
        ),
        ("/metrics", "get"): _Operation(
            summary="Prometheus metrics.", answers={200: _TEXT}
        ),
    }


def openapi_document(*, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the service's routes (``GET /docs.json``)."""
    operations = _operations()
    models = _models(operations)
    refs: _Refs
    refs, defs = models_json_schema(list(models), ref_template=REF_TEMPLATE)
    paths: dict[str, dict[str, Any]] = {}
    for (path, method), operation in operations.items():
        paths.setdefault(path, {})[method] = _operation(
            operation, path=path, method=method, refs=refs
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "rediscover",
            "version": version,
            "description": "Ranks off-label cancer drugs for a tumour profile.",
        },
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                _BEARER: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "REDISCOVER_API_TOKEN; required when one is "
                    "set, and on any address beyond loopback.",
                }
            },
        },
    }


def _models(
    operations: Mapping[tuple[str, str], _Operation],
) -> dict[tuple[type[BaseModel], JsonSchemaMode], None]:
    """Each model once, requests as validated and answers as serialized."""
    models: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
    for operation in operations.values():
        if operation.request is not None:
            models[(operation.request, "validation")] = None
        for answer in operation.answers.values():
            if not isinstance(answer, str):
                models[(answer, "serialization")] = None
    return models


def _operation(
    operation: _Operation,
    *,
    path: str,
    method: str,
    refs: _Refs,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "summary": operation.summary,
        "operationId": f"{method}_{path.strip('/').replace('.', '_') or 'index'}",
        "responses": {},
    }
    if operation.request is not None:
        schema = refs[(operation.request, "validation")]
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    answers = dict(operation.answers)
    if path in PROTECTED_ROUTES:
        document["security"] = [{_BEARER: []}]
        answers |= {401: ErrorOut, 403: ErrorOut}
    for status, answer in sorted(answers.items()):
        document["responses"][str(status)] = _response(status, answer, refs=refs)
    return document


def _response(
    status: int,
    answer: type[BaseModel] | str,
    *,
    refs: _Refs,
) -> dict[str, Any]:
    if isinstance(answer, str):
        content = {answer: {"schema": {"type": "string"}}}
    else:
        content = {"application/json": {"schema": refs[(answer, "serialization")]}}
    response: dict[str, Any] = {
        "description": _ERRORS.get(status, "Successful response."),
        "content": content,
    }
    if status == 401:
        response["headers"] = {
            "WWW-Authenticate": {"required": True, "schema": {"type": "string"}}
        }
    return response


async def docs_route(request: Request) -> JSONResponse:
    """``GET /docs.json``."""
    return JSONResponse(openapi_document(version=version("rediscover")))

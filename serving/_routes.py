"""The routes beside BentoML's APIs, described in the service's OpenAPI document.

BentoML's APIs are POST only and answer in its own shape; the GET routes, the HTML
report, and the admin endpoint that must answer 403/404/409 itself come from an
app mounted beside them. It is a FastAPI app because BentoML merges a mounted
FastAPI app's schema into ``/docs.json``: every route the service answers is then
in the one document. The handlers read the request themselves (FastAPI parses
nothing), so their errors keep the service's shape; the schema says what they
take and answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount

from serving._schemas import ModelInfo, ReloadOut, ReportRequest

Handler = Callable[[Request], Awaitable[Response]]
# The tags of BentoML's own document: its APIs, and its probes.
_APP_TAG = "Service APIs"
_INFRA_TAG = "Infrastructure"
_HTML = {"content": {"text/html": {"schema": {"type": "string"}}}}


class ErrorOut(BaseModel):
    """An error answer: what went wrong, and the request's id."""

    error: str = Field(
        description="What went wrong, never quoting the request.",
        examples=["model bundle is still loading"],
    )
    request_id: str = Field(
        description="Opaque id of this request, also in the server log.",
        examples=["3f2b9c0e8d1a4b6c9e7f5a2d1c0b9a8e"],
    )
    detail: list[dict[str, Any]] | None = Field(
        default=None,
        description="For a 400: each bad field's location and what is accepted, "
        "never its value.",
        examples=[[{"loc": ["profile", "tumour_type"], "type": "missing"}]],
    )


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


def _html_route_error(description: str) -> dict[str, Any]:
    # An error of a route that answers HTML is JSON all the same; given as
    # content (a model would be listed under the route's media type too).
    schema = {"$ref": "#/components/schemas/ErrorOut"}
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


def _json_body(model: type[BaseModel]) -> dict[str, Any]:
    """An OpenAPI request body of ``model``, its nested models referenced from
    the document's components (BentoML's APIs already put them there)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    content = {"application/json": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


def mounted_app(
    *,
    model_info: Handler,
    reload: Handler,
    report: Handler,
    home: Handler,
    review: Handler,
    review_files: Mount,
) -> FastAPI:
    """The mounted app: ``GET /model``, ``POST /admin/reload``, ``POST /report``,
    ``GET /``, ``GET /review`` and the review page's files."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.add_api_route(
        "/model", model_info, operation_id="model_info", methods=["GET"],
        tags=[_APP_TAG],
        summary="The model bundle in service", response_model=ModelInfo,
        responses={503: _error("No bundle in service: still loading, or refused "
                               "(the error says why).")},
    )  # fmt: skip
    app.add_api_route(
        "/admin/reload", reload, operation_id="admin_reload", methods=["POST"],
        tags=[_INFRA_TAG],
        summary="Serve the version the registry alias points at now",
        description="Needs `Authorization: Bearer $REDISCOVER_RELOAD_TOKEN`.",
        response_model=ReloadOut,
        responses={
            403: _error("Missing or wrong bearer token."),
            404: _error("Reloading is disabled: no REDISCOVER_RELOAD_TOKEN."),
            409: {"model": ReloadOut, "description": "The alias' version was "
                  "refused; the version in service serves on."},
        },
    )  # fmt: skip
    app.add_api_route(
        "/report", report, operation_id="report", methods=["POST"], tags=[_APP_TAG],
        summary="A printable tumour-board report (HTML) for one profile",
        response_class=HTMLResponse, openapi_extra=_json_body(ReportRequest),
        responses={
            200: _HTML,
            400: _html_route_error("A field is missing, unknown or out of bounds "
                                   "(`detail` names each)."),
            503: _html_route_error("No bundle in service yet."),
        },
    )  # fmt: skip
    app.add_api_route(
        "/", home, operation_id="home", methods=["GET"], tags=[_INFRA_TAG],
        summary="The routes, as a plain page", response_class=HTMLResponse,
        responses={200: _HTML},
    )  # fmt: skip
    app.add_api_route(
        "/review", review, operation_id="review", methods=["GET"], tags=[_APP_TAG],
        summary="The review page", response_class=HTMLResponse,
        responses={200: _HTML},
    )  # fmt: skip
    app.router.routes.append(review_files)
    return app

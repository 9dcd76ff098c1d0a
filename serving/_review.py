"""The review page (``GET /review``) and the explanation API behind it.

The page is three static files (``serving/static/``) served by the service itself,
so it works offline and on the same port; it calls ``GET /model``, ``POST /score``
and ``POST /explain``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

from bentoml.exceptions import NotFound
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from models import ResponderModel, UnknownDrugError, explain_patient
from serving._errors import masked_failures
from serving._schemas import ExplainRequest, ExplainResponse

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
# Everything comes from this origin; no inline script or style, no other host.
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


class _Static(StaticFiles):
    """The page's files, each with the page's headers: ``review.html`` fetched
    from here must not escape the CSP that ``/review`` sets."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(_HEADERS)
        return response


async def review_page(request: Request) -> Response:
    """``GET /review``: the page."""
    return FileResponse(STATIC / "review.html", headers=_HEADERS)


def review_files() -> Mount:
    """The page's static files, under ``/review/static/``."""
    return Mount("/review/static", _Static(directory=STATIC), name="review-static")


def explain_response(
    model: ResponderModel,
    request: ExplainRequest,
    *,
    model_version: str,
    request_id: str,
) -> ExplainResponse:
    """Explain one drug's score for the request's profile (``POST /explain``).

    Logs the request id, drug and timing, never the profile.  An unknown drug is a
    404 naming it; any other failure a 500 carrying only the request id.
    """
    started = time.perf_counter()
    with masked_failures("explaining", request_id=request_id):
        try:
            explained = explain_patient(
                model, request.profile, request.drug, top_k=request.top_k
            )
        except UnknownDrugError as exc:
            raise NotFound(str(exc.args[0])) from None
    logger.info(
        "request_id=%s explained drug=%s top_k=%d model_version=%s in %.1f ms",
        request_id,
        explained.drug,
        request.top_k,
        model_version,
        1000 * (time.perf_counter() - started),
    )
    fields = {f.name: getattr(explained, f.name) for f in dataclasses.fields(explained)}
    return ExplainResponse.model_validate(
        {
            **fields,
            "population": model.metadata.population,
            "endpoint": model.metadata.endpoint,
            "model_version": model_version,
            "request_id": request_id,
        },
        from_attributes=True,
    )

"""``POST /report``: one profile's tumour-board report as a printable HTML page.

The page is written by :mod:`reporting`, the same code as ``rediscover report``.
The body is JSON like ``/explain``'s (``{"profile": {...}, "top": 15}``); the
answer is ``text/html`` whose policy lets in nothing but the page's own inline
stylesheet. The profile is on the page, for the clinician, and never in a log
line: those carry the request id, the model version and the timing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bentoml.exceptions import InternalServerError, ServiceUnavailable
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from reporting import CONTENT_SECURITY_POLICY, build_report, render_report
from serving._boundary import current_request_id
from serving._errors import masked_failures
from serving._reload import ServedBundle
from serving._schemas import ReportRequest

logger = logging.getLogger(__name__)

REPORT_ROUTE = "/report"
_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # The page holds a patient's profile: no cache keeps a copy.
    "Cache-Control": "no-store",
}


async def report_page(
    request: Request, *, served: Callable[[], ServedBundle]
) -> Response:
    """Answer ``POST /report``: 200 with the page; 400 naming each bad field
    (never its value), 503 while no bundle is in service, 500 with only the
    request id when writing the page fails.

    ``served`` returns the bundle in service or raises ``ServiceUnavailable``.
    """
    request_id = current_request_id()
    try:
        body = ReportRequest.model_validate_json(await request.body())
    except ValidationError as error:
        return _invalid(error)
    try:
        loaded = served()
    except ServiceUnavailable as error:
        return JSONResponse({"error": str(error)}, status_code=503)
    started = time.perf_counter()
    try:
        # Scoring and SHAP take a while: off the event loop.
        page = await run_in_threadpool(_write, loaded, body, request_id)
    except InternalServerError as error:
        return JSONResponse({"error": error.message}, status_code=500)
    logger.info(
        "request_id=%s reported top=%d model_version=%s in %.1f ms",
        request_id,
        body.top,
        loaded.version,
        1000 * (time.perf_counter() - started),
    )
    return HTMLResponse(page, headers=_HEADERS)


def _write(loaded: ServedBundle, body: ReportRequest, request_id: str) -> str:
    with masked_failures("reporting", request_id=request_id):
        report = build_report(
            loaded.model, body.profile, model_version=loaded.version,
            generated_at=datetime.now(UTC), top=body.top,
            read_from=[f"the body of POST {REPORT_ROUTE}"],
        )  # fmt: skip
        return render_report(report)


def _invalid(error: ValidationError) -> JSONResponse:
    """400 in the shape BentoML gives its own APIs: each field's location, what
    is wrong and what is accepted, never the submitted value."""
    count = error.error_count()
    detail = error.errors(include_input=False, include_context=False)
    noun = "error" if count == 1 else "errors"
    return JSONResponse(
        {"error": f"{count} validation {noun} for ReportRequest", "detail": detail},
        status_code=400,
    )

"""The routes beside BentoML's APIs, in an app mounted beside them.

BentoML's APIs are POST only and answer in its own shape; the GET routes, the HTML
report, the admin endpoint that must answer 403/404/409 itself, and our own OpenAPI
document (`serving._openapi`, which describes every route, these included) come
from this app. BentoML mounts it "passively": it answers only the paths it defines.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from serving._report import REPORT_ROUTE

Handler = Callable[[Request], Awaitable[Response]]


def mounted_app(
    *,
    model_info: Handler,
    reload: Handler,
    report: Handler,
    home: Handler,
    docs: Handler,
    review: Handler,
    review_files: Mount,
) -> Starlette:
    """The mounted app: ``GET /model``, ``POST /admin/reload``, ``POST /report``,
    ``GET /``, ``GET /docs.json``, ``GET /review`` and the review page's files."""
    return Starlette(
        routes=[
            Route("/model", model_info, methods=["GET"]),
            Route("/admin/reload", reload, methods=["POST"]),
            Route(REPORT_ROUTE, report, methods=["POST"]),
            Route("/", home, methods=["GET"]),
            Route("/docs.json", docs, methods=["GET"]),
            Route("/review", review, methods=["GET"]),
            review_files,
        ]
    )

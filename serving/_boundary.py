"""The HTTP boundary: what a request may be, and what every error answer carries.

One ASGI middleware sits in front of every route, BentoML's and ours. It

* gives each request an opaque id: the ``X-Request-ID`` header, ``request_id`` in
  every error body, and :func:`current_request_id` inside the request;
* answers 413 to a body larger than the service's ``max_body_bytes`` before any of
  it is parsed (the body is read at most that far), and 415 to a JSON route's body
  that is not ``application/json``;
* logs each 4xx as one line (status, route, request id, field paths) and never a
  submitted value: an unknown JSON key shows as ``<unknown key>``;
* sets ``X-Content-Type-Options: nosniff`` everywhere, and a Content-Security-Policy
  on HTML that lacks one, so no page on our origin runs another host's script.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from contextvars import ContextVar
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

# Everything from this origin; no inline script or style, no other host.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
_REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Any other method name is client text, logged as OTHER.
_LOGGED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
_UNKNOWN_KEY = "<unknown key>"
_NOT_SERVING = (
    "no model bundle is in service yet (still loading, or refused); GET /model says why"
)


def current_request_id() -> str:
    """The id of the HTTP request being served (a fresh one outside a request)."""
    return _REQUEST_ID.get() or uuid.uuid4().hex


class RequestBoundary:
    """ASGI middleware enforcing the limits above (see the module docstring).

    Parameters
    ----------
    app
        The application behind it.
    json_routes
        Paths whose POST body must be JSON (BentoML's API routes).
    known_routes
        Other paths that may be named in log lines; any other path is logged as
        ``other``, since a path is text the client chose.
    max_body_bytes
        Returns the largest body accepted, asked per request so it follows the
        service's settings.
    observe
        Called once a request is answered with its route (as logged), method,
        status and seconds (the service's metrics).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        json_routes: Collection[str],
        known_routes: Collection[str],
        max_body_bytes: Callable[[], int],
        observe: Callable[[str, str, int, float], None] | None = None,
    ) -> None:
        self.app = app
        self.json_routes = frozenset(json_routes)
        self.known_routes = self.json_routes | frozenset(known_routes)
        self.max_body_bytes = max_body_bytes
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        token = _REQUEST_ID.set(request_id)
        path = scope["path"]
        route = path if path in self.known_routes else "other"
        reply = _Reply(
            send,
            request_id=request_id,
            route=route,
            method=scope["method"],
            scores=path in self.json_routes,
        )
        limit = self.max_body_bytes()
        started = time.perf_counter()
        try:
            refusal = self._refuse_by_headers(scope, limit=limit)
            if refusal is not None:
                await reply.error(*refusal)
                return
            body = await _read_body(receive, limit=limit)
            if body is None:
                await reply.error(413, _too_large(limit))
                return
            await self.app(scope, _replay(body, receive), reply.send)
        finally:
            _REQUEST_ID.reset(token)
            if self.observe is not None and reply.status is not None:
                seconds = time.perf_counter() - started
                self.observe(route, reply.logged_method, reply.status, seconds)

    def _refuse_by_headers(self, scope: Scope, *, limit: int) -> tuple[int, str] | None:
        """415 for a JSON route's non-JSON body, 413 for a declared length over
        ``limit``, as (status, message); None when the headers are acceptable."""
        headers = Headers(scope=scope)
        if scope["method"] in _BODY_METHODS and scope["path"] in self.json_routes:
            media_type = headers.get("content-type", "").partition(";")[0]
            if media_type.strip().lower() != "application/json":
                return 415, "send the body as JSON with Content-Type: application/json"
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return 413, _too_large(limit)
        return None


def _too_large(limit: int) -> str:
    return f"request body larger than {limit} bytes"


async def _read_body(receive: Receive, *, limit: int) -> bytes | None:
    """The whole body, or None as soon as it grows past ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client left
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class _Reply:
    """Wraps ``send``: headers on every response, request id into error bodies."""

    def __init__(
        self, send: Send, *, request_id: str, route: str, method: str, scores: bool
    ) -> None:
        self._send = send
        self.request_id = request_id
        self.route = route
        self.method = method
        self.scores = scores
        self._held: Message | None = None
        self._chunks: list[bytes] = []
        self.status: int | None = None

    @property
    def logged_method(self) -> str:
        """The method as log lines show it (an unusual one is client text)."""
        return self.method if self.method in _LOGGED_METHODS else "OTHER"

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            headers = MutableHeaders(raw=list(message["headers"]))
            self._add_headers(headers)
            message = {**message, "headers": headers.raw}
            if message["status"] >= 400 and self.method != "HEAD":
                self._held = message  # sent with the rewritten body
                return
        elif message["type"] == "http.response.body" and self._held is not None:
            self._chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await self._finish(self._held["status"], b"".join(self._chunks))
            return
        await self._send(message)

    async def error(self, status: int, message: str) -> None:
        """Answer ``status`` with ``message`` without calling the application."""
        await self.send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        body = json.dumps({"error": message}).encode()
        await self.send({"type": "http.response.body", "body": body})

    def _add_headers(self, headers: MutableHeaders) -> None:
        headers["X-Request-ID"] = self.request_id
        headers["X-Content-Type-Options"] = "nosniff"
        is_html = headers.get("content-type", "").startswith("text/html")
        if is_html and "content-security-policy" not in headers:
            headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY

    async def _finish(self, status: int, body: bytes) -> None:
        assert self._held is not None
        payload = _error_payload(body)
        headers = MutableHeaders(raw=list(self._held["headers"]))
        if status == 503 and self.scores and "retry-after" not in headers:
            # BentoML words every 5xx of an API as "unexpected"; this one is not
            # (a busy worker's 503 says so itself, with its own Retry-After).
            payload["error"] = _NOT_SERVING
            headers["Retry-After"] = "5"
        payload["request_id"] = self.request_id
        encoded = json.dumps(payload).encode()
        headers["content-type"] = "application/json"
        headers["content-length"] = str(len(encoded))
        await self._send({**self._held, "headers": headers.raw})
        await self._send({"type": "http.response.body", "body": encoded})
        self._log(status, payload.get("detail"))

    def _log(self, status: int, detail: Any) -> None:
        fields = ",".join(field_paths(detail)) or "-"
        # 503 is the expected answer while the bundle loads, not a fault.
        level = logging.ERROR if status >= 500 and status != 503 else logging.INFO
        logger.log(
            level,
            "request_id=%s %s %s answered %d fields=%s",
            self.request_id,
            self.logged_method,
            self.route,
            status,
            fields,
        )


def _error_payload(body: bytes) -> dict[str, Any]:
    """An error body as a JSON object, whatever shape the route answered."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return {"error": body.decode("utf-8", "replace").strip()}
    # BentoML answers its own 4xx exceptions as a one-element list.
    if isinstance(parsed, list) and len(parsed) == 1 and isinstance(parsed[0], dict):
        parsed = parsed[0]
    return parsed if isinstance(parsed, dict) else {"error": parsed}


def field_paths(detail: Any) -> list[str]:
    """Dotted field paths of pydantic error details, unknown keys masked.

    An ``extra_forbidden`` error's last location part is the client's own key, so
    it is replaced by ``<unknown key>``; the other parts are schema names and list
    indices.
    """
    if not isinstance(detail, Sequence) or isinstance(detail, str):
        return []
    paths = []
    for error in detail:
        if not isinstance(error, dict):
            continue
        loc = [str(part) for part in error.get("loc", ())]
        if error.get("type") == "extra_forbidden" and loc:
            loc[-1] = _UNKNOWN_KEY
        paths.append(".".join(loc) or "(body)")
    return paths


# What BentoML's access line may show of a request; anything else is dropped.
_ACCESS_KEYS = ("scheme", "method", "path", "type", "length")
_SAFE_MEDIA_TYPES = frozenset({"application/json", "text/plain", "text/html"})


class AccessLogFilter(logging.Filter):
    """Keeps BentoML's access line (``bentoml.access``) free of client text.

    The line quotes the request's path, method and Content-Type as sent; a path
    outside ``known_routes`` is shown as ``other``, an unusual method as ``OTHER``,
    a media type outside a few common ones as ``other``.
    """

    def __init__(self, known_routes: Collection[str]) -> None:
        super().__init__()
        self.known_routes = frozenset(known_routes)

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 4 and isinstance(args[1], str):
            record.args = (args[0], self._request_part(args[1]), *args[2:])
        return True

    def _request_part(self, text: str) -> str:
        kept = {}
        for part in text.split(","):
            key, _, value = part.partition("=")
            if key in _ACCESS_KEYS and key not in kept:
                kept[key] = self._clean(key, value)
        return ",".join(f"{key}={kept[key]}" for key in _ACCESS_KEYS if key in kept)

    def _clean(self, key: str, value: str) -> str:
        if key == "path":
            return value if value in self.known_routes else "other"
        if key == "method":
            return value if value in _LOGGED_METHODS else "OTHER"
        if key == "type":
            media_type = value.partition(";")[0].strip().lower()
            return media_type if media_type in _SAFE_MEDIA_TYPES else "other"
        if key == "length":
            return value if value.isdigit() else "?"
        return value if value in ("http", "https") else "other"

"""Admission: how much scoring one worker takes on, and what happens to the rest.

A worker scores in two lanes so that a large batch never holds up a single
profile: batches (``POST /score_batch``) in a thread of their own, one chunk of
profiles at a time, and single profiles (``/score``, ``/explain``, ``/report``) in
another.  Each lane admits a bounded number of requests; one more gets ``503``
with ``Retry-After`` at once, before its body is parsed, instead of waiting behind
work it cannot overtake.  A batch whose client leaves is cancelled: its next chunk
never starts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Seconds a refused client should wait: a batch chunk by chunk takes seconds to
# finish, a queued single profile milliseconds.
BATCH_RETRY_AFTER_S = 5
REQUEST_RETRY_AFTER_S = 1


@dataclass(frozen=True)
class Limits:
    """Requests one worker admits at once, per lane."""

    batches: int
    requests: int


class Admission:
    """ASGI middleware admitting scoring requests per lane (module docstring).

    Parameters
    ----------
    app
        The application behind it.
    batch_routes, request_routes
        Paths of the batch lane and of the single-profile lane; other paths pass.
    limits
        Returns the worker's limits, asked per request so it follows the
        service's settings.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        batch_routes: Collection[str],
        request_routes: Collection[str],
        limits: Callable[[], Limits],
    ) -> None:
        self.app = app
        self.batch_routes = frozenset(batch_routes)
        self.request_routes = frozenset(request_routes)
        self.limits = limits
        self.in_flight = {"batch": 0, "request": 0}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self._lane(scope)
        if lane is None:
            await self.app(scope, receive, send)
            return
        limits = self.limits()
        limit = limits.batches if lane == "batch" else limits.requests
        if self.in_flight[lane] >= limit:
            await _busy(send, lane=lane, limit=limit)
            return
        self.in_flight[lane] += 1
        try:
            if lane == "batch":
                await _cancelled_on_disconnect(self.app, scope, receive, send)
            else:
                await self.app(scope, receive, send)
        finally:
            self.in_flight[lane] -= 1

    def _lane(self, scope: Scope) -> str | None:
        """The request's lane, "batch" or "request"; None when no lane admits it."""
        if scope["type"] != "http" or scope["method"] != "POST":
            return None
        if scope["path"] in self.batch_routes:
            return "batch"
        return "request" if scope["path"] in self.request_routes else None


async def _busy(send: Send, *, lane: str, limit: int) -> None:
    what = "batches" if lane == "batch" else "requests"
    retry_after = BATCH_RETRY_AFTER_S if lane == "batch" else REQUEST_RETRY_AFTER_S
    body = json.dumps(
        {
            "error": f"this worker is busy: {limit} {what} in progress, the most it "
            f"takes at once; retry after {retry_after} s"
        }
    ).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after).encode()),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _cancelled_on_disconnect(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send
) -> None:
    """Run ``app``; cancel it if the client disconnects before the answer is sent.

    The body is read here first, so that the only message left to receive is the
    disconnect, which a watcher task waits for beside the application.
    """
    request: list[Message] = []
    while not request or request[-1].get("more_body", False):
        message = await receive()
        if message["type"] != "http.request":
            return  # the client left before its body arrived
        request.append(message)
    pending = list(request)
    answered = anyio.Event()

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        await answered.wait()  # nothing more to read until the answer is out
        return {"type": "http.disconnect"}

    async def reply(message: Message) -> None:
        await send(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            answered.set()

    async with anyio.create_task_group() as group:

        async def watch() -> None:
            await receive()  # the only message left: the client left, or was answered
            if not answered.is_set():
                group.cancel_scope.cancel()

        group.start_soon(watch)
        await app(scope, replay, reply)
        answered.set()
        group.cancel_scope.cancel()

"""Who may send patient data: a bearer token, required beyond loopback.

Profiles reach ``/score``, ``/score_batch``, ``/explain`` and ``/report``, and
``/model`` tells which model reads them (the review page calls it first). Those
routes (:data:`PROTECTED_ROUTES`) answer

* with ``REDISCOVER_API_TOKEN`` (or ``REDISCOVER_API_TOKEN_FILE``) set: only
  requests with ``Authorization: Bearer <token>``, on every address, compared in
  constant time; any other gets 401 with ``WWW-Authenticate: Bearer``;
* without one: only requests that arrive on a loopback address; any other gets 403
  naming the variable. ``rediscover serve`` refuses to start on another address
  without a token (:func:`require_token_beyond_loopback`), and this middleware keeps
  ``bentoml serve --host 0.0.0.0`` and containers closed all the same.

The probes (``/healthz``, ``/livez``, ``/readyz``), ``/metrics``, the pages and
``/docs.json`` stay open; ``/admin/reload`` has its own token.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Callable

from pydantic import SecretStr
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

PROTECTED_ROUTES = frozenset(
    {"/score", "/score_batch", "/explain", "/report", "/model"}
)
TOKEN_VARIABLES = "REDISCOVER_API_TOKEN (or REDISCOVER_API_TOKEN_FILE)"
_LOOPBACK_ONLY = (
    f"this service has no {TOKEN_VARIABLES} and answers patient data on loopback only"
)
_SEND_THE_TOKEN = (
    "send Authorization: Bearer <token>, the token the service was given in "
    "REDISCOVER_API_TOKEN"
)


class MissingApiTokenError(RuntimeError):
    """The service would listen beyond loopback with no API token."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address, or ``localhost``) is a loopback address."""
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False  # another name: it may resolve anywhere
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def require_token_beyond_loopback(host: str, token: SecretStr | None) -> None:
    """Raise :class:`MissingApiTokenError` for a non-loopback ``host`` without
    ``token``."""
    if token is None and not is_loopback(host):
        raise MissingApiTokenError(
            f"refusing to serve patient data on {host} without a token: set "
            f"{TOKEN_VARIABLES} to a secret of 16 characters or more (generate one "
            'with `python -c "import secrets; print(secrets.token_urlsafe(32))"`), '
            "or serve on 127.0.0.1"
        )


class BearerAuth:
    """ASGI middleware enforcing the rules above on :data:`PROTECTED_ROUTES`.

    Parameters
    ----------
    app
        The application behind it.
    token
        Returns the service's API token (None: none configured), asked per request
        so it follows the service's settings; raises LookupError while the service
        has no instance yet, which is answered 503.
    """

    def __init__(self, app: ASGIApp, *, token: Callable[[], SecretStr | None]) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in PROTECTED_ROUTES:
            refusal = self._refusal(scope)
            if refusal is not None:
                await _answer(send, *refusal)
                return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> tuple[int, str, dict[str, str]] | None:
        """(status, message, headers) of the refusal; None lets the request in."""
        try:
            token = self.token()
        except LookupError:
            return 503, "the service is starting", {"Retry-After": "5"}
        if token is None:
            server = scope.get("server")
            if server is None or is_loopback(str(server[0])):
                return None  # a Unix socket or loopback: this machine's users
            return 403, _LOOPBACK_ONLY, {}
        given = _bearer_token(Headers(scope=scope).get("authorization", ""))
        expected = token.get_secret_value().encode()
        if given is not None and hmac.compare_digest(given.encode(), expected):
            return None
        challenge = 'Bearer realm="rediscover"'
        if given is not None:
            challenge += ', error="invalid_token"'
        return 401, _SEND_THE_TOKEN, {"WWW-Authenticate": challenge}


def _bearer_token(header: str) -> str | None:
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


async def _answer(
    send: Send, status: int, message: str, headers: dict[str, str]
) -> None:
    body = json.dumps({"error": message}).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})

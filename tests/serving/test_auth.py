"""The API token: patient-data routes need it beyond loopback (serving._auth)."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from serving import ServingSettings, require_token_beyond_loopback
from serving._auth import MissingApiTokenError, is_loopback
from tests.servers import bentoml_serve
from tests.serving.conftest import LOOPBACK_URL, TestClient, use_bundle

TOKEN = "auth-test-token-0123456789"
PROTECTED = ("/score", "/score_batch", "/explain", "/report", "/model")
OPEN = ("/healthz", "/livez", "/readyz", "/docs.json", "/", "/review")


def _call(
    client: httpx.Client | TestClient,
    route: str,
    profile: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    if route == "/model":
        return client.get(route, headers=headers)
    bodies = {
        "/score_batch": {"profiles": [profile]},
        "/explain": {"profile": profile, "drug": "dabrafenib"},
    }
    body = bodies.get(route, {"profile": profile})
    return client.post(route, json=body, headers=headers)


# -- which addresses are loopback ---------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.0.2.7", False),
        ("::ffff:192.0.2.7", False),
        ("testserver", False),
        ("my-host.example", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_only_a_loopback_host_may_do_without_a_token() -> None:
    require_token_beyond_loopback("127.0.0.1", None)
    require_token_beyond_loopback("0.0.0.0", SecretStr(TOKEN))
    with pytest.raises(MissingApiTokenError, match="REDISCOVER_API_TOKEN"):
        require_token_beyond_loopback("0.0.0.0", None)


# -- where the token comes from -----------------------------------------------------

_SOURCE = {"REDISCOVER_BUNDLE": "bundle"}


def test_the_token_comes_from_the_variable_or_the_file_it_names(
    tmp_path: Path,
) -> None:
    assert ServingSettings.from_env(_SOURCE).api_token is None  # no default
    from_variable = ServingSettings.from_env(_SOURCE | {"REDISCOVER_API_TOKEN": TOKEN})
    assert from_variable.api_token == SecretStr(TOKEN)
    secret = tmp_path / "token"
    secret.write_text(f"  {TOKEN}\n")
    named = _SOURCE | {"REDISCOVER_API_TOKEN_FILE": str(secret)}
    assert ServingSettings.from_env(named).api_token == SecretStr(TOKEN)
    with pytest.raises(ValueError, match="not both"):
        ServingSettings.from_env(named | {"REDISCOVER_API_TOKEN": TOKEN})
    with pytest.raises(FileNotFoundError):
        ServingSettings.from_env(
            _SOURCE | {"REDISCOVER_API_TOKEN_FILE": str(tmp_path / "missing")}
        )


def test_a_short_token_is_refused_without_being_echoed() -> None:
    with pytest.raises(ValidationError) as error:
        ServingSettings.from_env(_SOURCE | {"REDISCOVER_API_TOKEN": "short-secret"})
    assert "REDISCOVER_API_TOKEN is shorter than 16" in str(error.value)
    assert "short-secret" not in str(error.value)


# -- over the ASGI app --------------------------------------------------------------


def _wait_until_ready(client: TestClient) -> None:
    deadline = time.monotonic() + 60
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.fixture
def token_client(
    asgi_app: Any, bundle_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The app with an API token, on loopback."""
    use_bundle(monkeypatch, bundle_path)
    monkeypatch.setenv("REDISCOVER_API_TOKEN", TOKEN)
    with TestClient(
        asgi_app, raise_server_exceptions=False, base_url=LOOPBACK_URL
    ) as client:
        _wait_until_ready(client)
        yield client


@pytest.mark.parametrize("route", PROTECTED)
@pytest.mark.parametrize(
    ("authorization", "challenge"),
    [
        (None, 'Bearer realm="rediscover"'),
        (f"Basic {TOKEN}", 'Bearer realm="rediscover"'),
        ("Bearer not-the-token-at-all-0000", 'error="invalid_token"'),
        (f"Bearer {TOKEN[:-1]}", 'error="invalid_token"'),
        (f"Bearer {TOKEN}x", 'error="invalid_token"'),
    ],
)
def test_a_protected_route_without_the_token_is_401_with_a_bearer_challenge(
    token_client: TestClient,
    braf_melanoma: dict[str, Any],
    route: str,
    authorization: str | None,
    challenge: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    with caplog.at_level(logging.INFO, logger="serving"):
        response = _call(token_client, route, braf_melanoma, headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer ")
    assert challenge in response.headers["www-authenticate"]
    assert response.json()["request_id"] == response.headers["x-request-id"]
    assert "REDISCOVER_API_TOKEN" in response.json()["error"]
    assert TOKEN not in response.text
    lines = [r for r in caplog.records if "answered 401" in r.getMessage()]
    assert len(lines) == 1


@pytest.mark.parametrize("route", PROTECTED)
def test_a_protected_route_with_the_token_answers(
    token_client: TestClient, braf_melanoma: dict[str, Any], route: str
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert _call(token_client, route, braf_melanoma, auth).status_code == 200


@pytest.mark.parametrize("route", OPEN)
def test_probes_pages_and_the_document_stay_open(
    token_client: TestClient, route: str
) -> None:
    assert token_client.get(route).status_code == 200


def test_the_token_is_compared_in_constant_time(
    token_client: TestClient,
    braf_melanoma: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def compare_digest(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr("serving._auth.hmac.compare_digest", compare_digest)
    auth = {"Authorization": "Bearer not-the-token-at-all-0000"}
    assert _call(token_client, "/score", braf_melanoma, auth).status_code == 401
    assert compared == [(b"not-the-token-at-all-0000", TOKEN.encode())]


@pytest.fixture
def remote_client(
    asgi_app: Any, bundle_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The app with no API token, its requests arriving on a non-loopback address."""
    use_bundle(monkeypatch, bundle_path)
    with TestClient(
        asgi_app, raise_server_exceptions=False, base_url="http://192.0.2.7"
    ) as client:
        _wait_until_ready(client)
        yield client


@pytest.mark.parametrize("route", PROTECTED)
def test_without_a_token_patient_data_is_refused_beyond_loopback(
    remote_client: TestClient, braf_melanoma: dict[str, Any], route: str
) -> None:
    response = _call(remote_client, route, braf_melanoma)
    assert response.status_code == 403
    assert "loopback only" in response.json()["error"]
    assert response.json()["request_id"] == response.headers["x-request-id"]
    assert remote_client.get("/readyz").status_code == 200


# -- a real server listening on every address ---------------------------------------


def _non_loopback_address() -> str | None:
    """This machine's address on its default route (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if ipaddress.ip_address(address).is_loopback else address


@pytest.mark.slow
def test_bentoml_serve_on_every_address_without_a_token_answers_loopback_only(
    bundle_path: Path, tmp_path: Path, braf_melanoma: dict[str, Any]
) -> None:
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    env = {"REDISCOVER_BUNDLE": str(bundle_path)}
    with bentoml_serve(tmp_path, env, host="0.0.0.0") as server:
        remote_url = server.url.replace("127.0.0.1", address)
        with httpx.Client(base_url=remote_url, timeout=30) as remote:
            refused = _call(remote, "/score", braf_melanoma)
            assert remote.get("/readyz").status_code == 200
        with httpx.Client(base_url=server.url, timeout=30) as local:
            assert _call(local, "/score", braf_melanoma).status_code == 200
    assert refused.status_code == 403, refused.text
    assert refused.json()["request_id"] == refused.headers["x-request-id"]

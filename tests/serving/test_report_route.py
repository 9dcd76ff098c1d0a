"""``POST /report`` over the ASGI app: the page, its policy, strict input, and a
profile that reaches the page but never the log."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any, cast
from unittest.mock import ANY

import pytest
from bentoml.exceptions import ServiceUnavailable
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models import ResponderModel
from reporting import CONTENT_SECURITY_POLICY
from serving._reload import ServedBundle
from serving._report import report_page
from tests.serving.conftest import TestClient


def _first_drug(page: str) -> str:
    found = re.search(r"<td class='drug'>([^<]*)</td>", page)
    assert found is not None, page[:500]
    return found[1]


def test_report_is_a_self_contained_page_for_the_profile(
    client: TestClient, braf_melanoma: dict[str, Any]
) -> None:
    response = client.post("/report", json={"profile": braf_melanoma, "top": 2})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    page = response.text
    assert _first_drug(page) == "dabrafenib"
    assert "<dt>Model version</dt><dd>local</dd>" in page
    assert "PATIENT-SECRET-42" in page  # the clinician sees the profile as read
    assert "the body of POST /report" in page
    assert page.count("<td class='drug'>") == 2


def test_report_rejects_a_bad_profile_naming_the_field(
    client: TestClient, braf_melanoma: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    braf_melanoma["alterations"][0]["kind"] = "banana"
    caplog.set_level(logging.DEBUG)
    response = client.post("/report", json={"profile": braf_melanoma})
    assert response.status_code == 400, response.text
    body = response.json()
    assert [e["loc"] for e in body["detail"]] == [["profile", "alterations", 0, "kind"]]
    assert body["request_id"] == response.headers["x-request-id"]
    for secret in ("banana", "PATIENT-SECRET-42"):
        assert secret not in response.text
        assert secret not in caplog.text
    assert "POST /report answered 400 fields=profile.alterations.0.kind" in caplog.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"top": "5"}, "top"),
        ({"top": True}, "top"),
        ({"top": 0}, "top"),
        ({"colour": 1}, "<unknown key>"),
    ],
)
def test_report_options_are_strict(
    client: TestClient,
    braf_melanoma: dict[str, Any],
    body: dict[str, Any],
    field: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    response = client.post("/report", json={"profile": braf_melanoma, **body})
    assert response.status_code == 400, response.text
    assert f"answered 400 fields={field}" in caplog.text


def test_report_takes_json_only(
    client: TestClient, braf_melanoma: dict[str, Any]
) -> None:
    response = client.post(
        "/report", content=b"profile=x", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
    broken = client.post(
        "/report", content=b"{", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["detail"][0]["type"] == "json_invalid"


def test_report_logs_the_request_id_but_not_the_profile(
    client: TestClient, braf_melanoma: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        response = client.post("/report", json={"profile": braf_melanoma})
    assert response.status_code == 200, response.text
    request_id = response.headers["x-request-id"]
    assert f"request_id={request_id} reported top=15 model_version=local" in (
        caplog.text
    )
    for secret in ("PATIENT-SECRET-42", "V600E", "melanoma", "dabrafenib"):
        assert secret not in caplog.text


# -- the route alone, with the bundle it is handed ----------------------------------


def _app(served: Any) -> Starlette:
    async def route(request: Request) -> Response:
        return await report_page(request, served=served)

    return Starlette(routes=[Route("/report", route, methods=["POST"])])


def test_report_is_503_while_no_bundle_serves(braf_melanoma: dict[str, Any]) -> None:
    def loading() -> ServedBundle:
        raise ServiceUnavailable("model bundle is still loading")

    with TestClient(_app(loading)) as client:
        response = client.post("/report", json={"profile": braf_melanoma})
    assert response.status_code == 503
    assert "still loading" in response.json()["error"]


def test_a_failure_while_writing_is_a_500_with_only_the_request_id(
    braf_melanoma: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    not_a_model = cast(ResponderModel, object())  # fails inside build_report
    served = ServedBundle(model=not_a_model, version="1", loaded_at=datetime.now(UTC))
    caplog.set_level(logging.DEBUG)
    with TestClient(_app(lambda: served)) as client:
        response = client.post("/report", json={"profile": braf_melanoma})
    assert response.status_code == 500
    assert response.json() == {"error": ANY}
    assert response.json()["error"].startswith("reporting failed (request_id=")
    assert "reporting failed with AttributeError" in caplog.text
    for secret in ("PATIENT-SECRET-42", "V600E", "melanoma"):
        assert secret not in response.text and secret not in caplog.text

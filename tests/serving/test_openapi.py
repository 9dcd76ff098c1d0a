"""``GET /docs.json``: our OpenAPI document says what the routes answer.

The schemathesis run (``test_schemathesis.py``, slow) checks every route against it;
these check, over the ASGI app, the answers BentoML's own document misstated.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from tests.serving.conftest import TestClient

ROUTES = {
    "/score", "/score_batch", "/explain", "/report", "/model", "/admin/reload",
    "/", "/review", "/docs.json", "/healthz", "/livez", "/readyz", "/metrics",
}  # fmt: skip


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/docs.json")
    assert response.status_code == 200
    return dict(response.json())


def _answer_schema(document: dict[str, Any], route: str, status: int) -> Any:
    """A validator of the JSON body ``route``'s POST documents for ``status``."""
    answer = document["paths"][route]["post"]["responses"][str(status)]
    schema = answer["content"]["application/json"]["schema"]
    return jsonschema_rs.Draft202012Validator(
        {**schema, "components": document["components"]}
    )


def _conforms(document: dict[str, Any], route: str, response: Any) -> bool:
    """Whether ``response`` is an answer ``route``'s POST documents."""
    validator = _answer_schema(document, route, response.status_code)
    return bool(validator.is_valid(response.json()))


def test_every_route_is_documented(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == ROUTES
    score = document["paths"]["/score"]["post"]
    assert {"200", "400", "401", "403", "413", "415", "500", "503"} <= set(
        score["responses"]
    )
    assert score["security"] == [{"bearer": []}]
    assert "security" not in document["paths"]["/readyz"]["get"]


def test_an_explanation_without_a_key_alteration_conforms(
    client: TestClient, document: dict[str, Any]
) -> None:
    bare = {"profile": {"tumour_type": "breast"}, "drug": "noise"}
    response = client.post("/explain", json=bare)
    assert response.status_code == 200
    assert response.json()["key_alteration"] is None
    assert _conforms(document, "/explain", response)


def test_a_400_with_its_list_of_field_errors_conforms(
    client: TestClient, document: dict[str, Any]
) -> None:
    response = client.post("/score", json={"profile": {"tumour_type": ""}})
    assert response.status_code == 400
    assert isinstance(response.json()["detail"], list)
    assert _conforms(document, "/score", response)
    broken = {**response.json(), "detail": "profile.tumour_type"}
    assert not _answer_schema(document, "/score", 400).is_valid(broken)

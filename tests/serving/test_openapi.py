"""The service's OpenAPI document names every route it answers."""

from __future__ import annotations

import json
from typing import Any

from tests.serving.conftest import TestClient

OUR_ROUTES = {
    ("post", "/score"), ("post", "/score_batch"), ("post", "/explain"),
    ("post", "/report"), ("get", "/model"), ("post", "/admin/reload"),
    ("get", "/review"), ("get", "/"),
}  # fmt: skip
PROBES = {("get", p) for p in ("/healthz", "/livez", "/readyz", "/metrics")}


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_the_document_holds_every_route_and_every_reference_resolves(
    client: TestClient,
) -> None:
    spec = client.get("/docs.json").json()
    operations = {
        (method, path) for path, item in spec["paths"].items() for method in item
    }
    assert operations >= OUR_ROUTES | PROBES
    schemas = spec["components"]["schemas"]
    refs = set(_refs(spec))
    assert "#/components/schemas/ModelInfo" in refs
    assert {ref.rsplit("/", 1)[1] for ref in refs} <= set(schemas), refs
    model = spec["paths"]["/model"]["get"]["responses"]
    assert set(model) >= {"200", "503"}
    report = spec["paths"]["/report"]["post"]
    body = report["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["profile"]["$ref"] == "#/components/schemas/Profile"
    assert "text/html" in report["responses"]["200"]["content"]
    reload_responses = spec["paths"]["/admin/reload"]["post"]["responses"]
    assert set(reload_responses) >= {"200", "403", "404", "409"}
    # Each of ours has its own id (tools generate client methods from them).
    paths = spec["paths"]
    ids = [paths[path][method].get("operationId") for method, path in OUR_ROUTES]
    assert None not in ids and len(ids) == len(set(ids)), json.dumps(ids)


def test_the_documented_routes_answer(client: TestClient) -> None:
    for method, path in sorted(OUR_ROUTES):
        if method == "get":
            assert client.get(path).status_code == 200, path

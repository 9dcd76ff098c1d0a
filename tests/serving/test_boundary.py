"""The HTTP boundary over the ASGI app: bounded strict input, request ids, quiet
private logs, our own pages (see :mod:`serving._boundary`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from models import ResponderModel, rank_drugs
from serving import ScoreRequest
from tests.serving.conftest import TestClient, start_client
from tests.strategies import profiles

ROUTES = ("/score", "/score_batch", "/explain")


def _body(route: str, profile: dict[str, Any], **extra: Any) -> dict[str, Any]:
    if route == "/score_batch":
        return {"profiles": [profile], **extra}
    if route == "/explain":
        return {"profile": profile, "drug": "dabrafenib", **extra}
    return {"profile": profile, **extra}


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def _locations(response: Any) -> list[str]:
    detail = _error(response, 400)["detail"]
    return [".".join(str(part) for part in error["loc"]) for error in detail]


# -- bounded, strict input --------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hrd_score": 1e39}, "hrd_score"),
        ({"hrd_score": 3.4e38}, "hrd_score"),
        ({"hrd_score": 151}, "hrd_score"),
        ({"tmb_mut_per_mb": True}, "tmb_mut_per_mb"),
        ({"tmb_mut_per_mb": "12"}, "tmb_mut_per_mb"),
        ({"msi_high": 1}, "msi_high"),
        ({"alterations": [{"kind": "mutation", "gene": "ß"}]}, "alterations.0.gene"),
        (
            {"alterations": [{"kind": "mutation", "gene": "BRAF",
                              "protein_change": "V600E-anything"}]},
            "alterations.0.protein_change",
        ),
    ],
)  # fmt: skip
@pytest.mark.parametrize("route", ROUTES)
def test_out_of_bounds_or_coerced_profile_values_are_400_naming_the_field(
    client: TestClient, route: str, change: dict[str, Any], field: str
) -> None:
    profile = {"tumour_type": "ovarian", **change}
    response = client.post(route, json=_body(route, profile))
    prefix = "profiles.0" if route == "/score_batch" else "profile"
    assert _locations(response) == [f"{prefix}.{field}"]


@pytest.mark.parametrize("literal", [b"Infinity", b"-Infinity", b"NaN", b"1e400"])
def test_non_finite_json_numbers_are_400(client: TestClient, literal: bytes) -> None:
    body = b'{"profile": {"tumour_type": "ovarian", "hrd_score": %s}}' % literal
    response = client.post(
        "/score", content=body, headers={"content-type": "application/json"}
    )
    assert _locations(response) == ["profile.hrd_score"]


def test_one_bad_profile_fails_its_batch_with_a_400_not_a_500(
    client: TestClient, braf_melanoma: dict[str, Any]
) -> None:
    bad = {"tumour_type": "ovarian", "hrd_score": 1e39}
    response = client.post("/score_batch", json={"profiles": [braf_melanoma, bad]})
    assert _locations(response) == ["profiles.1.hrd_score"]


@pytest.mark.parametrize("top_k", [True, "5", 5.5, -1, 51])
@pytest.mark.parametrize("route", ROUTES)
def test_top_k_must_be_an_integer_in_range(
    client: TestClient, route: str, top_k: Any, braf_melanoma: dict[str, Any]
) -> None:
    response = client.post(route, json=_body(route, braf_melanoma, top_k=top_k))
    assert _locations(response) == ["top_k"]


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=xyz",
        "application/jsonx",
    ],
)
@pytest.mark.parametrize("route", ROUTES)
def test_json_routes_take_json_only(
    client: TestClient,
    route: str,
    content_type: str | None,
    braf_melanoma: dict[str, Any],
) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    body = json.dumps(_body(route, braf_melanoma)).encode()
    response = client.post(route, content=body, headers=headers)
    assert "application/json" in _error(response, 415)["error"]


@pytest.mark.parametrize(
    "route", ["/", "/model", "/admin/reload", "/review", "/readyz", *ROUTES]
)
def test_multipart_without_a_boundary_is_never_a_5xx(
    client: TestClient, route: str
) -> None:
    headers = {"content-type": "multipart/form-data"}
    response = client.post(route, content=b"--x\r\n", headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["request_id"] == response.headers["x-request-id"]


@pytest.fixture
def small_limits_client(
    asgi_app: Any, bundle_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The app with a 4 KiB body limit and a 64 KiB response bound."""
    monkeypatch.setenv("REDISCOVER_MAX_BODY_BYTES", "4096")
    monkeypatch.setenv("REDISCOVER_MAX_RESPONSE_BYTES", str(64 * 1024))
    yield from start_client(asgi_app, bundle_path, monkeypatch)


def test_a_body_over_the_limit_is_413_before_parsing(
    small_limits_client: TestClient, braf_melanoma: dict[str, Any]
) -> None:
    fits = json.dumps({"profiles": [braf_melanoma] * 10}).encode()
    assert len(fits) < 4096
    ok = small_limits_client.post(
        "/score_batch", content=fits, headers={"content-type": "application/json"}
    )
    assert ok.status_code == 200, ok.text
    # Not even JSON: a 413 proves the body was never parsed.
    too_big = b"{" * 4097
    declared = small_limits_client.post(
        "/score", content=too_big, headers={"content-type": "application/json"}
    )
    assert "4096" in _error(declared, 413)["error"]


def test_a_chunked_body_over_the_limit_is_413(
    small_limits_client: TestClient,
) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"{" * 1000

    response = small_limits_client.post(
        "/score", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    _error(response, 413)


def test_a_batch_whose_response_would_exceed_the_bound_is_400_naming_profiles(
    small_limits_client: TestClient,
) -> None:
    profile = {"tumour_type": "melanoma"}
    # 3 drugs x (600 + 80 x 5) bytes = 3,000 per profile: 21 fit in 64 KiB.
    fits = small_limits_client.post("/score_batch", json={"profiles": [profile] * 21})
    assert fits.status_code == 200, fits.text
    response = small_limits_client.post(
        "/score_batch", json={"profiles": [profile] * 22}
    )
    assert _locations(response) == ["profiles"]
    assert "at most 21 profiles" in response.json()["detail"][0]["msg"]
    lower_top_k = {"profiles": [profile] * 22, "top_k": 0}
    assert small_limits_client.post("/score_batch", json=lower_top_k).status_code == 200


# -- every error carries the request id -------------------------------------------


def test_every_error_body_carries_the_request_id(
    client: TestClient,
    braf_melanoma: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _error(client.get("/no/such/page"), 404)
    _error(client.get("/score"), 405)
    unknown_drug = {"profile": braf_melanoma, "drug": "nosuchdrug"}
    _error(client.post("/explain", json=unknown_drug), 404)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("serving.service.rank_drugs", broken)
    failed = _error(client.post("/score", json={"profile": braf_melanoma}), 500)
    assert "boom" not in json.dumps(failed)


def test_a_success_carries_the_same_request_id_as_its_header(
    client: TestClient, braf_melanoma: dict[str, Any]
) -> None:
    response = client.post("/score", json={"profile": braf_melanoma})
    assert response.json()["request_id"] == response.headers["x-request-id"]


# -- quiet, private logs ----------------------------------------------------------

CANARY = "zqxcanary"


def _canary_requests() -> list[tuple[str, dict[str, Any]]]:
    """Requests with a canary in every field, valid or not, and in unknown keys."""
    profile = {
        "sample_id": f"{CANARY}-sample",
        "tumour_type": f"{CANARY} tumour",
        "alterations": [
            {"kind": "mutation", "gene": f"{CANARY}G1", "protein_change": "V600E"},
            {"kind": "fusion", "gene": "BCR", "partner_gene": f"{CANARY}P"},
        ],
        "tmb_mut_per_mb": 3.0,
    }
    bad_values = {
        **profile,
        "tumour_type": 7,
        "alterations": [
            {"kind": f"{CANARY}kind", "gene": f"{CANARY}!"},
            {"kind": "mutation", "gene": "BRAF", "protein_change": f"V600{CANARY}"},
            {"kind": "mutation", "gene": "BRAF", f"{CANARY}_alt_key": 1},
        ],
        "tmb_mut_per_mb": f"{CANARY}",
        "msi_high": f"{CANARY}",
        "hrd_score": [f"{CANARY}"],
        f"{CANARY}_profile_key": f"{CANARY}-value",
    }
    return [
        ("/score", {"profile": profile}),
        ("/score", {"profile": bad_values, f"{CANARY}_key": 1, "top_k": CANARY}),
        ("/score", {"profile": profile, "rank_by": CANARY}),
        ("/score_batch", {"profiles": [profile, bad_values]}),
        ("/explain", {"profile": profile, "drug": f"{CANARY}-drug"}),
        ("/explain", {"profile": profile, "drug": "dabrafenib"}),
        ("/explain", {"profile": bad_values, "drug": f"{CANARY}-drug"}),
    ]


def test_no_submitted_text_reaches_any_log_record(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    statuses = []
    for route, body in _canary_requests():
        statuses.append(client.post(route, json=body).status_code)
    assert sorted(set(statuses)) == [200, 400, 404]
    text = "\n".join(
        f"{record.getMessage()}\n{record.exc_text or ''}" for record in caplog.records
    )
    assert "request_id=" in text
    assert CANARY not in text.lower()


def test_access_lines_name_no_client_path_or_media_type(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.get(f"/{CANARY}/page")
    client.post("/score", content=b"{}", headers={"content-type": f"text/{CANARY}"})
    client.post("/score", json={"profile": {"tumour_type": "melanoma"}})
    access = [r.getMessage() for r in caplog.records if r.name == "bentoml.access"]
    assert len(access) == 3, access
    assert CANARY not in "\n".join(access).lower()
    assert "path=other" in access[0]
    assert "path=/score,type=other" in access[1]
    assert "path=/score,type=application/json" in access[2]


def test_a_client_error_is_one_log_line_without_a_traceback(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bad = {"profile": {"tumour_type": "ovarian", "hrd_score": 1e39, "colour": 1}}
    response = client.post("/score", json=bad)
    request_id = _error(response, 400)["request_id"]
    lines = [r for r in caplog.records if request_id in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in caplog.records]
    assert lines[0].getMessage() == (
        f"request_id={request_id} POST /score answered 400 "
        "fields=profile.hrd_score,profile.<unknown key>"
    )
    assert not any(r.exc_info or r.exc_text for r in caplog.records)
    assert "Traceback" not in caplog.text


# -- our own pages only -----------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/review", "/review/static/review.html"])
def test_html_pages_have_a_self_only_csp_and_nosniff(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src" not in csp or "'self'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_front_page_loads_no_script(client: TestClient) -> None:
    page = client.get("/").text.lower()
    assert "googletagmanager" not in page
    assert "<script" not in page
    assert 'href="/docs.json"' in page
    assert client.get("/docs.json").status_code == 200


# -- any valid profile scores -----------------------------------------------------


@pytest.fixture(scope="module")
def model(bundle_path: Path) -> ResponderModel:
    return ResponderModel.load(bundle_path)


@given(raw=profiles())
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_any_valid_profile_scores_in_0_1_whatever_the_alteration_order(
    model: ResponderModel, raw: dict[str, Any]
) -> None:
    request = ScoreRequest.model_validate_json(json.dumps({"profile": raw}))
    reordered = {**raw, "alterations": raw["alterations"][::-1]}
    again = ScoreRequest.model_validate_json(json.dumps({"profile": reordered}))
    ranked, ranked_again = rank_drugs(model, [request.profile, again.profile])
    for score in ranked:
        assert 0 <= score.probability <= 1
        assert 0 <= score.raw_probability <= 1
        assert 0 <= score.interval[0] <= score.interval[1] <= 1
    assert [(s.drug, s.probability) for s in ranked] == [
        (s.drug, s.probability) for s in ranked_again
    ]

"""POST /explain and the /review page through the ASGI app (starlette's TestClient)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.models.review_model import build_review_model
from tests.serving.conftest import TestClient, start_client


@pytest.fixture(scope="module")
def review_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seven-drug bundle with its explanation summaries, saved and verified."""
    return build_review_model().model.save(tmp_path_factory.mktemp("review") / "b")


@pytest.fixture
def client(
    asgi_app: Any, review_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    yield from start_client(asgi_app, review_bundle, monkeypatch)


@pytest.fixture
def bare_client(
    asgi_app: Any, bundle_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """A bundle trained before explanation summaries existed (an empty set)."""
    yield from start_client(asgi_app, bundle_path, monkeypatch)


# -- POST /explain ------------------------------------------------------------------


def test_explain_gives_the_waterfall_evidence_and_summary(
    client: TestClient, braf_melanoma: dict[str, Any]
) -> None:
    request = {"profile": braf_melanoma, "drug": "dabrafenib", "top_k": 4}
    response = client.post("/explain", json=request)
    assert response.status_code == 200, response.text
    body = response.json()
    steps = body["steps"]
    assert len(steps) == 5 and steps[-1]["feature"].startswith("other ")
    assert sum(s["delta"] for s in steps) == pytest.approx(
        body["raw_probability"] - body["base_probability"], abs=1e-9
    )
    assert steps[0]["start"] == body["base_probability"]
    assert steps[-1]["end"] == pytest.approx(body["raw_probability"])
    # The calibrated numbers are exactly those /score gives for the drug.
    scored = client.post("/score", json={"profile": braf_melanoma, "top_k": 0})
    entry = next(r for r in scored.json()["results"] if r["drug"] == "dabrafenib")
    assert body["score"] == entry
    assert body["score"]["matched_biomarker"]["alteration"] == "mutation BRAF V600E"
    key = body["key_alteration"]
    assert (key["feature"], key["chosen_by"]) == (
        "hotspot BRAF V600",
        "matched biomarker",
    )
    assert key["statement"] == (
        f"{key['responders']} of {key['n']} training samples with dabrafenib and "
        f"hotspot BRAF V600 responded ({key['responders'] / key['n']:.0%})"
    )
    summary = body["summary"]
    assert summary["n"] == 400
    assert "carriers" not in summary  # per-feature counts stay in the bundle
    best = summary["subgroups"][0]
    assert best["rate"] > summary["rate"]
    assert best["rate_ci"][0] <= best["rate"] <= best["rate_ci"][1]


def test_explain_without_stored_summaries_says_so(
    bare_client: TestClient, braf_melanoma: dict[str, Any]
) -> None:
    request = {"profile": braf_melanoma, "drug": "dabrafenib"}
    response = bare_client.post("/explain", json=request)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["summary"] is None
    assert body["key_alteration"]["n"] is None
    assert "no training counts" in body["key_alteration"]["statement"]
    assert body["steps"]


def test_explain_rejects_a_bad_profile_naming_the_field(
    client: TestClient, braf_melanoma: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    braf_melanoma["alterations"][0]["kind"] = "banana"
    request = {"profile": braf_melanoma, "drug": "dabrafenib"}
    response = client.post("/explain", json=request)
    assert response.status_code == 400
    locations = [error["loc"] for error in response.json()["detail"]]
    assert locations == [["profile", "alterations", 0, "kind"]]
    for secret in ("banana", "PATIENT-SECRET-42"):
        assert secret not in response.text
        assert secret not in caplog.text


def test_explain_of_an_unknown_drug_is_a_404_naming_it(
    client: TestClient, braf_melanoma: dict[str, Any]
) -> None:
    request = {"profile": braf_melanoma, "drug": "aspirin"}
    response = client.post("/explain", json=request)
    assert response.status_code == 404, response.text
    assert "'aspirin' is not scored by this model" in response.text


def test_explain_logs_the_request_id_but_not_the_profile(
    client: TestClient, braf_melanoma: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="serving"):
        response = client.post(
            "/explain", json={"profile": braf_melanoma, "drug": "trametinib"}
        )
    assert response.status_code == 200, response.text
    assert f"request_id={response.json()['request_id']} explained" in caplog.text
    for secret in ("PATIENT-SECRET-42", "V600E", "melanoma"):
        assert secret not in caplog.text


# -- GET /review --------------------------------------------------------------------


def test_review_page_and_its_files_are_served_from_this_origin(
    client: TestClient,
) -> None:
    page = client.get("/review")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert "/review/static/review.js" in assets
    assert "/review/static/review.css" in assets
    assert not [a for a in assets if "//" in a], "no other host may be referenced"
    kinds = {".js": "text/javascript", ".css": "text/css"}
    for asset in assets:
        if asset.startswith("data:"):
            continue
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert response.headers["content-type"].startswith(kinds[Path(asset).suffix])
    assert client.get("/review/static/missing.js").status_code == 404
    # The page fetched from the static folder keeps the page's policy.
    copy = client.get("/review/static/review.html")
    assert (
        copy.headers["content-security-policy"]
        == page.headers["content-security-policy"]
    )
    # The API the page calls is still there, next to the page.
    assert client.get("/model").status_code == 200

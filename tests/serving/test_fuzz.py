"""A bounded fuzz run of the JSON routes: never a 5xx, always a request id.

Bodies are arbitrary JSON, and valid requests with one field (of the profile, of an
alteration or of the envelope) set to arbitrary JSON. The number of requests is
``FUZZ_EXAMPLES`` per route (default 100); set the environment variable of that
name for a longer run.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.serving.conftest import TestClient
from tests.strategies import json_values, mutated_profiles, profiles

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))


def _envelopes(route: str) -> st.SearchStrategy[Any]:
    def wrap(profile: dict[str, Any]) -> dict[str, Any]:
        if route == "/score_batch":
            return {"profiles": [profile]}
        if route == "/explain":
            return {"profile": profile, "drug": "dabrafenib"}
        return {"profile": profile}

    valid = profiles(max_alterations=3).map(wrap)
    return st.one_of(
        valid,
        json_values,
        mutated_profiles().map(wrap),
        st.tuples(valid, st.sampled_from(["top_k", "rank_by", "drug", "profiles"]),
                  json_values).map(lambda t: {**t[0], t[1]: t[2]}),
    )  # fmt: skip


def _encode(body: Any) -> bytes:
    # allow_nan: the fuzz also sends the non-standard NaN and Infinity literals.
    return json.dumps(body, allow_nan=True).encode()


@pytest.mark.parametrize("route", ["/score", "/score_batch", "/explain"])
def test_fuzzed_bodies_never_get_a_5xx(client: TestClient, route: str) -> None:
    seen: dict[int, int] = {}

    @given(body=_envelopes(route))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    def check(body: Any) -> None:
        response = client.post(
            route, content=_encode(body), headers={"content-type": "application/json"}
        )
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code < 500, response.text
        assert response.json()["request_id"] == response.headers["x-request-id"]
        if response.status_code == 200:
            assert _probabilities_within_0_1(response.json())

    check()
    print(f"{route}: {sum(seen.values())} requests, by status {sorted(seen.items())}")
    assert set(seen) <= {200, 400, 404}


def _probabilities_within_0_1(body: dict[str, Any]) -> bool:
    results = body.get("results") or [body["score"]]
    flat = [s for r in results for s in (r if isinstance(r, list) else [r])]
    return all(
        0 <= s["probability"] <= 1 and not math.isnan(s["probability"]) for s in flat
    )

"""Properties of the profile schema and the vectorizer, over generated profiles."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import jsonschema_rs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from features import Profile, ProfileVectorizer
from features._schema import WHITE_SPACE
from tests.strategies import KNOWN_GENES, TUMOUR_TYPES, profiles


@pytest.fixture(scope="module")
def vectorizer() -> ProfileVectorizer:
    """Fitted on one profile per known gene and tumour type, with every number."""
    training = [
        Profile.model_validate(
            {
                "tumour_type": tumour_type,
                "alterations": [{"kind": "mutation", "gene": gene}],
                "tmb_mut_per_mb": 5.0,
                "hrd_score": 20.0,
                "msi_high": False,
            }
        )
        for gene in KNOWN_GENES
        for tumour_type in TUMOUR_TYPES
    ]
    return ProfileVectorizer(min_count=1).fit(training)


@given(profiles())
def test_any_valid_profile_validates_from_json_as_from_python(
    raw: dict[str, Any],
) -> None:
    assert Profile.model_validate_json(json.dumps(raw)) == Profile.model_validate(raw)


@given(profiles(), st.randoms(use_true_random=False))
@settings(deadline=None)
def test_vectors_are_finite_in_float32_and_ignore_alteration_order(
    vectorizer: ProfileVectorizer, raw: dict[str, Any], random: Any
) -> None:
    shuffled = {
        **raw,
        "alterations": random.sample(raw["alterations"], k=len(raw["alterations"])),
    }
    vectors = vectorizer.transform([Profile.model_validate(p) for p in (raw, shuffled)])
    as_float32 = vectors.astype(np.float32)
    assert np.all(np.isfinite(as_float32) | np.isnan(vectors))
    np.testing.assert_array_equal(vectors[0], vectors[1])


_BOUNDS = {"tmb_mut_per_mb": 10_000, "hrd_score": 150}


@pytest.mark.parametrize("field", sorted(_BOUNDS))
@given(
    value=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).filter(
            lambda v: not 0 <= v <= 150
        ),
        st.sampled_from([1e39, 3.4e38, math.inf, -math.inf, math.nan, -1e-9]),
    )
)
def test_numbers_outside_their_bounds_are_refused_naming_the_field(
    field: str, value: float
) -> None:
    if 0 <= value <= _BOUNDS[field]:
        return  # inside this field's bound (tmb allows more than hrd)
    with pytest.raises(ValidationError) as error:
        Profile.model_validate({"tumour_type": "ovarian", field: value})
    assert [e["loc"] for e in error.value.errors()] == [(field,)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tmb_mut_per_mb", True),
        ("tmb_mut_per_mb", "12"),
        ("hrd_score", False),
        ("hrd_score", "42"),
        ("msi_high", 1),
        ("msi_high", "true"),
    ],
)
def test_numbers_and_flags_are_not_coerced_from_json(field: str, value: Any) -> None:
    body = json.dumps({"tumour_type": "ovarian", field: value})
    with pytest.raises(ValidationError) as error:
        Profile.model_validate_json(body)
    assert [e["loc"] for e in error.value.errors()] == [(field,)]


def test_integers_are_numbers() -> None:
    profile = Profile.model_validate_json('{"tumour_type": "ovarian", "hrd_score": 42}')
    assert profile.hrd_score == 42.0


# -- the published schema says what the validators accept ---------------------------

_PUBLISHED = jsonschema_rs.Draft202012Validator(Profile.model_json_schema())
_texts = st.one_of(
    st.text(max_size=12),
    st.from_regex(r"\s*[A-Za-z0-9][A-Za-z0-9.\-]{0,8}\s*", fullmatch=True),
    st.builds("".join, st.lists(st.sampled_from(["p.", "V", "600", "E", "fs",
        "*", "_", "del", "ins", "ext", "splice", "1", "\x1f", " ", "ß", "K"]),
        max_size=6)),
)  # fmt: skip


def _accepted(raw: dict[str, Any]) -> bool:
    try:
        Profile.model_validate_json(json.dumps(raw))
    except ValidationError:
        return False
    return True


def test_the_published_white_space_is_what_str_strip_takes() -> None:
    spaces = {chr(c) for c in range(0x110000) if chr(c).isspace()}
    pattern = re.compile(f"[{WHITE_SPACE}]")
    assert {chr(c) for c in range(0x110000) if pattern.fullmatch(chr(c))} == spaces


@given(
    kind=st.sampled_from(["mutation", "amplification", "deletion", "fusion"]),
    field=st.sampled_from(["gene", "protein_change", "partner_gene"]),
    text=_texts,
    tumour_type=st.one_of(st.sampled_from(TUMOUR_TYPES), st.text(max_size=4)),
)
def test_the_published_schema_accepts_what_the_validators_accept(
    kind: str, field: str, text: str, tumour_type: str
) -> None:
    alteration = {"kind": kind, "gene": "BRAF", field: text}
    raw = {"tumour_type": tumour_type, "alterations": [alteration]}
    assert _PUBLISHED.is_valid(raw) == _accepted(raw)


@given(profiles(max_alterations=3))
def test_every_generated_valid_profile_is_valid_by_the_published_schema(
    raw: dict[str, Any],
) -> None:
    assert _PUBLISHED.is_valid(raw)

"""Hypothesis strategies for valid tumour profiles, as JSON-shaped dicts."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

KNOWN_GENES = ("BRAF", "TP53", "KRAS", "PIK3CA", "APC", "PTEN", "BCR", "ABL1", "BRCA1")
TUMOUR_TYPES = ("melanoma", "colorectal", "lung adenocarcinoma", "breast", "CML")
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"

genes = st.one_of(
    st.sampled_from(KNOWN_GENES),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9\-\.]{0,15}", fullmatch=True),
)
_residue = st.tuples(st.sampled_from(AMINO_ACIDS), st.integers(1, 5000))
protein_changes = st.one_of(
    st.sampled_from(["V600E", "p.V600K", "g12d", "R661*", "E746_A750del", "P72Rfs*17"]),
    st.builds(
        lambda r, alt: f"{r[0]}{r[1]}{alt}", _residue, st.sampled_from(AMINO_ACIDS)
    ),
)


@st.composite
def alterations(draw: st.DrawFn) -> dict[str, Any]:
    """One valid alteration: a partner gene only on fusions, a change only on
    mutations."""
    kind = draw(st.sampled_from(["mutation", "amplification", "deletion", "fusion"]))
    event: dict[str, Any] = {"kind": kind, "gene": draw(genes)}
    if kind == "mutation" and draw(st.booleans()):
        event["protein_change"] = draw(protein_changes)
    if kind == "fusion" and draw(st.booleans()):
        event["partner_gene"] = draw(genes)
    return event


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@st.composite
def profiles(draw: st.DrawFn, *, max_alterations: int = 8) -> dict[str, Any]:
    """A valid profile: every number within the schema's bounds, any of them
    missing."""
    profile: dict[str, Any] = {
        "tumour_type": draw(
            st.one_of(
                st.sampled_from(TUMOUR_TYPES),
                # Free text, as the schema accepts it: something left after
                # underscores and white space are folded away.
                st.text(min_size=1, max_size=40).filter(
                    lambda text: text.replace("_", " ").strip()
                ),
            )
        ),
        "alterations": draw(st.lists(alterations(), max_size=max_alterations)),
    }
    numbers = {
        "tmb_mut_per_mb": _optional(st.floats(0, 10_000)),
        "hrd_score": _optional(st.floats(0, 150)),
        "msi_high": _optional(st.booleans()),
    }
    for field, strategy in numbers.items():
        value = draw(strategy)
        if value is not None:
            profile[field] = value
    return profile


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mutated_profiles(draw: st.DrawFn) -> dict[str, Any]:
    """A valid profile with one field, or one alteration's field, set to any JSON."""
    profile = draw(profiles(max_alterations=3))
    target = profile
    if profile["alterations"] and draw(st.booleans()):
        target = draw(st.sampled_from(profile["alterations"]))
    field = draw(st.sampled_from([*target, "unknown"]))
    target[field] = draw(json_values)
    return profile

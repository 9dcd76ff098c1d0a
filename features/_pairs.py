"""Profile x drug rows for the pooled model: profile features, drug identity, match."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from features._knowledge import MATCH_FEATURE_NAMES, DrugKnowledge
from features._schema import Profile

DRUG_PREFIX = "drug: "


def pair_feature_names(
    profile_names: Sequence[str], drug_vocabulary: Sequence[str]
) -> list[str]:
    """Column names of :func:`encode_pairs`: profile, ``drug: <name>``, match flags."""
    return [
        *profile_names,
        *(f"{DRUG_PREFIX}{drug}" for drug in drug_vocabulary),
        *MATCH_FEATURE_NAMES,
    ]


def encode_pairs(
    X: np.ndarray,
    profiles: Sequence[Profile],
    drugs: Sequence[str],
    *,
    drug_vocabulary: Sequence[str],
    knowledge: DrugKnowledge,
) -> np.ndarray:
    """One row per (profile, drug) pair: ``X[i]``, a one-hot drug, target-match flags.

    ``X`` holds the vectorized ``profiles``; row ``i`` pairs ``profiles[i]`` with
    ``drugs[i]``.  A drug outside the vocabulary gets an all-zero identity.
    """
    if not len(X) == len(profiles) == len(drugs):
        raise ValueError("X, profiles and drugs must have one entry per pair")
    column = {drug: i for i, drug in enumerate(drug_vocabulary)}
    identity = np.zeros((len(drugs), len(drug_vocabulary)), dtype=np.float32)
    known = [(row, column[d]) for row, d in enumerate(drugs) if d in column]
    if known:
        rows, columns = zip(*known, strict=True)
        identity[list(rows), list(columns)] = 1.0
    match = np.array(
        [
            [flags[name] for name in MATCH_FEATURE_NAMES]
            for flags in map(knowledge.target_match, profiles, drugs)
        ],
        dtype=np.float32,
    ).reshape(len(drugs), len(MATCH_FEATURE_NAMES))
    return np.hstack([X, identity, match])

"""Fixtures shared by every test package."""

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features import Alteration, Profile, canonical_tumour_type
from models import UncertaintyModel
from training import UncertaintyConfig
from training._uncertainty import fit_episodes


@pytest.fixture(scope="session")
def shared_gdsc_dir() -> Path:
    """The shared GDSC1000 v17 folder (``../shared/data`` next to the repository)."""
    folder = Path(__file__).resolve().parents[2] / "shared" / "data" / "gdsc1000_v17"
    if not folder.is_dir():
        pytest.skip(f"real GDSC data not available: {folder} does not exist")
    return folder


def make_planted_profiles(n: int, *, seed: int) -> tuple[list[Profile], np.ndarray]:
    """Seeded profiles with known truth: BRAF-mutant tumours respond, others rarely.

    Returns the profiles and each one's true response probability.
    """
    rng = np.random.default_rng(seed)
    types = ["melanoma", "colorectal", "lung adenocarcinoma"]
    profiles, truth = [], []
    for i in range(n):
        braf = bool(rng.random() < 0.3)
        events = [
            Alteration(kind="mutation", gene="BRAF", protein_change="V600E")
        ] * braf
        events += [
            Alteration(kind="mutation", gene=gene)
            for gene in ("TP53", "KRAS", "PIK3CA")
            if rng.random() < 0.3
        ]
        if rng.random() < 0.1:
            events.append(Alteration(kind="amplification", gene="ERBB2"))
        profiles.append(
            Profile(
                sample_id=f"s{i}",
                tumour_type=types[int(rng.integers(len(types)))],
                alterations=tuple(events),
                msi_high=bool(rng.random() < 0.1),
            )
        )
        truth.append(0.8 if braf else 0.1)
    return profiles, np.asarray(truth)


@pytest.fixture(scope="session")
def planted() -> tuple[list[Profile], np.ndarray]:
    """200 planted-signal profiles and their responses (drawn from the truth)."""
    profiles, truth = make_planted_profiles(200, seed=0)
    responded = (np.random.default_rng(1).random(len(truth)) < truth).astype(int)
    return profiles, responded


def in_sample_uncertainty(
    profiles: list[Profile],
    outcomes: Mapping[str, np.ndarray],
    raw: Mapping[str, np.ndarray],
) -> UncertaintyModel:
    """Uncertainty fitted on a hand-built bundle's in-sample probabilities.

    Only for fixtures: real bundles fit it on out-of-fold predictions.
    """
    tumour_types = [canonical_tumour_type(p.tumour_type) for p in profiles]
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "sample_id": [p.sample_id for p in profiles],
                    "drug": drug,
                    "responded": np.asarray(y, dtype=int),
                    "raw": raw[drug],
                    "served_by": "per-drug",
                    "tumour_type": tumour_types,
                }
            )
            for drug, y in outcomes.items()
        ],
        ignore_index=True,
    )
    return fit_episodes(frame, profiles, settings=UncertaintyConfig())

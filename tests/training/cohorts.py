"""Small seeded cohorts with planted signals, shared by the training tests."""

import numpy as np
import pandas as pd

from tests.conftest import make_planted_profiles, planted_treatments
from training.data import Cohort


def planted_cohort(n: int = 300) -> Cohort:
    """``n`` planted profiles, each treated with a BRAF inhibitor (BRAF-mutant
    tumours respond) and a placebo (noise)."""
    profiles, truth = make_planted_profiles(n, seed=3)
    treatments = planted_treatments(
        profiles, truth, drugs=("braf inhibitor", "placebo"),
        rng=np.random.default_rng(4),
    )  # fmt: skip
    return Cohort(profiles=tuple(profiles), treatments=treatments)


def braf_cohort() -> Cohort:
    """Vemurafenib with 300 patients and dabrafenib with 30, both following BRAF."""
    profiles, truth = make_planted_profiles(330, seed=5)
    rng = np.random.default_rng(6)
    drugs = ["vemurafenib"] * 300 + ["dabrafenib"] * 30
    treatments = pd.DataFrame(
        {
            "sample_id": [p.sample_id for p in profiles],
            "drug": drugs,
            "responded": (rng.random(len(truth)) < truth).astype(int),
        }
    )
    return Cohort(profiles=tuple(profiles), treatments=treatments)

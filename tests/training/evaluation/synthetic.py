"""A small seeded cohort with a planted signal, dates and a tiny tumour type."""

from datetime import date, timedelta

import numpy as np

from features import Alteration, Profile
from tests.conftest import make_planted_profiles, planted_treatments
from training.data import Cohort

SIGNAL = "vemurafenib"  # BRAF V600E carriers respond (and match the rule)
NOISE = "placebo"


def planted_cohort(n: int = 240, *, n_tiny: int = 6, seed: int = 3) -> Cohort:
    """``n`` planted profiles (melanoma, colorectal, lung adenocarcinoma) plus
    ``n_tiny`` kidney ones; every sample gets both drugs and a start date."""
    profiles, truth = make_planted_profiles(n, seed=seed)
    tiny = [
        Profile(
            sample_id=f"k{i}",
            tumour_type="kidney",
            alterations=(Alteration(kind="mutation", gene="VHL"),),
        )
        for i in range(n_tiny)
    ]
    profiles = [*profiles, *tiny]
    truth = np.concatenate([truth, np.full(n_tiny, 0.1)])
    rng = np.random.default_rng(seed + 1)
    ids = [p.sample_id for p in profiles]
    days = rng.permutation(len(ids))
    treatments = planted_treatments(
        profiles, truth, drugs=(SIGNAL, NOISE), rng=rng
    ).assign(
        start_date=[
            (date(2020, 1, 1) + timedelta(days=int(d))).isoformat()
            for d in np.tile(days, 2)
        ]
    )
    return Cohort(profiles=tuple(profiles), treatments=treatments)

"""A cohort with a planted "A and not B" subgroup: BRAF V600E tumours respond,
except colorectal ones (as BRAF inhibitors alone in colorectal cancer)."""

import numpy as np

from tests.conftest import make_planted_profiles, planted_treatments
from training.data import Cohort

ID_PREFIX = "PLANTED-ID-"  # distinctive, so a test can look for leaks


def braf_not_colorectal(n: int = 400, *, seed: int = 0) -> Cohort:
    """``n`` profiles, one drug: response 0.85 with BRAF and not colorectal, else
    0.1; plus a drug with no signal at all."""
    profiles, _ = make_planted_profiles(n, seed=seed)
    profiles = [
        p.model_copy(update={"sample_id": f"{ID_PREFIX}{i:04d}"})
        for i, p in enumerate(profiles)
    ]
    braf = np.array([any(a.gene == "BRAF" for a in p.alterations) for p in profiles])
    colorectal = np.array([p.tumour_type == "colorectal" for p in profiles])
    truth = np.where(braf & ~colorectal, 0.85, 0.1)
    treatments = planted_treatments(
        profiles, truth, drugs=("braf inhibitor", "placebo"),
        rng=np.random.default_rng(seed + 1),
    )  # fmt: skip
    return Cohort(profiles=tuple(profiles), treatments=treatments)


def in_subgroup(cohort: Cohort) -> np.ndarray:
    """Whether each of the first drug's episodes is in the planted subgroup."""
    by_id = {p.sample_id: p for p in cohort.profiles}
    episodes = cohort.treatments[cohort.treatments["drug"] == "braf inhibitor"]
    return np.array(
        [
            any(a.gene == "BRAF" for a in by_id[s].alterations)
            and by_id[s].tumour_type != "colorectal"
            for s in episodes["sample_id"]
        ]
    )

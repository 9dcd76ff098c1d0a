"""DRUP evaluated as it is used: whole cohorts held out, enrolment order, and the
cohort, evidence-class and combined baselines."""

import numpy as np
import pandas as pd
import pytest

from features import load_drug_knowledge
from tests.training.evaluation.synthetic import planted_cohort
from training.config import Config
from training.data import Cohort
from training.evaluation import (
    TRAIN_ONLY,
    fit_baselines,
    leave_cohort_out_folds,
    prospective_origins,
    summarise_uncertainty,
)

KNOWLEDGE = load_drug_knowledge()
SETTINGS = Config().training.model_copy(update={"min_samples": 50, "n_jobs": 1})


def with_cohorts(n_cohorts: int = 12) -> Cohort:
    """The planted cohort with each sample (both its drugs) in one of
    ``n_cohorts`` cohorts."""
    cohort = planted_cohort()
    ids = [p.sample_id for p in cohort.profiles]
    cohort_of = pd.Series([f"cohort {i % n_cohorts}" for i in range(len(ids))], ids)
    treatments = cohort.treatments.assign(
        cohort_id=cohort.treatments["sample_id"].map(cohort_of)
    )
    return Cohort(profiles=cohort.profiles, treatments=treatments)


def test_leave_cohort_out_scores_every_cohort_once_and_whole() -> None:
    cohort = with_cohorts()
    folds = leave_cohort_out_folds(cohort, n_splits=4, seed=0)
    fold = cohort.treatments["sample_id"].map(folds)
    per_cohort = fold.groupby(cohort.treatments["cohort_id"]).nunique()
    assert (per_cohort == 1).all()  # no cohort is both trained on and scored
    assert sorted(fold.unique()) == [0, 1, 2, 3]  # every cohort is scored
    with pytest.raises(ValueError, match="cohort_id"):
        leave_cohort_out_folds(planted_cohort(), n_splits=4, seed=0)


def test_prospective_trains_only_on_outcomes_known_before_each_block() -> None:
    cohort = planted_cohort()
    dates = pd.to_datetime(cohort.treatments["start_date"]).groupby(
        cohort.treatments["sample_id"]
    )
    enrolled = dates.min()
    origins = prospective_origins(cohort, blocks=3, first_share=0.4, lag_days=30)
    assert len(origins) == 3
    scored: list[str] = []
    for fitted, folds in origins:
        block = folds.index[folds == 0]
        train = folds.index[folds == TRAIN_ONLY]
        start = enrolled[block].min()
        assert (enrolled[train] < start - pd.Timedelta(days=30)).all()
        # Nothing enrolled after the block's start is in the origin's cohort,
        # except the block itself.
        later = set(enrolled.index[enrolled >= start]) - set(block)
        assert later.isdisjoint(p.sample_id for p in fitted.profiles)
        scored += list(block)
    assert len(scored) == len(set(scored))  # each sample scored at most once
    assert len(scored) == len(enrolled) - int(0.4 * len(enrolled))


def test_cohort_baselines_use_the_cohort_then_its_drug_or_class() -> None:
    cohort = with_cohorts()
    # "cohort 1" responds to everything: its rate must stand out from its drug's.
    treatments = cohort.treatments.copy()
    treatments.loc[treatments["cohort_id"] == "cohort 1", "responded"] = 1
    # Fold 0: the whole of "cohort 0" (a new cohort) and half of "cohort 1"
    # (sample i is in cohort i % 12).
    ids = [p.sample_id for p in cohort.profiles]
    position = np.arange(len(ids))
    held_out = (position % 12 == 0) | (position % 24 == 1)
    folds = pd.Series(np.where(held_out, 0, TRAIN_ONLY), index=ids)
    oof = treatments[["sample_id", "drug", "responded"]]
    out = fit_baselines(
        oof, cohort.profiles, folds=folds, knowledge=KNOWLEDGE, settings=SETTINGS,
        min_count=3, cohorts=treatments["cohort_id"],
    )  # fmt: skip
    frame = pd.concat([treatments, out], axis=1)
    test = frame["sample_id"].map(folds) == 0
    train = frame[~test]
    for drug, group in frame[test].groupby("drug"):
        drug_rate = train.loc[train["drug"] == drug, "responded"].mean()
        new = group[group["cohort_id"] == "cohort 0"]
        # A cohort never trained on gets its drug's rate (cohort_rate), and the
        # rate of its evidence class (combined = evidence there).
        assert np.allclose(new["cohort_rate"], drug_rate)
        assert np.allclose(new["combined"], new["evidence"])
        # A known cohort's rate is shrunk from its own (1.0) towards its drug's.
        known = group.loc[group["cohort_id"] == "cohort 1", "cohort_rate"]
        assert drug_rate + 0.05 < known.iloc[0] < 1.0
    assert frame.loc[~test, ["cohort_rate", "evidence", "combined"]].isna().all().all()


def test_interval_coverage_counts_bins_whose_interval_holds_their_rate() -> None:
    # Two bins of one drug in one fold: the first's 10 episodes respond at 0.5,
    # inside [0.4, 0.6]; the second's 30 at 0.9, outside [0.1, 0.3].
    frame = pd.DataFrame(
        {
            "fold": 0,
            "drug": "d",
            "low": [0.4] * 10 + [0.1] * 30,
            "high": [0.6] * 10 + [0.3] * 30,
            "responded": [1, 0] * 5 + [1] * 27 + [0] * 3,
            "truth": [0.5] * 10 + [0.2] * 30,
            "probability": 0.5,
            "raw": 0.5,
            "prediction_set": [(0, 1)] * 40,
            "covered": True,
            "in_domain": True,
            "tumour_type": "t",
            "unseen_tumour_type": False,
            "unseen_genes": False,
            "unusual": False,
            "unknown_drug": False,
        }
    )
    measured = summarise_uncertainty(frame, coverage=0.9)
    assert measured["interval_coverage_observed"] == pytest.approx(10 / 40)
    assert measured["interval_coverage_truth"] == pytest.approx(1.0)

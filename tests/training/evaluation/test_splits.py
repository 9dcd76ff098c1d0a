import pandas as pd
import pytest

from features import canonical_tumour_type
from tests.training.evaluation.synthetic import NOISE, SIGNAL, planted_cohort
from training import evaluation
from training.config import Config, TrainingConfig
from training.data import Cohort

COHORT = planted_cohort()


def tumour_types(cohort: Cohort) -> pd.Series:
    return pd.Series(
        {p.sample_id: canonical_tumour_type(p.tumour_type) for p in cohort.profiles}
    )


def test_grouped_folds_hold_every_treated_sample_out_once() -> None:
    folds = evaluation.grouped_folds(COHORT, n_splits=4, seed=0)
    assert sorted(folds.unique()) == [0, 1, 2, 3]
    assert set(folds.index) == {p.sample_id for p in COHORT.profiles}
    # Stratified: each fold's response rate is close to the whole cohort's.
    episodes = COHORT.treatments.assign(fold=COHORT.treatments["sample_id"].map(folds))
    rates = episodes.groupby("fold")["responded"].mean()
    assert (rates - episodes["responded"].mean()).abs().max() < 0.05


def test_leave_one_tumour_type_out_never_trains_on_the_held_out_type() -> None:
    folds = evaluation.tumour_type_folds(COHORT, min_samples=20)
    types = tumour_types(COHORT)
    assert folds.nunique() == 4  # three planted types held out, kidney train-only
    assert (folds[types == "kidney"] == evaluation.TRAIN_ONLY).all()
    for fold in range(3):
        held_out = set(types[folds == fold])
        assert len(held_out) == 1
        assert held_out.isdisjoint(types[folds != fold])


def test_tumour_type_split_needs_a_type_large_enough() -> None:
    with pytest.raises(ValueError, match="--min-type-samples"):
        evaluation.tumour_type_folds(COHORT, min_samples=10_000)


def test_leave_one_cohort_out_never_trains_on_the_held_out_cohort() -> None:
    # Three cohorts: two of 100+ samples held out in turn, one of 5 train-only.
    ids = pd.Series([p.sample_id for p in COHORT.profiles])
    cohort_of = pd.Series(
        ["study a"] * 5 + ["study b"] * 100 + ["study c"] * (len(ids) - 105),
        index=ids,
    )
    treatments = COHORT.treatments.assign(
        cohort_id=COHORT.treatments["sample_id"].map(cohort_of)
    )
    studies = Cohort(profiles=COHORT.profiles, treatments=treatments)
    folds = evaluation.cohort_folds(studies, min_samples=20)
    assert (folds[cohort_of == "study a"] == evaluation.TRAIN_ONLY).all()
    for fold in (0, 1):
        held_out = set(cohort_of[folds == fold])
        assert len(held_out) == 1
        assert held_out.isdisjoint(cohort_of[folds != fold])
    with pytest.raises(ValueError, match="cohort_id"):
        evaluation.cohort_folds(COHORT)
    # One sample given a second drug in another study.
    second = treatments.iloc[:1].assign(cohort_id="study z", drug="another drug")
    both = pd.concat([treatments, second], ignore_index=True)
    with pytest.raises(ValueError, match="1 samples are treated in two cohorts"):
        evaluation.cohort_folds(Cohort(profiles=COHORT.profiles, treatments=both))


def test_temporal_split_trains_only_on_earlier_samples() -> None:
    folds = evaluation.temporal_folds(COHORT, quantile=0.8)
    dates = pd.to_datetime(COHORT.treatments["start_date"])
    fold = COHORT.treatments["sample_id"].map(folds)
    assert dates[fold == evaluation.TRAIN_ONLY].max() < dates[fold == 0].min()
    assert (fold == 0).mean() == pytest.approx(0.2, abs=0.02)


def test_temporal_split_needs_dates() -> None:
    undated = Cohort(
        profiles=COHORT.profiles,
        treatments=COHORT.treatments.drop(columns="start_date"),
    )
    with pytest.raises(ValueError, match="start_date"):
        evaluation.temporal_folds(undated)


def test_cross_study_scores_each_shared_line_on_the_second_study_only() -> None:
    first = COHORT.subset(drugs=[SIGNAL, NOISE])
    lines = [p.sample_id for p in COHORT.profiles[:50]]
    second = COHORT.subset(drugs=[SIGNAL], samples=lines)
    second = Cohort(
        profiles=second.profiles,
        treatments=second.treatments.assign(responded=1, study="second"),
    )
    cohort, folds = evaluation.cross_study_folds(first, second)
    assert cohort.drugs == (SIGNAL,)
    treatments = cohort.treatments.assign(
        fold=cohort.treatments["sample_id"].map(folds)
    )
    tested = treatments[treatments["fold"] == 0]
    assert set(tested["sample_id"]) == set(lines)
    assert (tested["study"] == "second").all()
    assert (
        not treatments.loc[treatments["fold"] == evaluation.TRAIN_ONLY, "sample_id"]
        .isin(lines)
        .any()
    )


def test_split_origins_keeps_the_chosen_drugs_and_states_the_rule() -> None:
    config = Config(training=TrainingConfig(cv_folds=3, min_samples=20))
    cohort, [(scored, folds)], rule = evaluation.split_origins(
        COHORT, split="tumour-type", config=config, drugs=[SIGNAL]
    )
    assert list(cohort.drugs) == [SIGNAL] and scored is cohort
    assert folds.equals(evaluation.tumour_type_folds(cohort, min_samples=20))
    assert rule.startswith("leave one tumour-type out (3 with >= 20 treated")
    _, [(_, grouped)], rule = evaluation.split_origins(
        COHORT, split="grouped", config=config
    )
    assert sorted(grouped.unique()) == [0, 1, 2] and rule.startswith("3-fold")
    with pytest.raises(ValueError, match="second study"):
        evaluation.split_origins(COHORT, split="cross-study", config=config)

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from features import lineage_of, load_drug_knowledge
from tests.training.evaluation.synthetic import NOISE, SIGNAL, planted_cohort
from training.config import Config
from training.data import Cohort
from training.evaluation import fit_baselines, grouped_folds
from training.fitting import fit_rates, shrunk_rates

KNOWLEDGE = load_drug_knowledge()
SETTINGS = Config().training.model_copy(update={"min_samples": 50, "n_jobs": 1})
COHORT = planted_cohort()


def baselines(cohort: Cohort, folds: pd.Series) -> pd.DataFrame:
    oof = cohort.treatments[["sample_id", "drug", "responded"]]
    out = fit_baselines(
        oof, cohort.profiles, folds=folds, knowledge=KNOWLEDGE, settings=SETTINGS,
        min_count=3,
    )  # fmt: skip
    return pd.concat([oof, out], axis=1)


def kidney_held_out(cohort: Cohort) -> pd.Series:
    """Fold 0: the kidney samples and every fourth other one; the rest train."""
    ids = [p.sample_id for p in cohort.profiles]
    return pd.Series(
        [0 if s.startswith("k") or i % 4 == 0 else -1 for i, s in enumerate(ids)],
        index=ids,
    )


def test_shrunk_rate_of_an_unseen_tumour_type_is_the_drugs_training_rate() -> None:
    folds = kidney_held_out(COHORT)
    frame = baselines(COHORT, folds)
    held_out = frame["sample_id"].map(folds) == 0
    for drug in (SIGNAL, NOISE):
        train = frame[(frame["drug"] == drug) & ~held_out]
        kidney = frame[(frame["drug"] == drug) & frame["sample_id"].str.startswith("k")]
        assert kidney["rate_shrunk"].to_numpy() == pytest.approx(
            train["responded"].mean()
        )
        assert kidney["rate"].to_numpy() == pytest.approx(train["responded"].mean())
    assert frame.loc[~held_out, ["rule", "rate", "logistic"]].isna().all().all()


def test_baselines_never_see_the_outcomes_they_predict() -> None:
    folds = grouped_folds(COHORT, n_splits=3, seed=0)
    before = baselines(COHORT, folds)
    # Flip every outcome in fold 0: only the other folds' predictions may change.
    flipped = COHORT.treatments["sample_id"].map(folds) == 0
    outcome = COHORT.treatments["responded"]
    changed = Cohort(
        profiles=COHORT.profiles,
        treatments=COHORT.treatments.assign(
            responded=np.where(flipped, 1 - outcome, outcome)
        ),
    )
    after = baselines(changed, folds)
    columns = ["rule", "rate", "rate_shrunk", "logistic"]
    pd.testing.assert_frame_equal(
        before.loc[flipped, columns], after.loc[flipped, columns]
    )
    assert not np.allclose(before.loc[~flipped, "rate"], after.loc[~flipped, "rate"])


def test_logistic_finds_the_planted_signal_and_the_rule_matches_braf() -> None:
    folds = grouped_folds(COHORT, n_splits=3, seed=0)
    frame = baselines(COHORT, folds)
    signal = frame[frame["drug"] == SIGNAL]
    assert signal["logistic_fitted"].all()
    assert roc_auc_score(signal["responded"], signal["logistic"]) > 0.8
    braf = {
        p.sample_id
        for p in COHORT.profiles
        if any(a.gene == "BRAF" for a in p.alterations)
    }
    assert (signal["rule"] == signal["sample_id"].isin(braf)).all()
    noise = frame[frame["drug"] == NOISE]
    assert (noise["rule"] == 0).all()  # placebo: no biomarker matches


def test_a_drug_too_small_for_a_logistic_model_gets_the_shrunk_rate() -> None:
    folds = grouped_folds(COHORT, n_splits=3, seed=0)
    small = SETTINGS.model_copy(update={"min_samples": 10_000})
    oof = COHORT.treatments[["sample_id", "drug", "responded"]]
    out = fit_baselines(
        oof, COHORT.profiles, folds=folds, knowledge=KNOWLEDGE, settings=small,
        min_count=3,
    )  # fmt: skip
    assert not out["logistic_fitted"].any()
    assert out["logistic"].to_numpy() == pytest.approx(out["rate_shrunk"].to_numpy())


def test_shrinkage_lies_between_the_raw_and_the_pooled_rates() -> None:
    events, totals = np.array([2, 30, 9]), np.array([20, 40, 30])
    table = shrunk_rates(events, totals)
    raw = events / totals
    assert table.mean == pytest.approx(events.sum() / totals.sum())
    assert 0 < table.concentration < np.inf
    between = (table.posterior - raw) * (table.mean - raw) >= 0
    assert between.all()
    assert (np.abs(table.posterior - table.mean) <= np.abs(raw - table.mean)).all()


def test_groups_no_more_different_than_chance_are_pooled_completely() -> None:
    table = shrunk_rates(np.array([10, 10, 10]), np.array([100, 100, 100]))
    assert table.concentration == np.inf
    assert table.posterior == pytest.approx([0.1, 0.1, 0.1])


def test_one_tumour_type_per_drug_gives_its_own_rate() -> None:
    table = shrunk_rates(np.array([3]), np.array([12]))
    assert table.posterior == pytest.approx([0.25])


def test_an_unlisted_tumour_type_gets_its_lineages_rate() -> None:
    # Myeloid leukaemias respond, breast cancers do not; "acute myeloid
    # leukaemia" is too rare to be listed, "leukaemia other" (myeloid) never seen.
    types = ["chronic myeloid leukaemia"] * 20 + ["breast"] * 20
    types += ["acute myeloid leukaemia"] * 2
    y = np.array([1] * 18 + [0] * 2 + [0] * 19 + [1] + [1, 1])
    rates = fit_rates(types, y)
    assert set(rates.rates) == {"chronic myeloid leukaemia", "breast"}
    assert lineage_of("acute myeloid leukaemia") == "myeloid"
    unseen, rare, other = rates.rate(
        ["leukaemia other", "acute myeloid leukaemia", "glioma"]
    )
    assert unseen == rare == rates.lineages[lineage_of("chronic myeloid leukaemia")]
    assert unseen > 0.7 and other == rates.pooled

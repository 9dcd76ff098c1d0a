"""Calibration, conformal coverage and the out-of-domain flag on synthetic data with
known miscalibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss

from features import Alteration, Profile, canonical_tumour_type
from models import Calibrator, UncertaintyModel, logit
from tests.conftest import make_planted_profiles
from tests.training.conftest import cv_metrics
from training.config import UncertaintyConfig
from training.data import Cohort
from training.evaluation import held_out_uncertainty, summarise_uncertainty
from training.fitting import (
    CrossValidation,
    calibration_method,
    fit_calibrator,
    fit_domain,
    fit_episodes,
    fit_uncertainty,
)

SETTINGS = UncertaintyConfig()


def miscalibrated(
    n: int, *, seed: int, shift: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Overconfident, too optimistic scores of outcomes with known probabilities."""
    rng = np.random.default_rng(seed)
    truth = rng.beta(1.2, 3.0, n) if not shift else rng.beta(3.0, 1.5, n)
    y = (rng.random(n) < truth).astype(int)
    raw = 1 / (1 + np.exp(-(2.0 * logit(truth) + 1.0)))
    return raw, y


@pytest.mark.parametrize(
    ("n", "events", "method"),
    [
        (2500, 250, "isotonic"),
        (2500, 150, "sigmoid"),
        (600, 60, "sigmoid"),
        (150, 20, "sigmoid"),
        (150, 145, None),
        (60, 30, None),
    ],
)
def test_isotonic_for_big_data_sigmoid_for_small(
    n: int, events: int, method: str | None
) -> None:
    y = np.r_[np.ones(events), np.zeros(n - events)]
    assert calibration_method(y, settings=SETTINGS) == method


@pytest.mark.parametrize(("n", "method"), [(4000, "isotonic"), (200, "sigmoid")])
def test_calibration_reduces_brier_on_new_data(n: int, method: str) -> None:
    raw, y = miscalibrated(n, seed=1)
    calibrator = fit_calibrator(raw, y, settings=SETTINGS)
    assert calibrator.method == method
    assert (calibrator.n_episodes, calibrator.n_events) == (n, y.sum())
    test_raw, test_y = miscalibrated(5000, seed=2)
    calibrated = calibrator.apply(test_raw)
    before = brier_score_loss(test_y, test_raw)
    assert brier_score_loss(test_y, calibrated) < before - 0.01
    # Calibrated: the mean prediction meets the observed rate.
    assert calibrated.mean() == pytest.approx(test_y.mean(), abs=0.03)
    grid = np.linspace(0, 1, 1001)
    assert np.all(np.diff(calibrator.apply(grid)) >= 0)
    again = Calibrator.model_validate_json(calibrator.model_dump_json())
    np.testing.assert_array_equal(again.apply(grid), calibrator.apply(grid))


def test_scores_ranked_backwards_get_a_flat_calibrator() -> None:
    raw, y = miscalibrated(200, seed=3)
    calibrator = fit_calibrator(1 - raw, y, settings=SETTINGS)
    assert (calibrator.method, calibrator.a) == ("sigmoid", 0.0)
    assert calibrator.apply([0.1, 0.9]).tolist() == pytest.approx([y.mean()] * 2, 0.1)


def episodes(
    n: int, *, seed: int, drug: str = "a", tumour_types: tuple[str, ...] = ("breast",)
) -> pd.DataFrame:
    """An episode frame: the second tumour type (if any) responds far more often."""
    frames = []
    for i, tumour_type in enumerate(tumour_types):
        raw, y = miscalibrated(n, seed=seed + i, shift=float(i))
        frames.append(
            pd.DataFrame(
                {
                    "sample_id": [f"{drug}-{tumour_type}-{seed}-{j}" for j in range(n)],
                    "drug": drug,
                    "responded": y,
                    "raw": raw,
                    "served_by": "per-drug",
                    "tumour_type": tumour_type,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def bare_profiles(frame: pd.DataFrame) -> list[Profile]:
    return [
        Profile(sample_id=s, tumour_type=t)
        for s, t in zip(frame["sample_id"], frame["tumour_type"], strict=True)
    ]


def coverage_of(frame: pd.DataFrame, sets: list[tuple[int, ...]]) -> float:
    return float(
        np.mean([y in s for y, s in zip(frame["responded"], sets, strict=True)])
    )


@pytest.mark.parametrize("coverage", [0.8, 0.9])
def test_mondrian_conformal_coverage_is_near_nominal(coverage: float) -> None:
    settings = SETTINGS.model_copy(update={"coverage": coverage})
    kinds = ("breast", "melanoma")
    train = episodes(1500, seed=10, tumour_types=kinds)
    model = fit_episodes(train, bare_profiles(train), settings=settings)
    conformal = model.drugs["a"].conformal
    assert set(conformal.by_tumour_type) == set(kinds)
    test = episodes(3000, seed=20, tumour_types=kinds)
    for _, group in test.groupby("tumour_type"):
        assessed = model.assess(
            "a",
            group["raw"].to_numpy(),
            list(group["tumour_type"]),
            seen_tumour_types=kinds,
            profile_reasons=[None] * len(group),
        )
        assert coverage_of(group, assessed.sets) == pytest.approx(coverage, abs=0.05)
        assert all(assessed.in_domain)


def test_small_groups_fall_back_to_the_drug_threshold() -> None:
    train = pd.concat(
        [
            episodes(400, seed=1),
            episodes(10, seed=2, tumour_types=("glioma",)),
        ],
        ignore_index=True,
    )
    conformal = (
        fit_episodes(train, bare_profiles(train), settings=SETTINGS)
        .drugs["a"]
        .conformal
    )
    assert set(conformal.by_tumour_type) == {"breast"}
    assert (conformal.default.fitted_on, conformal.default.n) == ("drug", 410)


def test_conformal_by_outcome_covers_responders_too() -> None:
    settings = SETTINGS.model_copy(update={"conformal_by_outcome": True})
    train, test = episodes(3000, seed=30), episodes(6000, seed=40)
    model = fit_episodes(train, bare_profiles(train), settings=settings)
    assert model.drugs["a"].conformal.by_outcome
    sets = model.assess(
        "a",
        test["raw"].to_numpy(),
        list(test["tumour_type"]),
        seen_tumour_types={"breast"},
        profile_reasons=[None] * len(test),
    ).sets
    for outcome in (0, 1):
        chosen = (test["responded"] == outcome).to_numpy()
        covered = [outcome in s for s, c in zip(sets, chosen, strict=True) if c]
        assert np.mean(covered) == pytest.approx(0.9, abs=0.05)


def test_domain_flags_unknown_heavy_profiles_but_not_typical_ones() -> None:
    profiles, _ = make_planted_profiles(300, seed=4)
    domain = fit_domain(profiles, settings=SETTINGS)
    assert domain.n_profiles == 300
    assert "mutation TP53" in domain.prevalence
    flagged = [r is not None for r in domain.reasons(profiles)]
    assert np.mean(flagged) <= 0.03  # the 99% quantiles, two of them
    typical = Profile(
        tumour_type="colorectal",
        alterations=(Alteration(kind="mutation", gene="KRAS"),),
    )
    unknown_heavy = Profile(
        tumour_type="colorectal",
        alterations=tuple(
            Alteration(kind="mutation", gene=f"NOVEL{i}") for i in range(6)
        ),
    )
    typical_reason, heavy_reason = domain.reasons([typical, unknown_heavy])
    assert typical_reason is None
    assert heavy_reason is not None and "6 alterations on genes unseen" in heavy_reason


def test_rare_events_stay_out_of_the_bundle() -> None:
    profiles, _ = make_planted_profiles(100, seed=5)
    rare = Profile(
        sample_id="only-one",
        tumour_type="colorectal",
        alterations=(Alteration(kind="fusion", gene="ZNF1", partner_gene="ZNF2"),),
    )
    domain = fit_domain([*profiles, rare], settings=SETTINGS)
    assert not any("ZNF" in token for token in domain.prevalence)


def synthetic_cv(seed: int = 0) -> tuple[CrossValidation, Cohort]:
    """A big per-drug drug, a mid-sized and a small pooled one, in five folds."""
    rng = np.random.default_rng(seed)
    types = ("breast", "melanoma", "colorectal")
    parts = []
    for drug, n, kind in (
        ("big", 3000, "per_drug"),
        ("mid", 150, "pooled"),
        ("small", 20, "pooled"),
    ):
        raw, y = miscalibrated(n, seed=seed + n)
        parts.append(
            pd.DataFrame(
                {
                    "sample_id": [f"{drug}{i}" for i in range(n)],
                    "drug": drug,
                    "responded": y,
                    "fold": rng.integers(0, 5, n),
                    "per_drug": raw if kind == "per_drug" else np.nan,
                    "pooled": raw if kind == "pooled" else np.nan,
                    "tumour_type": rng.choice(types, n),
                }
            )
        )
    oof = pd.concat(parts, ignore_index=True)
    # Every 200th profile carries alterations on genes no other profile has.
    profiles = tuple(
        Profile(
            sample_id=s,
            tumour_type=t,
            alterations=tuple(
                Alteration(kind="mutation", gene=f"NOVEL{i}{j}") for j in range(4)
            )
            if i % 200 == 0
            else (),
        )
        for i, (s, t) in enumerate(
            zip(oof["sample_id"], oof.pop("tumour_type"), strict=True)
        )
    )
    oof["rate"] = 0.5  # the rate never wins here (Brier 0.3)
    cv = CrossValidation(
        oof=oof,
        cv_rate={d: cv_metrics(0.3) for d in ("big", "mid", "small")},
        cv_per_drug={"big": cv_metrics(0.1)},
        cv_pooled={d: cv_metrics(0.2) for d in ("big", "mid", "small")},
    )
    treatments = oof[["sample_id", "drug", "responded"]]
    return cv, Cohort(profiles=profiles, treatments=treatments)


def test_fit_uncertainty_picks_calibrators_by_data_size() -> None:
    cv, cohort = synthetic_cv()
    model = fit_uncertainty(cv, cohort, settings=SETTINGS)
    drugs = model.drugs
    assert {d: u.served_by for d, u in drugs.items()} == {
        "big": "per-drug",
        "mid": "pooled",
        "small": "pooled",
    }
    assert drugs["big"].calibrator.method == "isotonic"
    assert drugs["mid"].calibrator.method == "sigmoid"
    assert drugs["mid"].calibrator.fitted_on == "drug"
    shared = drugs["small"].calibrator
    assert shared.fitted_on == "all drugs served by the pooled model"
    assert shared.n_episodes == 170
    assert drugs["small"].conformal.default.fitted_on == shared.fitted_on
    assert len(drugs["small"].bins.n) == 1  # too few episodes for more than one bin
    assert sum(drugs["big"].bins.n) == 3000
    assert min(drugs["big"].bins.n) >= SETTINGS.bin_min_episodes
    assert UncertaintyModel.model_validate_json(model.model_dump_json()) == model


def test_held_out_coverage_and_domain_report() -> None:
    cv, cohort = synthetic_cv()
    frame = held_out_uncertainty(cv, cohort, settings=SETTINGS)
    assert len(frame) == len(cv.oof)
    assert set(frame["fold"]) == set(range(5))
    summary = summarise_uncertainty(frame, coverage=SETTINGS.coverage)
    assert summary["coverage"] == pytest.approx(0.9, abs=0.05)
    assert summary["brier_calibrated"] < summary["brier_raw"]
    assert summary["n_episodes"] == len(cv.oof)
    # Every tumour type is in every drug's training folds; only the 1 in 200
    # profiles with unseen genes are flagged, each with its reason.
    assert summary["share_out_of_domain"] == pytest.approx(0.005, abs=0.002)
    flagged = frame[~frame["in_domain"]]
    assert flagged["unseen_genes"].all()
    assert flagged["reason"].str.contains("4 alterations on genes unseen").all()
    assert frame.loc[frame["in_domain"], "reason"].isna().all()
    assert summary["in_domain"]["n"] + summary["out_of_domain"]["n"] == len(frame)


def test_unseen_tumour_type_is_out_of_domain_for_that_drug() -> None:
    train = episodes(300, seed=7)
    model = fit_episodes(train, bare_profiles(train), settings=SETTINGS)
    seen = set(train["tumour_type"])
    assessed = model.assess(
        "a",
        np.array([0.3, 0.3]),
        [canonical_tumour_type("Melanoma"), "breast"],
        seen_tumour_types=seen,
        profile_reasons=[None, None],
    )
    assert assessed.in_domain.tolist() == [False, True]
    assert assessed.reasons[0] == "tumour type 'melanoma' not in a's training data"
    unknown = model.assess(
        "b", np.array([0.3]), ["breast"], seen_tumour_types=seen, profile_reasons=[None]
    )
    assert unknown.in_domain.tolist() == [False]
    assert unknown.sets == [(0, 1)]

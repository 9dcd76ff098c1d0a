import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from scipy.stats import binomtest

from features import Alteration, Profile
from models import (
    BundleIntegrityError,
    Calibrator,
    ConformalThresholds,
    GroupThresholds,
    ProfileDomain,
    ResponderModel,
    ScoreBins,
    UncertaintyModel,
    prediction_sets,
    rank_drugs,
    wilson_interval,
)

RNG = np.random.default_rng(3)
GRID = np.r_[0.0, np.sort(RNG.random(500)), 1.0]
CALIBRATORS = [
    Calibrator(
        method="isotonic",
        x=np.sort(RNG.random(40)).tolist(),
        y=np.sort(RNG.random(40)).tolist(),
    ),
    Calibrator(method="sigmoid", a=float(RNG.random() * 2), b=float(RNG.normal())),
    Calibrator(method="sigmoid", a=0.0, b=-1.3),
    Calibrator(method="identity"),
]


@pytest.mark.parametrize("calibrator", CALIBRATORS, ids=lambda c: c.method)
def test_calibrators_round_trip_through_json_exactly(calibrator: Calibrator) -> None:
    again = Calibrator.model_validate_json(calibrator.model_dump_json())
    assert again == calibrator
    np.testing.assert_array_equal(again.apply(GRID), calibrator.apply(GRID))


@pytest.mark.parametrize("calibrator", CALIBRATORS, ids=lambda c: c.method)
def test_calibrators_are_monotone_probabilities(calibrator: Calibrator) -> None:
    calibrated = calibrator.apply(GRID)
    assert np.all(np.diff(calibrated) >= 0)
    assert np.all((calibrated >= 0) & (calibrated <= 1))


def test_sigmoid_with_unit_slope_is_the_identity() -> None:
    np.testing.assert_allclose(
        Calibrator(method="sigmoid").apply(GRID[1:-1]), GRID[1:-1], atol=1e-9
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"method": "isotonic", "x": [0.1, 0.5], "y": [0.6, 0.2]},
        {"method": "isotonic", "x": [0.5, 0.1], "y": [0.2, 0.6]},
        {"method": "isotonic", "x": [0.1], "y": [0.2, 0.3]},
        {"method": "sigmoid", "a": -0.5},
    ],
)
def test_non_monotone_calibrators_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Calibrator.model_validate(fields)


def test_prediction_sets_hold_each_label_within_its_threshold() -> None:
    p = np.array([0.05, 0.5, 0.95, 0.5, 0.6, 0.2])
    q = np.array([0.7, 0.7, 0.7, 0.3, 0.3, 0.1])
    # Threshold 0.3 would exclude both labels at 0.5 and 0.6: the likelier one stays.
    assert prediction_sets(p, q, q) == [(0,), (0, 1), (1,), (1,), (1,), (0,)]
    # Per-outcome thresholds: a generous responder threshold admits 1 more often.
    assert prediction_sets(p, q, np.full(6, 0.85)) == [
        (0,), (0, 1), (1,), (1,), (1,), (1,),
    ]  # fmt: skip


def group(q: float, fitted_on: str) -> GroupThresholds:
    return GroupThresholds(non_responder=q, responder=q, n=40, fitted_on=fitted_on)


def test_mondrian_thresholds_fall_back_to_the_default() -> None:
    conformal = ConformalThresholds(
        by_outcome=False,
        default=group(0.8, "drug"),
        by_tumour_type={"melanoma": group(0.4, "drug x tumour type")},
    )
    non_responder, responder = conformal.thresholds(["melanoma", "glioma"])
    np.testing.assert_array_equal(non_responder, [0.4, 0.8])
    np.testing.assert_array_equal(responder, [0.4, 0.8])


@pytest.mark.parametrize(("events", "n"), [(5, 10), (0, 30), (30, 30), (7, 213)])
def test_wilson_interval_matches_scipy(events: int, n: int) -> None:
    low, high = wilson_interval([events], [n])
    expected = binomtest(events, n).proportion_ci(method="wilson")
    np.testing.assert_allclose([low[0], high[0]], [expected.low, expected.high])


def test_the_interval_is_of_the_rate_observed_in_the_score_bin() -> None:
    bins = ScoreBins(edges=[0.2, 0.5], n=[400, 50, 10], events=[40, 20, 9])
    p = np.array([0.1, 0.3, 0.45, 0.6])
    np.testing.assert_array_equal(bins.support(p), [400, 50, 50, 10])
    low, high = bins.interval(p)
    # The same interval for every score of one bin: the bin's 20 of 50, whatever p.
    np.testing.assert_array_equal(
        (low, high), wilson_interval([40, 20, 20, 9], [400, 50, 50, 10])
    )
    assert low[1] == low[2] and high[1] == high[2]
    assert high[0] < 0.15  # 40 of 400 responded: p = 0.1 sits inside, far from 0.3
    with pytest.raises(ValidationError):
        ScoreBins(edges=[0.2], n=[10], events=[1])
    with pytest.raises(ValidationError, match="between 0 and its episodes"):
        ScoreBins(edges=[], n=[10], events=[11])


DOMAIN = ProfileDomain(
    n_profiles=100,
    min_profiles=5,
    quantile=0.99,
    prevalence={"mutation TP53": 0.5, "mutation KRAS": 0.2, "mutation BRAF": 0.1},
    surprisal_threshold=2.0,
    unseen_threshold=2,
)


def mutated(*genes: str) -> Profile:
    return Profile(
        tumour_type="colorectal",
        alterations=tuple(Alteration(kind="mutation", gene=g) for g in genes),
    )


def test_domain_flags_unseen_genes_and_unusual_combinations() -> None:
    typical, rare, unseen = (
        mutated("TP53"),
        mutated("TP53", "KRAS", "BRAF"),
        mutated("TP53", "NOVEL1", "NOVEL2", "NOVEL3"),
    )
    surprisal = DOMAIN.surprisal([typical, rare])
    # -log P = -(log .5 + log .8 + log .9) for TP53 alone.
    assert surprisal[0] == pytest.approx(-np.log(0.5 * 0.8 * 0.9))
    assert surprisal[1] > surprisal[0]
    assert DOMAIN.unseen_events([typical, unseen]).tolist() == [0, 3]
    ok, combination, genes = DOMAIN.reasons([typical, rare, unseen])
    assert ok is None
    assert combination is not None and "unusual combination" in combination
    assert genes is not None and "3 alterations on genes unseen" in genes


def test_bundle_round_trips_uncertainty(model: ResponderModel, bundle: Path) -> None:
    assert ResponderModel.load(bundle).uncertainty == model.uncertainty


def test_scores_are_calibrated_and_ranked_by_calibration(
    model: ResponderModel, planted
) -> None:
    profiles = planted[0][:20]
    raw = model.score(profiles)
    for scores in rank_drugs(model, profiles):
        calibrated = [s.probability for s in scores]
        assert calibrated == sorted(calibrated, reverse=True)
    ranked = rank_drugs(model, profiles)
    for row, scores in enumerate(ranked):
        for s in scores:
            assert s.raw_probability == pytest.approx(raw[s.drug][row], abs=1e-6)
            expected = model.calibrate(s.drug, raw[s.drug][row : row + 1])[0]
            assert s.probability == pytest.approx(expected, abs=1e-6)
            assert s.interval[0] <= s.interval[1]
            assert set(s.prediction_set) <= {0, 1} and s.prediction_set
            assert s.coverage == model.uncertainty.coverage


def _rewrite(bundle: Path, name: str, text: str) -> None:
    (bundle / name).write_text(text)
    checksums = json.loads((bundle / "checksums.json").read_text())
    checksums[name] = hashlib.sha256((bundle / name).read_bytes()).hexdigest()
    (bundle / "checksums.json").write_text(json.dumps(checksums))


def test_invalid_uncertainty_with_matching_checksum_is_refused(bundle: Path) -> None:
    state = json.loads((bundle / "uncertainty.json").read_text())
    drug = next(iter(state["drugs"]))
    state["drugs"][drug]["calibrator"] = {"method": "sigmoid", "a": -1.0}
    _rewrite(bundle, "uncertainty.json", json.dumps(state))
    with pytest.raises(BundleIntegrityError, match=r"uncertainty\.json is not valid"):
        ResponderModel.load(bundle)


def test_uncertainty_for_a_drug_the_bundle_lacks_is_refused(bundle: Path) -> None:
    state = UncertaintyModel.model_validate_json(
        (bundle / "uncertainty.json").read_text()
    )
    extra = {**state.drugs, "aspirin": next(iter(state.drugs.values()))}
    _rewrite(
        bundle,
        "uncertainty.json",
        state.model_copy(update={"drugs": extra}).model_dump_json(),
    )
    with pytest.raises(BundleIntegrityError, match="aspirin"):
        ResponderModel.load(bundle)


def test_older_bundle_formats_are_refused(bundle: Path) -> None:
    metadata = json.loads((bundle / "metadata.json").read_text())
    _rewrite(bundle, "metadata.json", json.dumps({**metadata, "format_version": 2}))
    with pytest.raises(BundleIntegrityError, match="format 2"):
        ResponderModel.load(bundle)

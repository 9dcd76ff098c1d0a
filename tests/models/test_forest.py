"""The flat forest and the vectorised scorer give XGBoost's numbers and the
per-drug uncertainty model's."""

import numpy as np
import pytest
import xgboost as xgb

from models import ResponderModel, rank_drugs
from models._forest import Forest, TreeBlock


def _booster(
    X: np.ndarray, y: np.ndarray, *, depth: int, rounds: int, seed: int
) -> xgb.Booster:
    params = {
        "objective": "binary:logistic", "max_depth": depth, "eta": 0.3,
        "seed": seed, "nthread": 1, "colsample_bytree": 0.7,
    }  # fmt: skip
    return xgb.train(params, xgb.DMatrix(X, y, missing=np.nan), rounds)


def _data(seed: int, n: int = 300, columns: int = 6) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, (n, columns)).astype(np.float32)
    X[:, 0] = rng.normal(size=n)  # a numeric column, partly missing
    X[rng.random(n) < 0.2, 0] = np.nan
    y = (X[:, 1] + (np.nan_to_num(X[:, 0]) > 0.3) + rng.random(n) > 1.2).astype(int)
    return X, y


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_margins_and_shap_equal_xgboosts(depth: int) -> None:
    """Two boosters read their columns from one wide row, in another order."""
    (X1, y1), (X2, y2) = _data(0), _data(1)
    boosters = [
        _booster(X1, y1, depth=depth, rounds=30, seed=0),
        _booster(X2, y2, depth=depth, rounds=12, seed=1),
    ]
    width = X1.shape[1]
    reads = [np.arange(width), width + np.arange(width)[::-1]]
    W = np.hstack([X1, X2[:, ::-1]])
    forest = Forest.of([TreeBlock(b, r) for b, r in zip(boosters, reads, strict=True)])
    margins = forest.margins(W)
    for slot, (booster, X) in enumerate(zip(boosters, (X1, X2), strict=True)):
        matrix = xgb.DMatrix(X, base_margin=np.zeros(len(X)), missing=np.nan)
        expected = booster.predict(matrix, output_margin=True)
        np.testing.assert_allclose(margins[:, slot], expected, rtol=0, atol=1e-5)
        contributions = booster.predict(matrix, pred_contribs=True)
        for row in range(0, len(W), 7):
            shap = forest.shap(W[row], [slot], [width])[0]
            np.testing.assert_allclose(shap, contributions[row], rtol=0, atol=1e-5)


def test_a_stump_tree_and_no_trees() -> None:
    X, y = _data(2)
    stump = xgb.train(  # one leaf per tree: nothing worth a split
        {"objective": "binary:logistic", "gamma": 1e6, "nthread": 1},
        xgb.DMatrix(X, y),
        3,
    )
    tree = _booster(X, y, depth=2, rounds=5, seed=0)
    read = np.arange(X.shape[1])
    forest = Forest.of([TreeBlock(tree, read), TreeBlock(stump, read)])
    matrix = xgb.DMatrix(X, base_margin=np.zeros(len(X)))
    for slot, booster in enumerate((tree, stump)):
        expected = booster.predict(matrix, output_margin=True)
        np.testing.assert_allclose(forest.margins(X)[:, slot], expected, atol=1e-5)
    assert Forest.of([]).margins(X).shape == (len(X), 0)


def test_scores_equal_the_per_drug_uncertainty_model(
    model: ResponderModel, planted
) -> None:
    """Calibration, intervals, conformal sets and domain flags done for all drugs
    at once give what `UncertaintyModel.assess` gives drug by drug."""
    profiles = planted[0][:60]
    scores = model.scorer.score(profiles, rank_by="evidence")
    raw = model.score(profiles)  # XGBoost's own predictions
    reasons = model.uncertainty.domain.reasons(profiles)
    for column, drug in enumerate(scores.drugs):
        np.testing.assert_allclose(scores.raw[:, column], raw[drug], atol=1e-5)
        assessed = model.uncertainty.assess(
            drug, scores.raw[:, column], scores.tumour_types,
            seen_tumour_types=model.metadata.drugs[drug].tumour_types,
            profile_reasons=reasons,
        )  # fmt: skip
        np.testing.assert_allclose(scores.probability[:, column], assessed.probability)
        np.testing.assert_allclose(scores.low[:, column], assessed.low)
        np.testing.assert_allclose(scores.high[:, column], assessed.high)
        sets = [scores.prediction_sets(row)[column] for row in range(len(profiles))]
        assert sets == assessed.sets


def test_shap_only_for_the_top_drugs(model: ResponderModel, planted) -> None:
    profiles = planted[0][:5]
    for ranking in rank_drugs(model, profiles, top_k=3, explain_top=1):
        assert ranking[0].top_features
        assert all(s.top_features == () for s in ranking[1:])
    explained = rank_drugs(model, profiles, top_k=3, explain_top=0)
    assert all(s.top_features == () for ranking in explained for s in ranking)

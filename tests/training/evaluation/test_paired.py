import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from training.evaluation import paired_auroc


def _frame(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 400
    y = rng.integers(0, 2, n)
    fold = np.arange(n) % 4
    score = rng.normal(size=n) + y
    return pd.DataFrame(
        {
            "sample_id": [f"s{i}" for i in range(n)],
            "drug": "a",
            "responded": y,
            "fold": fold,
            "score": score,
            # a monotone refit of the score per fold, on its own scale each time
            "refit": 1 / (1 + np.exp(-(0.5 + fold) * score + 2 * fold)),
            "noise": rng.normal(size=n),
        }
    )


def test_a_per_fold_monotone_refit_ties_its_baseline() -> None:
    frame = _frame()
    # Pooled over folds the refit ranks worse than the score it refits ...
    y = frame["responded"]
    assert roc_auc_score(y, frame["refit"]) < roc_auc_score(y, frame["score"]) - 0.02
    # ... but within each fold it ranks every pair the same way.
    paired = paired_auroc(frame, "refit", "score", n_bootstrap=50, seed=0)
    (row,) = paired["per_drug"]
    assert abs(row["delta"]) < 1e-12 and max(map(abs, row["ci"])) < 1e-12
    assert paired["ci_above_0"] == paired["ci_below_0"] == 0


def test_a_better_score_is_found_better_within_folds() -> None:
    paired = paired_auroc(_frame(), "score", "noise", n_bootstrap=50, seed=0)
    (row,) = paired["per_drug"]
    assert row["delta"] > 0.15 and row["ci"][0] > 0
    assert paired["ci_above_0"] == 1

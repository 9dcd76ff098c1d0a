"""``rediscover explain``'s SHAP figures are shap's own plots, drawn from the
drug's held-out ``shap.Explanation``, which holds the held-out SHAP values."""

from typing import Any

import numpy as np
import pytest
import shap
from scipy.special import logit

from features import load_drug_knowledge
from tests.training.conftest import small_config
from tests.training.explanation.planted import braf_not_colorectal
from training.explanation import DrugReport, explain_drugs
from training.explanation._writing import drug_figures

DRUG = "braf inhibitor"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> DrugReport:
    cohort = braf_not_colorectal(300, seed=2).subset(drugs=[DRUG])
    config = small_config(tmp_path_factory.mktemp("plots"), min_samples=50)
    (braf,) = explain_drugs(
        cohort, config=config, drugs=[DRUG], knowledge=load_drug_knowledge()
    )
    return braf


def test_the_explanation_holds_the_held_out_shap_values(report: DrugReport) -> None:
    explanation = report.explanation()
    scored = report.scored
    np.testing.assert_array_equal(explanation.values, report.shap[scored])
    np.testing.assert_array_equal(explanation.data, report.values[scored])
    assert explanation.feature_names == list(report.members)
    # SHAP values plus the base value add up to each held-out margin.
    margin = explanation.values.sum(axis=1) + explanation.base_values
    probability = report.episodes["probability"].to_numpy()[scored]
    np.testing.assert_allclose(margin, logit(probability), atol=1e-4)


def test_the_figures_are_shap_plots_of_that_explanation(
    report: DrugReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: dict[str, list[shap.Explanation]] = {}
    for name in ("beeswarm", "bar", "scatter"):
        monkeypatch.setattr(shap.plots, name, _recording(name, drawn))
    figures = drug_figures(report)
    assert all(png.startswith(b"\x89PNG") for png in figures.values())
    order = [report.column(g) for g in report.importance.index]
    shown = report.shap[report.scored][:, order]
    for name in ("beeswarm", "bar"):
        (explanation,) = drawn[name]
        np.testing.assert_array_equal(explanation.values, shown)
    # One dependence (scatter) plot per top-3 feature, of that feature's values.
    assert len(drawn["scatter"]) == 3
    np.testing.assert_array_equal(drawn["scatter"][0].values, shown[:, 0])


def _recording(name: str, drawn: dict[str, list[shap.Explanation]]) -> Any:
    draw = getattr(shap.plots, name)

    def record(explanation: shap.Explanation, *args: Any, **kwargs: Any) -> Any:
        drawn.setdefault(name, []).append(explanation)
        return draw(explanation, *args, **kwargs)

    return record

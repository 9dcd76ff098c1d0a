"""The ranking rules, base rates and lifts of `rank_drugs`, and what a cell-line
bundle says about its scores."""

from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit

from models import RANK_BY, BiomarkerFit, DrugScore, Offsets, ResponderModel, rank_drugs
from models._ranking import CELL_LINE_REASON

UNMATCHED = 99


def _rebuilt(
    model: ResponderModel,
    served_by: dict[str, str] | None = None,
    offsets: Offsets | None = None,
    **metadata: object,
) -> ResponderModel:
    """The planted bundle with drugs served otherwise (default: 'noise' by its
    tumour-type rate)."""
    served_by = served_by or {"noise": "rate"}
    drugs, calibrated = dict(model.metadata.drugs), dict(model.uncertainty.drugs)
    for drug, kind in served_by.items():
        drugs[drug] = drugs[drug].model_copy(update={"served_by": kind})
        calibrated[drug] = calibrated[drug].model_copy(update={"served_by": kind})
    return ResponderModel(
        model.vectorizer,
        {d: b for d, b in model.boosters.items() if d not in served_by},
        metadata=model.metadata.model_copy(update={"drugs": drugs, **metadata}),
        knowledge=model.knowledge,
        uncertainty=model.uncertainty.model_copy(update={"drugs": calibrated}),
        offsets=offsets or model.offsets,
    )


@pytest.fixture(scope="module")
def noise_by_rate(model: ResponderModel) -> ResponderModel:
    return _rebuilt(model)


def _class(score: DrugScore) -> int:
    match = score.matched_biomarker
    return UNMATCHED if match is None else match.matching_class


@pytest.mark.parametrize("rank_by", RANK_BY)
def test_each_rule_orders_the_list_as_documented(
    model: ResponderModel, planted, rank_by: str
) -> None:
    profiles, _ = planted
    for scores in rank_drugs(model, profiles[:40], top_k=0, rank_by=rank_by):
        assert [s.rank for s in scores] == list(range(1, len(scores) + 1))
        if rank_by == "evidence":
            keys = [(_class(s), -s.probability) for s in scores]
        else:
            keys = [-getattr(s, rank_by) for s in scores]
        assert keys == sorted(keys), (rank_by, keys)


def test_evidence_puts_a_matched_drug_above_a_likelier_unmatched_one(
    model: ResponderModel, planted
) -> None:
    profiles, _ = planted
    flipped = 0
    for evidence, probability in zip(
        rank_drugs(model, profiles, top_k=0, rank_by="evidence"),
        rank_drugs(model, profiles, top_k=0, rank_by="probability"),
        strict=True,
    ):
        if evidence[0].drug != probability[0].drug:
            flipped += 1
            assert _class(evidence[0]) < _class(probability[0])
    assert flipped  # the planted cohort has such profiles: the rule is exercised


def test_lift_is_the_probability_over_the_calibrated_base_rate(
    model: ResponderModel, planted
) -> None:
    profiles, _ = planted
    for scores in rank_drugs(model, profiles[:20], top_k=0):
        for s in scores:
            assert 0 <= s.base_rate <= 1
            assert s.lift == pytest.approx(s.probability - s.base_rate)


def test_a_rate_served_drug_has_no_lift_and_no_features(
    noise_by_rate: ResponderModel, planted
) -> None:
    profiles, _ = planted
    for scores in rank_drugs(noise_by_rate, profiles[:20], top_k=5):
        noise = next(s for s in scores if s.drug == "noise")
        assert noise.served_by == "rate"
        assert noise.probability == noise.base_rate and noise.lift == 0
        assert noise.top_features == ()
    dabrafenib = [
        next(s for s in scores if s.drug == "dabrafenib").lift
        for scores in rank_drugs(noise_by_rate, profiles, top_k=0)
    ]
    assert np.ptp(dabrafenib) > 0.1  # a model's lift moves with the genome


def test_a_cell_line_bundle_says_so_in_every_result(
    model: ResponderModel, planted
) -> None:
    cell_lines = _rebuilt(model, population="cell_line", endpoint="ic50_sensitivity")
    profiles, _ = planted
    for scores in rank_drugs(cell_lines, profiles[:5], top_k=0):
        for s in scores:
            assert s.reason is not None and CELL_LINE_REASON in s.reason
            assert not s.in_domain


def test_a_biomarker_served_drug_scores_by_its_fit(
    model: ResponderModel, planted, tmp_path: Path
) -> None:
    profiles, _ = planted
    fit = BiomarkerFit(intercept=-2.0, slope=1.0)
    by_biomarker = {"dabrafenib": "biomarker", "noise": "rate"}
    served = _rebuilt(
        model,
        by_biomarker,
        offsets=model.offsets.model_copy(update={"biomarker": {"dabrafenib": fit}}),
    )
    reloaded = ResponderModel.load(served.save(tmp_path / "bundle"))
    scores = np.array(
        [model.knowledge.biomarker_score(p, "dabrafenib") for p in profiles]
    )
    assert np.ptp(scores) > 0  # BRAF V600E carriers match class 1, others nothing
    raw = reloaded.score(profiles)["dabrafenib"]
    assert raw == pytest.approx(expit(fit.margin(scores)))
    for ranked in rank_drugs(reloaded, profiles[:10], top_k=5):
        dabrafenib = next(s for s in ranked if s.drug == "dabrafenib")
        assert dabrafenib.served_by == "biomarker" and dabrafenib.top_features == ()
    with pytest.raises(ValueError, match="biomarker fits and metadata disagree"):
        _rebuilt(model, by_biomarker)

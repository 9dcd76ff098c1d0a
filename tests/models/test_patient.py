"""explain_patient: the waterfall, the evidence and "k of n" on a real small bundle."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from features import Profile, event_tokens
from models import (
    ExplanationSet,
    ResponderModel,
    UnknownDrugError,
    explain_patient,
    rank_drugs,
)
from tests.models.review_model import ReviewFixture, build_review_model


@pytest.fixture(scope="module")
def fixture() -> ReviewFixture:
    return build_review_model()


@pytest.fixture
def braf_melanoma() -> Profile:
    return Profile(
        tumour_type="melanoma",
        alterations=[
            {"kind": "mutation", "gene": "BRAF", "protein_change": "V600E"},
            {"kind": "mutation", "gene": "TP53"},
        ],
        tmb_mut_per_mb=8.0,
    )


def _with_summary(model: ResponderModel, summary: ExplanationSet) -> ResponderModel:
    return ResponderModel(
        model.vectorizer,
        model.boosters,
        metadata=model.metadata,
        knowledge=model.knowledge,
        uncertainty=model.uncertainty,
        offsets=model.offsets,
        explanations=summary,
    )


def _sigmoid(margin: float) -> float:
    return float(1 / (1 + np.exp(-margin)))


def test_waterfall_steps_add_up_from_base_to_raw(
    fixture: ReviewFixture, braf_melanoma: Profile
) -> None:
    model = fixture.model
    explained = explain_patient(model, braf_melanoma, "dabrafenib", top_k=10)
    steps = explained.steps
    assert steps[0].start == explained.base_probability
    assert all(a.end == b.start for a, b in pairwise(steps))
    total = sum(step.delta for step in steps)
    assert total == pytest.approx(
        explained.raw_probability - explained.base_probability, abs=1e-12
    )
    # The end point is the booster's own prediction, reached another way.
    predicted = float(model.score([braf_melanoma])["dabrafenib"][0])
    assert explained.raw_probability == pytest.approx(predicted, abs=1e-6)
    base_margin = float(model.explain([braf_melanoma])["dabrafenib"][0, -1])
    assert explained.base_probability == pytest.approx(_sigmoid(base_margin))
    # The planted signal is the largest step, and it points towards response.
    assert steps[0].feature == "mutation BRAF"
    assert steps[0].delta > 0.3
    assert all(s.delta * s.shap >= 0 for s in steps)  # conversion keeps the sign


def test_top_k_groups_the_rest_into_one_step(
    fixture: ReviewFixture, braf_melanoma: Profile
) -> None:
    full = explain_patient(fixture.model, braf_melanoma, "dabrafenib", top_k=50)
    short = explain_patient(fixture.model, braf_melanoma, "dabrafenib", top_k=2)
    assert [s.feature for s in short.steps[:2]] == [s.feature for s in full.steps[:2]]
    assert short.steps[2].feature == f"other {len(full.steps) - 2} features"
    assert short.steps[2].shap == pytest.approx(sum(s.shap for s in full.steps[2:]))
    assert short.steps[-1].end == pytest.approx(full.steps[-1].end, abs=1e-12)
    none = explain_patient(fixture.model, braf_melanoma, "dabrafenib", top_k=0)
    assert [s.feature for s in none.steps] == [f"other {len(full.steps)} features"]


def test_calibrated_score_and_evidence_are_those_of_rank_drugs(
    fixture: ReviewFixture, braf_melanoma: Profile
) -> None:
    explained = explain_patient(fixture.model, braf_melanoma, "trametinib")
    ranked = rank_drugs(fixture.model, [braf_melanoma], top_k=0)[0]
    assert explained.score == next(s for s in ranked if s.drug == "trametinib")
    assert explained.score.matched_biomarker is not None
    assert explained.score.matched_biomarker.alteration == "mutation BRAF V600E"
    assert explained.summary is fixture.model.explanation("trametinib")


def _carriers(fixture: ReviewFixture, drug: str, token: str) -> tuple[int, int]:
    carrying = np.array([token in set(event_tokens(p)) for p in fixture.profiles])
    return int(carrying.sum()), int(fixture.outcomes[drug][carrying].sum())


def test_k_of_n_counts_the_training_samples_with_the_matched_alteration(
    fixture: ReviewFixture, braf_melanoma: Profile
) -> None:
    key = explain_patient(fixture.model, braf_melanoma, "dabrafenib").key_alteration
    assert key is not None
    # The matched biomarker, at its most specific column.
    assert (key.feature, key.chosen_by) == ("hotspot BRAF V600", "matched biomarker")
    n, responders = _carriers(fixture, "dabrafenib", "hotspot BRAF V600")
    assert (key.n, key.responders) == (n, responders)
    assert key.statement.startswith(
        f"{responders} of {n} training samples with dabrafenib and hotspot BRAF V600"
    )


def test_without_a_match_the_key_is_the_largest_positive_shap_alteration(
    fixture: ReviewFixture,
) -> None:
    profile = Profile(
        tumour_type="lung adenocarcinoma",
        alterations=[
            {"kind": "mutation", "gene": gene} for gene in ("KRAS", "PIK3CA", "TP53")
        ],
    )
    explained = explain_patient(fixture.model, profile, "paclitaxel")
    assert explained.score.matched_biomarker is None
    names = fixture.model.feature_names("paclitaxel")
    shap = fixture.model.explain([profile])["paclitaxel"][0, :-1]
    carried = [i for i, name in enumerate(names) if name in set(event_tokens(profile))]
    best = names[max(carried, key=lambda i: shap[i])]
    assert shap[names.index(best)] > 0
    key = explained.key_alteration
    assert key is not None
    assert (key.feature, key.chosen_by) == (best, "largest positive SHAP")
    assert (key.n, key.responders) == _carriers(fixture, "paclitaxel", best)


def test_a_suppressed_cell_is_said_as_fewer_than_5(
    fixture: ReviewFixture, braf_melanoma: Profile
) -> None:
    stored = fixture.model.explanations
    dabrafenib = stored.drugs["dabrafenib"]
    carriers = {
        name: cell
        for name, cell in dabrafenib.carriers.items()
        if name not in ("hotspot BRAF V600", "mutation BRAF")
    }
    drugs = {**stored.drugs, "dabrafenib": dabrafenib.model_copy(
        update={"carriers": carriers})}  # fmt: skip
    model = _with_summary(fixture.model, ExplanationSet(drugs=drugs))
    key = explain_patient(model, braf_melanoma, "dabrafenib").key_alteration
    assert key is not None
    assert (key.n, key.responders) == (None, None)
    assert key.statement == (
        "fewer than 5 training samples with dabrafenib had hotspot BRAF V600"
    )


def test_a_bundle_without_summaries_still_explains(
    fixture: ReviewFixture, braf_melanoma: Profile
) -> None:
    model = _with_summary(fixture.model, ExplanationSet())
    explained = explain_patient(model, braf_melanoma, "dabrafenib")
    assert explained.summary is None
    assert explained.steps
    assert explained.key_alteration is not None
    assert explained.key_alteration.n is None
    assert "no training counts" in explained.key_alteration.statement


def test_drug_names_resolve_through_synonyms_and_unknown_ones_raise(
    fixture: ReviewFixture, braf_melanoma: Profile
) -> None:
    assert explain_patient(fixture.model, braf_melanoma, "Tafinlar").drug == (
        "dabrafenib"
    )
    assert issubclass(UnknownDrugError, KeyError)
    with pytest.raises(UnknownDrugError, match="'aspirin' is not scored by this"):
        explain_patient(fixture.model, braf_melanoma, "aspirin")
    with pytest.raises(ValueError, match="top_k"):
        explain_patient(fixture.model, braf_melanoma, "dabrafenib", top_k=-1)

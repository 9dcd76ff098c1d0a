from pathlib import Path

import numpy as np
import pytest

from features import Alteration, Profile
from models import BundleIntegrityError, ResponderModel, rank_drugs

BRAF_MELANOMA = Profile(
    tumour_type="melanoma",
    alterations=(Alteration(kind="mutation", gene="BRAF", protein_change="V600E"),),
)


@pytest.mark.usefixtures("refuse_pickle")
def test_reloaded_bundle_predicts_identically(
    model: ResponderModel, bundle: Path, planted
) -> None:
    reloaded = ResponderModel.load(bundle)
    profiles = planted[0]
    for drug, expected in model.score(profiles).items():
        np.testing.assert_array_equal(reloaded.score(profiles)[drug], expected)
    assert reloaded.metadata == model.metadata.model_copy(
        update={"booster_files": reloaded.metadata.booster_files}
    )


def test_shap_values_plus_base_equal_the_margin(model: ResponderModel, planted) -> None:
    profiles = planted[0][:50]
    probabilities = model.score(profiles)
    for drug, contributions in model.explain(profiles).items():
        margin = contributions.sum(axis=1)
        np.testing.assert_allclose(
            1 / (1 + np.exp(-margin)), probabilities[drug], atol=1e-5
        )


@pytest.mark.parametrize(
    "target",
    ["metadata.json", "vectorizer.json", "boosters/000.ubj", "uncertainty.json"],
)
def test_a_changed_byte_fails_verification(bundle: Path, target: str) -> None:
    path = bundle / target
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(BundleIntegrityError, match="SHA-256"):
        ResponderModel.load(bundle)


def test_extra_or_missing_files_fail_verification(bundle: Path) -> None:
    (bundle / "boosters" / "999.ubj").write_bytes(b"x")
    with pytest.raises(BundleIntegrityError, match="unexpected"):
        ResponderModel.load(bundle)
    (bundle / "boosters" / "999.ubj").unlink()
    (bundle / "boosters" / "000.ubj").unlink()
    with pytest.raises(BundleIntegrityError, match="missing"):
        ResponderModel.load(bundle)


def test_save_refuses_to_overwrite(model: ResponderModel, bundle: Path) -> None:
    with pytest.raises(FileExistsError):
        model.save(bundle)


def test_planted_signal_ranks_first_with_its_feature(model: ResponderModel) -> None:
    ranked = rank_drugs(
        model, [BRAF_MELANOMA, Profile(tumour_type="colorectal")], top_k=3
    )
    braf, plain = ranked
    assert [s.drug for s in braf] == ["dabrafenib", "noise"]
    assert [s.rank for s in braf] == [1, 2]
    dabrafenib_plain = next(s for s in plain if s.drug == "dabrafenib")
    assert braf[0].probability > 0.6 > 0.3 > dabrafenib_plain.probability
    # BRAF mutation and the V600 hotspot always co-occur here; either may lead.
    assert "BRAF" in braf[0].top_features[0].feature
    assert braf[0].top_features[0].shap > 0
    assert braf[0].top_features[0].value == 1.0
    assert len(braf[0].top_features) <= 3


def test_unseen_tumour_type_is_flagged(model: ResponderModel) -> None:
    unseen = Profile(tumour_type="mesothelioma")
    scores = rank_drugs(model, [unseen, BRAF_MELANOMA])
    assert {s.tumour_type_seen for s in scores[0]} == {False}
    assert {s.tumour_type_seen for s in scores[1]} == {True}
    assert {s.in_domain for s in scores[0]} == {False}
    assert all("'mesothelioma' not in" in str(s.reason) for s in scores[0])
    assert {(s.in_domain, s.reason) for s in scores[1]} == {(True, None)}

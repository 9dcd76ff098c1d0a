"""The bundle a Bento carries: pinned into BentoML's model store, loaded back
verified (serving/_pinned.py, serving/pin.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from bentoml._internal.configuration.containers import BentoMLContainer
from bentoml._internal.models import ModelStore

from features import Alteration, Profile
from models import BundleIntegrityError, ResponderModel
from serving import pin
from serving._pinned import load_pinned, pin_bundle

# bentoml 1.4.40's model store builds pathspec patterns with the deprecated
# 'gitwildmatch' name (not ours to change).
pytestmark = pytest.mark.filterwarnings("ignore:GitWildMatchPattern:DeprecationWarning")

PROFILES = [
    Profile(
        tumour_type="melanoma",
        alterations=(Alteration(kind="mutation", gene="BRAF", protein_change="V600E"),),
    ),
    Profile(tumour_type="cml"),
]


@pytest.fixture
def model_store(tmp_path: Path) -> Iterator[Path]:
    """BentoML's model store in a temporary folder for one test."""
    folder = tmp_path / "models"
    folder.mkdir()
    with BentoMLContainer.model_store.patch(ModelStore(str(folder))):
        yield folder


def test_a_pinned_bundle_loads_back_identical_once_however_often_pinned(
    model_store: Path, bundle_path: Path
) -> None:
    model = ResponderModel.load(bundle_path)
    tag = pin_bundle(model, version="4", source="test")
    assert pin_bundle(model, version="4", source="test") == tag
    assert len(list(model_store.glob("rediscover-bundle/*/model.yaml"))) == 1
    pinned, version = load_pinned(tag)
    assert version == "4"
    expected, got = model.score(PROFILES), pinned.score(PROFILES)
    assert expected.keys() == got.keys()
    for drug in expected:
        np.testing.assert_array_equal(got[drug], expected[drug])


def test_a_pinned_bundle_with_rewritten_checksums_is_refused(
    model_store: Path, bundle_path: Path
) -> None:
    tag = pin_bundle(ResponderModel.load(bundle_path), version="1", source="test")
    (checksums,) = model_store.glob("rediscover-bundle/*/bundle/checksums.json")
    listed = json.loads(checksums.read_text())
    listed[next(iter(listed))] = "0" * 64
    checksums.write_text(json.dumps(listed))
    with pytest.raises(BundleIntegrityError, match="differs from the one recorded"):
        load_pinned(tag)


def test_pinning_without_a_champion_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("REDISCOVER_BUNDLE", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.setenv("REDISCOVER_CACHE_DIR", str(tmp_path / "cache"))
    assert pin.main() == pin.ENVIRONMENT_ERROR
    err = capsys.readouterr().err  # MLflow's own lines creating the store first
    assert err.strip().splitlines()[-1].startswith("error: no bundle to pin: ")
    assert "Traceback" not in err

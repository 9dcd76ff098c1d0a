import re
from pathlib import Path

import pytest

from features import load_drug_knowledge
from models import ResponderModel, download_bundle
from tests.training.cohorts import planted_cohort
from tests.training.conftest import small_config
from training.fitting import FitPlan, train_bundle
from training.registry import (
    MODEL_CARD,
    client_for,
    model_card,
    register_bundle,
    registry_description,
    summarise_cohort,
    tracked_run,
)

BOARD = "not a substitute for a molecular tumour board"


@pytest.fixture(scope="module")
def planted_model(tmp_path_factory: pytest.TempPathFactory) -> ResponderModel:
    cohort = planted_cohort()
    plan = FitPlan(
        small_config(tmp_path_factory.mktemp("card"), min_samples=50),
        drugs=list(cohort.drugs),
        knowledge=load_drug_knowledge(),
    )
    return train_bundle(cohort, plan=plan, data_source="planted")


def test_card_covers_use_provenance_performance_and_limits(
    planted_model: ResponderModel, tmp_path: Path
) -> None:
    cohort = planted_cohort()
    evaluation = {
        "split": "grouped",
        "overall": {"n": 600, "auroc": 0.71},
        "tumour_types": {
            "melanoma": {"n": 190, "responders": 60, "auroc": 0.8, "curve": [1, 2]},
            "colorectal": {"n": 210, "responders": 40, "auroc": None},
        },
    }
    card = model_card(
        planted_model,
        config=small_config(tmp_path),
        cohort_summary=summarise_cohort(cohort),
        evaluation=evaluation,
    )
    for heading in ("Intended use", "Data provenance", "Performance", "Known limits"):
        assert f"## {heading}" in card
    assert BOARD in card and "not for on-label treatment choice" in card
    assert cohort.data_hash() in card
    assert "- samples: 300" in card
    assert "| braf inhibitor | per-drug | 300 |" in card  # per-drug subgroup row
    assert "| melanoma | 190 | 60 | 0.800 |" in card  # per tumour type
    assert "| colorectal | 210 | 40 | n/a |" in card
    assert "curve" not in card  # only scalar metrics become columns
    assert "`given` (2 drugs)" in card
    assert not re.search(r"\bs\d+\b", card), "the card names a sample"


def test_registry_description_fits_the_store() -> None:
    short = "# card\n\nshort\n"
    assert registry_description(short) == short
    long = "# card\n" + "| row | 0.5 |\n" * 1000
    cut = registry_description(long)
    assert len(cut) <= 5000 and cut.endswith(
        f"the full card is the run's {MODEL_CARD}.)\n"
    )


def test_registered_version_carries_the_model_card(
    planted_model: ResponderModel, tmp_path: Path
) -> None:
    config = small_config(tmp_path)
    with tracked_run(config, kind="train", tags={}) as run_id:
        version = register_bundle(
            config, run_id, planted_model, cohort_summary={"n_samples": 300}
        )
    client = client_for(config.tracking)
    description = client.get_model_version(
        config.tracking.registered_model, version
    ).description
    assert BOARD in description
    assert planted_model.metadata.data_hash in description
    assert "Cut to fit" not in description and len(description) <= 5000
    assert MODEL_CARD in {a.path for a in client.list_artifacts(run_id)}
    card = Path(client.download_artifacts(run_id, MODEL_CARD, str(tmp_path)))
    assert "| placebo | rate |" in card.read_text()  # no signal to learn
    # The version is the run's logged (pyfunc) model; its bundle has no card, so
    # the checksums cover the bundle alone.
    entry = client.get_model_version(config.tracking.registered_model, version)
    outputs = client.get_run(run_id).outputs.model_outputs
    assert [f"models:/{output.model_id}" for output in outputs] == [entry.source]
    bundle = download_bundle(client, entry, tmp_path / "v")
    assert (bundle / "checksums.json").is_file()
    assert not (bundle / MODEL_CARD).exists()

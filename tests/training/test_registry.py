from pathlib import Path

from features import load_drug_knowledge
from models import load_registered_bundle
from tests.training.conftest import small_config
from tests.training.test_train import planted_cohort
from training import register_bundle, train_bundle, training_run


def test_stores_with_the_same_version_number_never_share_a_cache_entry(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "shared-cache"
    served = {}
    for store, drug in (("a", "placebo"), ("b", "braf inhibitor")):
        config = small_config(tmp_path / store, min_samples=50)
        config = config.model_copy(
            update={"serving": config.serving.model_copy(update={"cache_dir": cache})}
        )
        with training_run(config, tags={}) as run_id:
            model = train_bundle(
                planted_cohort(), config=config, drugs=[drug], data_source=store,
                knowledge=load_drug_knowledge(),
            )  # fmt: skip
            assert register_bundle(config, run_id, model) == "1"
        served[store], _ = load_registered_bundle(
            tracking_uri=config.tracking.uri,
            model_name=config.tracking.registered_model,
            alias="champion",
            cache_dir=cache,
        )
    assert served["a"].drugs == ["placebo"]
    assert served["b"].drugs == ["braf inhibitor"]

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features import ProfileVectorizer, load_drug_knowledge
from tests.training.conftest import small_config
from tests.training.test_train import planted_cohort
from training.config import Config
from training.data import Cohort
from training.evaluation import (
    ASSOCIATIONS,
    Association,
    HeldOutShap,
    association_table,
    check_associations,
    feature_groups,
    held_out_shap,
    ranking_stability,
    shap_ranking,
)
from training.evaluation._held_out_shap import _flagged_by

KNOWLEDGE = load_drug_knowledge()


def quick_config(tmp_path: Path) -> Config:
    """Three grouped folds and 60 trees: fast enough for a test on all of GDSC."""
    config = small_config(tmp_path)
    return config.model_copy(
        update={"xgboost": config.xgboost.model_copy(update={"n_estimators": 60})}
    )


def test_identical_columns_form_one_group() -> None:
    X = np.array([[1, 1, 0, 1], [0, 0, 1, 1], [1, 1, 0, 0]], dtype=np.float32)
    names = ["fusion BCR", "fusion BCR-ABL1", "mutation TP53", "msi high"]
    assert feature_groups(X, names) == {
        "fusion BCR = fusion BCR-ABL1": ("fusion BCR", "fusion BCR-ABL1"),
        "mutation TP53": ("mutation TP53",),
        "msi high": ("msi high",),
    }


def test_planted_biomarker_tops_the_held_out_ranking_in_every_fold(
    tmp_path: Path,
) -> None:
    cohort = planted_cohort()
    results = held_out_shap(
        cohort, config=quick_config(tmp_path), drugs=["braf inhibitor", "placebo"],
        knowledge=KNOWLEDGE,
    )  # fmt: skip
    signal = shap_ranking(results["braf inhibitor"], top_k=1)
    top = signal.iloc[0]
    # Every planted BRAF mutation is V600E, so the hotspot column is the same one.
    assert top["feature"] == "hotspot BRAF V600 = mutation BRAF"
    assert results["braf inhibitor"].group_of("mutation BRAF") == top["feature"]
    assert top["rank"] == 1 and top["top_k_share"] == 1.0
    assert top["carrier_shap"] > 1.0  # carrying BRAF raises the log-odds
    assert top["response_difference"] > 0.5
    # Each held-out episode is scored exactly once, so carriers add up to the data.
    braf = sum(any(a.gene == "BRAF" for a in p.alterations) for p in cohort.profiles)
    assert top["n_carriers"] == braf
    noise = shap_ranking(results["placebo"], top_k=1)
    assert noise["mean_abs_shap"].max() < top["mean_abs_shap"] / 3
    stable = ranking_stability(results["braf inhibitor"], top_k=1)
    assert stable["jaccard_top_k"] == 1.0 and stable["n_folds"] == 3


def test_a_flag_set_on_nearly_all_carriers_encodes_the_biomarker() -> None:
    # 10 samples: BRAF on 0-4, NRAS on 5-6, the MEK inhibitor's match flag on
    # BRAF and NRAS carriers and one other; TP53 on 0, 7 and 8.
    carries = np.zeros((10, 4), dtype=bool)
    carries[:5, 0] = carries[5:7, 1] = True
    carries[[0, 1, 2, 3, 4, 5, 6, 9], 2] = True
    carries[[0, 7, 8], 3] = True
    members = {
        "mutation BRAF": ("mutation BRAF",),
        "mutation NRAS": ("mutation NRAS",),
        "match class 2 = target match": ("match class 2", "target match"),
        "mutation TP53": ("mutation TP53",),
    }
    assert _flagged_by(carries, members) == {
        "mutation BRAF": ("match class 2 = target match",),
        "mutation NRAS": ("match class 2 = target match",),
    }


def test_stability_of_identical_folds_is_perfect() -> None:
    importance = pd.DataFrame(
        {0: [0.5, 0.2, 0.1, 0.0], 1: [0.5, 0.2, 0.1, 0.0]},
        index=pd.Index(["a", "b", "c", "d"], name="feature"),
    )
    result = HeldOutShap(
        drug="x",
        groups=pd.DataFrame({"mean_abs_shap": importance[0]}),
        fold_mean_abs=importance,
        members={name: (name,) for name in importance.index},
        flagged_by={},
    )
    assert ranking_stability(result, top_k=2) == {
        "spearman": 1.0, "kendall": 1.0, "jaccard_top_k": 1.0, "n_folds": 2,
    }  # fmt: skip


def test_associations_are_ranked_and_judged(tmp_path: Path) -> None:
    associations = [
        Association("braf inhibitor", "mutation BRAF", "positive", "sensitivity", "x"),
        Association("braf inhibitor", "amplification ERBB2", "negative", "none", "x"),
        Association(
            "braf inhibitor", "fusion BCR-ABL1", "positive", "sensitivity", "x"
        ),
        Association("aspirin", "mutation BRAF", "positive", "sensitivity", "x"),
    ]
    table = check_associations(
        planted_cohort(), config=quick_config(tmp_path), associations=associations,
        top_k=1, knowledge=KNOWLEDGE,
    )  # fmt: skip
    assert list(table["feature"]) == list(
        ["mutation BRAF", "amplification ERBB2", "fusion BCR-ABL1"]
    )  # the drug missing from the cohort is skipped
    assert list(table["rank"].iloc[:1]) == [1]
    assert list(table["as_expected"]) == [True, True, False]
    assert table["direction_ok"].iloc[0]
    # No profile carries the fusion: no rank, not recovered, no direction.
    assert np.isnan(table["rank"].iloc[2]) and not table["recovered"].iloc[2]
    assert table["n_carriers"].iloc[2] == 0


def test_the_association_table_cites_every_row() -> None:
    table = association_table()
    assert not table.duplicated(["drug", "feature"]).any()
    assert table["citation"].str.contains(r"(?:19|20)\d\d\)").all()
    assert set(table["expected"]) == {"positive", "negative"}


@pytest.mark.real_data
def test_gdsc_models_recover_the_literature_biomarkers(
    gdsc: Cohort, tmp_path: Path
) -> None:
    config = quick_config(tmp_path)
    columns = ProfileVectorizer(min_count=config.features.min_count).fit(gdsc.profiles)
    assert {a.drug for a in ASSOCIATIONS} <= set(gdsc.drugs)
    assert {a.feature for a in ASSOCIATIONS} <= set(columns.get_feature_names_out())

    table = check_associations(gdsc, config=config, top_k=5, knowledge=KNOWLEDGE)

    # Strong a priori (large effect, >= 50 carriers): BRAF -> BRAF and MEK
    # inhibitors, TP53 -> nutlin-3a resistance. All in the top 5, right sign: by
    # their own column, or (BRAF on the MEK inhibitors, whose knowledge matches
    # BRAF, NRAS and KRAS) by the knowledge flag that encodes them.
    strong = table[table["strong"]]
    assert len(strong) == 8
    shown = strong[["drug", "feature", "rank", "knowledge_rank"]]
    assert strong["recovered_with_knowledge"].all(), shown
    assert strong["direction_ok"].all()
    negatives = table[table["expected"] == "negative"]
    assert not negatives["recovered"].any(), negatives[["drug", "feature", "rank"]]
    assert negatives["knowledge_rank"].isna().all()  # no flag encodes a control
    # Recorded, not required (3 folds, 60 trees): NRAS -> MEK inhibitors, ERBB2
    # amplification -> afatinib, EGFR -> gefitinib and afatinib are in the top 5
    # too; BCR-ABL1 (5-6 lines, all CML: the tumour-type offset carries them),
    # FLT3, MDM2, EWSR1 fusions, ERBB2 -> lapatinib and EGFR -> erlotinib are not.


def test_an_association_table_without_cohort_drugs_is_refused(tmp_path: Path) -> None:
    aspirin = Association("aspirin", "mutation BRAF", "positive", "sensitivity", "x")
    with pytest.raises(ValueError, match="aspirin"):
        check_associations(
            planted_cohort(),
            config=quick_config(tmp_path),
            associations=[aspirin],
            knowledge=KNOWLEDGE,
        )

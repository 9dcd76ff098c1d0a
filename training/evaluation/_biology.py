"""Explanations checked against biology: literature biomarker -> drug associations
that a cell-line screen should show, and whether the held-out SHAP rankings do.

Positive controls are pharmacogenomic associations established in the GDSC / CCLE
screens and the drugs' preclinical papers; negative controls pair a common biomarker
with a drug whose target has nothing to do with it and for which no association was
reported. Feature names follow :class:`features.ProfileVectorizer`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from features import DrugKnowledge
from training.config import Config
from training.data import Cohort
from training.evaluation._held_out_shap import (
    held_out_shap,
    ranking_stability,
    shap_ranking,
)

logger = logging.getLogger(__name__)

GARNETT_2012 = "Garnett MJ et al. Nature 483:570-575 (2012)"
BARRETINA_2012 = "Barretina J et al. (CCLE) Nature 483:603-607 (2012)"
IORIO_2016 = "Iorio F et al. Cell 166:740-754 (2016)"
SOLIT_2006 = "Solit DB et al. Nature 439:358-362 (2006)"
ABSENT = "no association reported in the GDSC screens (Garnett 2012; Iorio 2016)"


@dataclass(frozen=True)
class Association:
    """A biomarker -> drug association to look for in a drug's SHAP ranking.

    ``strong`` marks the positive controls expected, before looking, to reach the
    top features: a large effect in the literature and enough carriers in GDSC
    (a mean |SHAP| averages over every sample, so a rare biomarker ranks low even
    when its effect on carriers is large).
    """

    drug: str
    feature: str
    expected: Literal["positive", "negative"]
    effect: Literal["sensitivity", "resistance", "none"]
    citation: str
    strong: bool = False


def _positive(
    drugs: Sequence[str],
    feature: str,
    citation: str,
    *,
    effect: Literal["sensitivity", "resistance"] = "sensitivity",
    strong: bool = False,
) -> list[Association]:
    return [
        Association(drug, feature, "positive", effect, citation, strong)
        for drug in drugs
    ]


def _negative(drug: str, feature: str, why: str) -> Association:
    return Association(drug, feature, "negative", "none", f"{why}; {ABSENT}")


ASSOCIATIONS: tuple[Association, ...] = (
    # BRAF V600 -> BRAF inhibitors: the largest effects in both screens.
    *_positive(["dabrafenib"], "mutation BRAF", IORIO_2016, strong=True),
    *_positive(
        ["plx-4720"],
        "mutation BRAF",
        f"{GARNETT_2012}; {BARRETINA_2012}; Tsai J et al. PNAS 105:3041 (2008)",
        strong=True,
    ),
    *_positive(
        ["sb590885"],
        "mutation BRAF",
        f"{GARNETT_2012}; King AJ et al. Cancer Res 66:11100 (2006)",
        strong=True,
    ),
    # BRAF (and NRAS) -> MEK inhibitors, downstream in the same pathway.
    *_positive(
        ["trametinib", "selumetinib", "refametinib", "pd0325901"],
        "mutation BRAF",
        f"{SOLIT_2006}; {GARNETT_2012}; {BARRETINA_2012}; {IORIO_2016}",
        strong=True,
    ),
    *_positive(
        ["trametinib", "selumetinib", "pd0325901"],
        "mutation NRAS",
        f"{BARRETINA_2012}; {GARNETT_2012}",
    ),
    # BCR-ABL1 -> ABL inhibitors: decisive biology, but 6 fusion lines in GDSC.
    *_positive(
        ["nilotinib", "imatinib", "dasatinib"],
        "fusion BCR-ABL1",
        f"{GARNETT_2012}; {IORIO_2016}; Druker BJ et al. Nat Med 2:561 (1996)",
    ),
    # ERBB2 amplification -> ERBB2/EGFR inhibitors.
    *_positive(
        ["lapatinib", "afatinib"],
        "amplification ERBB2",
        f"{GARNETT_2012}; Konecny GE et al. Cancer Res 66:1630 (2006)",
    ),
    # EGFR activating mutation -> EGFR inhibitors.
    *_positive(
        ["erlotinib", "gefitinib", "afatinib"],
        "mutation EGFR",
        f"Paez JG et al. Science 304:1497 (2004); Lynch TJ et al. NEJM 350:2129 "
        f"(2004); Li D et al. Oncogene 27:4702 (2008); {GARNETT_2012}",
    ),
    # EWSR1-FLI1 (Ewing sarcoma) -> PARP inhibitors.
    *_positive(
        ["olaparib", "talazoparib"],
        "fusion EWSR1-FLI1",
        f"{GARNETT_2012}; Brenner JC et al. Cancer Res 72:1608 (2012); "
        "Stewart E et al. Cell Rep 9:829 (2014)",
    ),
    # MDM2 antagonist: needs wild-type p53; MDM2 amplification sensitises.
    *_positive(
        ["nutlin-3a (-)"],
        "mutation TP53",
        f"Vassilev LT et al. Science 303:844 (2004); {GARNETT_2012}; {IORIO_2016}",
        effect="resistance",
        strong=True,
    ),
    *_positive(
        ["nutlin-3a (-)"],
        "amplification MDM2",
        "Vassilev LT et al. Science 303:844 (2004)",
    ),
    # FLT3 -> FLT3 inhibitors (11 mutant lines, mostly AML).
    *_positive(
        ["quizartinib"],
        "mutation FLT3",
        "Zarrinkar PP et al. Blood 114:2984 (2009)",
    ),
    *_positive(
        ["midostaurin"],
        "mutation FLT3",
        "Weisberg E et al. Cancer Cell 1:433 (2002)",
    ),
    # The vectorizer also emits "fusion EWSR1" for every EWSR1 fusion: in GDSC the
    # 18 EWSR1-FLI1 lines and 6 Ewing sarcoma lines with an unnamed partner.
    *_positive(
        ["olaparib", "talazoparib"],
        "fusion EWSR1",
        f"{GARNETT_2012} (EWS fusions of Ewing sarcoma)",
    ),
    _negative("imatinib", "mutation BRAF", "ABL/KIT/PDGFR inhibitor, BRAF no target"),
    _negative("nilotinib", "mutation BRAF", "ABL inhibitor, BRAF no target"),
    _negative("olaparib", "mutation BRAF", "PARP inhibitor, no MAPK dependence"),
    _negative("nutlin-3a (-)", "amplification ERBB2", "MDM2 antagonist, ERBB2 no role"),
    _negative("lapatinib", "fusion EWSR1-FLI1", "ERBB2/EGFR inhibitor, no role"),
    _negative("dabrafenib", "mutation EGFR", "BRAF inhibitor, EGFR upstream of RAS"),
    _negative("dabrafenib", "fusion BCR-ABL1", "BRAF inhibitor, ABL no target"),
)


def association_table(
    associations: Sequence[Association] = ASSOCIATIONS,
) -> pd.DataFrame:
    """The associations as a table (drug, feature, expected, effect, citation)."""
    return pd.DataFrame([asdict(a) for a in associations])


def check_associations(
    cohort: Cohort,
    *,
    config: Config,
    knowledge: DrugKnowledge,
    associations: Sequence[Association] = ASSOCIATIONS,
    top_k: int = 5,
    folds: pd.Series | None = None,
) -> pd.DataFrame:
    """Rank each association's biomarker in its drug's held-out SHAP ranking.

    Drugs missing from the cohort are skipped (logged). Returns one row per
    association: the table's columns plus ``rank`` (1 = largest mean |SHAP|; NaN
    when no training fold had the feature), ``mean_abs_shap``, ``recovered`` (rank
    <= ``top_k``), ``as_expected`` (recovered for a positive control, not for a
    negative one), ``carrier_shap`` (mean signed SHAP on held-out carriers),
    ``direction_ok`` (its sign matches the effect; NaN when no held-out carrier
    was scored by a model that used the feature), ``n_carriers`` (held out),
    ``response_difference`` (responder rate of carriers minus non-carriers in the
    data), ``top_k_share`` (share of folds where it is in the fold's top-k),
    ``fold_ranks``, the agreement of the drug's whole ranking across folds
    (``drug_spearman``, ``drug_kendall``, ``drug_jaccard_top_k``; see
    :func:`ranking_stability`) and ``group`` (the columns identical to the feature
    on the drug's samples, ranked as one). A biomarker the drug's knowledge
    encodes can be learnt from the knowledge flag instead of its own column
    (``match class 2`` for BRAF, NRAS and KRAS on a MEK inhibitor):
    ``knowledge_rank`` is the best rank of a flag set on >= 90% of its carriers
    and ``recovered_with_knowledge`` counts either.
    """
    known = [a for a in associations if a.drug in set(cohort.drugs)]
    if skipped := sorted({a.drug for a in associations} - {a.drug for a in known}):
        logger.info("drugs not in the cohort, associations skipped: %s", skipped)
    drugs = sorted({a.drug for a in known})
    if not drugs:
        raise ValueError(
            f"none of the associations' drugs is in the cohort ({skipped[:5]}...); "
            f"its drugs include {list(cohort.drugs[:5])}"
        )
    results = held_out_shap(
        cohort, config=config, drugs=drugs, knowledge=knowledge, folds=folds
    )
    rankings = {
        d: shap_ranking(r, top_k=top_k).set_index("feature") for d, r in results.items()
    }
    stability = {d: ranking_stability(r, top_k=top_k) for d, r in results.items()}
    rows = []
    for association in known:
        result, ranking = results[association.drug], rankings[association.drug]
        group = result.group_of(association.feature)
        flags = list(result.flagged_by.get(group or "", ()))
        rows.append(
            {
                **asdict(association),
                "group": group or association.feature,
                **_locate(ranking, group),
                "knowledge_rank": ranking.loc[flags, "rank"].min() if flags else np.nan,
                **{
                    f"drug_{name}": stability[association.drug][name]
                    for name in ("spearman", "kendall", "jaccard_top_k")
                },
            }
        )
    table = pd.DataFrame(rows)
    recovered = table["rank"] <= top_k
    table.insert(list(table.columns).index("rank") + 1, "recovered", recovered)
    table["recovered_with_knowledge"] = recovered | (table["knowledge_rank"] <= top_k)
    table["as_expected"] = recovered.where(table["expected"] == "positive", ~recovered)
    sign = table["effect"].map({"sensitivity": 1.0, "resistance": -1.0})
    table["n_carriers"] = table["n_carriers"].fillna(0).astype(int)
    # No direction when no held-out carrier met a model that had the column.
    judged = sign.notna() & table["rank"].notna() & (table["carrier_shap"] != 0)
    table["direction_ok"] = (np.sign(table["carrier_shap"]) == sign).where(judged)
    return table


def _locate(ranking: pd.DataFrame, group: str | None) -> dict[str, Any]:
    if group is None:  # no sample treated with the drug carries the feature
        return {"rank": np.nan, "n_carriers": 0}
    row = {str(k): v for k, v in ranking.loc[group].items()}
    fold_ranks = [row.pop(k) for k in list(row) if k.startswith("rank_fold_")]
    # "-": that fold's model did not use the feature.
    shown = ",".join("-" if np.isnan(r) else f"{r:.0f}" for r in fold_ranks)
    return {**row, "fold_ranks": shown}

"""Explanations of the models: responder subgroups, the bundle's per-drug summaries
and the ``rediscover explain`` report (:mod:`._report`, :mod:`._writing`,
:mod:`._plots`). The report builds on :mod:`training.evaluation`, which builds on
the training pipeline, which fills the summaries: so the report is not imported
here (that would be an import cycle) but exported by :mod:`training`.

`discover_subgroups` finds candidate selection rules on out-of-fold predictions
and judges them on observed outcomes; `summarise_explanations` fills the bundle's
``explanations.json`` at train time.
"""

from training.explanation._subgroups import (
    MAX_RULES,
    MIN_SELECTED,
    RULE_FEATURES,
    best_rules,
    candidate_rules,
    describe,
    discover_subgroups,
    judge,
    rule_carriers,
    select,
    tree_rules,
)
from training.explanation._summaries import (
    MIN_CARRIERS,
    binary_columns,
    carrier_counts,
    carrier_frame,
    served_episodes,
    summarise_drug,
    summarise_explanations,
    top_features,
)

__all__ = [
    "MAX_RULES",
    "MIN_CARRIERS",
    "MIN_SELECTED",
    "RULE_FEATURES",
    "best_rules",
    "binary_columns",
    "candidate_rules",
    "carrier_counts",
    "carrier_frame",
    "describe",
    "discover_subgroups",
    "judge",
    "rule_carriers",
    "select",
    "served_episodes",
    "summarise_drug",
    "summarise_explanations",
    "top_features",
    "tree_rules",
]

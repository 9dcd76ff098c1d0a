"""The `rediscover explain` report: held-out SHAP per drug, subgroup rules,
interactions, figures and an HTML index."""

from training.explanation._findings import (
    MAX_PLACEBO_RATE,
    PLACEBO_PERMUTATIONS,
    CheckedRule,
    HeldOutRate,
    TopRuleCheck,
)
from training.explanation._report import DrugReport, explain_drugs
from training.explanation._writing import (
    check_replaceable,
    is_explain_output,
    write_explanations,
)

__all__ = [
    "MAX_PLACEBO_RATE",
    "PLACEBO_PERMUTATIONS",
    "CheckedRule",
    "DrugReport",
    "HeldOutRate",
    "TopRuleCheck",
    "check_replaceable",
    "explain_drugs",
    "is_explain_output",
    "write_explanations",
]

"""Ranked scores as a flat table: one row per profile x drug, every field of a
``/score`` result (interval and matched biomarker split into their parts).

The one shape shared by ``rediscover score --out`` files and the MLflow pyfunc
model's ``predict`` (README, "Scoring from files" and "The MLflow model").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from features import Profile
from models._ranking import DrugScore, FeatureContribution

# The model's version, population and endpoint are on every row.
SCORE_COLUMNS: tuple[str, ...] = (
    "profile", "sample_id", "model_version", "population", "endpoint", "drug",
    "rank", "probability", "raw_probability", "base_rate", "lift", "interval_low",
    "interval_high", "prediction_set", "coverage", "in_domain", "reason",
    "n_training_samples", "tumour_type_seen", "served_by", "matched_class",
    "matched_alteration", "matched_evidence", "matched_on_label", "top_features",
)  # fmt: skip


def score_columns(
    profiles: Sequence[Profile],
    ranked: Sequence[Sequence[DrugScore]],
    *,
    first: int,
    model: Mapping[str, str],
) -> dict[str, list[Any]]:
    """The rows of ``ranked`` (one list per profile), column by column.

    ``first`` is the 1-based number of the first profile in the input; ``model``
    holds the model's ``model_version``, ``population`` and ``endpoint``.
    """
    flat = [score for scores in ranked for score in scores]
    counts = [len(scores) for scores in ranked]
    matches = [score.matched_biomarker for score in flat]

    def repeat(values: Sequence[Any]) -> list[Any]:
        return [v for v, n in zip(values, counts, strict=True) for _ in range(n)]

    columns = {
        "profile": repeat(range(first, first + len(profiles))),
        "sample_id": repeat([p.sample_id for p in profiles]),
        **{key: [model[key]] * len(flat) for key in
           ("model_version", "population", "endpoint")},
        "interval_low": [s.interval[0] for s in flat],
        "interval_high": [s.interval[1] for s in flat],
        "matched_class": [m and m.matching_class for m in matches],
        "matched_alteration": [m and m.alteration for m in matches],
        "matched_evidence": [m and m.evidence for m in matches],
        "matched_on_label": [m and m.on_label for m in matches],
        "top_features": [_features(s.top_features) for s in flat],
    }  # fmt: skip
    # Every other column is the scores' attribute of that name.
    return {
        name: columns[name] if name in columns else [getattr(s, name) for s in flat]
        for name in SCORE_COLUMNS
    }


def _features(
    contributions: Sequence[FeatureContribution],
) -> Sequence[dict[str, Any]]:
    # Most drugs are not explained: their empty tuple is shared, not copied.
    if not contributions:
        return ()
    return [{"feature": f.feature, "value": f.value, "shap": f.shap}
            for f in contributions]  # fmt: skip

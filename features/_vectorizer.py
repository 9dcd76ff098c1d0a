"""Profile -> feature vector, as a scikit-learn transformer with JSON-plain state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from features._schema import Profile
from features._tumour_types import canonical_tumour_type, lineage_of

STATE_VERSION = 1
# Numeric biomarkers, as (profile field, feature name); a missing value stays NaN,
# which XGBoost routes down the learned default branch.
_NUMERIC = (
    ("msi_high", "msi high"),
    ("tmb_mut_per_mb", "tmb mut per mb"),
    ("hrd_score", "hrd score"),
)


def as_profiles(X: Any) -> list[Profile]:
    """Validate profiles given as Profile objects, mappings or a DataFrame of them."""
    if isinstance(X, pd.DataFrame):
        records: Iterable[Any] = (
            {k: v for k, v in row.items() if not _is_missing(v)}
            for row in X.to_dict(orient="records")
        )
    elif isinstance(X, Profile | Mapping | str | bytes) or not isinstance(X, Iterable):
        raise TypeError(
            "X must be a sequence of profiles (Profile objects or mappings) or a "
            f"DataFrame with one profile per row; got {type(X).__name__}"
        )
    else:
        records = X
    profiles = [
        p if isinstance(p, Profile) else Profile.model_validate(p) for p in records
    ]
    if not profiles:
        raise ValueError("X holds no profiles; at least one is required")
    return profiles


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def event_tokens(profile: Profile) -> Iterator[str]:
    """Readable names of the genomic events in a profile (may repeat)."""
    for event in profile.alterations:
        yield f"{event.kind} {event.gene}"
        if event.kind == "mutation" and event.codon is not None:
            yield f"hotspot {event.gene} {event.codon}"
        if event.kind == "fusion" and event.partner_gene is not None:
            yield f"fusion {event.partner_gene}"
            yield f"fusion {event.gene}-{event.partner_gene}"


class ProfileVectorizer(TransformerMixin, BaseEstimator):
    """Turn tumour profiles into a numeric matrix with readable column names.

    Columns: one indicator per genomic event seen in at least ``min_count`` training
    profiles (``mutation BRAF``, ``hotspot BRAF V600``, ``amplification ERBB2``,
    ``fusion BCR-ABL1``), one per tumour type and lineage seen in training
    (``tumour type: melanoma``, ``lineage: skin``), and the numeric biomarkers that
    any training profile carried (``msi high``, ``tmb mut per mb``, ``hrd score``).

    Parameters
    ----------
    min_count
        Minimum number of training profiles carrying an event for it to become a
        column.
    """

    def __init__(self, *, min_count: int = 3) -> None:
        self.min_count = min_count

    def fit(self, X: Any, y: Any = None) -> ProfileVectorizer:
        """Learn the event, tumour type and biomarker vocabulary from profiles."""
        if not isinstance(self.min_count, int) or self.min_count < 1:
            raise ValueError(
                f"min_count must be a positive integer; got {self.min_count!r}"
            )
        profiles = as_profiles(X)
        counts = Counter(token for p in profiles for token in set(event_tokens(p)))
        self.events_ = sorted(t for t, n in counts.items() if n >= self.min_count)
        types = {canonical_tumour_type(p.tumour_type) for p in profiles}
        self.tumour_types_ = sorted(types)
        self.lineages_ = sorted({lin for t in types if (lin := lineage_of(t))})
        self.numeric_ = [
            field for field, _ in _NUMERIC
            if any(getattr(p, field) is not None for p in profiles)
        ]  # fmt: skip
        self._index_columns()
        return self

    def _index_columns(self) -> None:
        numeric_names = dict(_NUMERIC)
        self.feature_names_ = [
            *self.events_,
            *(f"tumour type: {t}" for t in self.tumour_types_),
            *(f"lineage: {lin}" for lin in self.lineages_),
            *(numeric_names[field] for field in self.numeric_),
        ]
        self.n_features_out_ = len(self.feature_names_)
        self._column_ = {name: i for i, name in enumerate(self.feature_names_)}

    def transform(self, X: Any) -> np.ndarray:
        """Encode profiles as a float32 matrix (NaN = biomarker not measured)."""
        check_is_fitted(self, "feature_names_")
        profiles = as_profiles(X)
        out = np.zeros((len(profiles), self.n_features_out_), dtype=np.float32)
        for row, profile in enumerate(profiles):
            tumour_type = canonical_tumour_type(profile.tumour_type)
            names = [
                *event_tokens(profile),
                f"tumour type: {tumour_type}",
                f"lineage: {lineage_of(tumour_type)}",
            ]
            columns = [self._column_[n] for n in names if n in self._column_]
            out[row, columns] = 1.0
            for field in self.numeric_:
                value = getattr(profile, field)
                out[row, self._column_[dict(_NUMERIC)[field]]] = (
                    np.nan if value is None else float(value)
                )
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Readable column names, e.g. ``mutation BRAF``, ``tumour type: melanoma``."""
        check_is_fitted(self, "feature_names_")
        return np.asarray(self.feature_names_, dtype=object)

    def get_state(self) -> dict[str, Any]:
        """Fitted state as plain lists and numbers (JSON-serialisable)."""
        check_is_fitted(self, "feature_names_")
        return {
            "state_version": STATE_VERSION,
            "min_count": self.min_count,
            "events": list(self.events_),
            "tumour_types": list(self.tumour_types_),
            "lineages": list(self.lineages_),
            "numeric": list(self.numeric_),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> ProfileVectorizer:
        """Rebuild a fitted vectorizer from :meth:`get_state` output."""
        if state.get("state_version") != STATE_VERSION:
            raise ValueError(
                f"vectorizer state_version {state.get('state_version')!r} is not "
                f"supported; expected {STATE_VERSION}"
            )
        vectorizer = cls(min_count=int(state["min_count"]))
        vectorizer.events_ = list(state["events"])
        vectorizer.tumour_types_ = list(state["tumour_types"])
        vectorizer.lineages_ = list(state["lineages"])
        vectorizer.numeric_ = list(state["numeric"])
        vectorizer._index_columns()
        return vectorizer

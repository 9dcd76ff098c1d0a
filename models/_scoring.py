"""Every drug scored for many profiles at once: arrays, not per-drug objects.

:class:`Scorer` holds what a bundle needs at request time in the shape numpy
wants: all boosters' trees as one :class:`models._forest.Forest`, every drug's
calibrator, score bins and conformal thresholds stacked into arrays, and per
tumour type (computed on first use) every drug's base rate, thresholds and
whether the drug saw that type.  One profile against every drug is then a few
vectorised steps; SHAP values are computed only for the drugs asked for.

The wide input row a forest reads is laid out as::

    profile features | target-match flags of each booster-served drug | 0 | 1

A drug served by the pooled booster reads its drug-identity columns from the
constant 0 and 1 columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np
import xgboost as xgb
from scipy.special import expit

from features import (
    DRUG_PREFIX,
    MATCH_FEATURE_NAMES,
    DrugKnowledge,
    Match,
    Profile,
    ProfileVectorizer,
    canonical_tumour_type,
)
from models._calibration import logit
from models._forest import Forest, TreeBlock
from models._interval import wilson_interval
from models._metadata import BundleMetadata
from models._offset import Offsets
from models._uncertainty import UncertaintyModel


class Bundle(Protocol):
    """What a :class:`Scorer` reads of a :class:`models.ResponderModel`."""

    vectorizer: ProfileVectorizer
    metadata: BundleMetadata
    knowledge: DrugKnowledge
    uncertainty: UncertaintyModel
    offsets: Offsets

    @property
    def drugs(self) -> list[str]: ...

    def booster(self, drug: str) -> xgb.Booster: ...

    def feature_names(self, drug: str) -> list[str]: ...


UNMATCHED = 5  # sorts after matching class 4
_N_FLAGS = len(MATCH_FEATURE_NAMES)
_MAX_CACHED_TYPES = 4096


@dataclass(frozen=True)
class Scores:
    """Every drug scored for every profile; arrays are (profiles, drugs) in the
    order of ``drugs`` (sorted names).

    ``order[i]`` lists drug indices in profile ``i``'s ranking; ``matches[i]``
    holds the drugs the profile matches; ``inputs`` the forest's wide rows.
    """

    drugs: list[str]
    margin: np.ndarray
    raw: np.ndarray
    probability: np.ndarray
    base_rate: np.ndarray
    low: np.ndarray
    high: np.ndarray
    has_non_responder: np.ndarray
    has_responder: np.ndarray
    seen: np.ndarray
    tumour_types: list[str]
    profile_reasons: list[str | None]
    matches: list[dict[int, Match]]
    order: np.ndarray
    inputs: np.ndarray
    base_margin: np.ndarray

    def prediction_sets(self, row: int) -> list[tuple[int, ...]]:
        """One profile's conformal sets, by drug; where neither label qualifies,
        the likelier one (coverage can only rise)."""
        likelier = np.where(self.probability[row] >= 0.5, _RESPONDER, _NEITHER)
        code = self.has_non_responder[row] + 2 * self.has_responder[row]
        return [_SETS[c] for c in np.where(code == 0, likelier, code).tolist()]


# Conformal sets by code: 1 = {0}, 2 = {1}, 3 = {0, 1}; 0 (neither) resolves to
# the likelier label, {1} (code 2) or {0} (code 1 via _NEITHER).
_NEITHER, _RESPONDER = 1, 2
_SETS: tuple[tuple[int, ...], ...] = ((), (0,), (1,), (0, 1))


class Evidence(NamedTuple):
    """What the drug knowledge says of one profile (see :meth:`Scorer.evidence`)."""

    candidates: frozenset[str]
    matches: dict[int, Match]


class Scorer:
    """A bundle's request-time arrays; see the module docstring.

    Parameters
    ----------
    model
        A loaded bundle.
    forest
        Its boosters' trees, when already flattened (else built from them).
    """

    def __init__(self, model: Bundle, forest: Forest | None = None) -> None:
        self.model = model
        self.drugs = model.drugs
        info = model.metadata.drugs
        served = [info[d].served_by for d in self.drugs]
        self.boosted = [i for i, s in enumerate(served) if s in ("per-drug", "pooled")]
        self._slot = {column: slot for slot, column in enumerate(self.boosted)}
        self.by_biomarker = [i for i, s in enumerate(served) if s == "biomarker"]
        self.keys = [model.knowledge.resolve(d) for d in self.drugs]
        n_profile = len(model.metadata.feature_names)
        self._n_profile = n_profile
        zero = n_profile + _N_FLAGS * len(self.boosted)
        self.n_inputs = zero + 2
        vocabulary = [
            name.removeprefix(DRUG_PREFIX)
            for name in model.metadata.pooled_feature_names
            if name.startswith(DRUG_PREFIX)
        ]
        self.reads: list[np.ndarray] = []
        for slot, i in enumerate(self.boosted):
            flags = n_profile + _N_FLAGS * slot + np.arange(_N_FLAGS)
            identity = np.array(
                [] if served[i] == "per-drug"
                else [zero + (name == self.drugs[i]) for name in vocabulary],
                dtype=np.int64,
            )  # fmt: skip
            self.reads.append(np.concatenate([np.arange(n_profile), identity, flags]))
        self.forest = forest or Forest.of(
            [
                TreeBlock(model.booster(self.drugs[i]), read)
                for i, read in zip(self.boosted, self.reads, strict=True)
            ]
        )
        if self.forest.n_slots != len(self.boosted):
            raise ValueError(
                f"the forest holds {self.forest.n_slots} drugs' trees; "
                f"{len(self.boosted)} drugs are served by boosters"
            )
        self._calibration = _Calibration(model)
        self._bins = _StackedBins(model)
        self._types: dict[str, _TypeView] = {}
        self.known = np.array([d in model.uncertainty.drugs for d in self.drugs])
        self.feature_names = [model.feature_names(d) for d in self.drugs]

    def inputs(
        self,
        profiles: Sequence[Profile],
        evidence: Sequence[Evidence] | None = None,
    ) -> np.ndarray:
        """The forest's wide rows (float32, NaN = not measured); ``evidence`` is
        the profiles' :meth:`evidence` when already found."""
        if evidence is None:
            evidence = [self.evidence(p) for p in profiles]
        W = np.zeros((len(profiles), self.n_inputs), dtype=np.float32)
        W[:, : self._n_profile] = self.model.vectorizer.transform(profiles)
        W[:, -1] = 1.0
        knowledge = self.model.knowledge
        for row, (profile, found) in enumerate(zip(profiles, evidence, strict=True)):
            for slot, i in enumerate(self.boosted):
                if self.keys[i] not in found.candidates:
                    continue  # every flag is 0
                start = self._n_profile + _N_FLAGS * slot
                flags = knowledge.flags_of(profile, self.drugs[i], found.matches.get(i))
                W[row, start : start + _N_FLAGS] = list(flags.values())
        return W

    def evidence(self, profile: Profile) -> Evidence:
        """The drugs the profile's genes and signatures can touch, and its best
        match to each drug it matches (by drug column)."""
        knowledge = self.model.knowledge
        candidates = knowledge.candidates(profile)
        found = {
            i: knowledge.match(profile, self.drugs[i])
            for i, key in enumerate(self.keys)
            if key in candidates
        }
        matches = {i: match for i, match in found.items() if match is not None}
        return Evidence(candidates, matches)

    def score(self, profiles: Sequence[Profile], *, rank_by: str) -> Scores:
        """Every drug's calibrated score for every profile, ranked by ``rank_by``
        (see :data:`models.RankBy`)."""
        if not profiles:
            raise ValueError("no profiles to score")
        model = self.model
        tumour_types = [canonical_tumour_type(p.tumour_type) for p in profiles]
        views = [self._view(t) for t in tumour_types]
        base_margin = np.stack([v.margin for v in views])
        margin = base_margin.copy()
        evidence = [self.evidence(p) for p in profiles]
        matches = [found.matches for found in evidence]
        W = self.inputs(profiles, evidence)
        margin[:, self.boosted] += self.forest.margins(W)
        for i in self.by_biomarker:
            drug = self.drugs[i]
            scores = [
                model.knowledge.score_of(p, drug, found.get(i))
                for p, found in zip(profiles, matches, strict=True)
            ]
            margin[:, i] = model.offsets.biomarker[drug].margin(np.array(scores))
        raw = expit(margin)
        probability = self._calibration.apply(raw)
        low, high = self._bins.interval(probability)
        low[:, ~self.known], high[:, ~self.known] = 0.0, 1.0
        non_responder = np.stack([v.non_responder for v in views])
        responder = np.stack([v.responder for v in views])
        base_rate = np.stack([v.base_rate for v in views])
        order = _order(rank_by, probability, base_rate, raw, matches)
        return Scores(
            drugs=self.drugs, margin=margin, raw=raw, probability=probability,
            base_rate=base_rate, low=low, high=high,
            has_non_responder=probability <= non_responder,
            has_responder=1 - probability <= responder,
            seen=np.stack([v.seen for v in views]), tumour_types=tumour_types,
            profile_reasons=model.uncertainty.domain.reasons(profiles),
            matches=matches, order=order, inputs=W, base_margin=base_margin,
        )  # fmt: skip

    def shap(
        self, scores: Scores, row: int, columns: Sequence[int]
    ) -> dict[int, np.ndarray]:
        """TreeSHAP values of one profile for booster-served drugs (by column):
        one per column of the drug's design matrix, then the base value
        (log-odds; its tumour-type offset included), as XGBoost's
        ``pred_contribs`` gives them."""
        slots = [self._slot[c] for c in columns]
        values = self.forest.shap(
            scores.inputs[row], slots, [len(self.reads[s]) for s in slots]
        )
        for column, shap in zip(columns, values, strict=True):
            shap[-1] += scores.base_margin[row, column]
        return dict(zip(columns, values, strict=True))

    def feature_values(self, scores: Scores, row: int, column: int) -> np.ndarray:
        """The profile's values in the columns of the drug's design matrix."""
        return scores.inputs[row, self.reads[self._slot[column]]]

    def _view(self, tumour_type: str) -> _TypeView:
        view = self._types.get(tumour_type)
        if view is None:
            if len(self._types) >= _MAX_CACHED_TYPES:
                self._types.clear()
            view = self._types[tumour_type] = _TypeView.of(self, tumour_type)
        return view


@dataclass(frozen=True)
class _TypeView:
    """Every drug's figures that depend on the tumour type alone."""

    margin: np.ndarray  # the shrunk rate's log-odds: the base margin
    base_rate: np.ndarray  # that rate, on the drug's calibrated scale
    non_responder: np.ndarray
    responder: np.ndarray
    seen: np.ndarray

    @classmethod
    def of(cls, scorer: Scorer, tumour_type: str) -> _TypeView:
        model, drugs = scorer.model, scorer.drugs
        rate = np.array([model.offsets.drugs[d].rate([tumour_type])[0] for d in drugs])
        thresholds = np.ones((len(drugs), 2))  # no held-out scores: both labels
        for i, drug in enumerate(drugs):
            known = model.uncertainty.drugs.get(drug)
            if known is not None:
                pair = known.conformal.thresholds([tumour_type])
                thresholds[i] = pair[0][0], pair[1][0]
        return cls(
            margin=logit(rate),
            base_rate=scorer._calibration.apply(rate[None, :])[0],
            non_responder=thresholds[:, 0],
            responder=thresholds[:, 1],
            seen=np.array(
                [tumour_type in model.metadata.drugs[d].tumour_types for d in drugs]
            ),
        )


class _Calibration:
    """Every drug's calibrator applied to a (profiles, drugs) array at once."""

    def __init__(self, model: Bundle) -> None:
        calibrators = [
            None if (known := model.uncertainty.drugs.get(d)) is None
            else known.calibrator
            for d in model.drugs
        ]  # fmt: skip
        self.sigmoid = np.array(
            [c is not None and c.method == "sigmoid" for c in calibrators]
        )
        self.a = np.array([c.a if c is not None else 1.0 for c in calibrators])
        self.b = np.array([c.b if c is not None else 0.0 for c in calibrators])
        self.isotonic = [
            (i, c) for i, c in enumerate(calibrators)
            if c is not None and c.method == "isotonic"
        ]  # fmt: skip

    def apply(self, raw: np.ndarray) -> np.ndarray:
        out = raw.astype(float, copy=True)
        s = self.sigmoid
        out[:, s] = expit(self.a[s] * logit(raw[:, s]) + self.b[s])
        for i, calibrator in self.isotonic:
            out[:, i] = calibrator.apply(raw[:, i])
        return out


class _StackedBins:
    """Every drug's score bins in one sorted array: drug ``k``'s edges shifted by
    ``2k`` (scores and edges lie in [0, 1]), so one ``searchsorted`` bins all."""

    def __init__(self, model: Bundle) -> None:
        bins = [
            known.bins if (known := model.uncertainty.drugs.get(d)) else None
            for d in model.drugs
        ]
        edges = [np.asarray(b.edges if b else [], dtype=float) for b in bins]
        if any(np.any((e < 0) | (e > 1)) for e in edges):
            raise ValueError("score bin edges must lie in [0, 1]")
        self.edges = np.concatenate([e + 2 * k for k, e in enumerate(edges)])
        n_edges = np.array([len(e) for e in edges])
        self.edge_start = np.concatenate([[0], np.cumsum(n_edges)[:-1]])
        self.bin_start = np.concatenate([[0], np.cumsum(n_edges + 1)[:-1]])
        self.n = np.concatenate([b.n if b else [0] for b in bins])
        self.events = np.concatenate([b.events if b else [0] for b in bins])
        self.shift = 2 * np.arange(len(bins))

    def interval(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Wilson interval of the rate observed in each score's bin."""
        found = np.searchsorted(self.edges, p + self.shift, side="right")
        index = found - self.edge_start + self.bin_start
        return wilson_interval(self.events[index], self.n[index])


def _order(
    rank_by: str,
    probability: np.ndarray,
    base_rate: np.ndarray,
    raw: np.ndarray,
    matches: list[dict[int, Match]],
) -> np.ndarray:
    # Isotonic calibration ties scores within a step; the raw score breaks ties,
    # then the drug's name (the columns are sorted).  lexsort: last key first.
    keys: tuple[np.ndarray, ...]
    if rank_by == "lift":
        keys = (-raw, -probability, -(probability - base_rate))
    elif rank_by == "probability":
        keys = (-raw, -probability)
    elif rank_by != "evidence":
        raise ValueError(
            f"rank_by must be evidence, probability or lift; got {rank_by!r}"
        )
    else:
        matching_class = np.full(probability.shape, UNMATCHED)
        for row, found in enumerate(matches):
            for column, match in found.items():
                matching_class[row, column] = match.matching_class
        keys = (-raw, -probability, matching_class)
    return np.lexsort(keys, axis=-1)

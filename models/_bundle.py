"""The ResponderModel bundle: vectorizer state + one booster per drug + metadata.

On disk a bundle is a folder::

    vectorizer.json        fitted ProfileVectorizer state (plain JSON)
    knowledge.json         the drug knowledge table the model was trained with
    boosters/NNN.ubj       one XGBoost booster per drug, XGBoost's own UBJ format
    pooled.ubj             the pooled booster, when any drug is served by it
    uncertainty.json       calibrators, conformal thresholds, score bins, domain
    explanations.json      per-drug importances, carrier counts, subgroup rules
    forest.npz             the boosters' trees as flat arrays (models.Forest), so
                           loading parses no trees
    offsets.json           per-drug response rate by tumour type (the base margin)
    metadata.json          BundleMetadata (drugs, counts, CV metrics, data hash, ...)
    checksums.json         SHA-256 of every file above

Loading verifies every checksum before reading a file and never unpickles anything.
The SHA-256 of ``checksums.json`` itself (`bundle_digest`) names the whole bundle:
the registry records it, so a bundle whose files and checksums were both rewritten
is still refused. Errors name files inside the bundle, never the folder, so a
reason can be shown to a client without disclosing local paths.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import xgboost as xgb
from pydantic import BaseModel
from scipy.special import expit

from features import (
    DRUG_PREFIX,
    DrugKnowledge,
    Profile,
    ProfileVectorizer,
    canonical_tumour_type,
    encode_pairs,
    pair_feature_names,
)
from models._explanations import DrugExplanation, ExplanationSet
from models._forest import Forest
from models._metadata import FORMAT_VERSION, NO_BOOSTER, BundleMetadata
from models._offset import Offsets
from models._scoring import Scorer
from models._uncertainty import UncertaintyModel

logger = logging.getLogger(__name__)

CHECKSUMS = "checksums.json"
METADATA = "metadata.json"
VECTORIZER = "vectorizer.json"
KNOWLEDGE = "knowledge.json"
POOLED = "pooled.ubj"
UNCERTAINTY = "uncertainty.json"
EXPLANATIONS = "explanations.json"
OFFSETS = "offsets.json"
FOREST = "forest.npz"

_Schema = TypeVar("_Schema", bound=BaseModel)


class BundleIntegrityError(ValueError):
    """A bundle file is missing, unexpected or does not match its SHA-256."""


def _sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


class ResponderModel:
    """Per-drug XGBoost responder models sharing one fitted profile vectorizer.

    Every drug starts from its response rate in the profile's tumour type
    (``offsets``, given to XGBoost as the base margin); its own booster, or one
    pooled booster over profile x drug rows (see :func:`features.encode_pairs`),
    adds what the genome says, each reading the profile features and the drug's
    target-match flags. A drug whose boosters did not beat that rate in
    cross-validation is served by the rate alone (``served_by`` ``rate``), or by
    a logistic fit on its known biomarker alone (``biomarker``) where that did
    better.

    Parameters
    ----------
    vectorizer
        Fitted :class:`features.ProfileVectorizer`.
    boosters
        One binary:logistic booster per drug served ``per-drug``.
    metadata
        Drug-level counts, tumour types seen, CV metrics and provenance.
    knowledge
        Drug targets and biomarkers: matched evidence and the pooled model's
        target-match features.
    uncertainty
        Calibrators, conformal thresholds, score bins and the training profiles'
        domain, fitted on out-of-fold predictions.
    offsets
        Every drug's shrunk response rate per tumour type.
    pooled
        The pooled booster, required when any drug is served ``pooled``.
    explanations
        Per-drug aggregate explanations (importances, carriers, subgroups), or
        a function giving them when first asked for (a loaded bundle's are
        parsed then: scoring never needs them).
    forest
        The boosters' trees as flat arrays, when already built (a loaded bundle's).
    """

    def __init__(
        self,
        vectorizer: ProfileVectorizer,
        boosters: Mapping[str, xgb.Booster],
        *,
        metadata: BundleMetadata,
        knowledge: DrugKnowledge,
        uncertainty: UncertaintyModel,
        offsets: Offsets,
        pooled: xgb.Booster | None = None,
        explanations: ExplanationSet | Callable[[], ExplanationSet] | None = None,
        forest: Forest | None = None,
    ) -> None:
        per_drug = {
            d for d, info in metadata.drugs.items() if info.served_by == "per-drug"
        }
        if per_drug != set(boosters):
            raise ValueError(
                "per-drug boosters and metadata disagree on drugs: "
                f"{sorted(per_drug ^ set(boosters))}"
            )
        served = {info.served_by for info in metadata.drugs.values()}
        if "pooled" in served and pooled is None:
            raise ValueError("drugs served by the pooled model need a pooled booster")
        by_biomarker = {
            d for d, info in metadata.drugs.items() if info.served_by == "biomarker"
        }
        if by_biomarker != set(offsets.biomarker):
            raise ValueError(
                "biomarker fits and metadata disagree on drugs: "
                f"{sorted(by_biomarker ^ set(offsets.biomarker))}"
            )
        if set(offsets.drugs) != set(metadata.drugs):
            raise ValueError(
                "offsets and metadata disagree on drugs: "
                f"{sorted(set(offsets.drugs) ^ set(metadata.drugs))}"
            )
        disagree = sorted(
            drug
            for drug, known in uncertainty.drugs.items()
            if drug not in metadata.drugs
            or known.served_by != metadata.drugs[drug].served_by
        )
        if disagree:
            raise ValueError(f"uncertainty and metadata disagree on drugs {disagree}")
        self.vectorizer = vectorizer
        self.boosters = dict(boosters)
        self.metadata = metadata
        self.knowledge = knowledge
        self.uncertainty = uncertainty
        self.offsets = offsets
        self.pooled = pooled
        self._explanations = explanations or ExplanationSet()
        self._forest = forest
        self._drug_vocabulary = [
            name.removeprefix(DRUG_PREFIX)
            for name in metadata.pooled_feature_names
            if name.startswith(DRUG_PREFIX)
        ]

    @property
    def explanations(self) -> ExplanationSet:
        """Per-drug aggregate explanations (importances, carriers, subgroups)."""
        if callable(self._explanations):
            self._explanations = self._explanations()
        return self._explanations

    @explanations.setter
    def explanations(self, explanations: ExplanationSet) -> None:
        self._explanations = explanations

    @cached_property
    def scorer(self) -> Scorer:
        """The bundle's request-time arrays (built on first use)."""
        return Scorer(self, self._forest)

    @property
    def drugs(self) -> list[str]:
        """Drug names, sorted."""
        return sorted(self.metadata.drugs)

    def feature_names(self, drug: str) -> list[str]:
        """Columns of the matrix the drug's booster scores (none for a drug served
        by its rate or biomarker)."""
        served_by = self.metadata.drugs[drug].served_by
        if served_by == "pooled":
            return self.metadata.pooled_feature_names
        if served_by in NO_BOOSTER:
            return []
        return pair_feature_names(self.metadata.feature_names, ())

    def design(
        self,
        profiles: Sequence[Profile],
        *,
        drugs: Sequence[str] | None = None,
        X: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """Per drug (default: all), the feature matrix its booster scores (rows =
        profiles); ``X`` is the profiles' vectorized matrix when already built."""
        if X is None:
            X = self.vectorizer.transform(profiles)
        out = {}
        for drug in self.drugs if drugs is None else drugs:
            served_by = self.metadata.drugs[drug].served_by
            if served_by in NO_BOOSTER:
                out[drug] = np.zeros((len(profiles), 0), dtype=np.float32)
                continue
            vocabulary = self._drug_vocabulary if served_by == "pooled" else ()
            out[drug] = encode_pairs(
                X, profiles, [drug] * len(profiles), drug_vocabulary=vocabulary,
                knowledge=self.knowledge,
            )  # fmt: skip
        return out

    def base_rate(self, profiles: Sequence[Profile], drug: str) -> np.ndarray:
        """The drug's response rate in each profile's tumour type: where its score
        starts before the genome moves it."""
        types = [canonical_tumour_type(p.tumour_type) for p in profiles]
        return self.offsets.drugs[drug].rate(types)

    def booster(self, drug: str) -> xgb.Booster:
        """The booster serving a drug served per-drug or pooled."""
        booster = self.boosters.get(drug, self.pooled)
        if booster is None:
            raise ValueError(
                f"{drug} is served by its {self.metadata.drugs[drug].served_by}"
            )
        return booster

    def fixed_margin(
        self, profiles: Sequence[Profile], drug: str, tumour_types: Sequence[str]
    ) -> np.ndarray | None:
        """The log-odds of a drug no booster serves (its tumour-type rate, or its
        biomarker's logistic fit), one per profile; None for a booster-served
        drug."""
        served_by = self.metadata.drugs[drug].served_by
        if served_by == "biomarker":
            scores = [self.knowledge.biomarker_score(p, drug) for p in profiles]
            return self.offsets.biomarker[drug].margin(np.array(scores))
        if served_by == "rate":
            return self.offsets.drugs[drug].margin(tumour_types)
        return None

    def _predict(
        self,
        profiles: Sequence[Profile],
        design: dict[str, np.ndarray],
        **options: bool,
    ) -> dict[str, np.ndarray]:
        types = [canonical_tumour_type(p.tumour_type) for p in profiles]
        out = {}
        for drug, X in design.items():
            fixed = self.fixed_margin(profiles, drug, types)
            if fixed is not None:
                out[drug] = (
                    fixed[:, None] if options.get("pred_contribs") else expit(fixed)
                )
                continue
            margin = self.offsets.drugs[drug].margin(types)
            booster = self.booster(drug)
            # Columns are checked once at load (vectorizer == metadata); naming
            # them here would cost a string decode per drug per call.
            matrix = xgb.DMatrix(X, base_margin=margin, missing=np.nan)
            out[drug] = booster.predict(matrix, validate_features=False, **options)
        return out

    def score(self, profiles: Sequence[Profile]) -> dict[str, np.ndarray]:
        """The boosters' raw (uncalibrated) probability of response, per drug, one
        value per profile; :func:`models.rank_drugs` gives the calibrated ones."""
        return self._predict(profiles, self.design(profiles))

    def calibrate(self, drug: str, raw: np.ndarray) -> np.ndarray:
        """The drug's calibrated probabilities for raw booster probabilities."""
        known = self.uncertainty.drugs.get(drug)
        if known is None:  # no held-out predictions to calibrate on
            return np.asarray(raw, dtype=float)
        return known.calibrator.apply(raw)

    def explain(
        self,
        profiles: Sequence[Profile],
        *,
        design: dict[str, np.ndarray] | None = None,
    ) -> dict[str, np.ndarray]:
        """TreeSHAP contributions per drug, shape (n_profiles, n_features + 1).

        Columns follow :meth:`feature_names`; the last is the base value; each row
        sums to the margin (log-odds). Pass ``design`` (from :meth:`design`) when it
        is already built, so the profiles are not encoded twice.
        """
        if design is None:
            design = self.design(profiles)
        return self._predict(profiles, design, pred_contribs=True)

    def explanation(self, drug: str) -> DrugExplanation | None:
        """The drug's aggregate explanation, or None if training stored none."""
        return self.explanations.drugs.get(drug)

    def tumour_type_seen(self, profile: Profile, drug: str) -> bool:
        """Whether the drug's training data held this profile's tumour type."""
        tumour_type = canonical_tumour_type(profile.tumour_type)
        return tumour_type in self.metadata.drugs[drug].tumour_types

    def save(self, path: Path) -> Path:
        """Write the bundle to a new folder ``path`` atomically and return it."""
        path = Path(path)
        if path.exists():
            raise FileExistsError(f"bundle folder {path} already exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".bundle-", dir=path.parent))
        try:
            self._write_files(staging)
            os.replace(staging, path)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return path

    def _write_files(self, folder: Path) -> None:
        (folder / "boosters").mkdir()
        files = {
            drug: f"boosters/{i:03d}.ubj"
            for i, drug in enumerate(sorted(self.boosters))
        }
        for drug, name in files.items():
            self.boosters[drug].save_model(folder / name)
        if self.pooled is not None:
            self.pooled.save_model(folder / POOLED)
        metadata = self.metadata.model_copy(update={"booster_files": files})
        (folder / METADATA).write_text(metadata.model_dump_json(indent=2))
        (folder / VECTORIZER).write_text(json.dumps(self.vectorizer.get_state()))
        (folder / KNOWLEDGE).write_text(self.knowledge.model_dump_json())
        (folder / UNCERTAINTY).write_text(self.uncertainty.model_dump_json())
        (folder / EXPLANATIONS).write_text(self.explanations.model_dump_json())
        (folder / OFFSETS).write_text(self.offsets.model_dump_json())
        forest: dict[str, Any] = self.scorer.forest.arrays()  # savez's **kwargs
        np.savez(folder / FOREST, **forest)
        checksums = {
            p.relative_to(folder).as_posix(): _sha256(p)
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }
        (folder / CHECKSUMS).write_text(json.dumps(checksums, indent=2))

    @classmethod
    def load(cls, path: Path, *, digest: str | None = None) -> ResponderModel:
        """Read a bundle folder after verifying every file's SHA-256 (and, given
        ``digest``, that the bundle is the one with that `bundle_digest`)."""
        path = Path(path)
        verify_bundle(path, digest=digest)
        metadata = BundleMetadata.model_validate_json((path / METADATA).read_text())
        if metadata.format_version != FORMAT_VERSION:
            raise BundleIntegrityError(
                f"bundle format {metadata.format_version} is not readable by this "
                f"version (format {FORMAT_VERSION}); retrain with `rediscover train`"
            )
        vectorizer = ProfileVectorizer.from_state(
            json.loads((path / VECTORIZER).read_text())
        )
        if list(vectorizer.get_feature_names_out()) != metadata.feature_names:
            raise BundleIntegrityError("vectorizer columns differ from metadata")
        knowledge = DrugKnowledge.model_validate_json((path / KNOWLEDGE).read_text())
        boosters = {
            drug: _read_booster(path / name)
            for drug, name in metadata.booster_files.items()
        }
        pooled = _read_booster(path / POOLED) if (path / POOLED).is_file() else None
        uncertainty = _read_json(path / UNCERTAINTY, UncertaintyModel)
        explanations = (path / EXPLANATIONS).read_bytes()
        offsets = _read_json(path / OFFSETS, Offsets)
        with np.load(path / FOREST, allow_pickle=False) as arrays:
            forest = Forest.from_arrays(dict(arrays))
        try:
            return cls(
                vectorizer, boosters, metadata=metadata, knowledge=knowledge,
                uncertainty=uncertainty, offsets=offsets, pooled=pooled,
                explanations=lambda: _parsed(
                    path / EXPLANATIONS, explanations, ExplanationSet
                ),
                forest=forest,
            )  # fmt: skip
        except ValueError as exc:
            raise BundleIntegrityError(f"the bundle is inconsistent: {exc}") from None


def _read_json(path: Path, schema: type[_Schema]) -> _Schema:
    if not path.is_file():
        raise BundleIntegrityError(f"{path.name} is missing from the bundle")
    return _parsed(path, path.read_bytes(), schema)


def _parsed(path: Path, text: bytes, schema: type[_Schema]) -> _Schema:
    try:
        return schema.model_validate_json(text)
    except ValueError as exc:
        raise BundleIntegrityError(f"{path.name} is not valid: {exc}") from None


def _read_booster(path: Path) -> xgb.Booster:
    booster = xgb.Booster()
    booster.load_model(path)
    # Scoring a handful of rows: OpenMP threads only spin against each other (and
    # against other processes) on a small server.
    booster.set_param({"nthread": 1})
    return booster


def bundle_digest(path: Path) -> str:
    """The bundle's digest: the SHA-256 of its ``checksums.json``.

    Every file's SHA-256 is in that listing, so the digest changes when any file
    does, and a registry tag holding it makes the bundle tamper-evident.
    """
    return _sha256(Path(path) / CHECKSUMS)


def verify_bundle(path: Path, *, digest: str | None = None) -> None:
    """Raise BundleIntegrityError unless every file matches checksums.json exactly
    and, given ``digest``, checksums.json is the listing with that SHA-256."""
    listing = path / CHECKSUMS
    if not listing.is_file():
        raise BundleIntegrityError(f"{CHECKSUMS} is missing; not a model bundle")
    text = listing.read_bytes()
    if digest is not None and hashlib.sha256(text).hexdigest() != digest:
        raise BundleIntegrityError(
            f"the bundle's digest (SHA-256 of {CHECKSUMS}) differs from the one "
            "recorded at registration: its files were changed after it was registered"
        )
    expected: dict[str, str] = json.loads(text)
    present = {
        p.relative_to(path).as_posix()
        for p in path.rglob("*")
        if p.is_file() and p.name != CHECKSUMS
    }
    if present != set(expected):
        extra, missing = present - set(expected), set(expected) - present
        raise BundleIntegrityError(
            "the bundle's files differ from its checksums: "
            f"unexpected {sorted(extra)}, missing {sorted(missing)}"
        )
    for name, sha in expected.items():
        if _sha256(path / name) != sha:
            raise BundleIntegrityError(f"SHA-256 mismatch for {name} in the bundle")

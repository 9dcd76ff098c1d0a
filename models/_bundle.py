"""The ResponderModel bundle: vectorizer state + one booster per drug + metadata.

On disk a bundle is a folder::

    vectorizer.json        fitted ProfileVectorizer state (plain JSON)
    boosters/NNN.ubj       one XGBoost booster per drug, XGBoost's own UBJ format
    metadata.json          BundleMetadata (drugs, counts, CV metrics, data hash, ...)
    checksums.json         SHA-256 of every file above

Loading verifies every checksum before reading a file and never unpickles anything.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import xgboost as xgb

from features import Profile, ProfileVectorizer, canonical_tumour_type
from models._metadata import BundleMetadata

logger = logging.getLogger(__name__)

CHECKSUMS = "checksums.json"
METADATA = "metadata.json"
VECTORIZER = "vectorizer.json"


class BundleIntegrityError(ValueError):
    """A bundle file is missing, unexpected or does not match its SHA-256."""


def _sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


class ResponderModel:
    """Per-drug XGBoost responder models sharing one fitted profile vectorizer.

    Parameters
    ----------
    vectorizer
        Fitted :class:`features.ProfileVectorizer`.
    boosters
        One binary:logistic booster per drug, trained on the vectorizer's columns.
    metadata
        Drug-level counts, tumour types seen, CV metrics and provenance.
    """

    def __init__(
        self,
        vectorizer: ProfileVectorizer,
        boosters: Mapping[str, xgb.Booster],
        *,
        metadata: BundleMetadata,
    ) -> None:
        missing = set(metadata.drugs) ^ set(boosters)
        if missing:
            raise ValueError(
                f"boosters and metadata disagree on drugs: {sorted(missing)}"
            )
        self.vectorizer = vectorizer
        self.boosters = dict(boosters)
        self.metadata = metadata

    @property
    def drugs(self) -> list[str]:
        """Drug names, sorted."""
        return sorted(self.boosters)

    def _matrix(self, profiles: Sequence[Profile]) -> xgb.DMatrix:
        features = self.vectorizer.transform(profiles)
        return xgb.DMatrix(
            features, missing=np.nan, feature_names=self.metadata.feature_names
        )

    def score(self, profiles: Sequence[Profile]) -> dict[str, np.ndarray]:
        """Probability of response, per drug, one value per profile."""
        matrix = self._matrix(profiles)
        return {drug: self.boosters[drug].predict(matrix) for drug in self.drugs}

    def explain(self, profiles: Sequence[Profile]) -> dict[str, np.ndarray]:
        """TreeSHAP contributions per drug, shape (n_profiles, n_features + 1).

        The last column is the base value; each row sums to the margin (log-odds).
        """
        matrix = self._matrix(profiles)
        return {
            drug: self.boosters[drug].predict(matrix, pred_contribs=True)
            for drug in self.drugs
        }

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
        files = {drug: f"boosters/{i:03d}.ubj" for i, drug in enumerate(self.drugs)}
        for drug, name in files.items():
            self.boosters[drug].save_model(folder / name)
        metadata = self.metadata.model_copy(update={"booster_files": files})
        (folder / METADATA).write_text(metadata.model_dump_json(indent=2))
        (folder / VECTORIZER).write_text(json.dumps(self.vectorizer.get_state()))
        checksums = {
            p.relative_to(folder).as_posix(): _sha256(p)
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }
        (folder / CHECKSUMS).write_text(json.dumps(checksums, indent=2))

    @classmethod
    def load(cls, path: Path) -> ResponderModel:
        """Read a bundle folder after verifying every file's SHA-256."""
        path = Path(path)
        verify_bundle(path)
        metadata = BundleMetadata.model_validate_json((path / METADATA).read_text())
        vectorizer = ProfileVectorizer.from_state(
            json.loads((path / VECTORIZER).read_text())
        )
        if list(vectorizer.get_feature_names_out()) != metadata.feature_names:
            raise BundleIntegrityError("vectorizer columns differ from metadata")
        boosters = {}
        for drug, name in metadata.booster_files.items():
            booster = xgb.Booster()
            booster.load_model(path / name)
            boosters[drug] = booster
        return cls(vectorizer, boosters, metadata=metadata)


def verify_bundle(path: Path) -> None:
    """Raise BundleIntegrityError unless every file matches checksums.json exactly."""
    listing = path / CHECKSUMS
    if not listing.is_file():
        raise BundleIntegrityError(f"{listing} is missing; not a model bundle")
    expected: dict[str, str] = json.loads(listing.read_text())
    present = {
        p.relative_to(path).as_posix()
        for p in path.rglob("*")
        if p.is_file() and p.name != CHECKSUMS
    }
    if present != set(expected):
        extra, missing = present - set(expected), set(expected) - present
        raise BundleIntegrityError(
            f"bundle {path} files differ from its checksums: "
            f"unexpected {sorted(extra)}, missing {sorted(missing)}"
        )
    for name, digest in expected.items():
        if _sha256(path / name) != digest:
            raise BundleIntegrityError(f"SHA-256 mismatch for {name} in bundle {path}")

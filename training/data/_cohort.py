"""The cohort contract every loader produces and everything downstream consumes:
tumour profiles plus treatment episodes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from features import Profile, canonical_tumour_type
from models import Endpoint, Population

REQUIRED_TREATMENT_COLUMNS: tuple[str, ...] = ("sample_id", "drug", "responded")


@dataclass(frozen=True)
class Cohort:
    """Tumour profiles and the treatment episodes given to them.

    Parameters
    ----------
    profiles
        One `Profile` per sample; `sample_id` set and unique.
    treatments
        One row per treatment episode: `sample_id` (str), `drug` (lower-case generic
        name), `responded` (0/1); optional `ln_ic50`, `start_date`, `cohort_id` and
        loader-specific columns. Stored as a copy with `responded` as int64.
    population, endpoint
        Whom the outcomes were measured in (``cell_line`` or ``patient``) and
        what ``responded`` means (e.g. ``ic50_sensitivity``, ``clinical_benefit``);
        a bundle trained on the cohort says so in every score.
    """

    profiles: tuple[Profile, ...]
    treatments: pd.DataFrame
    population: Population = "patient"
    endpoint: Endpoint = "clinical_benefit"

    def __post_init__(self) -> None:
        object.__setattr__(self, "profiles", tuple(self.profiles))
        _check_profiles(self.profiles)
        treatments = _checked_treatments(self.treatments)
        _check_samples_known(treatments, self.profiles)
        object.__setattr__(self, "treatments", treatments)

    @property
    def drugs(self) -> tuple[str, ...]:
        """Sorted unique drug names."""
        return tuple(sorted(self.treatments["drug"].unique()))

    def describe(self) -> str:
        """Its size for a log line: profiles, drugs, treatment rows and the
        responder rate (aggregates only, no sample ids)."""
        return (
            f"{len(self.profiles)} profiles, {len(self.drugs)} drugs, "
            f"{len(self.treatments)} treatment rows, responder rate "
            f"{self.treatments['responded'].mean():.3f}"
        )

    @cached_property
    def tumour_type(self) -> pd.Series:
        """Canonical tumour type by sample id."""
        return pd.Series(
            [canonical_tumour_type(p.tumour_type) for p in self.profiles],
            index=self._sample_ids,
            dtype=object,
        )

    @cached_property
    def profile(self) -> dict[str, Profile]:
        """Profile by sample id."""
        return dict(zip(self._sample_ids, self.profiles, strict=True))

    def rows(self, sample_ids: Iterable[str]) -> np.ndarray:
        """Positions in ``profiles`` of the given sample ids."""
        return self._row.loc[list(sample_ids)].to_numpy()

    @cached_property
    def _sample_ids(self) -> list[str]:
        return [str(p.sample_id) for p in self.profiles]

    @cached_property
    def _row(self) -> pd.Series:
        return pd.Series(np.arange(len(self.profiles)), index=self._sample_ids)

    def subset(
        self,
        *,
        drugs: Iterable[str] | None = None,
        samples: Iterable[str] | None = None,
    ) -> Cohort:
        """Cohort restricted to some drugs and/or samples.

        Parameters
        ----------
        drugs
            Keep treatment rows of these drugs (all profiles are kept).
        samples
            Keep these samples' profiles and treatment rows.
        """
        keep = pd.Series(True, index=self.treatments.index)
        profiles = self.profiles
        if drugs is not None:
            keep &= self.treatments["drug"].isin(set(drugs))
        if samples is not None:
            wanted = set(samples)
            keep &= self.treatments["sample_id"].isin(wanted)
            profiles = tuple(p for p in profiles if p.sample_id in wanted)
        return Cohort(
            profiles=profiles, treatments=self.treatments[keep],
            population=self.population, endpoint=self.endpoint,
        )  # fmt: skip

    def data_hash(self) -> str:
        """SHA-256 of the content, independent of profile, row and column order."""
        digest = hashlib.sha256()
        digest.update(_profiles_json(self.profiles).encode())
        digest.update(b"\0")
        digest.update(_treatments_csv(self.treatments).encode())
        return digest.hexdigest()


def _check_profiles(profiles: tuple[Profile, ...]) -> None:
    if not all(isinstance(p, Profile) for p in profiles):
        raise TypeError("profiles must be features.Profile objects")
    ids = pd.Series([p.sample_id for p in profiles], dtype=object)
    n_missing = int(ids.isna().sum())
    if n_missing:
        raise ValueError(
            f"{n_missing} of {len(ids)} profiles have no sample_id; "
            "every profile in a cohort needs a unique sample_id"
        )
    n_duplicated = int(ids.duplicated().sum())
    if n_duplicated:
        raise ValueError(
            f"{n_duplicated} profiles repeat an earlier sample_id; "
            "sample_id must be unique across profiles"
        )


def _checked_treatments(treatments: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in REQUIRED_TREATMENT_COLUMNS if c not in treatments.columns]
    if missing:
        raise ValueError(
            f"treatments is missing column(s) {missing}; required columns are "
            f"{list(REQUIRED_TREATMENT_COLUMNS)}"
        )
    for column in ("sample_id", "drug"):
        values = treatments[column]
        if values.isna().any() or not pd.api.types.is_string_dtype(values):
            raise ValueError(f"treatments column {column!r} must hold non-null str")
    if (treatments["drug"] != treatments["drug"].str.strip().str.lower()).any():
        raise ValueError(
            "treatments column 'drug' must hold lower-case generic names without "
            "surrounding spaces, e.g. 'dabrafenib'"
        )
    responded = treatments["responded"]
    bad = ~responded.isin([0, 1])
    if bad.any():
        raise ValueError(
            f"treatments column 'responded' has {int(bad.sum())} value(s) other "
            f"than 0/1 (e.g. {responded[bad].iloc[0]!r}); accepted: 0 or 1"
        )
    return treatments.assign(responded=responded.astype("int64")).reset_index(drop=True)


def _check_samples_known(
    treatments: pd.DataFrame, profiles: tuple[Profile, ...]
) -> None:
    # Counts only: sample ids can be patient identifiers and stay out of messages.
    unknown = ~treatments["sample_id"].isin({p.sample_id for p in profiles})
    if unknown.any():
        n_samples = treatments.loc[unknown, "sample_id"].nunique()
        raise ValueError(
            f"{int(unknown.sum())} treatment row(s) from {n_samples} sample(s) have "
            "a sample_id that matches no profile; every treatment needs a profile"
        )


def _profiles_json(profiles: tuple[Profile, ...]) -> str:
    records = []
    for profile in sorted(profiles, key=lambda p: str(p.sample_id)):
        record = profile.model_dump(mode="json")
        record["alterations"] = sorted(
            record["alterations"], key=lambda a: json.dumps(a, sort_keys=True)
        )
        records.append(record)
    return json.dumps(records, sort_keys=True, separators=(",", ":"))


def _treatments_csv(treatments: pd.DataFrame) -> str:
    columns = sorted(treatments.columns)
    first = ["sample_id", "drug"]
    order = first + [c for c in columns if c not in first]
    ordered = treatments[columns].sort_values(order, kind="mergesort")
    return ordered.to_csv(index=False, lineterminator="\n")

"""Evaluation splits, all grouped by sample: a sample's episodes share one fold.

Each builder returns the ``folds`` Series that `training.fitting.cross_validate_cohort`
takes: sample id -> the fold (0, 1, ...) in which the sample is held out, or -1 for
a sample that is only ever trained on. A sample's episodes always share a fold, so
no sample is trained on and scored in the same fold.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from pandas.api.typing import SeriesGroupBy
from sklearn.model_selection import StratifiedGroupKFold

from features import canonical_tumour_type
from training.config import Config, TrainingConfig
from training.data import Cohort
from training.fitting import assign_folds, select_drugs

logger = logging.getLogger(__name__)

Split = Literal[
    "grouped", "tumour-type", "cohort", "leave-cohort-out", "temporal", "prospective",
    "cross-study",
]  # fmt: skip
SPLITS: tuple[Split, ...] = (
    "grouped", "tumour-type", "cohort", "leave-cohort-out", "temporal", "prospective",
    "cross-study",
)  # fmt: skip
TRAIN_ONLY = -1
Origins = list[tuple[Cohort, pd.Series]]


def split_origins(
    cohort: Cohort,
    *,
    split: Split,
    config: Config,
    drugs: Sequence[str] | None = None,
    min_type_samples: int = 20,
    second_study: Cohort | None = None,
) -> tuple[Cohort, Origins, str]:
    """The cohort restricted to the evaluated drugs, its (cohort, folds) origins
    (one, except for the prospective split) and their rule in words.

    ``drugs`` narrows the drugs `training.fitting.select_drugs` keeps; the
    cross-study split scores ``second_study`` (CCLE) and needs it.
    """
    if split == "cross-study":
        if second_study is None:
            raise ValueError("--split cross-study needs the second study (CCLE)")
        cohort, folds = cross_study_folds(cohort, second_study)
        rule = "train on GDSC lines CCLE did not screen, test on CCLE (ActArea z > 1)"
    cohort = cohort.subset(drugs=select_drugs(cohort, config=config, only=drugs))
    if split == "prospective":
        origins = prospective_origins(cohort)
        rule = (
            f"rolling origin in enrolment order: the first 40% train only, then "
            f"{len(origins)} blocks, each scored by models trained on the outcomes "
            "known when it began (enrolled 16 weeks before)"
        )
        return cohort, origins, rule
    if split != "cross-study":
        folds, rule = _one_origin(
            cohort, split, config.training, min_type_samples=min_type_samples
        )
    return cohort, [(cohort, folds)], rule


def _one_origin(
    cohort: Cohort, split: Split, settings: TrainingConfig, *, min_type_samples: int
) -> tuple[pd.Series, str]:
    """The folds of a split scored in one origin, and their rule in words."""
    if split == "grouped":
        folds = grouped_folds(cohort, n_splits=settings.cv_folds, seed=settings.seed)
        return folds, f"{settings.cv_folds}-fold stratified, by sample"
    if split == "leave-cohort-out":
        folds = leave_cohort_out_folds(
            cohort, n_splits=settings.cv_folds, seed=settings.seed
        )
        return folds, f"{int(folds.max()) + 1} folds of whole cohorts (cohort_id)"
    if split in ("tumour-type", "cohort"):
        leave_out = tumour_type_folds if split == "tumour-type" else cohort_folds
        folds = leave_out(cohort, min_samples=min_type_samples)
        return folds, (
            f"leave one {split} out ({int(folds.max()) + 1} with >= "
            f"{min_type_samples} treated samples; smaller ones train only)"
        )
    if split == "temporal":
        rule = "train before the 80th-percentile date, test after"
        return temporal_folds(cohort), rule
    raise ValueError(f"{split!r} is not a split; accepted: {', '.join(SPLITS)}")


def grouped_folds(cohort: Cohort, *, n_splits: int, seed: int) -> pd.Series:
    """Stratified k-fold on response, grouped by sample; profiles without episodes
    are train-only."""
    folds = assign_folds(cohort.treatments, n_splits=n_splits, seed=seed)
    return _every_profile(cohort, folds)


def tumour_type_folds(cohort: Cohort, *, min_samples: int = 20) -> pd.Series:
    """Leave one tumour type out: each canonical tumour type is one fold.

    Rule for small types: a tumour type with fewer than ``min_samples`` treated
    samples is never held out; its samples are train-only (-1), so every fold is
    large enough to score and small types still inform the models. Folds are
    numbered from the largest type down. Profiles without episodes follow their
    tumour type, so a held-out type is absent from that fold's vocabulary too.
    """
    types = pd.Series(
        {p.sample_id: canonical_tumour_type(p.tumour_type) for p in cohort.profiles}
    )
    return _leave_one_out(cohort, types, "tumour type", min_samples=min_samples)


def cohort_folds(cohort: Cohort, *, min_samples: int = 20) -> pd.Series:
    """Leave one cohort out (``cohort_id``: a study, or a DRUP cohort): a new
    patient in a cohort the models never saw. Small cohorts are train-only, as
    in `tumour_type_folds`; a sample treated in two cohorts is refused."""
    return _leave_one_out(
        cohort, _cohort_of(cohort, "cohort"), "cohort", min_samples=min_samples
    )


def leave_cohort_out_folds(cohort: Cohort, *, n_splits: int, seed: int) -> pd.Series:
    """k folds of whole cohorts (``cohort_id``), stratified on response: every
    patient is scored by models that saw no one of their cohort, so cohort-mates'
    outcomes (dependent through the cohort's own effect) cannot vouch for them.
    Unlike `cohort_folds`, every cohort is held out once, small ones included."""
    groups = _cohort_of(cohort, "leave-cohort-out")
    treatments = cohort.treatments
    n_groups = groups.nunique()
    if n_groups < 2:
        raise ValueError("--split leave-cohort-out needs two or more cohorts")
    splitter = StratifiedGroupKFold(
        n_splits=min(n_splits, n_groups), shuffle=True, random_state=seed
    )
    split = splitter.split(
        treatments, treatments["responded"], groups=groups[treatments["sample_id"]]
    )
    folds = pd.Series(TRAIN_ONLY, index=groups.index, dtype=int)
    for fold, (_, test) in enumerate(split):
        folds[treatments["sample_id"].iloc[test].unique()] = fold
    logger.info("leave cohorts out: %d cohorts in %d folds", n_groups, folds.max() + 1)
    return _every_profile(cohort, folds)


def _cohort_of(cohort: Cohort, split: str) -> pd.Series:
    # sample id -> its cohort; a sample treated in two cohorts is refused.
    if "cohort_id" not in cohort.treatments:
        raise ValueError(f"--split {split} needs a cohort_id column, which is missing")
    by_sample = cohort.treatments.groupby("sample_id")["cohort_id"]
    if (shared := by_sample.nunique() > 1).any():
        raise ValueError(f"{int(shared.sum())} samples are treated in two cohorts")
    return by_sample.first().astype(str)


def _leave_one_out(
    cohort: Cohort, groups: pd.Series, kind: str, *, min_samples: int
) -> pd.Series:
    # groups: sample id -> its group; untreated profiles follow their group.
    treated = groups[groups.index.isin(set(cohort.treatments["sample_id"]))]
    sizes = treated.value_counts()
    held_out = sizes[sizes >= min_samples]
    if held_out.empty:
        raise ValueError(
            f"no {kind} has {min_samples} or more treated samples; lower "
            f"--min-type-samples (largest has {int(sizes.max())})"
        )
    number = {t: i for i, t in enumerate(held_out.index)}  # value_counts: largest first
    folds = groups.map(number).fillna(TRAIN_ONLY).astype(int)
    logger.info(
        "leave one %s out: %d held out, %d smaller (%d samples) train-only",
        kind,
        len(held_out),
        len(sizes) - len(held_out),
        int(sizes[sizes < min_samples].sum()),
    )
    return _every_profile(cohort, folds)


def temporal_folds(cohort: Cohort, *, quantile: float = 0.8) -> pd.Series:
    """Train before a date cut, test after it.

    A sample's date is its latest ``start_date``, so no outcome on or after the cut
    is trained on. The cut is that date's ``quantile`` over samples; samples dated
    on or after it are fold 0, earlier ones train-only: every training sample's
    date precedes every test sample's.
    """
    latest = _dates(cohort, "temporal").max().dropna()
    cut = pd.Timestamp(np.sort(latest.to_numpy())[int(quantile * (len(latest) - 1))])
    folds = pd.Series(np.where(latest >= cut, 0, TRAIN_ONLY), index=latest.index)
    if not (folds == TRAIN_ONLY).any():
        raise ValueError(f"every sample is dated on the cut {cut.date()}; no training")
    logger.info(
        "temporal: cut %s (quantile %.2f); %d samples train, %d test",
        cut.date(),
        quantile,
        int((folds == TRAIN_ONLY).sum()),
        int((folds == 0).sum()),
    )
    return _every_profile(cohort, folds)


def prospective_origins(
    cohort: Cohort, *, blocks: int = 3, first_share: float = 0.4, lag_days: int = 112
) -> list[tuple[Cohort, pd.Series]]:
    """Rolling origin in enrolment order, as the models would have been used.

    Samples are ordered by their first ``start_date``. The first ``first_share``
    only ever train; the rest, in ``blocks`` equal blocks, are each scored (fold
    0) by models trained on the samples whose outcome was known when the block
    began: enrolled at least ``lag_days`` before it (DRUP reads benefit at 16
    weeks). Later samples are left out of that origin's cohort, so no outcome
    from the future is trained on. Returns one (cohort, folds) per block.
    """
    dates = _dates(cohort, "prospective").min()
    if dates.isna().any():
        raise ValueError("the prospective split needs a 'start_date' on every sample")
    dates = dates.sort_values(kind="stable")
    edges = np.linspace(int(first_share * len(dates)), len(dates), blocks + 1)
    origins = []
    for start, stop in zip(edges[:-1].astype(int), edges[1:].astype(int), strict=True):
        block = dates.index[start:stop]
        known = dates.index[dates < dates.iloc[start] - pd.Timedelta(days=lag_days)]
        folds = pd.Series(TRAIN_ONLY, index=known.append(block), dtype=int)
        folds[block] = 0
        origins.append((cohort.subset(samples=folds.index), folds))
        logger.info(
            "prospective block from %s: %d samples train, %d scored",
            dates.iloc[start].date(),
            len(known),
            len(block),
        )
    return origins


def _dates(cohort: Cohort, split: str) -> SeriesGroupBy:
    """Each sample's episode dates (``start_date``), grouped by sample."""
    treatments = cohort.treatments
    if "start_date" not in treatments or treatments["start_date"].isna().all():
        raise ValueError(
            f"the {split} split needs a 'start_date' column in the treatments; "
            "this cohort has none (use --split grouped or tumour-type)"
        )
    return pd.to_datetime(treatments["start_date"]).groupby(treatments["sample_id"])


def cross_study_folds(train: Cohort, test: Cohort) -> tuple[Cohort, pd.Series]:
    """One cohort holding both studies' episodes of the drugs both measured.

    ``test`` samples (e.g. CCLE lines, whose profiles are their GDSC profiles) are
    fold 0 with only the test study's responses; their episodes in ``train`` are
    dropped, so each line is either trained on (the first study) or scored (the
    second), never both. Everything else in ``train`` is train-only.
    """
    shared = sorted(set(train.drugs) & set(test.drugs))
    if not shared:
        raise ValueError("the two studies share no drug; nothing to evaluate")
    scored = set(test.treatments["sample_id"])
    first = train.treatments
    first = first[first["drug"].isin(shared) & ~first["sample_id"].isin(scored)]
    second = test.treatments[test.treatments["drug"].isin(shared)]
    treatments = pd.concat([first, second], ignore_index=True)
    profiles = {p.sample_id: p for p in (*train.profiles, *test.profiles)}
    cohort = Cohort(profiles=tuple(profiles.values()), treatments=treatments)
    folds = pd.Series(
        [0 if s in scored else TRAIN_ONLY for s in profiles], index=list(profiles)
    )
    logger.info(
        "cross-study: %d shared drugs; %d training episodes, %d test episodes",
        len(shared),
        len(first),
        len(second),
    )
    return cohort, folds


def _every_profile(cohort: Cohort, folds: pd.Series) -> pd.Series:
    ids = [p.sample_id for p in cohort.profiles]
    return folds.reindex(ids).fillna(TRAIN_ONLY).astype(int)

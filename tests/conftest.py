"""Fixtures shared by every test package."""

import os
import pickle
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd
import pytest
import sqlalchemy
import xgboost as xgb
from hypothesis import settings

from features import (
    Alteration,
    DrugKnowledge,
    Profile,
    ProfileVectorizer,
    canonical_tumour_type,
    encode_pairs,
)
from models import Offsets, TumourTypeRates, UncertaintyModel, logit
from training.config import UncertaintyConfig
from training.data import GDSC_FOLDER, Cohort, write_cohort
from training.fitting import fit_episodes

# CI draws the same Hypothesis examples every run (a run that lands is one that
# passed here with them); a developer's runs draw new ones and find new cases.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

SHARED_DATA_VARIABLE = "REDISCOVER_TEST_SHARED_DATA"
FIXTURES = Path(__file__).resolve().parent / "fixtures"  # the tests' own data files


@pytest.fixture
def refuse_pickle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every pickle and cloudpickle read or write fail the test: the bundle
    and the MLflow model built on it are plain files, never pickles."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model must not be pickled or unpickled")

    for module in (pickle, cloudpickle):
        for name in ("load", "loads", "dump", "dumps"):
            monkeypatch.setattr(module, name, refuse)


def write_cli_config(folder: Path, *, n_estimators: int = 40) -> Path:
    """A small ``mlflow.yml`` for CLI tests: SQLite store, artifacts and caches in
    ``folder``."""
    path = folder / "mlflow.yml"
    path.write_text(
        f"tracking:\n  uri: sqlite:///{folder}/mlflow.db\n  artifact_root: artifacts\n"
        "data:\n  cache_dir: data-cache\n"
        "training:\n  cv_folds: 3\n  min_samples: 50\n  n_bootstrap: 50\n"
        f"xgboost:\n  n_estimators: {n_estimators}\n"
        "serving:\n  cache_dir: serving-cache\n"
    )
    return path


def unshipped_data(name: str) -> Path:
    """Folder `name` of a data set the repository may not ship (see data/README.md),
    from the team's copies: ``$REDISCOVER_TEST_SHARED_DATA``, else ``../shared/data``
    beside the repository. Skips the test when the folder is not there."""
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    folder = Path(os.environ.get(SHARED_DATA_VARIABLE) or default) / name
    if not folder.is_dir():
        pytest.skip(f"{name} is not shipped and {folder} does not exist")
    return folder


@pytest.fixture(scope="session")
def shipped_data_dir() -> Path:
    """The repository's ``data/`` folder: the data sets it ships."""
    return Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def gdsc_data_dir(shipped_data_dir: Path) -> Path:
    """The shipped GDSC1000 v17 folder (``data/gdsc1000_v17``)."""
    return shipped_data_dir / GDSC_FOLDER


POSTGRES_SERVER_VARIABLE = "REDISCOVER_TEST_POSTGRES_URI"


@pytest.fixture
def postgres_tracking_uri() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, as an MLflow tracking URI.

    Created on the server that ``REDISCOVER_TEST_POSTGRES_URI`` names (``.ci/run``
    starts one with ``.ci/postgres``) and dropped afterwards. Without the variable
    the test is skipped, except under CI, where it fails: CI must never pass
    without having exercised the PostgreSQL store.
    """
    server = os.environ.get(POSTGRES_SERVER_VARIABLE)
    if not server:
        reason = (
            f"{POSTGRES_SERVER_VARIABLE} is not set; `bash .ci/postgres` starts a "
            "local server and prints the URI to set it to"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI runs the PostgreSQL tests: {reason}")
        pytest.skip(reason)
    name = f"rediscover_{secrets.token_hex(6)}"
    admin = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
        url = sqlalchemy.make_url(server).set(database=name)
        yield url.render_as_string(hide_password=False)
        with admin.connect() as connection:
            # FORCE ends the connections MLflow's engines still hold open.
            connection.execute(
                sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            )
    finally:
        admin.dispose()


def make_planted_profiles(n: int, *, seed: int) -> tuple[list[Profile], np.ndarray]:
    """Seeded profiles with known truth: BRAF-mutant tumours respond, others rarely.

    Returns the profiles and each one's true response probability.
    """
    rng = np.random.default_rng(seed)
    types = ["melanoma", "colorectal", "lung adenocarcinoma"]
    profiles, truth = [], []
    for i in range(n):
        braf = bool(rng.random() < 0.3)
        events = [
            Alteration(kind="mutation", gene="BRAF", protein_change="V600E")
        ] * braf
        events += [
            Alteration(kind="mutation", gene=gene)
            for gene in ("TP53", "KRAS", "PIK3CA")
            if rng.random() < 0.3
        ]
        if rng.random() < 0.1:
            events.append(Alteration(kind="amplification", gene="ERBB2"))
        profiles.append(
            Profile(
                sample_id=f"s{i}",
                tumour_type=types[int(rng.integers(len(types)))],
                alterations=tuple(events),
                msi_high=bool(rng.random() < 0.1),
            )
        )
        truth.append(0.8 if braf else 0.1)
    return profiles, np.asarray(truth)


def braf_melanoma_request() -> dict[str, Any]:
    """A BRAF V600E melanoma profile as sent over HTTP (its sample id is "secret")."""
    return {
        "sample_id": "PATIENT-SECRET-42",
        "tumour_type": "Melanoma",
        "alterations": [
            {"kind": "mutation", "gene": "BRAF", "protein_change": "V600E"},
            {"kind": "mutation", "gene": "TP53"},
        ],
        "tmb_mut_per_mb": 8.0,
    }


def planted_treatments(
    profiles: list[Profile],
    truth: np.ndarray,
    *,
    drugs: tuple[str, str],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Every profile treated with both ``drugs``: the first's responders drawn
    from ``truth`` (the planted signal), the second's at a rate of 0.3 (noise)."""
    n = len(profiles)
    return pd.DataFrame(
        {
            "sample_id": [p.sample_id for p in profiles] * 2,
            "drug": [drugs[0]] * n + [drugs[1]] * n,
            "responded": np.concatenate(
                [rng.random(n) < truth, rng.random(n) < 0.3]
            ).astype(int),
        }
    )


@pytest.fixture(scope="session")
def planted() -> tuple[list[Profile], np.ndarray]:
    """200 planted-signal profiles and their responses (drawn from the truth)."""
    profiles, truth = make_planted_profiles(200, seed=0)
    responded = (np.random.default_rng(1).random(len(truth)) < truth).astype(int)
    return profiles, responded


def write_planted_project(folder: Path, *, n: int = 240) -> tuple[Path, Path]:
    """A tiny project for the command line: ``mlflow.yml`` (SQLite store,
    artifacts and caches inside ``folder``; 3 folds, 20 trees) and a cohort folder
    where BRAF-mutant tumours respond to vemurafenib and olaparib is noise.

    Returns the config file and the cohort folder.
    """
    profiles, truth = make_planted_profiles(n, seed=7)
    treatments = planted_treatments(
        profiles, truth, drugs=("vemurafenib", "olaparib"), rng=np.random.default_rng(8)
    )
    cohort = write_cohort(
        Cohort(profiles=tuple(profiles), treatments=treatments),
        folder / "cohort",
        source="planted",
    )
    config = folder / "mlflow.yml"
    config.write_text(
        f"tracking:\n  uri: sqlite:///{folder}/mlflow.db\n  artifact_root: artifacts\n"
        "data:\n  cache_dir: data-cache\n"
        "training:\n  cv_folds: 3\n  min_samples: 50\n  n_bootstrap: 20\n"
        "xgboost:\n  n_estimators: 20\n"
        "serving:\n  cache_dir: serving-cache\n"
    )
    return config, cohort


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The planted project (120 samples) after ``rediscover train``: its config
    file, champion version 1. Tests only read it: none registers or moves an alias."""
    from rediscover.cli import main

    config, cohort = write_planted_project(tmp_path_factory.mktemp("trained"), n=120)
    with pytest.MonkeyPatch.context() as env:
        env.delenv("MLFLOW_TRACKING_URI", raising=False)  # the config's store only
        assert main(["--config", str(config), "train", "--data", str(cohort)]) == 0
    return config


def in_sample_uncertainty(
    profiles: list[Profile],
    outcomes: Mapping[str, np.ndarray],
    raw: Mapping[str, np.ndarray],
) -> UncertaintyModel:
    """Uncertainty fitted on a hand-built bundle's in-sample probabilities.

    Only for fixtures: real bundles fit it on out-of-fold predictions.
    """
    tumour_types = [canonical_tumour_type(p.tumour_type) for p in profiles]
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "sample_id": [p.sample_id for p in profiles],
                    "drug": drug,
                    "responded": np.asarray(y, dtype=int),
                    "raw": raw[drug],
                    "served_by": "per-drug",
                    "tumour_type": tumour_types,
                }
            )
            for drug, y in outcomes.items()
        ],
        ignore_index=True,
    )
    return fit_episodes(frame, profiles, settings=UncertaintyConfig())


def fit_drug_boosters(
    vectorizer: ProfileVectorizer,
    profiles: list[Profile],
    outcomes: Mapping[str, np.ndarray],
    *,
    knowledge: DrugKnowledge,
    params: Mapping[str, object],
    rounds: int,
) -> tuple[dict[str, xgb.Booster], dict[str, np.ndarray], Offsets]:
    """Per-drug boosters of a hand-built bundle, fitted on what a bundle scores:
    profile features plus the drug's target-match flags, from the drug's overall
    rate (the offset, here the same for every tumour type). Returns the boosters,
    their in-sample probabilities and the offsets."""
    X = vectorizer.transform(profiles)
    boosters, raw, rates = {}, {}, {}
    for drug, y in outcomes.items():
        design = encode_pairs(
            X, profiles, [drug] * len(profiles), drug_vocabulary=(),
            knowledge=knowledge,
        )  # fmt: skip
        rates[drug] = TumourTypeRates(pooled=float(np.mean(y)))
        margin = np.full(len(y), float(logit(rates[drug].pooled)))
        matrix = xgb.DMatrix(design, label=np.asarray(y, float), base_margin=margin)
        boosters[drug] = xgb.train(dict(params), matrix, num_boost_round=rounds)
        raw[drug] = boosters[drug].predict(matrix)
    return boosters, raw, Offsets(drugs=rates)

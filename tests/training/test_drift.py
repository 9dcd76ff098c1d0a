"""Drift reports: a planted shift is found, identical data show none, small
categories are pooled or suppressed (so no small count can be recovered by
subtraction), a new-only batch reports nothing "gone", and the report reaches
MLflow."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features import Alteration, Profile
from tests.training.conftest import small_config
from training.data import Cohort
from training.registry import client_for
from training.retraining import drift_report, log_drift

SECRET = "PATIENT-SECRET-"


def _cohort(
    n: int,
    *,
    seed: int,
    kras: float,
    melanoma: float,
    response: float,
    start: int = 0,
    drugs: tuple[str, ...] = ("vemurafenib", "olaparib"),
) -> Cohort:
    """`n` samples: KRAS-mutant with probability `kras`, melanoma (else colorectal)
    with probability `melanoma`; each treated once, responding with `response`."""
    rng = np.random.default_rng(seed)
    profiles = []
    for i in range(start, start + n):
        events = [Alteration(kind="mutation", gene="KRAS", protein_change="G12D")]
        events = events if rng.random() < kras else []
        if rng.random() < 0.2:
            events.append(Alteration(kind="mutation", gene="TP53"))
        profiles.append(
            Profile(
                sample_id=f"{SECRET}{i}",
                tumour_type="melanoma" if rng.random() < melanoma else "colorectal",
                alterations=tuple(events),
            )
        )
    treatments = pd.DataFrame(
        {
            "sample_id": [p.sample_id for p in profiles],
            "drug": [drugs[i % len(drugs)] for i in range(n)],
            "responded": (rng.random(n) < response).astype(int),
        }
    )
    return Cohort(profiles=tuple(profiles), treatments=treatments)


BASE = {"kras": 0.1, "melanoma": 0.3, "response": 0.2}


def test_a_planted_shift_is_found() -> None:
    reference = _cohort(400, seed=0, **BASE)
    current = _cohort(400, seed=1, start=400, kras=0.4, melanoma=0.6, response=0.5)
    report = drift_report(reference, current)
    top = report.prevalence.iloc[0]
    assert top["feature"] in {"mutation KRAS", "hotspot KRAS G12"}
    assert top["difference"] == pytest.approx(0.3, abs=0.06)
    assert top["q_value"] < 1e-6 and top["psi"] > 0.1
    tp53 = report.prevalence.set_index("feature").loc["mutation TP53"]
    assert abs(tp53["difference"]) < 0.06 and tp53["q_value"] > 0.05
    summary = report.summary()
    assert summary["drift_max_prevalence_shift"] == top["difference"]
    assert summary["drift_tumour_type_tvd"] == pytest.approx(0.3, abs=0.07)
    assert summary["drift_tumour_type_p_value"] < 1e-6
    assert summary["drift_response_rate_delta"] == pytest.approx(0.3, abs=0.07)
    assert summary["drift_response_rate_p_value"] < 1e-6
    assert summary["drift_n_new_episodes"] == 400


def test_identical_data_show_no_shift() -> None:
    cohort = _cohort(300, seed=0, **BASE)
    copy = Cohort(profiles=cohort.profiles[::-1], treatments=cohort.treatments[::-1])
    report = drift_report(cohort, copy)
    assert (report.prevalence["difference"] == 0).all()
    assert (report.prevalence["psi"] == 0).all()
    assert (report.response["difference"] == 0).all()
    assert report.response["p_value"].eq(1).all()
    summary = report.summary()
    assert summary["drift_max_prevalence_shift"] == 0
    assert summary["drift_tumour_type_tvd"] == 0
    assert summary["drift_tumour_type_p_value"] == pytest.approx(1)
    assert summary["drift_n_features_shifted"] == 0
    assert summary["drift_n_new_episodes"] == summary["drift_n_new_samples"] == 0
    assert report.changes.empty


def test_same_distribution_raises_no_false_alarm() -> None:
    report = drift_report(_cohort(400, seed=0, **BASE), _cohort(400, seed=1, **BASE))
    assert report.summary()["drift_n_features_shifted"] == 0
    assert report.summary()["drift_tumour_type_p_value"] > 0.01


def test_new_only_compares_with_the_new_part() -> None:
    reference = _cohort(300, seed=0, **BASE)
    batch = _cohort(200, seed=1, start=300, kras=0.5, melanoma=0.3, response=0.2)
    current = Cohort(
        profiles=reference.profiles + batch.profiles,
        treatments=pd.concat([reference.treatments, batch.treatments]),
    )
    diluted = drift_report(reference, current).summary()
    focused = drift_report(reference, current, new_only=True).summary()
    assert focused["drift_n_current_episodes"] == 200
    assert diluted["drift_n_new_episodes"] == focused["drift_n_new_episodes"] == 200
    assert focused["drift_max_prevalence_shift"] == pytest.approx(0.4, abs=0.07)
    assert diluted["drift_max_prevalence_shift"] < focused["drift_max_prevalence_shift"]


def test_small_categories_are_pooled_or_suppressed() -> None:
    reference = _cohort(100, seed=0, **BASE)
    current = _cohort(100, seed=1, start=100, drugs=("vemurafenib",), **BASE)
    rare = [
        Profile(sample_id=f"{SECRET}r{i}", tumour_type=kind, alterations=events)
        for i, (kind, events) in enumerate(
            [("glioma", ())] * 3  # 3 in reference only: pooled
            + [("thyroid", (Alteration(kind="fusion", gene="RET"),))] * 2
        )
    ]
    dabrafenib = pd.DataFrame(
        {"sample_id": [p.sample_id for p in rare], "drug": "dabrafenib",
         "responded": [1, 0, 1, 0, 1]}
    )  # fmt: skip
    reference = Cohort(
        profiles=reference.profiles + tuple(rare),
        treatments=pd.concat([reference.treatments, dabrafenib]),
    )
    thyroid = [
        rare[-1].model_copy(update={"sample_id": f"{SECRET}t{i}"}) for i in range(9)
    ]
    current = Cohort(
        profiles=current.profiles + tuple(thyroid), treatments=current.treatments
    )
    report = drift_report(reference, current, min_count=5)
    types = report.tumour_types.set_index("tumour_type")
    # glioma (3 in reference only) and thyroid (2 in reference, 9 in current) are
    # small on a side: pooled into one row, which names neither and is shown.
    assert "glioma" not in types.index and "thyroid" not in types.index
    assert types.loc["other tumour types", "n_reference"] == 5
    assert types.loc["other tumour types", "n_current"] == 9
    assert "lineage: thyroid" not in set(report.prevalence["feature"])
    ret = report.prevalence.set_index("feature").loc["fusion RET"]
    assert np.isnan(ret["prevalence_reference"]) and np.isnan(ret["difference"])
    assert ret["prevalence_current"] == pytest.approx(9 / 109)
    response = report.response.set_index("drug")
    assert "dabrafenib" in response.index  # 5 episodes: reported
    assert response.loc["dabrafenib", "n_current"] == 0
    changes = report.changes.set_index("name")
    assert changes.loc["dabrafenib", "status"] == "gone"
    assert changes.loc["olaparib", "status"] == "gone"
    assert "glioma" not in changes.index  # gone, but fewer than 5 samples
    assert report.summary()["drift_n_gone_tumour_types"] == 1


def _typed(counts: dict[str, int], drugs: dict[str, int], *, prefix: str) -> Cohort:
    """Samples of the given tumour types; the first ones treated with the given
    drugs, once each."""
    types = [t for t, n in counts.items() for _ in range(n)]
    profiles = tuple(
        Profile(sample_id=f"{SECRET}{prefix}{i}", tumour_type=t)
        for i, t in enumerate(types)
    )
    given = [d for d, n in drugs.items() for _ in range(n)]
    treatments = pd.DataFrame(
        {
            "sample_id": [p.sample_id for p in profiles[: len(given)]],
            "drug": given,
            "responded": [i % 2 for i in range(len(given))],
        }
    )
    return Cohort(profiles=profiles, treatments=treatments)


def test_a_small_count_cannot_be_recovered_by_subtraction() -> None:
    reference = _typed(
        {"melanoma": 50, "lung adenocarcinoma": 50, "breast": 30},
        {"vemurafenib": 60, "olaparib": 30},
        prefix="r",
    )
    current = _typed(
        {"melanoma": 40, "lung adenocarcinoma": 30, "breast": 3},
        {"vemurafenib": 40, "olaparib": 3},
        prefix="c",
    )
    report = drift_report(reference, current, min_count=5)
    summary = report.summary()
    assert summary["drift_n_current_samples"] == 73
    types = report.tumour_types.set_index("tumour_type")
    named = types.drop(index="other tumour types")
    assert set(named.index) == {"melanoma", "lung adenocarcinoma"}
    counts = named[["n_reference", "n_current"]]
    assert counts.notna().all().all() and ((counts == 0) | (counts >= 5)).all().all()
    # The pool holds breast, but names it nowhere: neither does the lineage.
    assert types.loc["other tumour types", "n_current"] == 3
    assert "breast" not in json.dumps(report.to_dict())
    response = report.response.set_index("drug")
    assert "olaparib" not in response.index and "other drugs" in response.index
    assert "olaparib" not in json.dumps(report.to_dict())
    drugs = response.drop(index=["all drugs", "other drugs"])
    episodes = drugs[["n_reference", "n_current"]]
    assert ((episodes == 0) | (episodes >= 5)).all().all()
    # Headline statistics come from the pooled table.
    shares = (
        types[["n_reference", "n_current"]] / types[["n_reference", "n_current"]].sum()
    )
    tvd = 0.5 * (shares["n_current"] - shares["n_reference"]).abs().sum()
    assert summary["drift_tumour_type_tvd"] == pytest.approx(tvd)
    assert summary["drift_tumour_type_tvd"] == pytest.approx(
        0.5
        * (abs(40 / 73 - 50 / 130) + abs(30 / 73 - 50 / 130) + abs(3 / 73 - 30 / 130))
    )


def test_a_new_only_batch_reports_nothing_gone() -> None:
    reference = _cohort(
        300, seed=0, drugs=("vemurafenib", "olaparib", "dabrafenib", "trametinib"),
        **BASE,
    )  # fmt: skip
    batch = _cohort(
        40, seed=1, start=300, drugs=("vemurafenib", "sotorasib"), kras=0.1,
        melanoma=1.0, response=0.2,
    )  # fmt: skip
    current = Cohort(
        profiles=reference.profiles + batch.profiles,
        treatments=pd.concat([reference.treatments, batch.treatments]),
    )
    report = drift_report(reference, current, new_only=True)
    summary = report.summary()
    assert np.isnan(summary["drift_n_gone_drugs"])
    assert np.isnan(summary["drift_n_gone_tumour_types"])
    assert summary["drift_n_new_drugs"] == 1
    assert "gone" not in set(report.changes["status"])
    assert report.changes.set_index("name").loc["sotorasib", "status"] == "new"
    # Drugs the batch lacks are simply absent from it: 0 episodes, not gone.
    assert report.response.set_index("drug").loc["olaparib", "n_current"] == 0
    # Compared with the whole cohort, nothing is gone either; with a cohort that
    # lacks drugs and a tumour type, they are.
    assert drift_report(reference, current).summary()["drift_n_gone_drugs"] == 0
    whole = drift_report(reference, batch).summary()
    assert whole["drift_n_gone_drugs"] == 3
    assert whole["drift_n_gone_tumour_types"] == 1


def test_report_holds_no_sample_ids() -> None:
    reference = _cohort(120, seed=0, **BASE)
    current = _cohort(120, seed=1, start=120, kras=0.4, melanoma=0.6, response=0.5)
    report = drift_report(reference, current)
    text = json.dumps(report.to_dict()) + "".join(
        t.to_csv() for t in report.tables().values()
    )
    assert SECRET not in text


def test_log_drift_writes_metrics_and_artifacts(tmp_path: Path) -> None:
    config = small_config(tmp_path)
    client = client_for(config.tracking)
    experiment = client.create_experiment(
        "drift", artifact_location=(tmp_path / "artifacts").as_uri()
    )
    run_id = client.create_run(experiment).info.run_id
    reference = _cohort(150, seed=0, **BASE)
    current = _cohort(150, seed=1, start=150, kras=0.4, melanoma=0.6, response=0.5)
    report = drift_report(reference, current)
    log_drift(client, run_id, report)
    metrics = client.get_run(run_id).data.metrics
    assert metrics["drift_tumour_type_tvd"] == pytest.approx(
        report.summary()["drift_tumour_type_tvd"]
    )
    assert metrics["drift_n_new_episodes"] == 150
    names = {Path(a.path).name for a in client.list_artifacts(run_id, "drift")}
    assert names == {
        "prevalence.csv", "tumour_types.csv", "response.csv", "changes.csv",
        "drift.json", "drift.png",
    }  # fmt: skip
    folder = Path(client.download_artifacts(run_id, "drift", str(tmp_path / "dl")))
    assert (folder / "drift.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    logged = json.loads((folder / "drift.json").read_text())
    assert logged["summary"]["drift_n_new_episodes"] == 150
    table = pd.read_csv(folder / "prevalence.csv")
    assert table["feature"].iloc[0] == report.prevalence["feature"].iloc[0]

"""How often the promotion gate refuses genuine batches and promotes corrupted ones.

Usage (GDSC v17, the cell lines the simulator resamples, from ``--gdsc`` or
the repository's shipped ``data/``)::

    .venv/bin/python benchmarks/bench_gate.py --seeds 0 1 2 3 4 --out gate.json

For each simulator seed: a DRUP-shaped cohort (`training.data.simulate_drup`), a
champion trained on the episodes that started before 2021, then one challenger per
scenario, trained on the whole cohort with the 2021+ episodes (the batch) as they
are or corrupted, and judged by the gate exactly as ``rediscover retrain`` judges
it (`training.retraining.assess`, the thresholds of ``mlflow.yml``):

- ``genuine``: the batch as simulated;
- ``inflated``: 30% of the batch's non-responders relabelled responders (the
  issue's 55.5% response rate against ~35%);
- ``deflated``: half of the batch's responders relabelled non-responders;
- ``shuffled``: the batch's outcomes permuted across its episodes;
- ``flipped_drug``: every outcome of the drug with the most new episodes turned
  over (responder <-> non-responder).

Models are trained small (3 folds, 40 trees, 100 bootstrap resamples) so a seed
takes about two minutes. Prints one row per seed and scenario (promoted or not,
the failed checks) and the false-refusal and false-promotion rates; ``--out``
writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from features import DrugKnowledge, load_drug_knowledge  # noqa: E402
from models import ResponderModel  # noqa: E402
from training.config import Config, load_config  # noqa: E402
from training.data import (  # noqa: E402
    Cohort,
    fetch_dataset,
    load_gdsc,
    simulate_drup,
    slice_by_date,
)
from training.fitting import (  # noqa: E402
    CrossValidation,
    FitPlan,
    cross_validate_cohort,
    select_drugs,
    train_bundle,
)
from training.retraining import assess  # noqa: E402

CUT = "2021-01-01"
MIN_SAMPLES = 40  # as tests/test_scenario_retrain.py: enough drugs with own models
INFLATE = 0.30  # share of the batch's non-responders relabelled responders
DEFLATE = 0.50  # share of the batch's responders relabelled non-responders
Corruption = Callable[[pd.DataFrame, np.ndarray, np.random.Generator], np.ndarray]


def _genuine(
    t: pd.DataFrame, batch: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    return t["responded"].to_numpy().copy()


def _relabelled(
    t: pd.DataFrame, batch: np.ndarray, rng: np.random.Generator, *,
    outcome: int, share: float,
) -> np.ndarray:  # fmt: skip
    # A share of the batch's episodes with `outcome` get the other one.
    y = t["responded"].to_numpy().copy()
    y[batch & (y == outcome) & (rng.random(len(y)) < share)] = 1 - outcome
    return y


_inflated: Corruption = partial(_relabelled, outcome=0, share=INFLATE)
_deflated: Corruption = partial(_relabelled, outcome=1, share=DEFLATE)


def _shuffled(
    t: pd.DataFrame, batch: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    y = t["responded"].to_numpy().copy()
    y[batch] = rng.permutation(y[batch])
    return y


def _flipped_drug(
    t: pd.DataFrame, batch: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    y = t["responded"].to_numpy().copy()
    drug = t.loc[batch, "drug"].value_counts().index[0]
    rows = batch & (t["drug"] == drug).to_numpy()
    y[rows] = 1 - y[rows]
    return y


SCENARIOS: dict[str, Corruption] = {
    "genuine": _genuine,
    "inflated": _inflated,
    "deflated": _deflated,
    "shuffled": _shuffled,
    "flipped_drug": _flipped_drug,
}


def small_config(path: Path, workdir: Path, *, full: bool = False) -> Config:
    """``mlflow.yml`` trained small (unless ``full``); no MLflow run is made."""
    config = load_config(path, tracking_uri=f"sqlite:///{workdir / 'unused.db'}")
    if full:
        return config.model_copy(
            update={
                "training": config.training.model_copy(
                    update={"min_samples": MIN_SAMPLES}
                )
            }
        )
    return config.model_copy(
        update={
            "training": config.training.model_copy(
                update={"cv_folds": 3, "n_bootstrap": 100, "min_samples": MIN_SAMPLES}
            ),
            "xgboost": config.xgboost.model_copy(update={"n_estimators": 40}),
        }
    )


def train(
    cohort: Cohort, config: Config, knowledge: DrugKnowledge
) -> tuple[CrossValidation, ResponderModel]:
    """Cross-validate and fit as ``rediscover train`` does."""
    drugs = select_drugs(cohort, config=config)
    plan = FitPlan(config, drugs=drugs, knowledge=knowledge)
    cv = cross_validate_cohort(cohort, plan=plan)
    model = train_bundle(cohort, plan=plan, data_source="bench_gate", cv=cv)
    return cv, model


def run_seed(
    seed: int,
    *,
    gdsc: Cohort,
    config: Config,
    knowledge: DrugKnowledge,
    scenarios: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Every scenario on one simulated cohort: the gate's verdict and numbers."""
    cohort = simulate_drup(seed=seed, source=gdsc).cohort
    early = slice_by_date(cohort, end=date.fromisoformat(CUT))
    _, champion = train(early, config, knowledge)
    treatments = cohort.treatments.reset_index(drop=True)
    batch = (treatments["start_date"] >= CUT).to_numpy()
    rows = []
    for name, corrupt in SCENARIOS.items():
        if scenarios and name not in scenarios:
            continue
        started = time.perf_counter()
        rng = np.random.default_rng([seed, list(SCENARIOS).index(name)])
        outcomes = corrupt(treatments, batch, rng)
        grown = Cohort(
            profiles=cohort.profiles, treatments=treatments.assign(responded=outcomes)
        )
        cv, challenger = train(grown, config, knowledge)
        verdict = assess(
            grown, cv, challenger, champion=champion, reference=early, config=config
        )
        rows.append(
            {
                "seed": seed,
                "scenario": name,
                "promoted": verdict.gate.passed,
                "failed": [c.name for c in verdict.gate.checks if not c.passed],
                "checks": {c.name: c.value for c in verdict.gate.checks},
                "messages": {c.name: c.message for c in verdict.gate.checks},
                "batch_episodes": int(batch.sum()),
                "batch_response_rate": float(outcomes[batch].mean()),
                "most_relabelled": _most_relabelled(treatments, batch, outcomes),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
        print(_row(rows[-1]), flush=True)
    return rows


def _most_relabelled(
    t: pd.DataFrame, batch: np.ndarray, outcomes: np.ndarray
) -> dict[str, Any] | None:
    """The drug with the most relabelled batch episodes: its batch response rate
    as simulated and as relabelled (how far the corruption moved it)."""
    original = t["responded"].to_numpy()
    changed = batch & (outcomes != original)
    if not changed.any():
        return None
    drug = t.loc[changed, "drug"].value_counts().index[0]
    rows = batch & (t["drug"] == drug).to_numpy()
    return {
        "drug": str(drug),
        "episodes": int(rows.sum()),
        "relabelled": int((changed & rows).sum()),
        "rate_simulated": float(original[rows].mean()),
        "rate_relabelled": float(outcomes[rows].mean()),
    }


def _row(row: dict[str, Any]) -> str:
    verdict = "PROMOTED" if row["promoted"] else "refused "
    return (
        f"seed {row['seed']}  {row['scenario']:<13}{verdict}  batch rate "
        f"{row['batch_response_rate']:.3f}  failed: {', '.join(row['failed']) or '-'}"
    )


def rates(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """False refusals (genuine batches refused) and false promotions (corrupted
    batches promoted), overall and per scenario; and, per check, the runs it
    alone refused (what switching it off would change)."""
    per = {
        name: {
            "runs": sum(r["scenario"] == name for r in rows),
            "promoted": sum(r["scenario"] == name and r["promoted"] for r in rows),
        }
        for name in SCENARIOS
    }
    genuine = per["genuine"]
    corrupted = [v for k, v in per.items() if k != "genuine"]
    alone: dict[str, list[str]] = {}
    for r in rows:
        if len(r["failed"]) == 1:
            alone.setdefault(r["failed"][0], []).append(f"{r['scenario']} {r['seed']}")
    return {
        "per_scenario": per,
        "false_refusals": genuine["runs"] - genuine["promoted"],
        "genuine_runs": genuine["runs"],
        "false_promotions": sum(v["promoted"] for v in corrupted),
        "corrupted_runs": sum(v["runs"] for v in corrupted),
        "refused_by_one_check_only": alone,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "mlflow.yml")
    parser.add_argument(
        "--gdsc", type=Path, help="GDSC v17 folder (default: the shipped data/)"
    )
    parser.add_argument("--workdir", type=Path, default=Path(".cache/bench_gate"))
    parser.add_argument("--out", type=Path, help="write rows and rates as JSON")
    parser.add_argument(
        "--scenarios", nargs="+", choices=list(SCENARIOS), help="default: all"
    )
    parser.add_argument(
        "--full", action="store_true",
        help="train as mlflow.yml says (5 folds, 150 trees): about 3x slower",
    )  # fmt: skip
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    config = small_config(args.config, args.workdir, full=args.full)
    gdsc = load_gdsc(
        args.gdsc
        or fetch_dataset(
            "gdsc", args.workdir / "data", data_dir=config.data.shipped_dir
        )
    )
    knowledge = load_drug_knowledge()
    rows = [
        row
        for seed in args.seeds
        for row in run_seed(
            seed,
            gdsc=gdsc,
            config=config,
            knowledge=knowledge,
            scenarios=args.scenarios,
        )
    ]
    summary = rates(rows)
    print(
        f"false refusals {summary['false_refusals']}/{summary['genuine_runs']} "
        f"genuine batches; false promotions {summary['false_promotions']}/"
        f"{summary['corrupted_runs']} corrupted batches"
    )
    for check, runs in summary["refused_by_one_check_only"].items():
        print(f"refused by {check} alone: {', '.join(runs)}")
    if args.out:
        args.out.write_text(json.dumps({"rows": rows, "rates": summary}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""DRUP evaluated as DRUP is used, on several simulator seeds (README, "DRUP").

For each seed: `rediscover data simulate drup`, then `rediscover evaluate` with
``--split leave-cohort-out`` (a new patient in a cohort the models never saw) and
``--split prospective`` (each later block of enrolment scored by models trained on
the outcomes known when it began). Prints, per split, every column's median
per-drug AUROC and its all-episode AUROC with the bootstrap 95% interval, seed by
seed, and the paired per-drug comparison of the model with each baseline; writes
every figure to ``--out`` (JSON).

    .venv/bin/python benchmarks/drup_seeds.py --seeds 0 1 2 3 4

About 3 minutes per seed and split on 2 cores. Each evaluation is an MLflow run in
the config's tracking store (``--config``, default: the repository's mlflow.yml).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

SPLITS = ("leave-cohort-out", "prospective")
# What a figure is compared with: the drug's and the cohort's rate, the evidence
# class and the two combined; the ceilings (truth with and without the cohort's
# random effect) come last.
BASELINES = ("rate", "cohort_rate", "evidence", "combined")
CEILINGS = ("truth_new_cohort", "truth")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--splits", nargs="+", choices=SPLITS, default=list(SPLITS))
    parser.add_argument("--config", type=Path, help="mlflow.yml (default: found)")
    parser.add_argument("--out", type=Path, default=Path("drup-seeds.json"))
    args = parser.parse_args()
    results: dict[str, dict[int, Any]] = {split: {} for split in args.splits}
    with tempfile.TemporaryDirectory(prefix="drup-seeds-") as scratch:
        for seed in args.seeds:
            folder = Path(scratch) / f"seed{seed}"
            _rediscover(args, "data", "simulate", "drup", "--seed", str(seed),
                        "--out", str(folder))  # fmt: skip
            for split in args.splits:
                report = Path(scratch) / f"{split}-{seed}.json"
                _rediscover(args, "evaluate", "--data", str(folder), "--split", split,
                            "--json", str(report))  # fmt: skip
                results[split][seed] = _figures(json.loads(report.read_text()))
    args.out.write_text(json.dumps(results, indent=2))
    for split, by_seed in results.items():
        _print_split(split, by_seed)
    print(f"wrote {args.out}")
    return 0


def _rediscover(args: argparse.Namespace, *command: str) -> None:
    config = () if args.config is None else ("--config", str(args.config))
    print("rediscover", *command, file=sys.stderr)
    subprocess.run(
        [sys.executable, "-m", "rediscover", *config, *command],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _figures(document: dict[str, Any]) -> dict[str, Any]:
    """The aggregate figures of one evaluation (no sample ids)."""
    spread = document["summary"]["drugs"]
    overall = document["overall"]["metrics"]
    return {
        "episodes": document["overall"]["n"],
        "events": document["overall"]["events"],
        "columns": {
            column: {
                "median_drug_auroc": spread[column].get("auroc_median"),
                "drugs": spread[column].get("auroc_n", 0),
                "auroc": overall[column]["auroc"],
            }
            for column in ("model", *BASELINES, *CEILINGS)
            if column in document["columns"]
        },
        "paired": {
            baseline: {
                key: document["paired"][baseline][key]
                for key in ("median_delta", "drugs", "ci_above_0", "ci_below_0")
            }
            for baseline in BASELINES
            if baseline in document["paired"]
        },
        "uncertainty": document.get("uncertainty"),
    }


def _print_split(split: str, by_seed: dict[int, Any]) -> None:
    print(f"\n--split {split}: median per-drug AUROC; all episodes AUROC [95% CI]")
    columns = list(next(iter(by_seed.values()))["columns"])
    print(f"{'seed':<6}" + "".join(f"{c[:16]:>26}" for c in columns))
    for seed, figures in by_seed.items():
        cells = []
        for column in columns:
            figure = figures["columns"][column]
            auroc, ci = figure["auroc"]["value"], figure["auroc"]["ci"]
            cells.append(
                f"{_number(figure['median_drug_auroc'])}; {_number(auroc)} "
                f"[{_number(ci and ci[0])}, {_number(ci and ci[1])}]"
            )
        print(f"{seed:<6}" + "".join(f"{cell:>26}" for cell in cells))
    print("model vs baseline per drug, paired bootstrap 95% CI (summed over seeds):")
    for baseline in BASELINES:
        rows = [f["paired"][baseline] for f in by_seed.values()]
        above, below = (
            sum(r[key] for r in rows) for key in ("ci_above_0", "ci_below_0")
        )
        print(
            f"  vs {baseline:<12} CI above 0 for {above}, below 0 for {below} of "
            f"{sum(r['drugs'] for r in rows)} drug-seeds; median differences "
            + ", ".join(_number(r["median_delta"]) for r in rows)
        )


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    sys.exit(main())

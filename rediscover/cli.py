"""The ``rediscover`` command: fetch data, train, score and serve.

This is the only place that reads the environment, configures logging or chooses
an MLflow store; everything below receives its settings as arguments.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from rediscover import _data_commands as data_commands
from rediscover import _explain_commands as explain_commands
from rediscover import _model_commands as model_commands
from rediscover import _registry_commands as registry_commands
from training.config import load_config
from training.evaluation import SPLITS

logger = logging.getLogger("rediscover")


def _drug_list(text: str) -> list[str]:
    return [drug.strip().lower() for drug in text.split(",") if drug.strip()]


def _add_dask_scheduler(parser: argparse.ArgumentParser, work: str) -> None:
    parser.add_argument(
        "--dask-scheduler",
        metavar="ADDRESS",
        help=f"{work} on the Dask cluster whose scheduler listens at ADDRESS "
        "(e.g. tcp://HOST:8786; start it with `dask scheduler` and "
        "`dask worker`) instead of in this process",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rediscover",
        description="Predict which tumours respond to off-label drugs.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=Path("mlflow.yml"),
        help="training config (default: %(default)s)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="obtain cohorts").add_subparsers(
        dest="data_command", required=True
    )
    fetch = data.add_parser("fetch", help="put a data set into the cache folder")
    fetch.add_argument(
        "source", choices=["gdsc", "ccle"], help="shipped data set to fetch"
    )
    fetch.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="cache folder (default: data.cache_dir in the config)",
    )
    fetch.set_defaults(run=data_commands.fetch)

    simulate = data.add_parser("simulate", help="write a simulated cohort with truth")
    simulate.add_argument("kind", choices=["drup"], help="what to simulate")
    simulate.add_argument("--seed", type=int, default=0, help="random seed")
    simulate.add_argument("--out", type=Path, required=True, help="cohort folder")
    simulate.add_argument("--force", action="store_true", help="replace --out")
    simulate.set_defaults(run=data_commands.simulate)

    study = data.add_parser(
        "import",
        help="validate a study folder (cBioPortal, pooled ICI or Liu 2019 layout) "
        "and store the cohort",
    )
    study.add_argument("folder", type=Path, help="study folder")
    study.add_argument(
        "--format",
        choices=data_commands.IMPORT_FORMATS,
        default="cbioportal",
        help="cbioportal: cBioPortal study files (--mapping renames them); "
        "ici-pooled: ICI_response_cohort_973.tsv of the pooled JITC 2022 cohort; "
        "liu2019: supplemental_table_1_wAge.tsv of Liu et al. 2019 "
        "(default: %(default)s)",
    )
    study.add_argument(
        "--mapping",
        type=Path,
        help="--format cbioportal: YAML of file and column names, or a packaged "
        "mapping's name, e.g. riaz2017 (default: cBioPortal's)",
    )
    study.add_argument(
        "--out",
        type=Path,
        help="cohort folder (default: <data.cache_dir>/cohorts/<name>)",
    )
    study.add_argument("--force", action="store_true", help="replace --out")
    study.add_argument(
        "--show-rejected",
        type=int,
        default=20,
        metavar="N",
        help="print the first N rejected rows (default: %(default)s)",
    )
    study.set_defaults(run=data_commands.import_study_folder)
    data_commands.add_version_commands(data)

    train = commands.add_parser(
        "train", help="cross-validate and train per-drug models, register the bundle"
    )
    train.add_argument(
        "--data", help="'gdsc' or a cohort folder (default: data.source in the config)"
    )
    train.add_argument(
        "--min-samples",
        type=int,
        help="fewest episodes for a drug's own model (default: training.min_samples)",
    )
    train.add_argument(
        "--if-missing",
        action="store_true",
        help="do nothing when a champion model is already registered",
    )
    train.add_argument(
        "--drugs",
        type=_drug_list,
        help="comma-separated drug names to train (default: all)",
    )
    _add_dask_scheduler(train, "fit every booster (CV folds and final fit)")
    train.set_defaults(run=model_commands.train)

    evaluate = commands.add_parser(
        "evaluate",
        help="held-out evaluation of the model and its baselines; JSON + HTML report",
        description="Cross-validate per-drug and pooled models on the chosen split, "
        "fit the baselines (matching rule, response rate raw and shrunk by tumour "
        "type, logistic regression) on the same training folds, and report AUROC, "
        "AUPRC, Brier, calibration and decision curves with bootstrap intervals.",
    )
    evaluate.add_argument("--data", default="gdsc", help="'gdsc' or a cohort folder")
    evaluate.add_argument(
        "--split",
        choices=SPLITS,
        default="grouped",
        help="grouped k-fold, leave-one-tumour-type-out, leave-one-cohort-out (a "
        "study or DRUP cohort: cohort_id), temporal hold-out (needs "
        "start_date) or cross-study (train GDSC, test CCLE) (default: %(default)s)",
    )
    evaluate.add_argument(
        "--drugs",
        type=_drug_list,
        help="comma-separated drug names (default: all); plotted in the report",
    )
    evaluate.add_argument(
        "--min-samples", type=int, help="fewest episodes for a drug's own model"
    )
    evaluate.add_argument(
        "--min-type-samples",
        type=int,
        default=20,
        help="tumour-type and cohort splits: fewest treated samples for a type or "
        "cohort to be held out; smaller ones are only trained on "
        "(default: %(default)s)",
    )
    evaluate.add_argument(
        "--json",
        type=Path,
        help="metrics file (default: reports/evaluate-<split>.json)",
    )
    evaluate.add_argument(
        "--report",
        type=Path,
        help="HTML report (default: the --json path with .html)",
    )
    evaluate.add_argument(
        "--ccle",
        type=Path,
        help="cross-study: CCLE folder (default: the shipped ccle2012_actarea, "
        "fetched into data.cache_dir)",
    )
    evaluate.add_argument(
        "--panel",
        action="store_true",
        help="instead of cross-validating, run the textbook panel (profiles with a "
        "citation each, training/evaluation/panel.yaml) through the served model's "
        "ranking and print where the expected drug class lands under each rank_by",
    )
    evaluate.add_argument(
        "--alias",
        default="champion",
        help="--panel: the registry alias to rank with (default: %(default)s)",
    )
    _add_dask_scheduler(evaluate, "fit the model's boosters of every fold")
    evaluate.set_defaults(run=model_commands.evaluate)

    score = commands.add_parser("score", help="rank drugs for profiles in a JSON file")
    score.add_argument(
        "profile", help="JSON file with a profile or a list ('-': stdin)"
    )
    score.add_argument("--top-k", type=int, default=5, help="SHAP features per drug")
    score.add_argument("--show", type=int, default=10, help="drugs shown per profile")
    score.add_argument("--alias", default="champion", help="registry alias to use")
    score.add_argument("--json", action="store_true", help="print JSON, all drugs")
    _add_dask_scheduler(score, "predict and explain the profiles in row blocks")
    score.set_defaults(run=model_commands.score)

    serve = commands.add_parser("serve", help="serve the champion model over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="bind address")
    serve.add_argument("--port", type=int, default=3000, help="port")
    serve.add_argument("--alias", default="champion", help="registry alias to serve")
    serve.set_defaults(run=model_commands.serve)

    registry_commands.add_commands(commands)
    explain_commands.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("alembic", "mlflow", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        config = load_config(
            args.config, tracking_uri=os.environ.get("MLFLOW_TRACKING_URI")
        )
        return int(args.run(args, config))
    except ValidationError as error:
        for item in error.errors(include_input=False):
            field = ".".join(str(part) for part in item["loc"]) or "input"
            print(f"error: {field}: {item['msg']}", file=sys.stderr)
        return 2
    except (
        ValueError,
        FileNotFoundError,
        FileExistsError,
        json.JSONDecodeError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

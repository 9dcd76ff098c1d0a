"""The ``rediscover`` command: fetch data, train, score, report and serve.

This is the only place that reads the environment, configures logging or chooses
an MLflow store; everything below receives its settings as arguments.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from rediscover import _explain_commands as explain_commands
from rediscover import _model_commands as model_commands
from rediscover import _registry_commands as registry_commands
from rediscover import _report_command as report_command
from rediscover._config_file import CONFIG_VARIABLE, SEARCH_HELP, find_config
from rediscover._exit_codes import EXIT_CODES_HELP, classify, describe
from rediscover._score_input import INPUT_FORMATS
from training.config import Config, load_config

logger = logging.getLogger("rediscover")


def _drug_list(text: str) -> list[str]:
    return [drug.strip().lower() for drug in text.split(",") if drug.strip()]


def _split_name(text: str) -> str:
    # Checked on use, not at parser build: training.evaluation loads the models.
    from training.evaluation import SPLITS

    if text not in SPLITS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a split; accepted: {', '.join(SPLITS)}"
        )
    return text


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a whole number >= 1")
    return value


def _not_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is not a whole number >= 0")
    return value


def _add_dask_scheduler(parser: argparse.ArgumentParser, work: str) -> None:
    parser.add_argument(
        "--dask-scheduler",
        metavar="ADDRESS",
        help=f"{work} on the Dask cluster whose scheduler listens at ADDRESS "
        "(e.g. tcp://HOST:8786; start it with `dask scheduler` and "
        "`dask worker`) (default: none, in this process)",
    )


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default unless its help already says it, or it has
    none to show (a flag off by default); keeps the epilog's line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text or action.default is None or action.default is False:
            return text
        return super()._get_help_string(action)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:  # the epilog is laid out by hand
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


class _Parser(argparse.ArgumentParser):
    """An argument parser showing defaults, whose arguments may be added only
    when it is used (parsed or asked for help): building the top-level parser then
    imports no heavy command module, and ``rediscover --help`` stays fast."""

    def __init__(
        self,
        *args: Any,
        define: Callable[[argparse.ArgumentParser], None] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)
        self._define = define

    def define(self) -> None:
        """Add the deferred arguments now (once)."""
        if self._define is not None:
            define, self._define = self._define, None
            define(self)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self.define()
        return super().parse_known_args(args, namespace)


def _version() -> str:
    try:
        return version("rediscover")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _add_data_commands(parser: argparse.ArgumentParser) -> None:
    from rediscover import _data_commands as data_commands  # loads training.data

    data = parser.add_subparsers(dest="data_command", required=True)
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


def _parser() -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = _Parser(
        prog="rediscover",
        description="Predict which tumours respond to off-label drugs.",
        epilog=f"{EXIT_CODES_HELP}\n\n{SEARCH_HELP}",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "--config",
        type=Path,
        help="training config (default: searched for, see 'config:' below)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="debug logging, and the traceback of any error",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("data", help="obtain cohorts", define=_add_data_commands)
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
    train.set_defaults(run=model_commands.train, recover=True)

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
        type=_split_name,
        default="grouped",
        help="grouped (k-fold), tumour-type (leave one out), cohort (leave one "
        "cohort_id out: a study or DRUP cohort; small ones train only), "
        "leave-cohort-out (k folds of whole cohorts: every cohort scored by models "
        "that never saw it), temporal (hold-out; needs start_date), prospective "
        "(rolling origin in enrolment order: each later block scored by models "
        "trained on the outcomes known when it began) or cross-study (train GDSC, "
        "test CCLE) (default: %(default)s)",
    )
    evaluate.add_argument(
        "--drugs",
        type=_drug_list,
        help="comma-separated drug names (default: all); plotted in the report",
    )
    evaluate.add_argument(
        "--min-samples",
        type=int,
        help="fewest episodes for a drug's own model (default: training.min_samples)",
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

    score = commands.add_parser(
        "score",
        help="rank drugs for profiles: JSON, JSONL, CSV/TSV, a MAF, a Hartwig "
        "sample folder or a cBioPortal study",
        description="Rank every drug for each profile in the input. Without --out "
        "the ranking is printed; with --out every profile x drug is a row of the "
        "file, written in chunks, so any number of profiles fits in memory.",
    )
    where = score.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "profile",
        nargs="?",
        help="profile JSON ('-': stdin), JSONL, CSV or TSV of profiles, a MAF, a "
        "Hartwig sample folder or a cBioPortal study folder",
    )
    where.add_argument(
        "--in", dest="input", metavar="INPUT", help="the same, as an option"
    )
    score.add_argument(
        "--format",
        choices=INPUT_FORMATS,
        default="auto",
        help="what the input is; auto: from its name (.json, .jsonl, .csv, .maf; "
        ".tsv/.txt by their header) or, for a folder, its files",
    )
    score.add_argument(
        "--tumour-type",
        metavar="NAME",
        help="tumour type of every sample: required for a Hartwig folder or a MAF, "
        "overrides a cBioPortal study's clinical table (default: none)",
    )
    score.add_argument(
        "--cna",
        type=Path,
        metavar="FILE",
        help="with a MAF: discrete copy-number table, cBioPortal layout "
        "(default: none)",
    )
    score.add_argument(
        "--sv",
        type=Path,
        metavar="FILE",
        help="with a MAF: structural-variant table, cBioPortal layout (default: none)",
    )
    score.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="write one row per profile x drug to FILE.csv, .jsonl or .parquet "
        "instead of printing (default: print)",
    )
    score.add_argument("--force", action="store_true", help="replace --out")
    score.add_argument(
        "--chunk-size",
        type=_positive,
        default=250,
        help="profiles read, scored and written or printed at a time (memory "
        "grows with it, not with the input)",
    )
    score.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="--out: progress bar on stderr (auto: when stderr is a terminal)",
    )
    score.add_argument(
        "--top-k",
        type=_not_negative,
        default=5,
        help="SHAP features per explained drug",
    )
    score.add_argument(
        "--explain-top",
        type=_not_negative,
        default=10,
        help="drugs, from the top of each ranking, given their SHAP features",
    )
    score.add_argument("--show", type=int, default=10, help="drugs printed per profile")
    score.add_argument("--alias", default="champion", help="registry alias to use")
    score.add_argument(
        "--json", action="store_true", help="print JSON with all drugs and fields"
    )
    _add_dask_scheduler(score, "rank the profiles in blocks")
    score.set_defaults(run=model_commands.score)

    serve = commands.add_parser("serve", help="serve the champion model over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="bind address")
    serve.add_argument("--port", type=int, default=3000, help="port")
    serve.add_argument("--alias", default="champion", help="registry alias to serve")
    serve.set_defaults(run=model_commands.serve, recover=True)

    bento = commands.add_parser(
        "bento",
        help="pin the champion model and build a Bento (bentoml build) to deploy",
    )
    bento.add_argument(
        "--alias",
        default="champion",
        help="registry alias to pin (default: %(default)s)",
    )
    bento.add_argument(
        "--pin-only",
        action="store_true",
        help="pin the bundle into BentoML's model store and stop, so that a plain "
        "`bentoml build` can follow (make serve does this)",
    )
    bento.set_defaults(run=model_commands.bento)

    registry_commands.add_commands(commands)
    explain_commands.add_commands(commands)
    report_command.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code (`ExitCode`)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # MLflow sets its own loggers' level when it is imported (lazily, by the
    # commands), from this variable; the loop covers an mlflow imported already.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    for noisy in ("alembic", "mlflow", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # psycopg warns again when it closes a pipeline whose statement failed (two
    # commands inserting the same row at once on PostgreSQL); the failure itself
    # reaches MLflow's store, which handles or raises it.
    logging.getLogger("psycopg").setLevel(logging.ERROR)
    try:
        path = find_config(
            args.config,
            from_environment=os.environ.get(CONFIG_VARIABLE),
            cwd=Path.cwd(),
        )
        logger.debug("config file: %s", path)
        config = load_config(path, tracking_uri=os.environ.get("MLFLOW_TRACKING_URI"))
        if getattr(args, "recover", False):
            _recover(config)
        return int(args.run(args, config))
    except Exception as error:
        return _report(error, verbose=args.verbose)


def _recover(config: Config) -> None:
    """Finish what a killed registry command left (`training.registry.recover`);
    what it finishes is logged."""
    from training.registry import recover

    recover(config)


def _report(error: Exception, *, verbose: bool) -> int:
    """Print why the command failed (the traceback only when ``verbose``)."""
    if verbose:
        traceback.print_exception(error, file=sys.stderr)
    for line in describe(error):
        print(f"error: {line}", file=sys.stderr)
    return int(classify(error))

"""The ``rediscover`` command: fetch data, train, score and serve.

This is the only place that reads the environment, configures logging or chooses
an MLflow store; everything below receives its settings as arguments.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from features import Profile
from models import FeatureContribution, load_registered_bundle, rank_drugs
from training import (
    Config,
    champion_version,
    load_config,
    log_training,
    register_bundle,
    select_drugs,
    train_bundle,
    training_run,
)
from training.data import fetch_gdsc, load_gdsc

logger = logging.getLogger("rediscover")

_PROFILES = TypeAdapter(list[Profile])


def _fetch(args: argparse.Namespace, config: Config) -> int:
    cache = args.cache_dir or config.data.cache_dir
    folder = fetch_gdsc(cache, source_dir=config.data.shared_dir)
    print(f"GDSC1000 v17 files are in {folder}")
    return 0


def _train(args: argparse.Namespace, config: Config) -> int:
    if args.if_missing and (version := champion_version(config.tracking)):
        print(f"champion is version {version}; not retraining (--if-missing)")
        return 0
    folder = fetch_gdsc(config.data.cache_dir, source_dir=config.data.shared_dir)
    cohort = load_gdsc(
        folder,
        label_rule=config.data.label_rule,
        zscore_cutoff=config.data.zscore_cutoff,
    )
    drugs = select_drugs(cohort, config=config, only=args.drugs)
    print(f"training {len(drugs)} drugs on {len(cohort.profiles)} samples")
    started = time.perf_counter()
    with training_run(config, tags={"data_source": "gdsc1000_v17"}) as run_id:
        model = train_bundle(
            cohort, config=config, drugs=drugs, data_source="gdsc1000_v17"
        )
        seconds = time.perf_counter() - started
        log_training(config, run_id, model, seconds=seconds)
        version = register_bundle(config, run_id, model)
    aurocs = sorted(d.cv.auroc for d in model.metadata.drugs.values() if d.cv.auroc)
    print(
        f"trained {len(drugs)} drugs in {seconds:.0f} s; CV AUROC median "
        f"{aurocs[len(aurocs) // 2]:.3f} (range {aurocs[0]:.3f}-{aurocs[-1]:.3f}); "
        f"registered {config.tracking.registered_model} version {version} as champion"
    )
    return 0


def _score(args: argparse.Namespace, config: Config) -> int:
    text = sys.stdin.read() if args.profile == "-" else Path(args.profile).read_text()
    raw = json.loads(text)
    profiles = (
        _PROFILES.validate_python(raw)
        if isinstance(raw, list)
        else [Profile.model_validate(raw)]
    )
    model, version = load_registered_bundle(
        tracking_uri=config.tracking.uri,
        model_name=config.tracking.registered_model,
        alias=args.alias,
        cache_dir=config.serving.cache_dir,
    )
    ranked = rank_drugs(model, profiles, top_k=args.top_k)
    if args.json:
        rows = [
            [
                score.__dict__
                | {"top_features": [f.__dict__ for f in score.top_features]}
                for score in scores
            ]
            for scores in ranked
        ]
        print(json.dumps({"model_version": version, "results": rows}, indent=2))
        return 0
    for number, scores in enumerate(ranked, start=1):
        print(f"profile {number} (model version {version}):")
        for score in scores[: args.show]:
            why = ", ".join(_describe(f) for f in score.top_features)
            print(f"{score.rank:4d}. {score.drug:<24} {score.probability:6.3f}  {why}")
    return 0


def _describe(contribution: FeatureContribution) -> str:
    value = "NA" if contribution.value is None else f"{contribution.value:g}"
    return f"{contribution.feature}={value} ({contribution.shap:+.2f})"


def _serve(args: argparse.Namespace, config: Config) -> int:
    bentoml = (
        shutil.which("bentoml", path=str(Path(sys.executable).parent)) or "bentoml"
    )
    env = os.environ | {
        "MLFLOW_TRACKING_URI": config.tracking.uri,
        "REDISCOVER_MODEL_NAME": config.tracking.registered_model,
        "REDISCOVER_MODEL_ALIAS": args.alias,
        "REDISCOVER_CACHE_DIR": str(config.serving.cache_dir),
    }
    command = [bentoml, "serve", "serving.service:Rediscover"]
    command += ["--host", args.host, "--port", str(args.port)]
    print(
        f"serving {config.tracking.registered_model}@{args.alias} on "
        f"http://{args.host}:{args.port}"
    )
    os.execve(bentoml, command, env)


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
    fetch.add_argument("source", choices=["gdsc"], help="data set to fetch")
    fetch.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="cache folder (default: data.cache_dir in the config)",
    )
    fetch.set_defaults(run=_fetch)

    train = commands.add_parser(
        "train", help="cross-validate and train per-drug models, register the bundle"
    )
    train.add_argument(
        "--if-missing",
        action="store_true",
        help="do nothing when a champion model is already registered",
    )
    train.add_argument(
        "--drugs",
        type=lambda s: [d.strip().lower() for d in s.split(",")],
        help="comma-separated drug names to train (default: all)",
    )
    train.set_defaults(run=_train)

    score = commands.add_parser("score", help="rank drugs for profiles in a JSON file")
    score.add_argument(
        "profile", help="JSON file with a profile or a list ('-': stdin)"
    )
    score.add_argument("--top-k", type=int, default=5, help="SHAP features per drug")
    score.add_argument("--show", type=int, default=10, help="drugs shown per profile")
    score.add_argument("--alias", default="champion", help="registry alias to use")
    score.add_argument("--json", action="store_true", help="print JSON, all drugs")
    score.set_defaults(run=_score)

    serve = commands.add_parser("serve", help="serve the champion model over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="bind address")
    serve.add_argument("--port", type=int, default=3000, help="port")
    serve.add_argument("--alias", default="champion", help="registry alias to serve")
    serve.set_defaults(run=_serve)
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
    except (ValueError, FileNotFoundError, json.JSONDecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

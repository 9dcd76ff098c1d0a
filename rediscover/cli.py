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
from typing import Any

import pandas as pd
from pydantic import TypeAdapter, ValidationError

from features import Profile, load_drug_knowledge
from models import FeatureContribution, load_registered_bundle, rank_drugs
from training import (
    Config,
    champion_version,
    cross_validate_cohort,
    fit_bundle,
    load_config,
    log_training,
    register_bundle,
    select_drugs,
    summarise,
    top_shap_features,
    train_bundle,
    training_run,
)
from training.data import (
    MAPPINGS_FOLDER,
    Cohort,
    StudyMapping,
    fetch_gdsc,
    import_study,
    load_gdsc,
    load_mapping,
    read_cohort,
    simulate_drup,
    write_cohort,
)

logger = logging.getLogger("rediscover")

_PROFILES = TypeAdapter(list[Profile])


def _fetch(args: argparse.Namespace, config: Config) -> int:
    cache = args.cache_dir or config.data.cache_dir
    folder = fetch_gdsc(cache, source_dir=config.data.shared_dir)
    print(f"GDSC1000 v17 files are in {folder}")
    return 0


def _load_cohort(source: str, config: Config) -> tuple[Cohort, str]:
    """The training cohort: ``gdsc`` or a stored cohort folder, and its name."""
    if source == "gdsc":
        folder = fetch_gdsc(config.data.cache_dir, source_dir=config.data.shared_dir)
        cohort = load_gdsc(
            folder,
            label_rule=config.data.label_rule,
            zscore_cutoff=config.data.zscore_cutoff,
        )
        return cohort, "gdsc1000_v17"
    folder = Path(source)
    if not folder.is_dir():
        raise ValueError(
            f"--data must be 'gdsc' or a cohort folder; {folder} is neither"
        )
    return read_cohort(folder), f"cohort {folder.name}"


def _train(args: argparse.Namespace, config: Config) -> int:
    if args.if_missing and (version := champion_version(config.tracking)):
        print(f"champion is version {version}; not retraining (--if-missing)")
        return 0
    config = _with_min_samples(config, args.min_samples)
    cohort, source = _load_cohort(args.data or config.data.source, config)
    drugs = select_drugs(cohort, config=config, only=args.drugs)
    print(f"training {len(drugs)} drugs on {len(cohort.profiles)} samples ({source})")
    started = time.perf_counter()
    with training_run(config, tags={"data_source": source}) as run_id:
        model = train_bundle(
            cohort,
            config=config,
            drugs=drugs,
            data_source=source,
            knowledge=load_drug_knowledge(),
        )
        seconds = time.perf_counter() - started
        log_training(config, run_id, model, seconds=seconds)
        version = register_bundle(config, run_id, model)
    aurocs = sorted(d.cv.auroc for d in model.metadata.drugs.values() if d.cv.auroc)
    pooled = sum(d.served_by == "pooled" for d in model.metadata.drugs.values())
    print(
        f"trained {len(drugs)} drugs ({pooled} served by the pooled model) in "
        f"{seconds:.0f} s; CV AUROC median {aurocs[len(aurocs) // 2]:.3f} "
        f"(range {aurocs[0]:.3f}-{aurocs[-1]:.3f}); registered "
        f"{config.tracking.registered_model} version {version} as champion"
    )
    return 0


def _evaluate(args: argparse.Namespace, config: Config) -> int:
    config = _with_min_samples(config, args.min_samples)
    cohort, source = _load_cohort(args.data, config)
    drugs = select_drugs(cohort, config=config, only=args.drugs)
    knowledge = load_drug_knowledge()
    cv = cross_validate_cohort(cohort, config=config, drugs=drugs, knowledge=knowledge)
    truth_file = Path(args.data) / "truth.csv"
    truth = pd.read_csv(truth_file) if truth_file.is_file() else None
    summary = summarise(cv, cohort.profiles, knowledge=knowledge, truth=truth)
    model = fit_bundle(
        cohort, cv, config=config, drugs=drugs, data_source=source, knowledge=knowledge
    )
    summary["served_by"] = {d: i.served_by for d, i in model.metadata.drugs.items()}
    summary["top_shap"] = top_shap_features(model, cohort.profiles, cohort.treatments)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    _print_summary(summary)
    return 0


def _print_summary(summary: dict[str, Any]) -> None:
    def cell(value: float | None) -> str:
        return "   -  " if value is None else f"{value:6.3f}"

    overall = summary["overall"]
    print("AUROC of out-of-fold predictions (model = the kind CV chose per drug)")
    print("overall: " + ", ".join(f"{k} {cell(v)}" for k, v in overall.items()))
    columns = [k for k in overall if k.startswith("auroc_")]
    print(
        f"{'drug':<24}{'n':>5}{'resp':>6} {'served':<9}"
        + "".join(f"{c.removeprefix('auroc_')[:9]:>10}" for c in columns)
    )
    for drug, row in summary["drugs"].items():
        print(
            f"{drug:<24}{row['n']:>5}{row['responders']:>6} "
            f"{summary['served_by'].get(drug, '-'):<9}"
            + "".join(f"{cell(row[c]):>10}" for c in columns)
        )
        top = summary["top_shap"].get(drug, [])
        print(
            "    top SHAP: " + ", ".join(f"{name} ({value:.2f})" for name, value in top)
        )


def _with_min_samples(config: Config, min_samples: int | None) -> Config:
    if min_samples is None:
        return config
    training = config.training.model_copy(update={"min_samples": min_samples})
    return config.model_copy(update={"training": training})


def _simulate(args: argparse.Namespace, config: Config) -> int:
    # Alteration frequencies per tumour type come from the real GDSC profiles.
    gdsc, _ = _load_cohort("gdsc", config)
    simulated = simulate_drup(seed=args.seed, source=gdsc)
    write_cohort(
        simulated.cohort, args.out, truth=simulated.truth, overwrite=args.force
    )
    treatments = simulated.cohort.treatments
    print(
        f"simulated DRUP cohort (seed {args.seed}): {len(simulated.cohort.profiles)} "
        f"patients, {len(treatments)} evaluable episodes, "
        f"{treatments['drug'].nunique()} drugs, clinical benefit "
        f"{treatments['responded'].mean():.1%}; written to {args.out}"
    )
    return 0


def _import(args: argparse.Namespace, config: Config) -> int:
    mapping = StudyMapping()
    if args.mapping is not None:
        packaged = MAPPINGS_FOLDER / f"{args.mapping}.yaml"
        mapping = load_mapping(args.mapping if args.mapping.is_file() else packaged)
    result = import_study(args.folder, mapping=mapping)
    for rejection in result.rejected[: args.show_rejected]:
        print(
            f"rejected {rejection.file}:{rejection.line} [{rejection.column}] "
            f"{rejection.reason}",
            file=sys.stderr,
        )
    out = args.out or config.data.cache_dir / "cohorts" / Path(args.folder).name
    write_cohort(result.cohort, out, overwrite=args.force)
    treatments = result.cohort.treatments
    print(
        f"imported {len(result.cohort.profiles)} samples, {len(treatments)} "
        f"episodes ({treatments['responded'].mean():.1%} benefit); "
        f"{len(result.rejected)} rows rejected; cohort written to {out}"
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


def _drug_list(text: str) -> list[str]:
    return [drug.strip().lower() for drug in text.split(",") if drug.strip()]


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

    simulate = data.add_parser("simulate", help="write a simulated cohort with truth")
    simulate.add_argument("kind", choices=["drup"], help="what to simulate")
    simulate.add_argument("--seed", type=int, default=0, help="random seed")
    simulate.add_argument("--out", type=Path, required=True, help="cohort folder")
    simulate.add_argument("--force", action="store_true", help="replace --out")
    simulate.set_defaults(run=_simulate)

    study = data.add_parser(
        "import", help="validate a cBioPortal-style study folder and store the cohort"
    )
    study.add_argument("folder", type=Path, help="study folder")
    study.add_argument(
        "--mapping",
        type=Path,
        help="YAML of file and column names (default: cBioPortal's)",
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
    study.set_defaults(run=_import)

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
        type=_drug_list,
        help="comma-separated drug names to train (default: all)",
    )
    train.set_defaults(run=_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="grouped k-fold CV of per-drug and pooled models vs the matching rule",
    )
    evaluate.add_argument("--data", default="gdsc", help="'gdsc' or a cohort folder")
    evaluate.add_argument(
        "--drugs",
        type=_drug_list,
        help="comma-separated drug names (default: all)",
    )
    evaluate.add_argument(
        "--min-samples", type=int, help="fewest episodes for a drug's own model"
    )
    evaluate.add_argument("--json", type=Path, help="also write the summary as JSON")
    evaluate.set_defaults(run=_evaluate)

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

"""Train, evaluate, score and serve: models from cohorts, and their use."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import TypeAdapter

from features import Profile, load_drug_knowledge
from models import FeatureContribution, load_registered_bundle, rank_drugs
from rediscover._data_commands import load_cohort
from training import (
    Config,
    champion_version,
    cross_validate_cohort,
    fit_bundle,
    log_training,
    register_bundle,
    select_drugs,
    summarise,
    top_shap_features,
    train_bundle,
    training_run,
)

_PROFILES = TypeAdapter(list[Profile])


def train(args: argparse.Namespace, config: Config) -> int:
    if args.if_missing and (version := champion_version(config.tracking)):
        print(f"champion is version {version}; not retraining (--if-missing)")
        return 0
    config = _with_min_samples(config, args.min_samples)
    cohort, source = load_cohort(args.data or config.data.source, config)
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


def evaluate(args: argparse.Namespace, config: Config) -> int:
    config = _with_min_samples(config, args.min_samples)
    cohort, source = load_cohort(args.data, config)
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


def score(args: argparse.Namespace, config: Config) -> int:
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


def serve(args: argparse.Namespace, config: Config) -> int:
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

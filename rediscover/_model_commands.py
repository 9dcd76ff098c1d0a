"""Train, evaluate, score and serve: models from cohorts, and their use."""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from rediscover._exit_codes import ResourceUnavailableError

# The command's modules load when it runs, not when `rediscover --help` builds
# the parser (they import scikit-learn, XGBoost and MLflow).
if TYPE_CHECKING:
    import pandas as pd
    from distributed import Client

    from features import Profile
    from models import DrugScore, FeatureContribution, ResponderModel
    from training.config import Config
    from training.data import Cohort
    from training.evaluation import Evaluation
    from training.fitting import FitPlan, Trainer

DASK_CONNECT_SECONDS = 20


def train(args: argparse.Namespace, config: Config) -> int:
    from features import load_drug_knowledge
    from rediscover._data_commands import load_cohort
    from training.fitting import FitPlan, select_drugs, train_bundle
    from training.registry import (
        champion_is_current,
        champion_version,
        log_cohort,
        log_training,
        register_bundle,
        summarise_cohort,
        tracked_run,
    )

    if args.if_missing and (version := champion_version(config.tracking)):
        if champion_is_current(config.tracking, version):
            print(f"champion is version {version}; not retraining (--if-missing)")
            return 0
        print(
            f"champion version {version} was saved in an older bundle format that "
            "this version cannot serve; training a new champion"
        )
    config = _with_min_samples(config, args.min_samples)
    cohort, source = load_cohort(args.data or config.data.source, config)
    drugs = select_drugs(cohort, config=config, only=args.drugs)
    print(f"training {len(drugs)} drugs on {len(cohort.profiles)} samples ({source})")
    started = time.perf_counter()
    with (
        _trainer(args.dask_scheduler) as trainer,
        tracked_run(config, kind="train", tags={"data_source": source}) as run_id,
    ):
        log_cohort(cohort, name=source, use="training")
        plan = FitPlan(
            config, drugs=drugs, knowledge=load_drug_knowledge(), trainer=trainer
        )
        model = train_bundle(cohort, plan=plan, data_source=source)
        seconds = time.perf_counter() - started
        log_training(config, run_id, model, seconds=seconds)
        version = register_bundle(
            config, run_id, model, cohort_summary=summarise_cohort(cohort)
        )
    aurocs = sorted(d.cv.auroc for d in model.metadata.drugs.values() if d.cv.auroc)
    served = Counter(d.served_by for d in model.metadata.drugs.values())
    print(
        f"trained {len(drugs)} drugs ({served['per-drug']} by their own model, "
        f"{served['pooled']} by the pooled model, {served['biomarker']} by their "
        f"known biomarker alone, {served['rate']} by their tumour-type rate: "
        "no model beat it in CV) in "
        f"{seconds:.0f} s; CV AUROC median {aurocs[len(aurocs) // 2]:.3f} "
        f"(range {aurocs[0]:.3f}-{aurocs[-1]:.3f}; of the kind chosen on the same "
        "folds, so optimistic: `rediscover evaluate` scores the choice held out); "
        "registered "
        f"{config.tracking.registered_model} version {version} as champion"
    )
    return 0


def evaluate(args: argparse.Namespace, config: Config) -> int:
    if args.panel:
        return _panel(args, config)
    import pandas as pd

    from features import load_drug_knowledge
    from rediscover._data_commands import load_cohort
    from training.data import resolve_cohort_folder
    from training.evaluation import evaluate_origins, plotted_drugs, write_report
    from training.fitting import FitPlan, top_shap_features
    from training.registry import log_evaluation

    config = _with_min_samples(config, args.min_samples)
    started = time.perf_counter()
    loaded, source = load_cohort(args.data, config)
    cohort, origins, rule = _split(args, loaded, config)
    drugs = list(cohort.drugs)
    print(f"evaluating {len(drugs)} drugs, {args.split} split: {rule}")
    truth_file = resolve_cohort_folder(Path(args.data)) / "truth.csv"
    with _trainer(args.dask_scheduler) as trainer:
        plan = FitPlan(
            config, drugs=drugs, knowledge=load_drug_knowledge(), trainer=trainer
        )
        evaluation = evaluate_origins(
            cohort, origins, plan=plan, split=args.split,
            truth=pd.read_csv(truth_file) if truth_file.is_file() else None,
        )  # fmt: skip
        model = _shap_model(
            cohort, evaluation, origins[-1][1], plan=plan, source=source
        )
    document = {
        "split": args.split, "split_rule": rule, "data_source": source,
        "n_bootstrap": config.training.n_bootstrap,
        **evaluation.metrics,
        "served_by": {d: i.served_by for d, i in model.metadata.drugs.items()},
        "top_shap": top_shap_features(model, cohort),
    }  # fmt: skip
    document["seconds"]["total"] = round(time.perf_counter() - started, 1)
    json_path, html_path = _report_paths(args)
    write_report(
        document, evaluation.predictions, json_path=json_path, html_path=html_path,
        drugs=plotted_drugs(document, args.drugs),
    )  # fmt: skip
    run_id = log_evaluation(
        config, document, files=[json_path, html_path], cohort=loaded,
        cohort_name=source,
    )  # fmt: skip
    _print_evaluation(document, evaluation)
    print(f"wrote {json_path} and {html_path}; MLflow run {run_id}")
    return 0


def _panel(args: argparse.Namespace, config: Config) -> int:
    """The textbook panel through the served ranking; JSON beside the table."""
    from training.evaluation import load_panel, run_panel

    model, version = _load_model(config, alias=args.alias)
    table = run_panel(model, load_panel())
    meta = model.metadata
    print(
        f"textbook panel, model version {version} ({len(meta.drugs)} drugs, "
        f"{meta.population}, {meta.endpoint}); pass: an expected drug in the top 3"
    )
    shown = table.assign(best_rank=table["best_rank"].astype("Int64"))
    columns = ["profile", "rank_by", "best_rank", "passed", "top"]
    print(shown[shown["applicable"]][columns].to_string(index=False))
    if skipped := sorted(set(table.loc[~table["applicable"], "profile"])):
        print(f"not applicable to this bundle: {', '.join(skipped)}")
    path = args.json or Path("reports") / "panel.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(table.to_json(orient="records", indent=2))
    print(f"wrote {path}")
    return 0


def _split(
    args: argparse.Namespace, cohort: Cohort, config: Config
) -> tuple[Cohort, list[tuple[Cohort, pd.Series]], str]:
    """The cohort restricted to the evaluated drugs, its (cohort, folds) origins
    (one, except for the prospective split) and their rule."""
    from training.data import load_ccle
    from training.evaluation import split_origins

    ccle = None
    if args.split == "cross-study":
        if args.data != "gdsc":
            raise ValueError("--split cross-study trains on GDSC: use --data gdsc")
        ccle = load_ccle(args.ccle or _ccle_folder(config), profiles=cohort.profiles)
    return split_origins(
        cohort,
        split=args.split,
        config=config,
        drugs=args.drugs,
        min_type_samples=args.min_type_samples,
        second_study=ccle,
    )


def _ccle_folder(config: Config) -> Path:
    from training.data import fetch_dataset

    return fetch_dataset(
        "ccle", config.data.cache_dir, data_dir=config.data.shipped_dir
    )


def _shap_model(
    cohort: Cohort,
    evaluation: Evaluation,
    folds: pd.Series,
    *,
    plan: FitPlan,
    source: str,
) -> ResponderModel:
    """The model whose SHAP values the report summarises: fitted on the whole
    cohort (the drugs the split scored), or for cross-study on GDSC only."""
    from training.evaluation import TRAIN_ONLY
    from training.fitting import train_bundle

    if evaluation.split == "cross-study":
        # The test study's responses are not training data: GDSC lines only.
        train = cohort.subset(samples=folds.index[folds == TRAIN_ONLY])
        plan = dataclasses.replace(plan, drugs=list(train.drugs))
        return train_bundle(train, plan=plan, data_source=source)
    scored = sorted(evaluation.cv.served)  # every drug any model kind scored
    return train_bundle(
        cohort.subset(drugs=scored), plan=dataclasses.replace(plan, drugs=scored),
        data_source=source, cv=evaluation.cv,
    )  # fmt: skip


def _report_paths(args: argparse.Namespace) -> tuple[Path, Path]:
    json_path = args.json or Path("reports") / f"evaluate-{args.split}.json"
    return json_path, args.report or json_path.with_suffix(".html")


def _print_evaluation(document: dict[str, Any], evaluation: Evaluation) -> None:
    from training.evaluation import auroc_table

    frame = evaluation.predictions
    kinds = [c for c in ("per_drug", "pooled") if frame[c].notna().any()]
    columns = ["model", *kinds, *evaluation.columns[1:], "biomarker"]
    table = auroc_table(frame, columns)
    print("AUROC of held-out predictions (model = the kind CV chose per drug)")
    print(f"{'drug':<24}{'n':>5}{'resp':>6} {'served':<9}"
          + "".join(f"{c[:9]:>10}" for c in columns))  # fmt: skip
    for row in table.to_dict(orient="records"):
        drug = str(row["drug"])
        print(
            f"{drug:<24}{row['n']:>5}{row['events']:>6} "
            f"{document['served_by'].get(drug, '-'):<9}"
            + "".join(f"{_cell(row[c]):>10}" for c in columns)
        )
        top = document["top_shap"].get(drug, [])
        print("    top SHAP: " + ", ".join(f"{n} ({v:.2f})" for n, v in top))
    _print_spread(document)
    _print_paired(document)
    _print_ranking(document)
    _print_uncertainty(document)


def _print_uncertainty(document: dict[str, Any]) -> None:
    if (measured := document.get("uncertainty")) is None:
        return
    truth = measured["interval_coverage_truth"]
    print(
        f"\nmeasured on held-out folds: conformal sets (nominal "
        f"{measured['nominal_coverage']:.2f}) cover {measured['coverage']:.3f} of "
        f"episodes, {measured['coverage_responders']:.3f} of responders and "
        f"{measured['coverage_non_responders']:.3f} of non-responders; the score "
        f"bin's 95% interval holds the bin's held-out response rate (itself a "
        f"noisy estimate, so held less often than the true rate) for "
        f"{measured['interval_coverage_observed']:.3f} of episodes"
        + ("" if truth is None else f" and its true rate for {truth:.3f}")
    )


def _print_paired(document: dict[str, Any]) -> None:
    for baseline, paired in document["paired"].items():
        print(
            f"  model vs {baseline}, per drug (paired, bootstrap 95% CI): median "
            f"AUROC difference {_cell(paired['median_delta'])} over "
            f"{paired['drugs']} drugs; CI above 0 for {paired['ci_above_0']}, "
            f"below 0 for {paired['ci_below_0']}"
        )


def _print_ranking(document: dict[str, Any]) -> None:
    ranking = document["ranking"]
    if not ranking["rules"]:
        return
    print(
        f"\nranking rules on {ranking['samples']} held-out samples (top "
        f"{ranking['k']} drugs each; mean responder share "
        f"{ranking['base_rate']:.3f}):"
    )
    for rule, values in ranking["rules"].items():
        z = values["relative_sensitivity_at_k"]
        print(
            f"  {rule:<12} precision@{ranking['k']} {values['precision_at_k']:.3f}"
            + ("" if z is None else f"  mean ln IC50 z-score {z:+.3f}")
        )


def _print_spread(document: dict[str, Any]) -> None:
    overall, spread = document["overall"], document["summary"]["drugs"]
    print(
        f"\n{document['split']} split: {overall['n']} held-out episodes, "
        f"{overall['events']} events, {len(document['drugs'])} drugs; per-drug "
        f"AUROC over drugs with >= {document['min_events']} events and non-events:"
    )
    for column in document["columns"]:
        s, m = spread[column], overall["metrics"][column]
        slope, intercept = m.get("calibration_slope"), m.get("calibration_intercept")
        print(
            f"  {column:<12} median {_cell(s.get('auroc_median'))} "
            f"IQR {_cell(s.get('auroc_q1'))}-{_cell(s.get('auroc_q3'))} "
            f"range {_cell(s.get('auroc_min'))}-{_cell(s.get('auroc_max'))} "
            f"(n={s.get('auroc_n', 0)}); all episodes: AUROC "
            f"{_cell(m['auroc']['value'])} {_ci(m['auroc'])}, calibration slope "
            f"{_cell(slope and slope['value'])}, intercept "
            f"{_cell(intercept and intercept['value'])}"
        )


def _ci(estimate: dict[str, Any]) -> str:
    interval = estimate.get("ci")
    return "" if interval is None else f"[{interval[0]:.3f}, {interval[1]:.3f}]"


def _cell(value: float | None) -> str:
    return "   -  " if value is None or value != value else f"{value:6.3f}"


@contextmanager
def _trainer(scheduler: str | None) -> Iterator[Trainer]:
    """Fit here, or on the Dask cluster at ``scheduler`` when one is named."""
    from training.fitting import DaskTrainer, fit_booster

    if scheduler is None:
        yield fit_booster
        return
    with _dask_client(scheduler) as client:
        yield DaskTrainer(client)


@contextmanager
def _dask_client(scheduler: str) -> Iterator[Client]:
    # Imported here so that the local path never loads dask.
    from distributed import Client

    try:
        client = Client(scheduler, timeout=DASK_CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as error:
        raise ValueError(
            f"--dask-scheduler {scheduler}: no Dask scheduler answered within "
            f"{DASK_CONNECT_SECONDS} s ({error}); start one with `dask scheduler` "
            "and give its tcp://HOST:PORT address"
        ) from None
    with client:
        workers = client.nthreads()
        print(
            f"using the Dask cluster at {scheduler}: {len(workers)} workers, "
            f"{sum(workers.values())} threads",
            file=sys.stderr,  # stdout stays the command's result (e.g. --json)
        )
        yield client


def _with_min_samples(config: Config, min_samples: int | None) -> Config:
    if min_samples is None:
        return config
    training = config.training.model_copy(update={"min_samples": min_samples})
    return config.model_copy(update={"training": training})


def score(args: argparse.Namespace, config: Config) -> int:
    """Rank every drug for each profile the input holds: printed, or with
    ``--out`` streamed to a file in chunks of ``--chunk-size`` profiles."""
    from rediscover._score_input import chunked, read_input, resolve_input
    from rediscover._score_output import check_output

    if args.out is not None:
        check_output(args.out, force=args.force)
        if args.json:
            raise ValueError("--json prints to stdout; with --out the suffix says")
    source = resolve_input(
        args.input or args.profile, format=args.format, tumour_type=args.tumour_type,
        copy_number=args.cna, structural_variants=args.sv,
    )  # fmt: skip
    chunks = chunked(read_input(source), args.chunk_size)
    first = next(chunks, None)  # a bad file is reported before the model loads
    if first is None:
        raise ValueError(f"{source.path}: holds no profile")
    model, version = _load_model(config, alias=args.alias)
    chunks = itertools.chain([first], chunks)
    with _ranker(args, model) as rank:
        if args.out is not None:
            return _write_scores(args, rank, chunks, model=model, version=version)
        if args.json:
            return _print_json(rank, chunks, version=version)
        return _print_scores(rank, chunks, version=version, show=args.show)


Ranker = Callable[[list["Profile"]], list[list["DrugScore"]]]


@contextmanager
def _ranker(args: argparse.Namespace, model: ResponderModel) -> Iterator[Ranker]:
    """Rank a chunk of profiles here, or on the Dask cluster ``args`` names."""
    from models import rank_drugs, rank_drugs_on_dask

    top_k, explain_top = args.top_k, args.explain_top
    if args.dask_scheduler is None:
        yield lambda chunk: rank_drugs(
            model, chunk, top_k=top_k, explain_top=explain_top
        )
        return
    with _dask_client(args.dask_scheduler) as client:
        yield lambda chunk: rank_drugs_on_dask(
            model, chunk, client=client, top_k=top_k, explain_top=explain_top
        )


def _print_scores(
    rank: Ranker, chunks: Iterable[list[Profile]], *, version: str, show: int
) -> int:
    """The first ``show`` drugs of each profile, one block per profile."""
    number = 0
    for chunk in chunks:
        for scores in rank(chunk):
            number += 1
            print(f"profile {number} (model version {version}):")
            for drug_score in scores[:show]:
                print(_describe_score(drug_score))
    return 0


def _print_json(rank: Ranker, chunks: Iterable[list[Profile]], *, version: str) -> int:
    """``{"model_version": ..., "results": [[drug, ...], ...]}``, one profile's
    list at a time."""

    def encode(value: object) -> str:
        # matched_biomarker is a pydantic model inside the dataclass.
        return json.dumps(value, default=lambda o: o.model_dump())

    sys.stdout.write(f'{{"model_version": {encode(version)}, "results": [')
    separator = "\n"
    for chunk in chunks:
        for scores in rank(chunk):
            rows = [dataclasses.asdict(drug_score) for drug_score in scores]
            sys.stdout.write(separator + encode(rows))
            separator = ",\n"
    sys.stdout.write("\n]}\n")
    return 0


def _write_scores(
    args: argparse.Namespace,
    rank: Ranker,
    chunks: Iterable[list[Profile]],
    *,
    model: ResponderModel,
    version: str,
) -> int:
    """Stream the chunks' rows to ``--out``, with a progress bar on stderr."""
    from tqdm import tqdm

    from models import score_columns
    from rediscover._score_output import ScoreWriter

    meta = model.metadata
    about = {"model_version": version, "population": meta.population,
             "endpoint": meta.endpoint}  # fmt: skip
    hide = {"auto": None, "always": False, "never": True}[args.progress]
    started, profiles = time.perf_counter(), 0
    with (
        ScoreWriter(args.out) as writer,
        tqdm(unit=" profiles", file=sys.stderr, disable=hide, desc="scoring") as bar,
    ):
        for chunk in chunks:
            columns = score_columns(chunk, rank(chunk), first=profiles + 1, model=about)
            writer.write(columns)
            profiles += len(chunk)
            bar.update(len(chunk))
    seconds = time.perf_counter() - started
    print(
        f"scored {profiles} profiles x {len(meta.drugs)} drugs ({writer.rows} rows) "
        f"with model version {version} in {seconds:.1f} s "
        f"({profiles / max(seconds, 1e-9):.0f} profiles/s); wrote {args.out}",
        file=sys.stderr,
    )
    return 0


def _read_profiles(source: str) -> list[Profile]:
    """The profiles in JSON file ``source`` (``-``: stdin): one or a list.

    ``rediscover report`` reads its one profile with this; ``score`` reads every
    format through `rediscover._score_input`, whose errors also give the line.
    """
    from pydantic import TypeAdapter

    from features import Profile

    if source == "-":
        text = sys.stdin.read()
    elif Path(source).is_file():
        text = Path(source).read_text()
    else:
        raise ValueError(f"profile file {source}: no such file")
    raw = json.loads(text)
    if isinstance(raw, list):
        return TypeAdapter(list[Profile]).validate_python(raw)
    return [Profile.model_validate(raw)]


def _load_model(config: Config, *, alias: str) -> tuple[ResponderModel, str]:
    """The registered bundle ``alias`` names; a missing model or an unreachable
    registry is the environment's problem, reported in one line."""
    from mlflow.exceptions import MlflowException

    from models import BundleIntegrityError, load_registered_bundle

    tracking = config.tracking
    wanted = f"{tracking.registered_model}@{alias}"
    where = f"the registry at {_without_password(tracking.uri)}"
    try:
        return load_registered_bundle(
            tracking_uri=tracking.uri,
            model_name=tracking.registered_model,
            alias=alias,
            cache_dir=config.serving.cache_dir,
        )
    except MlflowException as error:
        if error.error_code in {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}:
            raise ResourceUnavailableError(
                f"no model {wanted} in {where}: train one (`rediscover train`) or "
                "point --config / MLFLOW_TRACKING_URI at the registry that has it"
            ) from error
        raise ResourceUnavailableError(
            f"{where} could not give {wanted}: {error.message.splitlines()[0]}"
        ) from error
    except BundleIntegrityError as error:
        raise ResourceUnavailableError(
            f"{wanted} in {where} is refused: {error}; promote another version "
            "(`rediscover promote VERSION`) or retrain"
        ) from error


def _without_password(uri: str) -> str:
    parsed = urlsplit(uri)
    if parsed.password is None:
        return uri
    host = parsed.hostname or ""
    netloc = f"{parsed.username}:***@{host}" + (
        f":{parsed.port}" if parsed.port else ""
    )
    return urlunsplit(parsed._replace(netloc=netloc))


def _describe_score(score: DrugScore) -> str:
    """One drug's lines: probability, interval, domain, the reason when the
    score needs one, and the top SHAP features."""
    low, high = score.interval
    domain = "in domain" if score.in_domain else "OUT OF DOMAIN"
    lines = [
        f"{score.rank:4d}. {score.drug:<24} p={score.probability:.3f}  "
        f"bin rate 95% {low:.3f}-{high:.3f}  {domain}"
    ]
    if score.reason:
        lines.append(f"        reason: {score.reason}")
    if score.top_features:
        why = ", ".join(_describe(f) for f in score.top_features)
        lines.append(f"        SHAP: {why}")
    return "\n".join(lines)


def _describe(contribution: FeatureContribution) -> str:
    value = "NA" if contribution.value is None else f"{contribution.value:g}"
    return f"{contribution.feature}={value} ({contribution.shap:+.2f})"


def _serving_env(config: Config, alias: str) -> dict[str, str]:
    """The environment the service (and the Bento pin) reads its registry from."""
    return os.environ | {
        "MLFLOW_TRACKING_URI": config.tracking.uri,
        "REDISCOVER_MODEL_NAME": config.tracking.registered_model,
        "REDISCOVER_MODEL_ALIAS": alias,
        "REDISCOVER_CACHE_DIR": str(config.serving.cache_dir),
    }


def _bentoml() -> str:
    return shutil.which("bentoml", path=str(Path(sys.executable).parent)) or "bentoml"


def serve(args: argparse.Namespace, config: Config) -> int:
    bentoml = _bentoml()
    env = _serving_env(config, args.alias)
    _refuse_an_open_service(args.host, env)
    command = [bentoml, "serve", "serving.service:Rediscover"]
    command += ["--host", args.host, "--port", str(args.port)]
    print(
        f"serving {config.tracking.registered_model}@{args.alias} on "
        f"http://{args.host}:{args.port}"
    )
    os.execve(bentoml, command, env)


# The checkout this package runs from: bentofile.yaml sits at its root.
_PROJECT = Path(__file__).resolve().parents[1]


def bento(args: argparse.Namespace, config: Config) -> int:
    """Pin the alias' bundle into BentoML's model store, then ``bentoml build``."""
    if not (_PROJECT / "bentofile.yaml").is_file():
        raise ResourceUnavailableError(
            f"no bentofile.yaml in {_PROJECT}: build a Bento from a checkout"
        )
    env = _serving_env(config, args.alias)
    # serving pins (it imports bentoml, which this CLI never does).
    pin = [sys.executable, "-m", "serving.pin"]
    pinned = subprocess.run(pin, env=env, stdout=subprocess.PIPE, text=True)
    if pinned.returncode != 0:
        return pinned.returncode
    tag = pinned.stdout.strip()
    print(f"pinned {config.tracking.registered_model}@{args.alias} as {tag}")
    if args.pin_only:
        return 0
    # bentoml build reads files from the folder it runs in only.
    build = [_bentoml(), "build"]
    return subprocess.run(build, cwd=_PROJECT, env=env).returncode


def _refuse_an_open_service(host: str, env: Mapping[str, str]) -> None:
    """Check the service's settings before it starts, and refuse a host beyond
    loopback without an API token (exit code 3, as a missing setting)."""
    # Deferred: only `serve` needs the serving package.
    from serving import (
        MissingApiTokenError,
        ServingSettings,
        require_token_beyond_loopback,
    )

    settings = ServingSettings.from_env(env)
    try:
        require_token_beyond_loopback(host, settings.api_token)
    except MissingApiTokenError as error:
        raise ResourceUnavailableError(str(error)) from None

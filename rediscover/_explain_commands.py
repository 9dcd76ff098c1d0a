"""``rediscover explain``: per-drug held-out SHAP plots, interactions and subgroups."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

# The command's modules load when it runs, not when `rediscover --help` builds
# the parser (they import scikit-learn, XGBoost and MLflow).
if TYPE_CHECKING:
    import pandas as pd

    from training.config import Config
    from training.explanation import CheckedRule, DrugReport, TopRuleCheck


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's subcommands to the `rediscover` parser."""
    explain = commands.add_parser(
        "explain",
        help="per-drug held-out SHAP plots, interactions and responder subgroups",
        description="Cross-validate each chosen drug's own model on grouped folds "
        "and write, per drug, SHAP beeswarm, bar and dependence plots of the "
        "held-out predictions, the strongest biomarker x tumour type interaction, "
        "the evaluation curves and candidate responder subgroups (rules with their "
        "held-out response rate from a nested search, its 95% interval, and a "
        "placebo rate from the same search on permuted outcomes), plus "
        "subgroups.csv, summary.json and index.html for all drugs; the folder is "
        "logged to an MLflow run tagged kind=explanation. Aggregates and figures "
        "only: no sample id is written.",
    )
    which = explain.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--drug",
        action="append",
        type=lambda name: name.strip().lower(),
        metavar="NAME",
        help="a drug to explain (repeat for more)",
    )
    which.add_argument(
        "--top", type=int, metavar="N", help="the N drugs with the most episodes"
    )
    explain.add_argument(
        "--data", help="'gdsc' or a cohort folder (default: data.source in the config)"
    )
    explain.add_argument(
        "--min-samples",
        type=int,
        help="fewest episodes for a drug's own model (default: training.min_samples)",
    )
    explain.add_argument(
        "--placebo",
        type=int,
        metavar="N",
        help="permutations of each drug's outcomes for the subgroup placebo "
        "(default 5; each costs one more nested search)",
    )
    explain.add_argument("--out", type=Path, required=True, help="output folder")
    explain.add_argument("--force", action="store_true", help="replace --out")
    explain.set_defaults(run=run_explain)


def run_explain(args: argparse.Namespace, config: Config) -> int:
    from features import load_drug_knowledge
    from rediscover._data_commands import load_cohort
    from training.explanation import (
        PLACEBO_PERMUTATIONS,
        check_replaceable,
        explain_drugs,
        write_explanations,
    )
    from training.registry import log_explanations

    if args.out.exists():
        if not args.force:
            raise ValueError(f"--out {args.out} already exists; use --force to replace")
        check_replaceable(args.out)  # refuse now, not after the whole computation
    permutations = PLACEBO_PERMUTATIONS if args.placebo is None else args.placebo
    if permutations < 1:
        raise ValueError(
            f"--placebo must be a positive number of permutations; got {permutations}"
        )
    if args.top is not None and args.top < 1:
        raise ValueError(f"--top must be a positive number of drugs; got {args.top}")
    if args.min_samples is not None:
        training = config.training.model_copy(update={"min_samples": args.min_samples})
        config = config.model_copy(update={"training": training})
    started = time.perf_counter()
    cohort, source = load_cohort(args.data or config.data.source, config)
    drugs = choose_drugs(
        cohort.treatments, config=config, names=args.drug, top=args.top
    )
    print(f"explaining {len(drugs)} drugs ({source}): {', '.join(drugs)}")
    reports = explain_drugs(
        cohort.subset(drugs=drugs), config=config, drugs=drugs,
        knowledge=load_drug_knowledge(), permutations=permutations,
    )  # fmt: skip
    settings = config.training
    context = {
        "data": source, "drugs": len(drugs), "cv_folds": settings.cv_folds,
        "seed": settings.seed, "min_samples": settings.min_samples,
        "n_estimators": config.xgboost.n_estimators,
        "placebo_permutations": permutations,
    }  # fmt: skip
    out = write_explanations(reports, args.out, context=context, force=args.force)
    seconds = time.perf_counter() - started
    run_id = log_explanations(
        config, out, metrics=_metrics(reports, seconds), cohort=cohort,
        cohort_name=source,
    )  # fmt: skip
    _print_reports(reports)
    print(f"wrote {out}/index.html in {seconds:.0f} s; MLflow run {run_id}")
    return 0


def choose_drugs(
    treatments: pd.DataFrame,
    *,
    config: Config,
    names: list[str] | None,
    top: int | None,
) -> list[str]:
    """The named drugs (each must have enough data for its own model), or the
    ``top`` drugs with the most episodes among those that do."""
    from training.fitting import trainable_drugs

    trainable = set(trainable_drugs(treatments, settings=config.training))
    counts = treatments.groupby("drug")["responded"].agg(["size", "sum"])
    if names is None:
        ranked = counts.loc[sorted(trainable)].sort_values("size", ascending=False)
        if ranked.empty:
            raise ValueError(_too_few(config))
        return sorted(ranked.index[:top])
    unknown = [n for n in names if n not in counts.index]
    if unknown:
        raise ValueError(
            f"--drug names drugs not in the cohort: {unknown}; known drugs include "
            f"{sorted(counts.index)[:5]}"
        )
    small = [n for n in names if n not in trainable]
    if small:
        detail = ", ".join(
            f"{n} ({counts['size'][n]} episodes, {counts['sum'][n]} responders)"
            for n in small
        )
        raise ValueError(f"--drug: too little data for a model of its own: {detail}; "
                         + _too_few(config))  # fmt: skip
    return sorted(dict.fromkeys(names))


def _too_few(config: Config) -> str:
    settings = config.training
    return (
        f"a drug needs at least {settings.min_samples} episodes (--min-samples) and "
        f"{settings.min_responders} of each outcome"
    )


def _metrics(reports: list[DrugReport], seconds: float) -> dict[str, float]:
    import pandas as pd

    aurocs = [
        r.evaluation["metrics"]["model"]["auroc"]["value"]
        for r in reports
        if r.evaluation is not None
    ]
    known = pd.Series([a for a in aurocs if a is not None], dtype=float)
    metrics = {
        "n_drugs": float(len(reports)),
        "n_subgroups": float(sum(len(r.subgroups) for r in reports)),
        "n_subgroup_findings": float(
            sum(r.finding for report in reports for r in report.subgroups)
        ),
        "seconds": seconds,
    }
    if not known.empty:
        metrics["held_out_auroc_median"] = float(known.median())
    return metrics


def _print_reports(reports: list[DrugReport]) -> None:
    import math

    for report in reports:
        y = report.episodes["responded"]
        chance = ", ".join(
            "-" if math.isnan(v) else f"{v:+.1%}" for v in report.placebo.best_lift
        )
        print(
            f"{report.drug}: {len(y)} episodes, rate {y.mean():.1%}; placebo "
            f"best held-out lift per permutation: {chance}"
        )
        print(f"  {_describe_top(report.top_rule)}")
        for checked in report.subgroups[:3]:
            print(f"    {_describe(checked)}")


def _describe_top(top: TopRuleCheck) -> str:
    held = top.held_out
    if held.rate is None or held.rate_ci is None:
        return f"each fold's top rule, held out: not shown ({held.folds} folds)"
    low, high = held.rate_ci
    outside = "-" if held.rate_outside is None else f"{held.rate_outside:.1%}"
    placebo = "-" if top.placebo_rate is None else f"{top.placebo_rate:.0%}"
    verdict = "beats" if top.beats_placebo else "does not beat"
    return (
        f"each fold's top rule, held out: {held.rate:.1%} [{low:.1%}, {high:.1%}] "
        f"of {held.n} in {held.folds} folds vs {outside} outside; placebo rate "
        f"{placebo} ({verdict} the placebo)"
    )


def _describe(checked: CheckedRule) -> str:
    rule = checked.in_sample
    low, high = rule.rate_ci
    in_sample = (
        f"in-sample (optimistic) {rule.rate:.1%} [{low:.1%}, {high:.1%}] of "
        f"{rule.n_selected}"
    )
    if checked.rate_held_out is None or checked.rate_held_out_ci is None:
        held = f"held out: not shown (found in {checked.folds_found} folds)"
    else:
        low, high = checked.rate_held_out_ci
        outside = checked.rate_outside_held_out
        held = (
            f"held out {checked.rate_held_out:.1%} [{low:.1%}, {high:.1%}] of "
            f"{checked.n_held_out} in {checked.folds_found} folds vs "
            f"{'-' if outside is None else f'{outside:.1%}'} outside"
        )
    placebo = "-" if checked.placebo_rate is None else f"{checked.placebo_rate:.0%}"
    verdict = "FINDING" if checked.finding else "not a finding"
    return f"{rule.rule}: {verdict}; {held}; placebo rate {placebo}; {in_sample}"

"""``rediscover retrain``, ``promote``, ``rollback`` and ``history``: the registry's
champion, how it changes, and who changed it."""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

# The command's modules load when it runs, not when `rediscover --help` builds
# the parser (they import scikit-learn, XGBoost and MLflow).
if TYPE_CHECKING:
    from training.config import Config
    from training.data import Cohort
    from training.registry import AliasMove, VersionRecord
    from training.retraining import GateResult

AUDIT_SHOWN = 10


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's subcommands to the `rediscover` parser."""
    parser = commands.add_parser(
        "retrain",
        help="train a challenger on the latest cohort; the promotion gate decides",
        description="Train a challenger on the latest cohort version with the "
        "current config, compare it with the champion on the episodes the champion "
        "never saw (champion: its registered bundle; challenger: its grouped "
        "out-of-fold predictions) and apply the gate in mlflow.yml (gate:). "
        "Passed: the challenger becomes champion and the old one previous; "
        "failed: it is registered as challenger with the reasons. Exit code 0 "
        "when promoted, 1 when not (2 bad input, 3 environment, 4 unexpected "
        "error: see rediscover --help).",
    )
    parser.add_argument(
        "--data",
        help="cohort store (or folder, or 'gdsc') (default: data.source in the config)",
    )
    _who_and_why(parser, reason_default="retrain")
    parser.set_defaults(run=retrain_command, recover=True)

    parser = commands.add_parser("promote", help="make a registered version champion")
    parser.add_argument("version", help="registry version number")
    _who_and_why(parser, reason_default=None)
    parser.set_defaults(run=promote_command, recover=True)

    parser = commands.add_parser(
        "rollback", help="put the previous champion back in service"
    )
    _who_and_why(parser, reason_default=None)
    parser.set_defaults(run=rollback_command, recover=True)

    parser = commands.add_parser(
        "history", help="registered versions with data, code, gate and metrics"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=history_command, recover=True)


def _who_and_why(
    parser: argparse.ArgumentParser, *, reason_default: str | None
) -> None:
    """``--reason`` (required when there is no default) and ``--by``."""
    parser.add_argument(
        "--reason",
        required=reason_default is None,
        default=reason_default,
        help="why: recorded with the alias move",
    )
    parser.add_argument(
        "--by", help="who: recorded with the alias move (default: OS user)"
    )


def retrain_command(args: argparse.Namespace, config: Config) -> int:
    from features import load_drug_knowledge
    from rediscover._data_commands import load_cohort
    from training.registry import default_user
    from training.retraining import retrain

    data = args.data or config.data.source
    cohort, source = load_cohort(data, config)
    print(
        f"retraining on {source}: {len(cohort.profiles)} samples, "
        f"{len(cohort.treatments)} episodes"
    )
    result = retrain(
        cohort, config=config, source=source,
        find_cohort=cohort_finder(data, cohort), knowledge=load_drug_knowledge(),
        by=args.by or default_user(), reason=args.reason,
    )  # fmt: skip
    if result.gate is not None:
        n = "no" if result.holdout is None else result.holdout.n
        print(f"gate against champion v{result.compared_with} on {n} new episodes:")
        print_gate(result.gate)
    where = "champion" if result.promoted else "challenger"
    print(
        f"version {result.version} registered as {where} in {result.seconds:.0f} s "
        f"(MLflow run {result.run_id}): {result.decision}"
    )
    return 0 if result.promoted else 1


def cohort_finder(data: str, cohort: Cohort) -> Callable[[str], Cohort]:
    """How to read the champion's cohort version: from the store ``data`` names;
    a plain folder (or GDSC) holds one version only, the one just read."""
    from training.data import is_cohort_store, read_cohort_version

    if data != "gdsc" and is_cohort_store(Path(data)):
        return partial(read_cohort_version, Path(data))

    def only_this(data_hash: str) -> Cohort:
        if data_hash and data_hash == cohort.data_hash():
            return cohort
        raise ValueError(
            f"--data {data} is not a versioned cohort store, so earlier versions "
            "cannot be read; keep cohorts in a store (`rediscover data append NEW "
            "--to STORE`) and retrain with --data STORE"
        )

    return only_this


def print_gate(gate: GateResult) -> None:
    """The gate's checks as a table: name, value, threshold, result, why."""
    print(f"  {'check':<18}{'value':>9}{'threshold':>11}  result")
    for check in gate.checks:
        value = "-" if check.value is None else f"{check.value:.3f}"
        if check.name.startswith("new_"):
            value = "-" if check.value is None else f"{check.value:.0f}"
        result = "pass" if check.passed else "FAIL"
        print(f"  {check.name:<18}{value:>9}{check.threshold:>11.3g}  {result}")
        print(f"      {check.message}")
    print(f"  gate {'passed' if gate.passed else 'FAILED'}")


def promote_command(args: argparse.Namespace, config: Config) -> int:
    from training.registry import default_user, promote

    by = args.by or default_user()
    _print_moves(promote(config, args.version, by=by, reason=args.reason))
    return 0


def rollback_command(args: argparse.Namespace, config: Config) -> int:
    from training.registry import default_user, rollback

    _print_moves(rollback(config, by=args.by or default_user(), reason=args.reason))
    return 0


def _print_moves(moves: list[AliasMove]) -> None:
    for move in moves:
        was = f" (was v{move.replaced})" if move.replaced else ""
        print(f"{move.alias} -> v{move.version}{was}")


def history_command(args: argparse.Namespace, config: Config) -> int:
    from training.registry import audit_log, client_for, version_history

    records = version_history(config.tracking)
    client = client_for(config.tracking)
    audit = audit_log(client, config.tracking.registered_model)
    if args.json:
        document = {
            "model": config.tracking.registered_model,
            "versions": [dataclasses.asdict(r) for r in records],
            "alias_moves": [dataclasses.asdict(m) for m in audit],
        }
        print(json.dumps(document, indent=2))
        return 0
    if not records:
        print(f"no registered versions of {config.tracking.registered_model}")
        return 0
    print_history(records)
    print(f"\nlast {min(AUDIT_SHOWN, len(audit))} alias moves:")
    for move in audit[-AUDIT_SHOWN:]:
        print(f"  {move.at[:19]}  {move.alias} -> v{move.version} by {move.by}: "
              f"{move.reason}")  # fmt: skip
    return 0


def print_history(records: list[VersionRecord]) -> None:
    """One row per version: aliases, data, size, code, gate and AUROCs."""
    print(
        f"{'ver':>4}  {'aliases':<20}{'created':<21}{'data':<14}{'samples':>8}"
        f"{'episodes':>9}  {'code':<22}{'gate':<8}{'cv auc':>7}"
        f"{'hold-out champ/chall':>22}"
    )
    for r in records:
        holdout = (
            f"{_cell(r.holdout_auroc_champion)}/{_cell(r.holdout_auroc_challenger)}"
        )
        print(
            f"{r.version:>4}  {','.join(r.aliases) or '-':<20}{r.created[:19]:<21}"
            f"{r.data_hash or '-':<14}{_cell(r.n_samples):>8}{_cell(r.n_episodes):>9}  "
            f"{r.code_version[:21]:<22}{r.gate or '-':<8}{_cell(r.cv_auroc_median):>7}"
            f"{holdout if r.gate in {'passed', 'failed'} else '-':>22}"
        )


def _cell(value: float | int | None) -> str:
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:.3f}"

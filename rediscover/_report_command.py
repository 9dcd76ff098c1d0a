"""``rediscover report``: one patient's tumour-board report as a printable page."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

# The command's modules load when it runs, not when `rediscover --help` builds
# the parser (they import scikit-learn, XGBoost and MLflow).
if TYPE_CHECKING:
    from features import Profile
    from training.config import Config

TOP = 15  # reporting.TOP, repeated so that --help imports no model code
STDIN = "-"


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of 1 or more: {text}")
    return number


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``report`` to the `rediscover` parser."""
    report = commands.add_parser(
        "report",
        help="write a tumour-board report for one profile (printable HTML)",
        description="Rank every drug for one profile with the registered model and "
        "write one self-contained HTML page (inline CSS and SVG, no script, no "
        "request to any host): the model version and training data, the profile "
        "as read, the ranked drugs with evidence class, calibrated probability, "
        "95% interval, tumour type's rate, lift and domain flag, and for the first "
        "three a SHAP waterfall and the similar training samples. Print it to PDF "
        "from a browser; each of the three drugs starts a new A4 page.",
    )
    report.add_argument("profile", help="JSON file with one profile ('-': stdin)")
    report.add_argument("--out", type=Path, required=True, help="HTML file to write")
    report.add_argument(
        "--top",
        type=_positive,
        default=TOP,
        metavar="N",
        help="drugs in the ranked table",
    )
    report.add_argument("--alias", default="champion", help="registry alias to use")
    report.set_defaults(run=run_report)


def run_report(args: argparse.Namespace, config: Config) -> int:
    from rediscover._model_commands import _load_model
    from reporting import build_report, render_report

    profile = _one_profile(args.profile)
    model, version = _load_model(config, alias=args.alias)
    source = "standard input" if args.profile == STDIN else Path(args.profile).name
    report = build_report(
        model, profile, model_version=version, generated_at=datetime.now(UTC),
        top=args.top, read_from=[source],
    )  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render_report(report), encoding="utf-8")
    print(
        f"wrote {args.out}: {len(report.ranked)} of {report.n_drugs} drugs, model "
        f"version {version}"
    )
    return 0


def _one_profile(source: str) -> Profile:
    """The profile in JSON file ``source``; a list is refused (one page, one
    patient)."""
    from rediscover._model_commands import _read_profiles

    profiles = _read_profiles(source)
    if len(profiles) != 1:
        raise ValueError(
            f"profile file {source} holds a list of {len(profiles)} profiles; "
            "report takes one (write one file per patient)"
        )
    return profiles[0]

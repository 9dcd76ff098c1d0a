"""Write ``rediscover explain``'s folder and log it to MLflow.

Per drug ``<out>/<drug>/``: ``shap_beeswarm.png``, ``shap_bar.png``,
``dependence_<feature>.png`` (top 3), ``interaction_<biomarker>_x_<context>.png``
(the strongest biomarker x tumour type or lineage pair), ``evaluation.png`` (ROC,
reliability and decision curves of the held-out predictions) and
``subgroups.csv``; at the top, ``subgroups.csv`` (all drugs), ``summary.json``
and ``index.html``. Aggregates and figures only: no sample id is written.
"""

from __future__ import annotations

import html
import json
import logging
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from training.evaluation import (
    REPORT_CSS,
    curves_png,
    format_estimate,
    html_table,
    plain,
)
from training.explanation._plots import (
    bar_png,
    beeswarm_png,
    dependence_png,
    interaction_png,
)
from training.explanation._report import DrugReport
from training.fitting import TOP_FEATURES

LOG = logging.getLogger(__name__)
N_DEPENDENCE = 3
METHODS = (
    "SHAP values are TreeSHAP contributions in log-odds of each drug's own "
    "XGBoost model, on the episodes of the folds it did not see (grouped "
    "k-fold; vectorizer and booster fitted on the training folds).",
    "Columns identical on a drug's episodes (a fusion and its genes, the genes of "
    "one amplicon, a tumour type and its lineage) are one feature, their SHAP "
    "values summed.",
    "Interactions: SHAP interaction values of a booster fitted on all the "
    "drug's episodes over its top biomarkers and its tumour types and lineages "
    "with at least 10 episodes in and out; the plot shows the strongest "
    "biomarker x tumour type (or lineage) pair.",
    "Subgroups: rules from a depth-3 regression tree fitted to the held-out "
    "probabilities over the drug's 30 most important features (numeric "
    "biomarkers at clinical cut-offs: TMB >= 10 and >= 20 mut/Mb, HRD >= 42), "
    "plus 'X' / 'not X' for its split features and the top 10 features; judged "
    "on observed outcomes (rate with a 95% Wilson interval), "
    "kept when they select at least 10 episodes, have at least 5 responders and "
    "5 non-responders both inside and outside the rule, and beat the drug's "
    "rate; ranked by the interval's lower bound. Found and judged on the same "
    "episodes, these in-sample rates are optimistic.",
    "Held out (the headline): in each outer fold, the whole search is rerun on "
    "the other folds only (their vectorizer, inner out-of-fold predictions, SHAP "
    "ranking and carrier columns), and the rules it finds are scored on the fold; "
    "a rule's held-out rate (95% Wilson interval) and rate outside pool the folds "
    "whose search found the same rule (n not shown under 5 episodes, a rate not "
    "under 5 responders or 5 non-responders).",
    "Placebo: the same nested search with the outcomes permuted within the drug; "
    "a permutation scores the largest held-out lift (rate inside minus outside, "
    "at least 10 episodes each side) of any rule it found. A rule's placebo rate "
    "is the share of permutations reaching its own held-out lift; it is a "
    "finding only when that share is at most 5% (with 5 permutations: none). "
    "Tables list findings first, then by the held-out interval's lower bound.",
    "Each fold's top rule: the first rule of each fold's nested search counted "
    "on that fold, whichever rule it is (the folds need not agree), pooled; its "
    "placebo rate compares its lift with the same figure on each permutation.",
    "Cells (carriers, rule counts, interaction cells) of fewer than 5 episodes "
    "are not shown.",
)


def slug(name: str) -> str:
    """A file-name-safe form of a drug or feature name."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "unnamed"


def drug_summary(report: DrugReport) -> dict[str, Any]:
    """The drug's aggregates: counts, held-out AUROC, top features, interaction
    and subgroups."""
    y = report.episodes["responded"]
    auroc = None
    if report.evaluation is not None:
        auroc = report.evaluation["metrics"]["model"]["auroc"]
    pair = report.interaction.pair if report.interaction else None
    return {
        "n": len(y),
        "responders": int(y.sum()),
        "rate": float(y.mean()),
        "held_out_episodes": int(report.scored.sum()),
        "held_out_auroc": auroc,
        "top_features": [
            {"feature": str(g), "mean_abs_shap": float(v)}
            for g, v in report.importance.iloc[:TOP_FEATURES].items()
        ],
        "interaction": None
        if pair is None or report.interaction is None
        else {
            "biomarker": pair[0],
            "context": pair[1],
            "strength": float(
                report.interaction.strength[
                    report.interaction.groups.index(pair[0]),
                    report.interaction.groups.index(pair[1]),
                ]
            ),
        },
        "placebo": {
            "permutations": len(report.placebo.best_lift),
            "best_held_out_lift": list(report.placebo.best_lift),
            "top_rule_held_out_lift": list(report.placebo.top_rule_lift),
        },
        "top_rule": report.top_rule.model_dump(mode="json"),
        "subgroups": [r.model_dump(mode="json") for r in report.subgroups],
    }


def subgroup_table(reports: Sequence[DrugReport]) -> pd.DataFrame:
    """One row per drug and rule, findings first within a drug, then by the
    held-out interval's lower bound."""
    rows = []
    for report in reports:
        overall = float(report.episodes["responded"].mean())
        for rank, checked in enumerate(report.subgroups, start=1):
            rule, ci = checked.in_sample, checked.rate_held_out_ci or (None, None)
            rows.append({
                "drug": report.drug, "rank": rank, "rule": rule.rule,
                "finding": checked.finding, "placebo_rate": checked.placebo_rate,
                "placebo_permutations": len(report.placebo.best_lift),
                "folds_found": checked.folds_found,
                "n_held_out": checked.n_held_out,
                "rate_held_out": checked.rate_held_out,
                "rate_held_out_ci_low": ci[0], "rate_held_out_ci_high": ci[1],
                "n_outside_held_out": checked.n_outside_held_out,
                "rate_outside_held_out": checked.rate_outside_held_out,
                "lift_held_out": checked.lift_held_out,
                "n_in_sample": rule.n_selected,
                "responders_in_sample": rule.responders_selected,
                "rate_in_sample": rule.rate, "rate_in_sample_ci_low": rule.rate_ci[0],
                "rate_in_sample_ci_high": rule.rate_ci[1],
                "n_outside_in_sample": rule.n_outside,
                "rate_outside_in_sample": rule.rate_outside, "drug_rate": overall,
            })  # fmt: skip
    columns = ["drug", "rank", "rule", "finding", "placebo_rate", "rate_held_out"]
    return pd.DataFrame(rows, columns=None if rows else columns)


def drug_figures(report: DrugReport) -> dict[str, bytes]:
    """The drug's figures by file name: shap's beeswarm, bar and scatter
    (dependence) plots of its held-out explanation, the interaction and the
    evaluation curves."""
    names = list(report.importance.index)
    every = report.explanation()
    # The features some model used, most important first (as `importance`).
    explanation = every[:, [report.column(g) for g in names]]
    figures = {
        "shap_beeswarm.png": beeswarm_png(
            explanation, title=f"{report.drug}: held-out SHAP values"
        ),
        "shap_bar.png": bar_png(
            explanation, title=f"{report.drug}: mean |held-out SHAP value|"
        ),
    }
    for group in names[:N_DEPENDENCE]:
        partner = report.interaction.partner(group) if report.interaction else None
        figures[f"dependence_{slug(report.members[group][0])}.png"] = dependence_png(
            every, feature=report.column(group),
            colour=None if partner is None else report.column(partner),
        )  # fmt: skip
    interaction = report.interaction
    if interaction is not None and interaction.pair is not None:
        marker, context = interaction.pair
        i, j = interaction.groups.index(marker), interaction.groups.index(context)
        first = report.members[marker][0], report.members[context][0]
        name = f"interaction_{slug(first[0])}_x_{slug(first[1])}.png"
        figures[name] = interaction_png(
            report.values[:, report.column(marker)] == 1,
            report.values[:, report.column(context)] == 1,
            2 * interaction.values[:, i, j],
            report.episodes["responded"].to_numpy(),
            names=(marker, context),
        )
    if report.evaluation is not None:
        frame = report.episodes[report.scored].rename(columns={"probability": "model"})
        figures["evaluation.png"] = curves_png(
            frame, report.evaluation, ["model"], f"{report.drug} (held out)"
        )
    return figures


def write_explanations(
    reports: Sequence[DrugReport],
    out: Path,
    *,
    context: Mapping[str, Any],
    force: bool = False,
) -> Path:
    """Write the folder ``out`` (see the module docstring) atomically: built
    beside it, then renamed; returns its resolved path.

    An existing ``out`` is replaced only with ``force``, and only if it is a
    previous output of this function (``summary.json`` and ``index.html`` at its
    top) and neither is nor contains the working directory; the old folder is
    renamed aside, the new one renamed in, then the old one deleted.
    """
    out = Path(out).resolve()
    if out.exists():
        if not force:
            raise FileExistsError(f"--out {out} already exists; use --force to replace")
        check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".explain-", dir=out.parent))
    try:
        _write(reports, staging, context=context)
        _swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def is_explain_output(folder: Path) -> bool:
    """Whether ``folder`` looks like a folder `write_explanations` wrote: a
    directory with ``index.html`` and a ``summary.json`` of context and drugs."""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        return False
    if not (folder / "index.html").is_file():
        return False
    try:
        summary = json.loads((folder / "summary.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and {"context", "drugs"} <= summary.keys()


def check_replaceable(out: Path) -> None:
    """Raise ValueError unless ``--force`` may replace the existing ``out``."""
    out = Path(out).resolve()
    cwd = Path.cwd().resolve()
    if cwd == out or out in cwd.parents:
        raise ValueError(
            f"--out {out} is the working directory or contains it; refusing to "
            "replace it (choose a new folder)"
        )
    if not is_explain_output(out):
        raise ValueError(
            f"--out {out} exists but is not a previous `rediscover explain` output "
            "(no summary.json and index.html at its top); refusing to replace it "
            "with --force (choose a new folder)"
        )


def _swap_in(staging: Path, out: Path) -> None:
    # Rename the old folder aside, the new one in, then delete the old one: at
    # no point is neither in place, and a failed rename puts the old one back.
    if not out.exists():
        os.replace(staging, out)
        return
    holder = Path(tempfile.mkdtemp(prefix=".explain-old-", dir=out.parent))
    old = holder / out.name
    os.replace(out, old)
    try:
        os.replace(staging, out)
    except BaseException:
        os.replace(old, out)
        holder.rmdir()
        raise
    shutil.rmtree(holder, ignore_errors=True)
    if holder.exists():
        LOG.warning("could not delete the replaced output %s", old)


def _write(
    reports: Sequence[DrugReport], folder: Path, *, context: Mapping[str, Any]
) -> None:
    summary: dict[str, Any] = {"context": dict(context), "drugs": {}}
    images: dict[str, list[str]] = {}
    for report in reports:
        drug_folder = folder / slug(report.drug)
        drug_folder.mkdir()
        figures = drug_figures(report)
        for name, png in figures.items():
            (drug_folder / name).write_bytes(png)
        subgroup_table([report]).to_csv(drug_folder / "subgroups.csv", index=False)
        images[report.drug] = [f"{slug(report.drug)}/{name}" for name in figures]
        summary["drugs"][report.drug] = drug_summary(report) | {
            "files": [*images[report.drug], f"{slug(report.drug)}/subgroups.csv"]
        }
    subgroup_table(reports).to_csv(folder / "subgroups.csv", index=False)
    (folder / "summary.json").write_text(json.dumps(plain(summary), indent=1))
    (folder / "index.html").write_text(render_index(summary, images))


def render_index(summary: Mapping[str, Any], images: Mapping[str, list[str]]) -> str:
    """The folder's index page: per drug its figures and subgroups (relative
    links only, so the folder works offline and anywhere it is copied)."""
    facts = "".join(
        f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>"
        for k, v in summary["context"].items()
    )
    parts = ["<h1>rediscover explain</h1>", f"<table>{facts}</table>", "<ul>"]
    parts += [
        f"<li><a href='#{slug(d)}'>{_e(d)}</a></li>" for d in summary["drugs"]
    ] + ["</ul>"]
    for drug, facts_of in summary["drugs"].items():
        parts += list(_drug_section(drug, facts_of, images.get(drug, [])))
    parts += [
        "<h2>Methods</h2>",
        "<ul class='note'>" + "".join(f"<li>{_e(m)}</li>" for m in METHODS) + "</ul>",
    ]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>rediscover explain</title>"
        f"<style>{REPORT_CSS}</style></head><body>{''.join(parts)}</body></html>"
    )


def _drug_section(
    drug: str, facts: Mapping[str, Any], images: Sequence[str]
) -> Iterator[str]:
    auroc = facts["held_out_auroc"]
    shown = format_estimate(auroc)
    yield (
        f"<h2 id='{slug(drug)}'>{_e(drug)}</h2><p>{facts['n']} episodes, "
        f"{facts['responders']} responders (rate {facts['rate']:.1%}); held-out "
        f"AUROC {_e(shown)}</p>"
    )
    placebo, top = facts["placebo"], facts["top_rule"]
    held = top["held_out"]
    yield (
        f"<p>Subgroup rules: held-out rates first; placebo: {placebo['permutations']}"
        " permutations of the outcomes, best held-out lift by chance "
        f"{_lifts(placebo['best_held_out_lift'])}. Each fold's top rule, held out "
        f"({held['folds']} folds): {_rate(held['rate'], held['rate_ci'])} of "
        f"{_cell(held['n'])} vs {_share(held['rate_outside'])} outside; placebo "
        f"rate {_share(top['placebo_rate'])} "
        f"({'beats' if top['beats_placebo'] else 'does not beat'} the placebo).</p>"
    )
    head = ["rule", "finding", "placebo rate", "found in folds", "held-out n",
            "held-out rate [95% CI]", "held-out rate outside",
            "in-sample (optimistic) n", "in-sample rate [95% CI]"]  # fmt: skip
    rows = [
        [r["in_sample"]["rule"], "yes" if r["finding"] else "no",
         _share(r["placebo_rate"]), r["folds_found"], _cell(r["n_held_out"]),
         _rate(r["rate_held_out"], r["rate_held_out_ci"]),
         _share(r["rate_outside_held_out"]), r["in_sample"]["n_selected"],
         _rate(r["in_sample"]["rate"], r["in_sample"]["rate_ci"])]
        for r in facts["subgroups"]
    ]  # fmt: skip
    none = "<p class='note'>No enriched subgroup.</p>"
    yield html_table(head, rows) if rows else none
    for image in images:
        yield f"<p><img alt='{_e(drug)}: {_e(Path(image).stem)}' src='{_e(image)}'></p>"


def _rate(value: float | None, ci: Sequence[float] | None) -> str:
    if value is None or ci is None:
        return "-"
    return f"{value:.1%} [{ci[0]:.1%}, {ci[1]:.1%}]"


def _lifts(values: Sequence[float | None]) -> str:
    # NaN: the permutation's search found no rule with a held-out lift.
    shown = ("-" if v is None or math.isnan(v) else f"{v:+.1%}" for v in values)
    return ", ".join(shown) or "-"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def _e(value: Any) -> str:
    return html.escape(str(value))

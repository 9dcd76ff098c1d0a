"""Write an evaluation: metrics as JSON, a self-contained HTML report, MLflow.

The JSON and the report hold aggregates only (counts, metrics, curves), never a
sample id; plots are PNGs embedded as base64, so the HTML file needs nothing else.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training.evaluation._plots import LABELS, curves_png, spread_png

logger = logging.getLogger(__name__)

N_PLOTTED = 4
METHODS = (
    "Model: the held-out probability of the model cross-validation chose for the "
    "drug (its own XGBoost or the pooled one, by the lower held-out Brier score: "
    "a choice made on the same predictions, so slightly optimistic when both "
    "exist), before calibration.",
    "Every vocabulary, model and baseline is fitted on the training fold only; a "
    "sample's episodes are always in one fold.",
    "Matching rule: treat every biomarker-matched sample (1/0); decisions, so no "
    "calibration metrics.",
    "Response rate: the drug's rate in the training fold. Within a drug it is "
    "constant per fold, so its per-drug AUROC has no meaning and tends below 0.5 "
    "(a fold with more responders leaves fewer in training).",
    "Shrunk rate: the drug's rate per tumour type, beta-binomial empirical Bayes "
    "(method of moments) towards the drug's rate; unseen types get the drug's rate.",
    "Logistic regression: L2 (C = 0.01), median-imputed and standardised fold "
    "features, per drug with enough training data; other drugs get the shrunk rate.",
    "Intervals: 95% percentile bootstrap, resampling samples with all their "
    "episodes. AUPRC is read against the prevalence (a random ranking's AUPRC).",
    "Calibration slope b and intercept a: logit P(y) = a + b logit(p) (ideal b = 1; "
    "b < 1: too extreme), and a with b fixed at 1 (ideal 0; > 0: too low). Not "
    "given when logit(p) hardly varies (sd < 0.2).",
    "Net benefit at threshold t: (TP - FP t / (1 - t)) / n, treating p >= t.",
)
REPORT_CSS = """body{font-family:sans-serif;margin:2em;max-width:1300px}
table{border-collapse:collapse;font-size:13px;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#eee}td:first-child,th:first-child{text-align:left}
img{max-width:100%}.note{color:#555;font-size:13px}"""


def plotted_drugs(
    document: Mapping[str, Any], requested: Sequence[str] | None = None
) -> list[str]:
    """The drugs to plot: the requested ones scored, else the largest few."""
    drugs = document["drugs"]
    if requested:
        return [d for d in requested if d in drugs][:8]
    by_size = sorted(drugs, key=lambda d: (-drugs[d]["n"], -drugs[d]["events"], d))
    return by_size[:N_PLOTTED]


def write_report(
    document: Mapping[str, Any],
    predictions: pd.DataFrame,
    *,
    json_path: Path,
    html_path: Path,
    drugs: Sequence[str],
) -> None:
    """Write ``document`` (metrics and context) as JSON and the HTML report.

    ``predictions`` (held-out episodes with every column) only feed the ROC
    curves of the overall set and of ``drugs``.
    """
    for path in (json_path, html_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(plain(document), indent=1))
    html_path.write_text(render_html(document, predictions, drugs=drugs))
    logger.info("wrote %s and %s", json_path, html_path)


def plain(value: Any) -> Any:
    """JSON-ready copy: numpy scalars as Python numbers, NaN as None, floats
    rounded to 5 significant digits (the metrics are not that precise)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else float(f"{value:.5g}")
    return value


def render_html(
    document: Mapping[str, Any], predictions: pd.DataFrame, *, drugs: Sequence[str]
) -> str:
    """The report: summary table, curves, per-drug and per-tumour-type tables."""
    columns = document["columns"]
    parts = [
        f"<h1>Evaluation: {_e(document['split'])} split</h1>",
        _context(document),
        "<h2>Summary</h2>",
        _summary_table(document),
        _image(spread_png(_summarised(document), columns), "per-drug AUROC"),
        "<h2>Curves</h2>",
        _image(curves_png(predictions, document["overall"], columns, "All"), "all"),
    ]
    for drug in drugs:
        subset = predictions[predictions["drug"] == drug]
        png = curves_png(subset, document["drugs"][drug], columns, drug)
        parts.append(_image(png, drug))
    parts += [
        "<h2>Per drug</h2>",
        _group_table(document["drugs"], columns),
        "<h2>Per tumour type (all drugs)</h2>",
        _group_table(document["tumour_types"], columns),
        *_top_shap(document.get("top_shap")),
        "<h2>Methods</h2>",
        "<ul class='note'>" + "".join(f"<li>{_e(m)}</li>" for m in METHODS) + "</ul>",
    ]
    body = "\n".join(parts)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>rediscover evaluation: {_e(document['split'])}</title>"
        f"<style>{REPORT_CSS}</style></head><body>{body}</body></html>"
    )


def _summarised(document: Mapping[str, Any]) -> dict[str, Any]:
    least = document["min_events"]
    return {
        name: group
        for name, group in document["drugs"].items()
        if min(group["events"], group["n"] - group["events"]) >= least
    }


def _context(document: Mapping[str, Any]) -> str:
    overall = document["overall"]
    facts = {
        "data": document.get("data_source", ""),
        "split": document.get("split_rule", ""),
        "held-out episodes": f"{overall['n']} ({overall['events']} events, "
        f"prevalence {overall['prevalence']:.1%}) from {overall['samples']} samples",
        "drugs scored": len(document["drugs"]),
        "tumour types scored": len(document["tumour_types"]),
        "bootstrap": f"{document.get('n_bootstrap', '?')} resamples of samples "
        f"(all episodes: {overall['resamples']}; any subset of more than 50,000 "
        "episodes gets fewer)",
        "run time": ", ".join(
            f"{k} {v:.0f} s" for k, v in document.get("seconds", {}).items()
        ),
    }
    rows = "".join(
        f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts.items()
    )
    return f"<table>{rows}</table>"


def _summary_table(document: Mapping[str, Any]) -> str:
    spread = document["summary"]["drugs"]
    overall = document["overall"]["metrics"]
    head = ["prediction", "drugs", "per-drug AUROC median (IQR; range)",
            "AUROC, all episodes", "AUPRC", "Brier", "calibration slope",
            "calibration intercept", "per-drug slope (median)"]  # fmt: skip
    rows = []
    for column in document["columns"]:
        s, m = spread[column], overall[column]
        rows.append([
            LABELS.get(column, column), s.get("auroc_n", 0), _spread(s, "auroc"),
            format_estimate(m["auroc"]), format_estimate(m["auprc"]),
            format_estimate(m["brier"]),
            format_estimate(m.get("calibration_slope")),
            format_estimate(m.get("calibration_intercept")),
            _number(s.get("calibration_slope_median")),
        ])  # fmt: skip
    note = (
        f"<p class='note'>Per-drug values over drugs with at least "
        f"{document['min_events']} events and non-events; AUPRC of a random "
        f"ranking = prevalence ({document['overall']['prevalence']:.3f}); "
        "[95% bootstrap interval].</p>"
    )
    return html_table(head, rows) + note


def _group_table(
    groups: Mapping[str, Mapping[str, Any]], columns: Sequence[str]
) -> str:
    head = ["", "n", "events", *(f"AUROC {LABELS.get(c, c)}" for c in columns),
            "model slope", "model intercept"]  # fmt: skip
    rows = []
    for name, group in groups.items():
        metrics = group["metrics"]
        rows.append([
            name, group["n"], group["events"],
            format_estimate(metrics["model"]["auroc"]),
            *(_number(metrics[c]["auroc"]["value"]) for c in columns[1:]),
            _number(metrics["model"]["calibration_slope"]["value"]),
            _number(metrics["model"]["calibration_intercept"]["value"]),
        ])  # fmt: skip
    return html_table(head, rows)


def _top_shap(top: Mapping[str, Sequence[Sequence[Any]]] | None) -> Iterator[str]:
    if not top:
        return
    yield "<h2>Top features (mean |SHAP|, model fitted on the training data)</h2>"
    rows = [
        [drug, ", ".join(f"{name} ({value:.2f})" for name, value in features)]
        for drug, features in top.items()
    ]
    yield html_table(["drug", "features"], rows)


def html_table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """An HTML table of escaped cells under a row of column headers."""
    header = "".join(f"<th scope='col'>{_e(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{header}</tr>{body}</table>"


def _image(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f"<p><img alt='{_e(alt)}' src='data:image/png;base64,{data}'></p>"


def _spread(summary: Mapping[str, Any], metric: str) -> str:
    if summary.get(f"{metric}_median") is None:
        return "-"
    q = [summary[f"{metric}_{k}"] for k in ("median", "q1", "q3", "min", "max")]
    return f"{q[0]:.3f} ({q[1]:.3f}-{q[2]:.3f}; {q[3]:.3f}-{q[4]:.3f})"


def format_estimate(estimate: Mapping[str, Any] | None) -> str:
    """``value [low, high]`` of a metric estimate, or ``-`` without a value."""
    if not estimate or estimate["value"] is None:
        return "-"
    ci = estimate["ci"]
    interval = f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""
    return f"{estimate['value']:.3f}{interval}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _e(value: Any) -> str:
    return html.escape(str(value))

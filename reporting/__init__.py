"""One patient's tumour-board report: the model's ranking and explanations for a
profile as a self-contained, printable HTML page (inline CSS and SVG, no script,
no request to any host). The CLI and the service both write it from here."""

from reporting._charts import feature_label, percent, points
from reporting._html import INTERVAL_MEANING, render_report
from reporting._report import EXPLAINED, TOP, PatientReport, build_report
from reporting._style import CONTENT_SECURITY_POLICY, PAGE_POLICY

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "EXPLAINED",
    "INTERVAL_MEANING",
    "PAGE_POLICY",
    "TOP",
    "PatientReport",
    "build_report",
    "feature_label",
    "percent",
    "points",
    "render_report",
]

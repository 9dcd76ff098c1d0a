"""The report's one stylesheet (inlined in the page) and the policy that lets
only it in: the page loads nothing, from anywhere, and runs no script."""

from __future__ import annotations

import base64
import hashlib

CSS = """
:root {
  --ink: #1d2327; --muted: #5a6670; --line: #d5dbe0; --accent: #0b5cad;
  --up: #c62828; --down: #1565c0; --warn: #8a4b00; --warn-bg: #fff4e5;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    sans-serif;
  font-size: 14px;
  line-height: 1.4;
  color: var(--ink);
  -webkit-print-color-adjust: exact;
  print-color-adjust: exact;
}
body { max-width: 1080px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.6rem; margin: 0 0 0.3rem; }
h2 {
  font-size: 1.2rem; margin: 1.6rem 0 0.6rem; padding-bottom: 0.2rem;
  border-bottom: 1px solid var(--line);
}
h3 { font-size: 1rem; margin: 1rem 0 0.4rem; }
p { margin: 0.4rem 0; }
.lede { color: var(--muted); }
.caveat {
  border-left: 4px solid var(--warn); background: var(--warn-bg);
  padding: 0.5rem 0.8rem; margin: 0.8rem 0;
}
.muted, .small { color: var(--muted); }
.small { font-size: 0.82rem; }
.warn { color: var(--warn); }
.hash {
  font-family: ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-all;
}
dl.facts {
  display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1.2rem;
  margin: 0.4rem 0;
}
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: 0.4rem 0; }
caption { text-align: left; font-weight: 600; padding: 0.2rem 0; }
th, td {
  text-align: left; vertical-align: top; padding: 0.3rem 0.4rem;
  border-bottom: 1px solid var(--line);
}
thead th {
  font-size: 0.82rem; color: var(--muted); border-bottom: 2px solid var(--ink);
}
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.drug { font-weight: 700; }
.nowrap { white-space: nowrap; }
table.steps th { font-weight: normal; }
tr.out-of-domain td.domain { color: var(--warn); }
svg { display: block; }
svg text { font-family: inherit; }
svg.strip { width: 120px; height: 16px; margin: 3px 0 0 auto; }
svg.strip .track { stroke: var(--line); stroke-width: 2; }
svg.strip .rate { stroke: var(--muted); stroke-width: 2; }
svg.strip .interval { stroke: var(--accent); stroke-width: 3; }
svg.strip .dot { fill: var(--ink); }
figure { margin: 0.6rem 0; }
figcaption { font-size: 0.85rem; color: var(--muted); margin-bottom: 0.3rem; }
svg.waterfall { width: 100%; max-width: 760px; height: auto; font-size: 12px; }
svg.waterfall .grid { stroke: #e3e8ec; stroke-width: 1; }
svg.waterfall .tick { fill: var(--muted); font-size: 11px; }
svg.waterfall .label { fill: var(--ink); }
svg.waterfall .strong { font-weight: 700; }
svg.waterfall .bar.up, svg.waterfall .value.up { fill: var(--up); }
svg.waterfall .bar.down, svg.waterfall .value.down { fill: var(--down); }
svg.waterfall .connector { stroke: #8a959e; stroke-dasharray: 2 2; }
svg.waterfall .value { fill: var(--ink); }
svg.waterfall .dot { fill: var(--ink); }
svg.waterfall .dot.calibrated { fill: var(--accent); }
svg.waterfall .interval { stroke: var(--accent); stroke-width: 3; }
footer { margin-top: 2rem; border-top: 1px solid var(--line); padding-top: 0.6rem; }
@page { size: A4; margin: 14mm 12mm 16mm; }
@media print {
  :root { font-size: 8.5pt; }
  body { max-width: none; padding: 0; }
  h2 { margin-top: 0.8rem; }
  .drug-section { break-before: page; page-break-before: always; }
  .drug-section h2 { margin-top: 0; }
  thead { display: table-header-group; }
  tr, figure, dl.facts, .caveat { break-inside: avoid; page-break-inside: avoid; }
  h2, h3, caption { break-after: avoid; page-break-after: avoid; }
  th, td { padding: 0.15rem 0.3rem; }
  svg.waterfall { max-width: 150mm; }
}
"""

_STYLE_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
# Nothing but the inline stylesheet above: no script, image, font or frame from
# anywhere, so the page works offline and a printed copy is what was seen.
# The meta tag cannot carry frame-ancestors (browsers ignore it there).
PAGE_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; "
    "form-action 'none'"
)
CONTENT_SECURITY_POLICY = f"{PAGE_POLICY}; frame-ancestors 'none'"

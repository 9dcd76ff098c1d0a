"""``GET /``: the service's own front page, in place of BentoML's OpenAPI page.

BentoML's page loads Google Tag Manager; on the origin of the review page and the
scoring API that is another host's script next to patient profiles. This page is
plain HTML with no script at all: the routes, and links to the review page and the
OpenAPI document (``/docs.json``) for tools that render it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse

from serving._boundary import CONTENT_SECURITY_POLICY

_ROUTES = (
    ("POST", "/score", "rank every drug for one profile"),
    ("POST", "/score_batch", "rank every drug for each of several profiles"),
    ("POST", "/explain", "why one drug scored as it did for one profile"),
    ("POST", "/report", "a printable tumour-board report (HTML) for one profile"),
    ("GET", "/review", "the review page"),
    ("GET", "/model", "the model bundle in service"),
    ("GET", "/readyz", "200 once the bundle is verified and loaded"),
    ("GET", "/docs.json", "the OpenAPI document of these routes"),
)

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>rediscover</title></head>
<body>
<h1>rediscover</h1>
<p>Ranks off-label cancer drugs for a tumour profile. Open the
<a href="/review">review page</a>, or read the
<a href="/docs.json">OpenAPI document</a>.</p>
<table>
<tr><th>method</th><th>route</th><th>what</th></tr>
{rows}
</table>
<p>JSON routes take <code>Content-Type: application/json</code> only (else 415),
bodies up to the configured limit (else 413); every error body carries
<code>request_id</code>.</p>
</body>
</html>
"""


async def home_page(request: Request) -> HTMLResponse:
    """The front page, with a CSP that allows nothing from another host."""
    rows = "\n".join(
        f"<tr><td>{method}</td><td><code>{path}</code></td><td>{what}</td></tr>"
        for method, path, what in _ROUTES
    )
    return HTMLResponse(
        _PAGE.format(rows=rows),
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
        },
    )

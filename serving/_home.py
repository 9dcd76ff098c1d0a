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
<tr><td>POST</td><td><code>/score</code></td>
    <td>rank every drug for one profile</td></tr>
<tr><td>POST</td><td><code>/score_batch</code></td>
    <td>rank every drug for each of several profiles</td></tr>
<tr><td>POST</td><td><code>/explain</code></td>
    <td>why one drug scored as it did for one profile</td></tr>
<tr><td>POST</td><td><code>/report</code></td>
    <td>a printable tumour-board report (HTML) for one profile</td></tr>
<tr><td>GET</td><td><code>/review</code></td>
    <td>the review page</td></tr>
<tr><td>GET</td><td><code>/model</code></td>
    <td>the model bundle in service</td></tr>
<tr><td>GET</td><td><code>/readyz</code></td>
    <td>200 once the bundle is verified and loaded</td></tr>
<tr><td>GET</td><td><code>/docs.json</code></td>
    <td>the OpenAPI document of these routes</td></tr>
</table>
<p>JSON routes take <code>Content-Type: application/json</code> only (else 415),
bodies up to the configured limit (else 413); every error body carries
<code>request_id</code>.</p>
</body>
</html>
"""


async def home_page(request: Request) -> HTMLResponse:
    """The front page, with a CSP that allows nothing from another host."""
    return HTMLResponse(
        _PAGE,
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
        },
    )

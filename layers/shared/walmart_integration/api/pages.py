"""The small HTML pages the authorization callback shows the person whose browser Walmart sent back to us.

No script, one inline style (allowed by its hash in the Content-Security-Policy), nothing cached, no referrer (the
callback's URL carries the authorization code), never a secret: only what the outcome means and what to do next.
"""

from __future__ import annotations

import base64
import hashlib
import html

from aws_lambda_powertools.event_handler import Response

CALLBACK_PATH = "/api/walmart/oauth/callback"  # public: template.yaml's OAuthCallback event, no authorizer
HTML = "text/html; charset=utf-8"
_STYLE = (
    "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}"
    "main{max-width:34rem;margin:12vh auto;padding:2rem 2.25rem;background:#fff;border-radius:12px;"
    "box-shadow:0 2px 12px rgba(0,0,0,.08)}h1{font-size:1.45rem;margin:0 0 .75rem}p{line-height:1.55;margin:.5rem 0}"
    ".ok h1{color:#1b7f3b}.no h1{color:#b3261e}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

# outcome -> (status, title, paragraphs)
PAGES: dict[str, tuple[int, str, tuple[str, ...]]] = {
    "connected": (
        200,
        "Walmart store connected",
        (
            "Walmart seller {seller_id} authorized the connection: the store is connected.",
            "Its locations, products and orders are being synchronised now. You can close this window.",
        ),
    ),
    "declined": (
        400,
        "Authorization declined",
        (
            "Walmart did not authorize the connection, so nothing was connected.",
            "To connect the store, start again from the app and choose Authorize on Walmart's page.",
        ),
    ),
    "invalid": (
        400,
        "This link cannot be used",
        (
            "This authorization link is not valid: it was already used, it has expired, or it was not made for this "
            "app. Nothing was connected.",
            "Start again from the app to get a new link.",
        ),
    ),
    "refused": (
        400,
        "Walmart refused the authorization",
        (
            "Walmart did not accept the authorization (it may have expired). Nothing was connected.",
            "Start again from the app to get a new link.",
        ),
    ),
    "failed": (
        500,
        "Something went wrong",
        (
            "The connection could not be completed because of an error on our side.",
            "Please start again from the app in a few minutes.",
        ),
    ),
    "unavailable": (
        502,
        "Walmart could not be reached",
        (
            "The connection could not be completed because Walmart did not answer. Nothing was connected.",
            "Please start again from the app in a few minutes.",
        ),
    ),
}


def page(outcome: str, seller_id: str | None = None) -> Response:
    status, title, paragraphs = PAGES[outcome]
    text = "".join(f"<p>{html.escape(p.format(seller_id=seller_id or 'unknown'))}</p>" for p in paragraphs)
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f'<body><main class="{"ok" if status < 400 else "no"}"><h1>{html.escape(title)}</h1>{text}</main></body></html>'
    )
    return Response(status_code=status, content_type=HTML, body=body, headers=dict(SECURITY_HEADERS))

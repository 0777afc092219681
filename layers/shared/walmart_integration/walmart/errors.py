"""Walmart errors, from either the ``error`` or the ``errors`` key of a body (both in docs/walmart/specs)."""

from __future__ import annotations

import json
from typing import Any


class WalmartError(Exception):
    """A Walmart call failed. ``message`` is Walmart's own description, safe to show to the user."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class WalmartAuthError(WalmartError):
    """Credentials or token refused (401, or INVALID_TOKEN)."""


class WalmartGrantRefused(WalmartAuthError):
    """Walmart refused an authorization code or a refresh token (400 or 401 from ``POST /v3/token``): the seller's
    authorization is gone (used or expired code, the app disconnected). Walmart documents neither the status nor the
    body of this refusal, so both are read as one (docs/walmart/FACTS.md, "Seller authorization for a platform")."""


class WalmartUnavailable(WalmartError):
    """5xx or a timeout/connection error: worth retrying later."""


class WalmartRateLimited(WalmartError):
    """429: the seller's budget for this endpoint is spent until ``retry_after_seconds``."""

    def __init__(self, message: str, retry_after_seconds: float, status: int = 429, code: str | None = None) -> None:
        super().__init__(message, status, code)
        self.retry_after_seconds = retry_after_seconds


class WalmartNotFound(WalmartError):
    """404 CONTENT_NOT_FOUND: the query matched nothing (docs/walmart/FACTS.md, "Orders")."""


def parse_error_body(text: str) -> tuple[str | None, str | None]:
    """(code, message) of the first error in a Walmart error body, whichever key it uses."""
    try:
        body: Any = json.loads(text)
    except ValueError:
        return None, text.strip()[:300] or None
    errors: Any = None
    if isinstance(body, dict):
        errors = body.get("error", body.get("errors"))
        if errors is None and "message" in body:
            return body.get("code"), str(body["message"])
    if isinstance(errors, dict):
        errors = errors.get("error", [errors])
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        code = first.get("code")
        message = first.get("description") or first.get("info") or first.get("message") or code
        return code, str(message) if message else None
    return None, None

"""Walmart errors, from either the ``error`` or the ``errors`` key of a body (both in docs/walmart/specs)."""

from __future__ import annotations

import json
from typing import Any


class WalmartError(Exception):
    """A Walmart call failed. ``message`` is Walmart's own description, safe to show to the user."""

    def __init__(
        self, message: str, status: int | None = None, code: str | None = None, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.field = field


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
    """404: nothing there (for a list query: it matched nothing, whatever the ``code``: docs/walmart/FACTS.md,
    "Checked behaviours" 3)."""


class WalmartCursorExpired(WalmartError):
    """400 on a ``GET /v3/items`` page: its cursor is invalid or expired (it lives about two minutes:
    docs/walmart/specs/marketplace__item-management.openapi.json, GET /v3/items, parameter ``nextCursor``)."""


def parse_error_body(text: str) -> tuple[str | None, str | None]:
    """(code, message) of the first error in a Walmart error body, whichever key it uses."""
    code, message, _ = parse_error(text)
    return code, message


def parse_error(text: str) -> tuple[str | None, str | None, str | None]:
    """(code, message, field) of the first error in a Walmart error body: ``{"error": [...]}`` or ``{"errors": [...]}``
    (the gateway's and the order API's shapes), a bare entry (the items spec's 400 example), or RFC 9457 problem
    details (docs/walmart/specs/marketplace__order-management.openapi.json, components.schemas.Problem)."""
    try:
        body: Any = json.loads(text)
    except ValueError:
        return None, text.strip()[:300] or None, None
    errors: Any = None
    if isinstance(body, dict):
        errors = body.get("error", body.get("errors"))
        if errors is None and ("description" in body or ("code" in body and "info" in body)):
            errors = [body]
        if errors is None and "message" in body:
            return body.get("code"), str(body["message"]), None
        if errors is None and ("title" in body or "detail" in body):
            return None, str(body.get("detail") or body.get("title")), None
    if isinstance(errors, dict):
        errors = errors.get("error", [errors])
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        code = first.get("code")
        message = first.get("description") or first.get("info") or first.get("message") or code
        field = first.get("field")
        return (
            str(code) if code is not None else None,
            str(message) if message else None,
            str(field) if field else None,
        )
    return None, None, None

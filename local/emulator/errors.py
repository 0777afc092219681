"""Walmart-style error bodies and JSON responses.

Walmart's gateway answers errors as ``{"error": [{code, field, description, info, severity,
category, causes, errorIdentifiers}]}`` (some pages show the key ``errors``; the emulator can
switch with the ``error_key`` knob; both: docs/walmart/FACTS.md). Codes carry the ``.GMP_GATEWAY_API`` suffix when the
gateway itself rejects the call (auth, headers, throttling).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Response

JSON_MIMETYPE = "application/json"

ErrorEntry = dict[str, Any]


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response that keeps the key order of ``body`` (Flask's jsonify sorts keys)."""
    resp = Response(json.dumps(body), status=status, mimetype=JSON_MIMETYPE)
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def error_entry(
    code: str,
    description: str,
    info: str,
    *,
    field: str | None = None,
    severity: str = "ERROR",
    category: str = "DATA",
) -> ErrorEntry:
    entry: ErrorEntry = {"code": code}
    if field is not None:
        entry["field"] = field
    entry.update(
        {
            "description": description,
            "info": info,
            "severity": severity,
            "category": category,
            "causes": [],
            "errorIdentifiers": {},
        }
    )
    return entry


def error_body(*entries: ErrorEntry, key: str = "error") -> dict[str, list[ErrorEntry]]:
    return {key: list(entries)}


def error_response(
    status: int,
    *entries: ErrorEntry,
    key: str = "error",
    headers: Mapping[str, str] | None = None,
) -> Response:
    return json_response(error_body(*entries, key=key), status=status, headers=headers)


# --- canned errors -------------------------------------------------------------------------


def unauthorized(field: str = "clientId") -> ErrorEntry:
    """401: bad client credentials, or an unknown / expired access token."""
    return error_entry(
        "UNAUTHORIZED.GMP_GATEWAY_API",
        "Unauthorized",
        "Unauthorized token or token is expired",
        field=field,
    )


def invalid_token() -> ErrorEntry:
    """The 400 variant some clients saw for an expired token (knob ``expired_token_status``)."""
    return error_entry(
        "INVALID_TOKEN.GMP_GATEWAY_API",
        "Invalid token",
        "Access token is invalid or expired",
        field="WM_SEC.ACCESS_TOKEN",
    )


def invalid_header(name: str) -> ErrorEntry:
    """400: a required header (e.g. WM_SVC.NAME, WM_QOS.CORRELATION_ID) is missing or blank."""
    return error_entry(
        "INVALID_REQUEST_HEADER.GMP_GATEWAY_API",
        f"{name} set null or invalid",
        f"Header {name} is not set or invalid.",
        field=name,
    )


def invalid_param(field: str, description: str) -> ErrorEntry:
    return error_entry(
        "INVALID_REQUEST_PARAM.GMP_GATEWAY_API",
        description,
        "One or more request parameters are invalid.",
        field=field,
    )


def missing_param(field: str, description: str) -> ErrorEntry:
    return error_entry(
        "MISSING_REQUEST_PARAM.GMP_GATEWAY_API",
        description,
        "One or more mandatory request parameters are missing.",
        field=field,
    )


def unsupported_media_type(content_type: str) -> ErrorEntry:
    return error_entry(
        "UNSUPPORTED_MEDIA_TYPE.GMP_GATEWAY_API",
        f"Content type '{content_type}' is not supported",
        "Unsupported media type.",
        field="Content-Type",
    )


def threshold_violated() -> ErrorEntry:
    """429: the per-seller token bucket of this endpoint is empty."""
    return error_entry(
        "REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API",
        "Too many requests",
        "This request is throttled. Please try after some time.",
        category="REQUEST",
    )


def system_error() -> ErrorEntry:
    return error_entry(
        "SYSTEM_ERROR.GMP_GATEWAY_API",
        "Internal System Error",
        "System encountered some internal error.",
        category="SYSTEM",
    )


def downstream_timeout() -> ErrorEntry:
    return error_entry(
        "DOWNSTREAM_SYSTEM_TIME_OUT.GMP_GATEWAY_API",
        "Downstream system timed out",
        "The downstream system did not answer in time.",
        category="SYSTEM",
    )


def uri_not_found() -> ErrorEntry:
    return error_entry(
        "URI_NOT_FOUND.GMP_GATEWAY_API",
        "Not Found",
        "Requested URI could not be found.",
    )


def method_not_allowed() -> ErrorEntry:
    return error_entry(
        "METHOD_NOT_ALLOWED.GMP_GATEWAY_API",
        "Method not allowed",
        "The HTTP method is not allowed for this resource.",
    )


def content_not_found() -> ErrorEntry:
    return error_entry(
        "CONTENT_NOT_FOUND.GMP_GATEWAY_API",
        "Not Found",
        "Requested content could not be found.",
        severity="INFO",
        category="APPLICATION",
    )


# API-level errors (the gateway let the call through; the orders / items service refused it).
ORDER_API = "GMP_ORDER_API"
ITEM_API = "GMP_ITEM_QUERY_API"


def api_invalid_param(api: str, field: str, description: str) -> ErrorEntry:
    """400 of an API (``api``: ORDER_API / ITEM_API): a bad query parameter or cursor."""
    return error_entry(
        f"INVALID_REQUEST_PARAM.{api}",
        description,
        "One or more request parameters are invalid.",
        field=field,
    )


def api_content_not_found(api: str, description: str) -> ErrorEntry:
    """404 CONTENT_NOT_FOUND of an API: the query matched nothing (zero records, not a failure)."""
    return error_entry(
        f"CONTENT_NOT_FOUND.{api}",
        description,
        "Requested content could not be found.",
        field="data",
        severity="INFO",
        category="APPLICATION",
    )


# Statuses for which the gateway is treated as unreachable: a bare body, no Walmart JSON
# ("If the gateway is unreachable, the response may include only an HTTP status").
BARE_STATUSES = frozenset({502, 503})


def entry_for_status(status: int) -> ErrorEntry | None:
    """The error entry a forced fault with this status answers; None = bare response."""
    if status in BARE_STATUSES:
        return None
    table = {
        400: lambda: error_entry("INVALID_REQUEST.GMP_GATEWAY_API", "Bad request", "Request is not valid."),
        401: unauthorized,
        403: lambda: error_entry(
            "FORBIDDEN.GMP_GATEWAY_API",
            "Forbidden",
            "Access to this resource is forbidden.",
        ),
        404: content_not_found,
        405: method_not_allowed,
        429: threshold_violated,
        504: downstream_timeout,
    }
    factory = table.get(status)
    if factory is not None:
        return factory()
    if status >= 500:
        return system_error()
    return error_entry(f"HTTP_{status}.GMP_GATEWAY_API", "Error", f"HTTP {status}")


def bare_response(status: int) -> Response:
    phrases = {502: "Bad Gateway", 503: "Service Unavailable"}
    return Response(phrases.get(status, "Error"), status=status, mimetype="text/plain")

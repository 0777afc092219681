"""Walmart Connect (advertising API for API partners) routes, as a Flask Blueprint (docs/walmart/FACTS.md).

Every route (file downloads too) is wrapped by :func:`connect_endpoint`, which does, in order:

1. partner authentication (Bearer token, consumer id, key version, RSA-SHA256 signature of
   ``"<consumer_id>\\n<timestamp>\\n<key_version>\\n"``, timestamp within 5 minutes of the emulator
   clock) -> 403 {"code": "failure", "details": ...}
2. the partner's hourly operations budget (one per call; a PUT carries one update) -> 429
3. random 500s (``connect_faults.error_rate``)

Forced faults (``fail_next``) and latency apply earlier, app-wide (app.py). Routes:
POST /api/v1/snapshot/insight, GET /api/v1/snapshot, POST /api/v2/snapshot/report,
GET /api/v2/snapshot, GET /ads/files/<file_id>, GET|PUT /api/v1/campaigns, GET /api/v1/adGroups,
GET|PUT /api/v1/keywords, GET /api/v1/api_usage_analyze, GET /api/v1|v2/latestReportDate.
State: connect_state.py.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from flask import Blueprint, Response, current_app, g, request

from .connect_keys import HDR_CONSUMER_ID, HDR_KEY_VERSION, HDR_SIGNATURE, HDR_TIMESTAMP, verify
from .connect_state import THROTTLED_DETAILS, ConnectError, ConnectState
from .errors import json_response

CONNECT_EXTENSION_KEY = "walmart_emulator_connect"
CONNECT_PREFIXES = ("/api/", "/ads/")
MAX_CLOCK_SKEW_SECONDS = 300

bp = Blueprint("walmart_connect", __name__)


def is_connect_path(path: str) -> bool:
    return path.startswith(CONNECT_PREFIXES)


def get_connect() -> ConnectState:
    connect: ConnectState = current_app.extensions[CONNECT_EXTENSION_KEY]
    return connect


def failure(status: int, details: str | None = None) -> Response:
    """Connect's error body; ``details`` defaults to the status phrase (429: "retry after 10 minutes")."""
    if details is None:
        details = THROTTLED_DETAILS if status == 429 else HTTPStatus(status).phrase
    return json_response({"code": "failure", "details": details}, status=status)


def authenticate(connect: ConnectState) -> str:
    """The consumer id of a correctly signed call, else ConnectError 403."""
    with connect.lock:
        partner = connect.partner
    if partner is None:
        raise ConnectError(403, "No API partner is configured on this emulator")
    values: dict[str, str] = {}
    for name in ("Authorization", HDR_CONSUMER_ID, HDR_TIMESTAMP, HDR_KEY_VERSION, HDR_SIGNATURE):
        values[name] = (request.headers.get(name) or "").strip()
        if not values[name]:
            raise ConnectError(403, f"Missing header {name}")
    scheme, _, token = values["Authorization"].partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), partner.auth_token.encode()):
        raise ConnectError(403, "Invalid auth token")
    if values[HDR_CONSUMER_ID] != partner.consumer_id:
        raise ConnectError(403, "Invalid consumer id")
    if values[HDR_KEY_VERSION] != partner.key_version:
        raise ConnectError(403, "Invalid key version")
    timestamp = values[HDR_TIMESTAMP]
    if not timestamp.isdigit():
        raise ConnectError(403, "Invalid timestamp")
    if abs(int(timestamp) / 1000 - connect.clock()) > MAX_CLOCK_SKEW_SECONDS:
        raise ConnectError(403, "Timestamp is more than 5 minutes away from the server time")
    if not verify(partner.public_key, partner.consumer_id, timestamp, partner.key_version, values[HDR_SIGNATURE]):
        raise ConnectError(403, "Invalid signature")
    return partner.consumer_id


def _update_item(schema: str) -> list[Any]:
    """A PUT body: one JSON object, as the spec declares it (CampaignUpdate / KeywordUpdate); anything else 400."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ConnectError(400, f"Request body must be one JSON object ({schema})")
    return [body]


def _int_arg(name: str) -> int:
    value = request.args.get(name, "").strip()
    if not value.lstrip("-").isdigit():
        raise ConnectError(400, f"{name} (integer) is required")
    return int(value)


def connect_endpoint(
    endpoint: str, *, operations: Callable[[], int] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Wrap a handler ``(connect, **path_variables) -> JSON body | Response`` with the checks above."""

    def decorator(handler: Callable[..., Any]) -> Callable[..., Response]:
        @functools.wraps(handler)
        def wrapper(**path_variables: Any) -> Response:
            connect = get_connect()
            g.endpoint = endpoint
            try:
                g.consumer_id = authenticate(connect)
                if not connect.admit(g.consumer_id, operations() if operations else 1):
                    g.outcome = "throttled"
                    return failure(429)
                if connect.roll(connect.faults.error_rate):
                    g.outcome = "random_fault"
                    return failure(500, "Internal server error")
                result = handler(connect, **path_variables)
            except ConnectError as exc:
                g.outcome = "unauthorized" if exc.status == 403 else "error"
                return failure(exc.status, exc.details)
            return result if isinstance(result, Response) else json_response(result)

        wrapper.walmart_endpoint = endpoint  # type: ignore[attr-defined]
        return wrapper

    return decorator


def _snapshot(connect: ConnectState, body: dict[str, Any]) -> Any:
    return [body] if connect.faults.snapshot_as_array else body


@bp.post("/api/v1/snapshot/insight")
@connect_endpoint("POST /api/v1/snapshot/insight")
def post_insight(connect: ConnectState) -> Any:
    """Discovery: which advertisers granted this partner access (a file of JSON records)."""
    return _snapshot(connect, connect.request_insight(request.get_json(silent=True)))


@bp.get("/api/v1/snapshot")
@connect_endpoint("GET /api/v1/snapshot")
def get_insight_snapshot(connect: ConnectState) -> Any:
    snapshot_id = request.args.get("snapshotId", "")
    return _snapshot(connect, connect.snapshot_status(snapshot_id, "insight", None, request.host_url))


@bp.post("/api/v2/snapshot/report")
@connect_endpoint("POST /api/v2/snapshot/report")
def post_report(connect: ConnectState) -> Any:
    body = request.get_json(silent=True)
    advertiser_id = body.get("advertiserId") if isinstance(body, dict) else None
    g.advertiser_id = advertiser_id if isinstance(advertiser_id, int) else None
    return _snapshot(connect, connect.request_report(body))


@bp.get("/api/v2/snapshot")
@connect_endpoint("GET /api/v2/snapshot")
def get_report_snapshot(connect: ConnectState) -> Any:
    g.advertiser_id = advertiser_id = _int_arg("advertiserId")
    connect.granted(advertiser_id)
    snapshot_id = request.args.get("snapshotId", "")
    return _snapshot(connect, connect.snapshot_status(snapshot_id, "report", advertiser_id, request.host_url))


@bp.get("/api/v2/latestReportDate")
@connect_endpoint("GET /api/v2/latestReportDate")
def get_latest_report_dates(connect: ConnectState) -> Any:
    """The last published day per report type (spec: getLatestReportDateV2, an array of LatestReportDateV2)."""
    return connect.latest_report_dates()


@bp.get("/api/v1/latestReportDate")
@connect_endpoint("GET /api/v1/latestReportDate")
def get_latest_report_date(connect: ConnectState) -> Any:
    """One latest day for every report type (spec: getLatestReportDate, schema LatestReportDate)."""
    return {"latestReportDate": min(d["latestReportDate"] for d in connect.latest_report_dates())}


@bp.get("/ads/files/<file_id>")
@connect_endpoint("GET /ads/files")
def get_file(connect: ConnectState, file_id: str) -> Response:
    payload, filename, advertiser_id = connect.file(file_id)
    g.advertiser_id = request.args.get("advertiserId", type=int) or advertiser_id
    return Response(
        payload,
        mimetype="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/api/v1/campaigns")
@connect_endpoint("GET /api/v1/campaigns")
def get_campaigns(connect: ConnectState) -> Any:
    g.advertiser_id = advertiser_id = _int_arg("advertiserId")
    with connect.lock:
        return [c.render() for c in connect.granted(advertiser_id).campaigns]


@bp.get("/api/v1/adGroups")
@connect_endpoint("GET /api/v1/adGroups")
def get_ad_groups(connect: ConnectState) -> Any:
    """An advertiser's ad groups, or one campaign's (docs/walmart/specs/ads__sponsored-products.openapi.json,
    operation AdGroupList: advertiserId required, campaignId optional)."""
    g.advertiser_id = advertiser_id = _int_arg("advertiserId")
    campaign_id = request.args.get("campaignId", type=int)
    with connect.lock:
        groups = connect.granted(advertiser_id).ad_groups
        return [a.render() for a in groups if campaign_id is None or a.campaign_id == campaign_id]


@bp.put("/api/v1/campaigns")
@connect_endpoint("PUT /api/v1/campaigns")
def put_campaigns(connect: ConnectState) -> Any:
    results, g.advertiser_id = connect.update("campaign", _update_item("CampaignUpdate"))
    return results


@bp.get("/api/v1/keywords")
@connect_endpoint("GET /api/v1/keywords")
def get_keywords(connect: ConnectState) -> Any:
    keywords, g.advertiser_id = connect.list_keywords(_int_arg("campaignId"))
    return keywords


@bp.put("/api/v1/keywords")
@connect_endpoint("PUT /api/v1/keywords")
def put_keywords(connect: ConnectState) -> Any:
    results, g.advertiser_id = connect.update("keyword", _update_item("KeywordUpdate"))
    return results


@bp.get("/api/v1/api_usage_analyze")
@connect_endpoint("GET /api/v1/api_usage_analyze")
def get_usage(connect: ConnectState) -> Any:
    """Operations of this partner in the last hour (this call included)."""
    return {"count": connect.operations(consumer_id=g.consumer_id)}

"""On-request reports (docs/walmart/specs/marketplace__on-request-reports.openapi.yml): the ITEM report.

POST /v3/reports/reportRequests?reportType=ITEM&reportVersion=v4     generateReport: a request, RECEIVED
GET  /v3/reports/reportRequests?reportType=ITEM[&requestStatus=...]  getRequestsStatus: the last 30 days' requests
GET  /v3/reports/reportRequests/{requestId}                          getSingleRequestStatus
GET  /v3/reports/downloadReport?requestId=                           downloadReport: a pre-signed downloadURL
GET  /reports/files/<requestId>.zip?expires=&sig=                     the file behind it (no Walmart headers)

What Walmart says about them (page "On-request reports" of developer.walmart.com, docs/walmart/FACTS.md "Checked
behaviours" 2): a report takes 15 to 45 minutes to generate (``item_report_processing_seconds``, default 900), is
kept 30 days, and one report per report type may be requested per hour (``report_requests_per_hour``; more is a
429 with Retry-After here: Walmart does not say how it refuses). Statuses RECEIVED, INPROGRESS, READY, ERROR
(``item_report_failure_rate``). The file is a zip holding one CSV with a header row, as public clients read it
(mediocre/walmart-marketplace ``reports.download``), columns named as Walmart's "Request an item report" page lists
them. Only the ITEM report is emulated; its rows are the seller's catalogue as GET /v3/items serves it (the
``malformed_record_rate`` knob breaks the same records).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import math
import uuid
import zipfile
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Response, g, request

from . import errors
from .datagen import JsonDict, stable_fraction
from .items import serve_item
from .marketplace import CallContext, bp, get_state, walmart_endpoint
from .state import EmulatorState, ReportRequestRecord

REPORT_TYPES = (
    "ITEM",
    "INVENTORY",
    "CANCELLATION",
    "DELIVERY_DEFECT",
    "ITEM_PERFORMANCE",
    "PROMO",
    "RETURN_OVERRIDES",
    "CPA",
    "SHIPPING_CONFIGURATION",
    "SHIPPING_PROGRAM",
    "FITMENT_MISSING_ATTR",
    "FITMENT_ACES_COVERAGE",
    "BUYBOX",
    "ASSORTMENT_RECOMMENDATIONS",
)
ITEM_VERSIONS = ("v1", "v2", "v3", "v4")  # the spec's reportVersion: v1-v4 for ITEM, v1 for the others
EMULATED = ("ITEM",)
RETENTION_SECONDS = 30 * 86_400  # "Reports that you request are retained for 30 days"
HOUR_SECONDS = 3600
URL_TTL_SECONDS = 3600  # how long a downloadURL works (downloadURLExpirationTime)
DEFAULT_LIST_LIMIT = 10
FILE_PATH = "/reports/files"
REPORTS_API = "GMP_REPORTS_API"  # the code suffix of the reports API's own errors (UNCONFIRMED)
ITEM_COLUMNS = (
    "SKU",
    "Item ID",
    "Product Name",
    "Lifecycle Status",
    "Publish Status",
    "Status Change Reason",
    "Product Category",
    "Price",
    "Currency",
    "Buy Box Item Price",
    "Buy Box Shipping Price",
    "Buy Box Eligible",
    "Item Page URL",
    "Shelf Name",
    "WPID",
    "GTIN",
    "UPC",
)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(value: str, field: str) -> float:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ReportQueryError(field, f"{field} must be YYYY-MM-DDTHH:mm:ssZ") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class ReportQueryError(ValueError):
    def __init__(self, field: str, description: str) -> None:
        super().__init__(description)
        self.field = field
        self.description = description


def status_of(state: EmulatorState, report: ReportRequestRecord) -> str:
    now = state.clock()
    if now >= report.ready_at and report.status_reads >= state.faults.item_report_ready_after_reads:
        return "ERROR" if report.fails else "READY"
    received_for = min(60.0, (report.ready_at - report.submitted_at) / 10)
    return "RECEIVED" if now < report.submitted_at + received_for else "INPROGRESS"


def render_request(state: EmulatorState, report: ReportRequestRecord) -> JsonDict:
    status = status_of(state, report)
    body: JsonDict = {
        "requestId": report.request_id,
        "requestStatus": status,
        "requestSubmissionDate": _iso(report.submitted_at),
        "reportType": report.report_type,
        "reportVersion": report.report_version,
    }
    if status == "READY":
        body["reportGenerationDate"] = _iso(report.ready_at)
    return body


def _bad_request(ctx: CallContext, error: ReportQueryError) -> Response:
    g.outcome = "bad_request"
    entry = errors.api_invalid_param(REPORTS_API, error.field, error.description)
    return errors.error_response(400, entry, key=ctx.state.faults.error_key)


def _not_found(ctx: CallContext, request_id: str) -> Response:
    entry = errors.api_content_not_found(REPORTS_API, f"No report request {request_id}.")
    return errors.error_response(404, entry, key=ctx.state.faults.error_key)


def _own(ctx: CallContext, request_id: str) -> ReportRequestRecord | None:
    report = ctx.state.reports.get(request_id)
    if report is None or report.seller_id != ctx.seller.seller_id:
        return None
    if ctx.state.clock() - report.submitted_at > RETENTION_SECONDS:
        return None
    return report


@bp.post("/v3/reports/reportRequests")
@walmart_endpoint("POST /v3/reports/reportRequests")
def create_request(ctx: CallContext) -> Response:
    state = ctx.state
    report_type = request.args.get("reportType") or ""
    version = request.args.get("reportVersion") or ""
    try:
        if report_type not in REPORT_TYPES:
            raise ReportQueryError("reportType", f"reportType must be one of {', '.join(REPORT_TYPES)}")
        if not version:
            raise ReportQueryError("reportVersion", "reportVersion is required")
        if version not in (ITEM_VERSIONS if report_type == "ITEM" else ("v1",)):
            raise ReportQueryError("reportVersion", f"reportVersion {version} is not supported for {report_type}")
        if report_type not in EMULATED:
            raise ReportQueryError("reportType", f"reportType {report_type} is not emulated (only ITEM)")
    except ReportQueryError as error:
        return _bad_request(ctx, error)
    now = state.clock()
    faults = state.faults
    with state.lock:
        recent = sorted(
            r.submitted_at
            for r in state.reports.values()
            if r.seller_id == ctx.seller.seller_id
            and r.report_type == report_type
            and now - r.submitted_at < HOUR_SECONDS
        )
        if len(recent) >= faults.report_requests_per_hour:
            # "you can make a request for each report type only once per hour"
            g.outcome = "throttled"
            retry_after = max(1, math.ceil(recent[0] + HOUR_SECONDS - now))
            return errors.error_response(
                429,
                errors.threshold_violated(),
                key=faults.error_key,
                headers={"Retry-After": str(retry_after)},
            )
        request_id = str(uuid.UUID(int=state.token_rng.getrandbits(128), version=4))
        fails = faults.item_report_failure_rate > 0 and (
            stable_fraction(state.seed, request_id, "report-fails") < faults.item_report_failure_rate
        )
        report = ReportRequestRecord(
            request_id=request_id,
            seller_id=ctx.seller.seller_id,
            report_type=report_type,
            report_version=version,
            submitted_at=now,
            ready_at=now + faults.item_report_processing_seconds,
            fails=fails,
        )
        state.reports[request_id] = report
        body = render_request(state, report)
    payload = request.get_json(silent=True)
    if isinstance(payload, dict) and payload:
        body["payload"] = payload
    return errors.json_response(body)


@bp.get("/v3/reports/reportRequests")
@walmart_endpoint("GET /v3/reports/reportRequests")
def list_requests(ctx: CallContext) -> Response:
    state = ctx.state
    args = request.args
    now = state.clock()
    try:
        report_type = args.get("reportType") or ""
        if report_type not in REPORT_TYPES:
            raise ReportQueryError("reportType", f"reportType must be one of {', '.join(REPORT_TYPES)}")
        wanted_status = args.get("requestStatus")
        since = (
            _parse_iso(args["requestSubmissionStartDate"], "requestSubmissionStartDate")
            if args.get("requestSubmissionStartDate")
            else now - RETENTION_SECONDS
        )
        until = (
            _parse_iso(args["requestSubmissionEndDate"], "requestSubmissionEndDate")
            if args.get("requestSubmissionEndDate")
            else now
        )
        page = int(args.get("page") or 1)
        limit = int(args.get("limit") or DEFAULT_LIST_LIMIT)
        if page < 1 or not 1 <= limit <= 100:
            raise ReportQueryError("limit", "page must be >= 1 and limit between 1 and 100")
    except ValueError as error:
        field, text = (error.field, error.description) if isinstance(error, ReportQueryError) else ("page", str(error))
        return _bad_request(ctx, ReportQueryError(field, text))
    with state.lock:
        found = [
            render_request(state, r)
            for r in sorted(state.reports.values(), key=lambda r: r.submitted_at, reverse=True)
            if r.seller_id == ctx.seller.seller_id
            and r.report_type == report_type
            and max(since, now - RETENTION_SECONDS) <= r.submitted_at <= until
        ]
    if wanted_status:
        found = [r for r in found if r["requestStatus"] == wanted_status]
    body: JsonDict = {"page": page, "totalCount": len(found), "limit": limit}
    if page * limit < len(found):
        carried = {k: v for k, v in args.items() if k not in ("page", "limit")}
        body["nextCursor"] = urlencode({**carried, "page": page + 1, "limit": limit})
    body["requests"] = found[(page - 1) * limit : page * limit]
    return errors.json_response(body)


@bp.get("/v3/reports/reportRequests/<request_id>")
@walmart_endpoint("GET /v3/reports/reportRequests/{requestId}")
def get_request(ctx: CallContext, request_id: str) -> Response:
    with ctx.state.lock:
        report = _own(ctx, request_id)
        if report is None:
            return _not_found(ctx, request_id)
        report.status_reads += 1
        return errors.json_response(render_request(ctx.state, report))


def _signature(state: EmulatorState, request_id: str, expires: int) -> str:
    return hmac.new(state.cursor_key, f"report:{request_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]


@bp.get("/v3/reports/downloadReport")
@walmart_endpoint("GET /v3/reports/downloadReport")
def download_report(ctx: CallContext) -> Response:
    request_id = request.args.get("requestId") or ""
    with ctx.state.lock:
        report = _own(ctx, request_id)
        if report is None:
            return _not_found(ctx, request_id)
        body = render_request(ctx.state, report)
    if body["requestStatus"] != "READY":
        return _bad_request(ctx, ReportQueryError("requestId", f"The report is not ready ({body['requestStatus']})."))
    expires = int(ctx.state.clock()) + URL_TTL_SECONDS
    query = urlencode({"expires": expires, "sig": _signature(ctx.state, request_id, expires)})
    url = f"{request.host_url.rstrip('/')}{FILE_PATH}/{request_id}.zip?{query}"
    return errors.json_response({"downloadURL": url, "downloadURLExpirationTime": _iso(expires), **body})


def _item_row(item: JsonDict) -> dict[str, Any]:
    price = (item.get("price") or {}) if isinstance(item.get("price"), dict) else {}
    reasons = (item.get("unpublishedReasons") or {}).get("reason") or []
    reasons = reasons if isinstance(reasons, list) else [reasons]
    sku = item.get("sku") or ""
    return {
        "SKU": sku,
        "Item ID": str(int(stable_fraction("item-id", sku) * 10**9)) if sku else "",
        "Product Name": item.get("productName") or "",
        "Lifecycle Status": item.get("lifecycleStatus") or "",
        "Publish Status": item.get("publishedStatus") or "",
        "Status Change Reason": "; ".join(map(str, reasons)),
        "Product Category": item.get("productType") or "",
        "Price": "" if price.get("amount") is None else str(price["amount"]),
        "Currency": price.get("currency") or "",
        "Buy Box Item Price": "",
        "Buy Box Shipping Price": "",
        "Buy Box Eligible": "No",
        "Item Page URL": f"https://www.walmart.com/ip/{item.get('wpid')}" if item.get("wpid") else "",
        "Shelf Name": item.get("shelf") or "",
        "WPID": item.get("wpid") or "",
        "GTIN": item.get("gtin") or "",
        "UPC": item.get("upc") or "",
    }


def item_report_file(state: EmulatorState, report: ReportRequestRecord) -> bytes:
    """The report's zip: one CSV, a header row, a row per listing of the seller's catalogue."""
    records = state.records(report.seller_id)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(ITEM_COLUMNS))
    writer.writeheader()
    for item in records.items:
        writer.writerow(_item_row(serve_item(state, records, item)))
    archive = io.BytesIO()
    stamp = datetime.fromtimestamp(report.ready_at, UTC).strftime("%Y-%m-%dT%H%M%S")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr(f"ItemReport_{report.seller_id}_{stamp}.csv", text.getvalue().encode("utf-8"))
    return archive.getvalue()


@bp.get(f"{FILE_PATH}/<request_id>.zip")
def report_file(request_id: str) -> Response:
    """The file behind a downloadURL: the signature and the expiry are the only check (a pre-signed address)."""
    state = get_state()
    try:
        expires = int(request.args.get("expires") or 0)
    except ValueError:
        expires = 0
    signature = request.args.get("sig") or ""
    valid = hmac.compare_digest(_signature(state, request_id, expires), signature) and state.clock() < expires
    with state.lock:
        report = state.reports.get(request_id)
        if not valid or report is None:
            g.outcome = "forbidden"
            return Response("Access Denied: the address is invalid or has expired.", 403, mimetype="text/plain")
        g.seller_id = report.seller_id
        data = item_report_file(state, report)
    return Response(data, 200, mimetype="application/zip")


# the id the call log counts these calls under (one per file, not one per request id)
setattr(report_file, "walmart_endpoint", f"GET {FILE_PATH}/{{requestId}}.zip")  # noqa: B010

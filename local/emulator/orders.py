"""``GET /v3/orders``, ``GET /v3/orders/{purchaseOrderId}`` as Walmart serves them (docs/walmart/FACTS.md, "Orders").

Query: createdStartDate (default now - 7 days, also when lastModifiedStartDate is given),
createdEndDate (default now), lastModifiedStartDate, lastModifiedEndDate, limit (default 100,
1..200, else 400), shipNodeType (default SellerFulfilled; WFSFulfilled, 3PLFulfilled), status,
sku, purchaseOrderId, customerOrderId, productInfo, replacementInfo, orderType. Dates are ``yyyy-MM-dd``
(midnight UTC) or ISO 8601 (no zone = UTC); bounds are inclusive. Other documented parameters
(fromExpectedShipDate, shippingProgramType, incentiveInfo, ...) are accepted and ignored. Only orders created in
the last 180 days are ever served. "Replacement orders appear only if replacementInfo is true" (the spec's
orderType parameter): without it they are not served at all, nor counted.

Response ``{"list": {"meta": {totalCount, limit, nextCursor}, "elements": {"order": [...]}}}``,
newest first. ``totalCount`` counts every match; at most ``orders_max_results`` (10,000) of them
are reachable: past that the cursor stops. Zero matches: 404 ``{"errors": [{"code": "NOT_FOUND.GMP_ORDER_API"}]}``
as the order spec's example shows it (``order_not_found_code`` switches to CONTENT_NOT_FOUND.GMP_ORDER_API). A share
of orders (``single_object_rate``) comes with one-element lists as the element itself, and a page of one such order
holds it as ``elements.order`` directly. A line lists each of its statuses with its ``statusQuantity``.

Cursor: a whole query string beginning with ``?``, shaped like Walmart's::

    ?limit=100&hasMoreElements=true&soIndex=<totalCount>&poIndex=<offset of the next page>
    &partnerId=<seller id>&sellerId=<seller id>&createdStartDate=<as sent, or now-7d>
    &createdEndDate=<as sent, or the time of the first call>[&<the other filters as sent>]
    &sig=<20 hex chars>

The next page is ``GET /v3/orders`` + that string verbatim. ``sig`` is an HMAC of the exact bytes
before it, so a cursor that was decoded and re-encoded, edited, mixed with other parameters, or
used by another seller answers 400 INVALID_REQUEST_PARAM.GMP_ORDER_API (field nextCursor).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl, quote

from flask import Response, g, request

from . import errors
from .datagen import (
    DAY_MS,
    ORDER_LINE_STATUSES,
    SHIP_NODE_TYPES,
    JsonDict,
    collapse_one_element_lists,
    malform_order,
    record_fraction,
)
from .marketplace import CallContext, bp, walmart_endpoint
from .records import OrderFilter, SellerRecords, history_start
from .state import EmulatorState

DEFAULT_LIMIT = 100
MAX_LIMIT = 200
DEFAULT_CREATED_LOOKBACK_MS = 7 * DAY_MS
HISTORY_DAYS = 180

# the query parameters a cursor carries, in this order, after createdStartDate / createdEndDate
CARRIED_PARAMS = (
    "lastModifiedStartDate",
    "lastModifiedEndDate",
    "shipNodeType",
    "status",
    "sku",
    "purchaseOrderId",
    "customerOrderId",
    "productInfo",
    "replacementInfo",
    "orderType",
)
DATE_PARAMS = ("createdStartDate", "createdEndDate", "lastModifiedStartDate", "lastModifiedEndDate")
CURSOR_ONLY_PARAMS = ("hasMoreElements", "soIndex", "poIndex", "partnerId", "sellerId", "sig")
SIG_PARAM = "sig"
SIG_LENGTH = 20
_CURSOR_SAFE = ":-._~"  # left as is in cursor values, like Walmart's (dates keep their colons)
_SIGNED = re.compile(rf"(?P<body>.+)&{SIG_PARAM}=(?P<sig>[0-9a-f]{{{SIG_LENGTH}}})")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

ORDER_API = errors.ORDER_API
ORDER_TYPES = ("REGULAR", "REPLACEMENT", "PREORDER")


class QueryError(ValueError):
    def __init__(self, field: str, description: str) -> None:
        super().__init__(description)
        self.field = field
        self.description = description


# --- dates -------------------------------------------------------------------------------------


def parse_date_ms(value: str, field: str) -> int:
    """``yyyy-MM-dd`` (midnight UTC) or ISO 8601 (a missing zone is UTC) as epoch ms."""
    text = value.strip()
    try:
        if _DAY.fullmatch(text):
            day = date.fromisoformat(text)
            return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(field, f"{field} must be yyyy-MM-dd or an ISO 8601 UTC timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def format_ms(epoch_ms: int) -> str:
    """ISO 8601 UTC with milliseconds, as in Walmart's cursors (2019-09-17T18:47:03.703Z)."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


# --- the query ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrdersQuery:
    params: dict[str, str]  # createdStartDate, createdEndDate (always) + carried filters as sent
    limit: int
    offset: int = 0


def _limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except ValueError:
        raise QueryError("limit", "limit must be a number") from None
    if limit < 1 or limit > MAX_LIMIT:
        raise QueryError("limit", f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def first_page_query(args: dict[str, str], now_ms: int) -> OrdersQuery:
    """The query of a first call: defaults resolved and pinned (createdEndDate = now)."""
    params = {"createdStartDate": args.get("createdStartDate") or format_ms(now_ms - DEFAULT_CREATED_LOOKBACK_MS)}
    params["createdEndDate"] = args.get("createdEndDate") or format_ms(now_ms)
    for name in CARRIED_PARAMS:
        if args.get(name):
            params[name] = args[name]
    return OrdersQuery(params, _limit(args.get("limit")))


def order_filter(params: dict[str, str], now_ms: int) -> OrderFilter:
    """Validate the parameters; the filter they describe (the 180-day bound applied)."""
    dates = {name: parse_date_ms(params[name], name) for name in DATE_PARAMS if params.get(name)}
    ship_node_type = params.get("shipNodeType", "SellerFulfilled")
    if ship_node_type not in SHIP_NODE_TYPES:
        raise QueryError("shipNodeType", f"shipNodeType must be one of {', '.join(SHIP_NODE_TYPES)}")
    status = params.get("status")
    if status is not None and status not in ORDER_LINE_STATUSES:
        raise QueryError("status", f"status must be one of {', '.join(ORDER_LINE_STATUSES)}")
    order_type = params.get("orderType")
    if order_type is not None and order_type not in ORDER_TYPES:
        raise QueryError("orderType", f"orderType must be one of {', '.join(ORDER_TYPES)}")
    return OrderFilter(
        created_from=max(dates["createdStartDate"], history_start(now_ms, HISTORY_DAYS)),
        created_to=dates["createdEndDate"],
        modified_from=dates.get("lastModifiedStartDate"),
        modified_to=dates.get("lastModifiedEndDate"),
        ship_node_type=ship_node_type,
        status=status,
        sku=params.get("sku"),
        purchase_order_id=params.get("purchaseOrderId"),
        customer_order_id=params.get("customerOrderId"),
        replacement_info=_true(params.get("replacementInfo")),
        order_type=order_type,
    )


# --- cursors -----------------------------------------------------------------------------------


def _sign(state: EmulatorState, body: str) -> str:
    return hmac.new(state.cursor_key, body.encode("utf-8"), hashlib.sha256).hexdigest()[:SIG_LENGTH]


def make_cursor(state: EmulatorState, seller_id: str, query: OrdersQuery, total: int, next_offset: int) -> str:
    pairs = [
        ("limit", str(query.limit)),
        ("hasMoreElements", "true"),
        ("soIndex", str(total)),
        ("poIndex", str(next_offset)),
        ("partnerId", seller_id),
        ("sellerId", seller_id),
        ("createdStartDate", query.params["createdStartDate"]),
        ("createdEndDate", query.params["createdEndDate"]),
    ]
    pairs += [(name, query.params[name]) for name in CARRIED_PARAMS if name in query.params]
    body = "&".join(f"{name}={quote(value, safe=_CURSOR_SAFE)}" for name, value in pairs)
    return f"?{body}&{SIG_PARAM}={_sign(state, body)}"


def is_cursor_request(args: dict[str, str]) -> bool:
    return any(name in args for name in CURSOR_ONLY_PARAMS)


def cursor_query(state: EmulatorState, raw_query: str, seller_id: str) -> OrdersQuery:
    """The query a verbatim cursor describes; QueryError when it was altered or mixed."""
    invalid = QueryError(
        "nextCursor",
        "Invalid cursor: send nextCursor verbatim (GET /v3/orders + nextCursor), with no other parameter",
    )
    match = _SIGNED.fullmatch(raw_query)
    if match is None or not hmac.compare_digest(_sign(state, match["body"]), match["sig"]):
        raise invalid
    try:
        pairs = parse_qsl(match["body"], keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise invalid from None
    values = dict(pairs)
    if len(values) != len(pairs) or values.get("partnerId") != seller_id:
        raise invalid
    try:
        limit, offset = int(values["limit"]), int(values["poIndex"])
        params = {name: values[name] for name in ("createdStartDate", "createdEndDate")}
    except (KeyError, ValueError):
        raise invalid from None
    params |= {name: values[name] for name in CARRIED_PARAMS if name in values}
    return OrdersQuery(params, limit, offset)


# --- serving -----------------------------------------------------------------------------------


def collapsed(state: EmulatorState, records: SellerRecords, purchase_order_id: str) -> bool:
    """Whether this order is served with its one-element lists as objects (``single_object_rate``, per record)."""
    rate = state.faults.single_object_rate
    return rate > 0 and record_fraction(state.seed, records.seller_id, "single-object", purchase_order_id) < rate


def serve_order(state: EmulatorState, records: SellerRecords, body: JsonDict, *, wrap: bool = True) -> JsonDict:
    """Apply the record-level knobs (malformed_record_rate, single_object_rate, wrapped_order_rate) to a
    rendered order."""
    faults = state.faults
    po = str(body.get("purchaseOrderId"))
    if faults.malformed_record_rate > 0:
        draw = record_fraction(state.seed, records.seller_id, "malformed-order", po)
        if draw < faults.malformed_record_rate:
            variant = int(record_fraction(state.seed, records.seller_id, "malformed-kind", po) * 1000)
            body = malform_order(body, variant)
    if collapsed(state, records, po):
        body = collapse_one_element_lists(body)
    wrapped = wrap and faults.wrapped_order_rate > 0
    if wrapped and record_fraction(state.seed, records.seller_id, "wrapped-order", po) < faults.wrapped_order_rate:
        body = {"order": body}
    return body


def _bad_request(ctx: CallContext, error: QueryError) -> Response:
    g.outcome = "bad_request"
    return errors.error_response(
        400,
        errors.api_invalid_param(ORDER_API, error.field, error.description),
        key=ctx.state.faults.error_key,
    )


def _not_found(ctx: CallContext, description: str) -> Response:
    """The order API's own 404: ``{"errors": [{"code": "NOT_FOUND.GMP_ORDER_API", ...}]}`` as the order spec's
    example shows it (components.responses.NotFound); ``order_not_found_code`` switches the code."""
    entry = errors.api_content_not_found(ORDER_API, description)
    entry["code"] = ctx.state.faults.order_not_found_code
    return errors.error_response(404, entry, key="errors")


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


@bp.get("/v3/orders")
@walmart_endpoint("GET /v3/orders")
def get_orders(ctx: CallContext) -> Response:
    state = ctx.state
    args = request.args.to_dict()
    now_ms = state.now_ms()
    try:
        if is_cursor_request(args):
            query = cursor_query(state, request.query_string.decode("latin-1"), ctx.seller.seller_id)
        else:
            query = first_page_query(args, now_ms)
        wanted = order_filter(query.params, now_ms)
    except QueryError as error:
        return _bad_request(ctx, error)
    cap = state.faults.orders_max_results
    product_info = _true(query.params.get("productInfo"))
    replacement_info = _true(query.params.get("replacementInfo"))
    with state.lock:
        records = state.records(ctx.seller.seller_id)
        matches = records.select_orders(wanted)
        total = len(matches)
        reachable = min(total, cap)
        page = matches[query.offset : min(query.offset + query.limit, reachable)]
        bodies = [
            serve_order(
                state,
                records,
                records.render(order, product_info=product_info, replacement_info=replacement_info),
            )
            for order in page
        ]
    if not page:
        return _not_found(ctx, "No orders found for the given search criteria.")
    meta: JsonDict = {"totalCount": total, "limit": query.limit}
    next_offset = query.offset + len(page)
    if next_offset < reachable:
        meta["nextCursor"] = make_cursor(state, ctx.seller.seller_id, query, total, next_offset)
    elements: Any = bodies
    if len(bodies) == 1 and collapsed(state, records, page[0].purchase_order_id):
        elements = bodies[0]  # a page of one, written from XML: the order itself (FACTS.md "Checked behaviours" 4)
    return errors.json_response({"list": {"meta": meta, "elements": {"order": elements}}})


@bp.get("/v3/orders/<purchase_order_id>")
@walmart_endpoint("GET /v3/orders/{purchaseOrderId}")
def get_order(ctx: CallContext, purchase_order_id: str) -> Response:
    state = ctx.state
    now_ms = state.now_ms()
    with state.lock:
        records = state.records(ctx.seller.seller_id)
        order = records.order(purchase_order_id)
        if order is None or order.created_ms < history_start(now_ms, HISTORY_DAYS):
            body = None
        else:
            rendered = records.render(
                order,
                product_info=_true(request.args.get("productInfo")),
                replacement_info=_true(request.args.get("replacementInfo")),
            )
            body = serve_order(state, records, rendered, wrap=False)
    if body is None:
        return _not_found(ctx, f"Order {purchase_order_id} not found.")
    return errors.json_response({"order": body})

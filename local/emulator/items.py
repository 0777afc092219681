"""``GET /v3/items`` and ``GET /v3/items/{sku}`` as Walmart serves them (docs/walmart/FACTS.md, "Items").

Paging is by ``offset`` + ``limit`` (default 20, 1..1000; offset 0..10,000, else 400); the cursor
only identifies the query. The first call sends ``nextCursor=*`` (also the default); the answer's
``nextCursor`` is an opaque token, and every later page sends that SAME token with the next
offset. The last page (and a page after which the next offset would pass 10,000) has no
``nextCursor``. Filters: sku, gtin, upc, lifecycleStatus, publishedStatus, availability (exact
values; others are ignored). A later page may repeat the filters or leave them out; different
ones are a 400. Zero matches: 404 CONTENT_NOT_FOUND.GMP_ITEM_QUERY_API.

Token format: ``AoE`` + base64url(JSON {"p": seller id, "q": filters, "t": issued epoch ms}) +
``.`` + 20 hex chars of HMAC. A token that does not verify, belongs to another seller, or is older
than ``item_cursor_ttl_seconds`` (knob, default 120: "valid for 2 minutes. If the cursor expires, the API
returns a 400 Invalid Cursor error", docs/walmart/specs/marketplace__item-management.openapi.json) answers
400 "Invalid Cursor" (field nextCursor). Offsets stop at 10,000: a larger catalogue is listed whole only by the
ITEM report (reports.py).

Rate limit: two buckets per seller, 300/min for calls without any query parameter and 60/min
for calls with any (``nextCursor=*`` counts).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from flask import Response, g, request

from . import errors
from .datagen import JsonDict, malform_item, record_fraction, rng_for
from .marketplace import CallContext, bp, walmart_endpoint
from .records import SellerRecords
from .state import EmulatorState

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000  # docs/walmart/specs/marketplace__item-management.openapi.json, getAllItems `limit`
MAX_OFFSET = 10_000
FIRST_CURSOR = "*"
CURSOR_PREFIX = "AoE"
FILTER_PARAMS = ("sku", "gtin", "upc", "lifecycleStatus", "publishedStatus", "availability")
BUCKET_PLAIN = "GET /v3/items"
BUCKET_WITH_QUERY = "GET /v3/items?query"

ITEM_API = errors.ITEM_API


class ItemQueryError(ValueError):
    def __init__(self, field: str, description: str) -> None:
        super().__init__(description)
        self.field = field
        self.description = description


def items_bucket() -> str:
    """300/min without query parameters, 60/min with any (docs/walmart/FACTS.md, "Rate limits"): two buckets."""
    return BUCKET_WITH_QUERY if request.args else BUCKET_PLAIN


def _int_param(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ItemQueryError(name, f"{name} must be a number") from None
    if not low <= value <= high:
        raise ItemQueryError(name, f"{name} must be between {low} and {high}")
    return value


# --- cursors -----------------------------------------------------------------------------------


def _sign(state: EmulatorState, payload: str) -> str:
    return hmac.new(state.cursor_key, f"items:{payload}".encode(), hashlib.sha256).hexdigest()[:20]


def make_cursor(state: EmulatorState, seller_id: str, filters: dict[str, str], issued_ms: int) -> str:
    raw = json.dumps({"p": seller_id, "q": filters, "t": issued_ms}, separators=(",", ":"), sort_keys=True)
    payload = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    return f"{CURSOR_PREFIX}{payload}.{_sign(state, payload)}"


def read_cursor(state: EmulatorState, cursor: str, seller_id: str, now_ms: int) -> dict[str, str]:
    """The filters a token stands for; ItemQueryError when it is invalid or expired."""
    invalid = ItemQueryError("nextCursor", "Invalid Cursor")
    if not cursor.startswith(CURSOR_PREFIX) or "." not in cursor:
        raise invalid
    payload, _, sig = cursor[len(CURSOR_PREFIX) :].rpartition(".")
    if not hmac.compare_digest(_sign(state, payload), sig):
        raise invalid
    try:
        data: Any = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError):
        raise invalid from None
    if not isinstance(data, dict) or data.get("p") != seller_id or not isinstance(data.get("q"), dict):
        raise invalid
    ttl = state.faults.item_cursor_ttl_seconds
    if ttl is not None and now_ms - int(data.get("t", 0)) > ttl * 1000:
        raise invalid
    return {str(k): str(v) for k, v in data["q"].items()}


# --- serving -----------------------------------------------------------------------------------


def serve_item(state: EmulatorState, records: SellerRecords, item: JsonDict) -> JsonDict:
    """A copy of the item, broken for a ``malformed_record_rate`` share of skus (always the same)."""
    rate = state.faults.malformed_record_rate
    sku = str(item.get("sku"))
    if rate > 0 and record_fraction(state.seed, records.seller_id, "malformed-item", sku) < rate:
        variant = int(record_fraction(state.seed, records.seller_id, "malformed-kind", sku) * 1000)
        return malform_item(item, variant)
    return dict(item)


def with_duplicates(
    state: EmulatorState, records: SellerRecords, matches: list[JsonDict], offset: int, page: list[JsonDict]
) -> list[JsonDict]:
    """``duplicate_item_rate``: mix repeats of earlier pages' items into the page (none left out)."""
    rate = state.faults.duplicate_item_rate
    count = min(offset, round(rate * len(page)))
    if count <= 0:
        return page
    rng = rng_for(state.seed, "duplicate-items", records.seller_id, offset, len(page))
    result = list(page)
    for index in rng.sample(range(offset), count):
        result.insert(rng.randrange(len(result) + 1), matches[index])
    return result


def _bad_request(ctx: CallContext, error: ItemQueryError) -> Response:
    g.outcome = "bad_request"
    return errors.error_response(
        400, errors.api_invalid_param(ITEM_API, error.field, error.description), key=ctx.state.faults.error_key
    )


def _not_found(ctx: CallContext) -> Response:
    return errors.error_response(
        404,
        errors.api_content_not_found(ITEM_API, "No Items found for the input parameters."),
        key=ctx.state.faults.error_key,
    )


@bp.get("/v3/items")
@walmart_endpoint("GET /v3/items", rate_bucket=items_bucket)
def get_items(ctx: CallContext) -> Response:
    state = ctx.state
    seller_id = ctx.seller.seller_id
    now_ms = state.now_ms()
    filters = {name: request.args[name] for name in FILTER_PARAMS if request.args.get(name)}
    try:
        limit = _int_param("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        offset = _int_param("offset", 0, 0, state.faults.items_max_offset)
        cursor = request.args.get("nextCursor") or FIRST_CURSOR
        if cursor == FIRST_CURSOR:
            cursor = make_cursor(state, seller_id, filters, now_ms)
        else:
            pinned = read_cursor(state, cursor, seller_id, now_ms)
            if filters and filters != pinned:
                raise ItemQueryError("nextCursor", "Invalid Cursor: it belongs to another query")
            filters = pinned
    except ItemQueryError as error:
        return _bad_request(ctx, error)
    with state.lock:
        records = state.records(seller_id)
        matches = records.select_items(filters)
        page = matches[offset : offset + limit]
        page = with_duplicates(state, records, matches, offset, page)
        served = [serve_item(state, records, item) for item in page]
    if not matches:
        return _not_found(ctx)
    body: JsonDict = {"ItemResponse": served, "totalItems": len(matches)}
    next_offset = offset + limit
    if next_offset < len(matches) and next_offset <= state.faults.items_max_offset:
        body["nextCursor"] = cursor
    return errors.json_response(body)


_ID_FIELDS = {"SKU": "sku", "GTIN": "gtin", "UPC": "upc", "ITEM_ID": "wpid"}


@bp.get("/v3/items/<sku>")
@walmart_endpoint("GET /v3/items/{sku}")
def get_item(ctx: CallContext, sku: str) -> Response:
    """One item by sku (or ``productIdType`` GTIN / UPC / ITEM_ID): ``{"ItemResponse": [item], "totalItems": 1}``."""
    state = ctx.state
    id_type = (request.args.get("productIdType") or "SKU").upper()
    field = _ID_FIELDS.get(id_type)
    if field is None:
        error = ItemQueryError("productIdType", f"productIdType must be one of {', '.join(_ID_FIELDS)}")
        return _bad_request(ctx, error)
    with state.lock:
        records = state.records(ctx.seller.seller_id)
        found = records.select_items({field: sku})
        served = [serve_item(state, records, item) for item in found[:1]]
    if not served:
        return _not_found(ctx)
    return errors.json_response({"ItemResponse": served, "totalItems": 1})

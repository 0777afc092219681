"""Synced Marketplace records (products, orders) and how Walmart's payloads become them.

The records are what the data table stores (``store/synced``), attribute for attribute; ``content_hash`` of a
record's content decides whether a sync writes it again. Parsing is strict about what matters (keys, quantities,
money) and lenient elsewhere: a record that cannot be read raises ``MalformedRecord`` so the caller skips and reports
it without failing its page. Money stays ``Decimal`` end to end (Walmart's JSON numbers are parsed as decimals by the
client).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from walmart_integration.models.catalog import UnitCost
from walmart_integration.models.common import StrictModel
from walmart_integration.walmart.shapes import as_list

LINE_STATUS_ORDER = ("Created", "Acknowledged", "Shipped", "Delivered")


class MalformedRecord(ValueError):
    """A record Walmart sent that cannot be stored; ``key`` identifies it when known."""

    def __init__(self, reason: str, key: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.key = key


def content_hash(record: dict[str, Any]) -> str:
    """A stable digest of a record's content: an unchanged record is not written again."""
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _absent(value: Any) -> bool:
    return value is None


# -- the stored records ------------------------------------------------------------------------------------------
class _Stored(BaseModel):
    """Part of a stored record. Frozen: a record is a value. Walmart's identifiers and names are text even where a
    payload sends a number. What earlier versions stored reads back (fields they lacked take their defaults)."""

    model_config = ConfigDict(frozen=True, extra="ignore", coerce_numbers_to_str=True)


class SyncedRecord(_Stored):
    """A record synced from Walmart, as the data table holds it (one item per record, lines embedded)."""

    updated_at: str | None = Field(
        default=None, exclude_if=_absent, description="When our copy last changed: the store sets it, not content"
    )

    @property
    def key(self) -> str:
        """What identifies the record within an instance (the item's sort key is made of it)."""
        raise NotImplementedError

    def content(self) -> dict[str, Any]:
        """The record as stored, without the store's bookkeeping (``updated_at``)."""
        return self.model_dump(exclude={"updated_at"})

    def content_hash(self) -> str:
        return content_hash(self.content())


class ProductRecord(SyncedRecord):
    """A listing of the seller on Walmart (an item), by sku; linked to the tenant's internal product of that sku."""

    sku: str
    wpid: str | None = None
    gtin: str | None = None
    upc: str | None = None
    name: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    published_status: str | None = None
    lifecycle_status: str | None = None
    unpublished_reasons: list[str] = Field(default_factory=list)
    internal_product_id: int | None = Field(default=None, exclude_if=_absent)  # stored only when linked

    @property
    def key(self) -> str:
        return self.sku

    def linked_to(self, internal_product_id: int) -> ProductRecord:
        return self.model_copy(update={"internal_product_id": internal_product_id})


class TrackingRecord(_Stored):
    carrier: str | None = None
    method: str | None = None
    number: str | None = None
    url: str | None = None
    shipped_at: str | None = None


class LineStatusRecord(_Stored):
    """The units of a line in one status (one unit Shipped and one Cancelled are two of these)."""

    status: str | None = None
    quantity: int
    cancellation_reason: str | None = Field(default=None, exclude_if=_absent)  # stored only when Walmart gives one
    tracking: TrackingRecord | None = Field(default=None, exclude_if=_absent)  # stored only when Walmart gives one


class OrderChargeRecord(_Stored):
    """A charge of a line (``PRODUCT``, ``SHIPPING``) with its tax; amounts for the whole line."""

    type: str | None = None
    name: str | None = None
    amount: Decimal
    currency: str | None = None
    tax_name: str | None = None
    tax: Decimal


class RefundChargeRecord(_Stored):
    """What Walmart refunded of a line's charge (negative amounts, as Walmart gives them)."""

    type: str | None = None
    amount: Decimal
    tax: Decimal
    reason: str | None = None


class OrderLineRecord(_Stored):
    line_number: str
    sku: str
    product_name: str | None = None
    quantity: int
    unit: str | None = None
    charges: list[OrderChargeRecord]
    status: str | None = None  # the status of the line's units together (``line_status``)
    statuses: list[LineStatusRecord] = Field(default_factory=list)
    status_date: str | None = None
    tracking: TrackingRecord | None = None  # the first tracking of its statuses
    refund_charges: list[RefundChargeRecord] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _statuses_of_older_records(cls, data: Any) -> Any:
        """Orders stored before statuses were kept per quantity held one status for the whole line."""
        if isinstance(data, dict) and "statuses" not in data and data.get("status"):
            return {**data, "statuses": [{"status": data["status"], "quantity": data.get("quantity") or 0}]}
        return data


class OrderRecord(SyncedRecord):
    """A purchase order with its lines, by purchaseOrderId."""

    purchase_order_id: str
    customer_order_id: str | None = None
    order_date: str
    # Present with replacementInfo=true (components.schemas.ElementsType, orderType / originalCustomerOrderID)
    order_type: str | None = None
    original_customer_order_id: str | None = None
    ship_node_id: str | None = None
    ship_node_type: str | None = None
    ship_method: str | None = None
    estimated_ship_date: str | None = None
    estimated_delivery_date: str | None = None
    status: str  # ``order_status`` of its lines
    line_statuses: list[str] = Field(default_factory=list)  # every status of a line or unit (the status filter)
    status_updated_at: str | None = None
    lines: list[OrderLineRecord]

    @property
    def key(self) -> str:
        return self.purchase_order_id


# -- Walmart's payloads -> records -------------------------------------------------------------------------------
def _unreadable(error: ValidationError) -> str:
    first = error.errors()[0]
    return f"unreadable {'.'.join(str(part) for part in first['loc'])}: {first['msg']}"


def _epoch_ms_iso(value: Any) -> str | None:
    if value is None or value == "":
        return None
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError, OverflowError):
        if isinstance(value, str) and "T" in value:
            return value
        raise MalformedRecord(f"unreadable timestamp {value!r}") from None


def _money(value: Any, what: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError):
        raise MalformedRecord(f"{what} is not a number: {value!r}") from None
    if not amount.is_finite():
        raise MalformedRecord(f"{what} is not a finite number")
    return amount


def _unwrap(order: Any) -> Any:
    """Walmart's own example wraps one order in an extra {"order": {...}}: accept both."""
    if isinstance(order, dict) and "purchaseOrderId" not in order and isinstance(order.get("order"), dict):
        return order["order"]
    return order


def _product(sku: str, **fields: Any) -> ProductRecord:
    try:
        return ProductRecord(sku=sku, **fields)
    except ValidationError as error:
        raise MalformedRecord(_unreadable(error), sku) from None


def product_from_item(item: Any) -> ProductRecord:
    """Our product record from a Walmart ``ItemResponse`` entry."""
    if not isinstance(item, dict) or not item.get("sku"):
        raise MalformedRecord("item without a sku", None)
    price = item.get("price") or {}
    reasons = item.get("unpublishedReasons") or {}
    return _product(
        str(item["sku"]),
        wpid=item.get("wpid"),
        gtin=item.get("gtin"),
        upc=item.get("upc"),
        name=item.get("productName"),
        price=_money(price.get("amount"), "price") if price.get("amount") is not None else None,
        currency=price.get("currency"),
        published_status=item.get("publishedStatus"),
        lifecycle_status=item.get("lifecycleStatus"),
        unpublished_reasons=[str(r) for r in as_list(reasons.get("reason"))] if isinstance(reasons, dict) else [],
    )


def _column(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


# Walmart's ITEM report (CSV, read by column name; Walmart's docs name the columns differently across versions and
# pages: "Publish Status" / "PublishedStatus", "Product Name" / "ProductName"). Page "Request an item report" of
# developer.walmart.com (US Marketplace), cited in docs/walmart/FACTS.md, "Checked behaviours" 2.
_REPORT_COLUMNS = {
    "sku": ("sku",),
    "wpid": ("wpid", "walmartproductid"),
    "gtin": ("gtin",),
    "upc": ("upc",),
    "name": ("productname", "itemname"),
    "price": ("price", "itemprice"),
    "currency": ("currency",),
    "published_status": ("publishstatus", "publishedstatus"),
    "lifecycle_status": ("lifecyclestatus",),
    "reason": ("statuschangereason", "unpublishedreasons", "unpublishedreason"),
}


def product_from_report_row(row: dict[str, Any]) -> ProductRecord:
    """Our product record from a row of Walmart's ITEM report, the same fields ``product_from_item`` gives."""
    values = {_column(str(key)): (value.strip() if isinstance(value, str) else value) for key, value in row.items()}

    def value(field: str) -> Any:
        for column in _REPORT_COLUMNS[field]:
            if values.get(column) not in (None, ""):
                return values[column]
        return None

    sku = value("sku")
    if not sku:
        raise MalformedRecord("item report row without a sku", None)
    price = value("price")
    published = value("published_status")
    reason = value("reason")
    return _product(
        str(sku),
        wpid=value("wpid"),
        gtin=value("gtin"),
        upc=value("upc"),
        name=value("name"),
        price=_money(price, "price") if price is not None else None,
        currency=value("currency"),
        published_status=published,
        lifecycle_status=value("lifecycle_status"),
        unpublished_reasons=[str(reason)] if reason and published != "PUBLISHED" else [],
    )


def _quantity(raw: Any, what: str, po: str) -> int:
    try:
        return int(Decimal(str(raw)))
    except (InvalidOperation, TypeError, ValueError):
        raise MalformedRecord(f"{what} {raw!r} is not a number", po) from None


def _tracking(status: dict[str, Any]) -> TrackingRecord | None:
    tracking = status.get("trackingInfo") or {}
    if not isinstance(tracking, dict) or not tracking:
        return None
    carrier = tracking.get("carrierName") or {}
    carrier = carrier if isinstance(carrier, dict) else {"carrier": carrier}
    return TrackingRecord(
        carrier=carrier.get("carrier") or carrier.get("otherCarrier"),
        method=tracking.get("methodCode"),
        number=tracking.get("trackingNumber"),
        url=tracking.get("trackingURL"),
        shipped_at=_epoch_ms_iso(tracking.get("shipDateTime")),
    )


def _statuses(line: dict[str, Any], quantity: int, po: str) -> list[LineStatusRecord]:
    """Every status of a line with its ``statusQuantity``: one unit Shipped and one Cancelled is two entries
    (docs/walmart/specs/marketplace__order-management.openapi.json, components.schemas.OrderLineStatusType)."""
    raw = as_list((line.get("orderLineStatuses") or {}).get("orderLineStatus"))
    entries = [entry for entry in raw if isinstance(entry, dict)]
    statuses = []
    for entry in entries:
        amount = (entry.get("statusQuantity") or {}).get("amount")
        if amount is None and len(entries) == 1:
            amount = quantity  # one status without its quantity holds the whole line
        statuses.append(
            LineStatusRecord(
                status=entry.get("status"),
                quantity=_quantity(amount, f"line {line.get('lineNumber')}: status quantity", po),
                cancellation_reason=entry.get("cancellationReason") or None,
                tracking=_tracking(entry),
            )
        )
    return statuses


def _refund_charges(line: dict[str, Any], po: str) -> list[RefundChargeRecord]:
    refund = line.get("refund") or {}
    if not isinstance(refund, dict):
        return []
    charges = []
    for entry in as_list((refund.get("refundCharges") or {}).get("refundCharge")):
        charge = (entry or {}).get("charge") if isinstance(entry, dict) else None
        if not isinstance(charge, dict):
            raise MalformedRecord(f"line {line.get('lineNumber')}: refund charge without a charge", po)
        tax = ((charge.get("tax") or {}).get("taxAmount") or {}).get("amount")
        charges.append(
            RefundChargeRecord(
                type=charge.get("chargeType"),
                amount=_money((charge.get("chargeAmount") or {}).get("amount"), "refund amount"),
                tax=_money(tax, "refund tax") if tax is not None else Decimal("0"),
                reason=entry.get("refundReason"),
            )
        )
    return charges


def _line(line: Any, po: str) -> OrderLineRecord:
    if not isinstance(line, dict):
        raise MalformedRecord("order line is not an object", po)
    item = line.get("item") or {}
    sku = item.get("sku")
    if not sku:
        raise MalformedRecord("order line without a sku", po)
    quantity_raw = (line.get("orderLineQuantity") or {}).get("amount")
    quantity = _quantity(quantity_raw, f"line {line.get('lineNumber')}: quantity", po)
    charges = []
    for charge in as_list((line.get("charges") or {}).get("charge")):
        amount = (charge.get("chargeAmount") or {}) if isinstance(charge, dict) else {}
        if not amount:
            raise MalformedRecord(f"line {line.get('lineNumber')}: charge without an amount", po)
        tax = (charge.get("tax") or {}).get("taxAmount") or {}
        charges.append(
            OrderChargeRecord(
                type=charge.get("chargeType"),
                name=charge.get("chargeName"),
                amount=_money(amount.get("amount"), "charge amount"),
                currency=amount.get("currency"),
                tax_name=(charge.get("tax") or {}).get("taxName"),
                tax=_money(tax["amount"], "tax amount") if tax.get("amount") is not None else Decimal("0"),
            )
        )
    statuses = _statuses(line, quantity, po)
    return OrderLineRecord(
        line_number=str(line.get("lineNumber")),
        sku=str(sku),
        product_name=item.get("productName"),
        quantity=quantity,
        unit=(line.get("orderLineQuantity") or {}).get("unitOfMeasurement"),
        charges=charges,
        status=line_status(statuses),
        statuses=statuses,
        status_date=_epoch_ms_iso(line.get("statusDate")),
        tracking=next((s.tracking for s in statuses if s.tracking), None),
        refund_charges=_refund_charges(line, po),
    )


def line_status(statuses: list[LineStatusRecord]) -> str | None:
    """A line's status from its units' statuses: the one status they share, else as ``order_status`` rules."""
    names = [s.status for s in statuses if s.status and s.quantity > 0]
    names = names or [s.status for s in statuses if s.status]
    if not names:
        return None
    if len(set(names)) == 1:
        return str(names[0])
    return order_status(names)


def order_status(line_statuses: Iterable[str | None]) -> str:
    """The order's status from its lines': Cancelled only if every line is; else the least advanced."""
    statuses = [status or "Created" for status in line_statuses]
    active = [s for s in statuses if s != "Cancelled"]
    if not active:
        return "Cancelled"
    if "Refund" in active:
        return "Refund"
    known = [s for s in active if s in LINE_STATUS_ORDER]
    return min(known, key=LINE_STATUS_ORDER.index) if known else active[0]


def order_from_walmart(raw: Any) -> OrderRecord:
    """Our order record (lines embedded, one item per order) from a Walmart order."""
    order = _unwrap(raw)
    if not isinstance(order, dict) or not order.get("purchaseOrderId"):
        raise MalformedRecord("order without a purchaseOrderId", None)
    po = str(order["purchaseOrderId"])
    try:
        return _order(order, po)
    except ValidationError as error:
        raise MalformedRecord(_unreadable(error), po) from None


def _order(order: dict[str, Any], po: str) -> OrderRecord:
    order_lines = order.get("orderLines")
    raw_lines = as_list(order_lines.get("orderLine")) if isinstance(order_lines, dict) else []
    if not raw_lines:
        raise MalformedRecord("order without order lines", po)
    lines = [_line(line, po) for line in raw_lines]
    order_date = _epoch_ms_iso(order.get("orderDate"))
    if order_date is None:
        raise MalformedRecord("order without an orderDate", po)
    ship_node = order.get("shipNode") or {}
    shipping = order.get("shippingInfo") or {}
    status_dates = [line.status_date for line in lines if line.status_date]
    unit_statuses = {s.status or "Created" for line in lines for s in line.statuses}
    return OrderRecord(
        purchase_order_id=po,
        customer_order_id=order.get("customerOrderId"),
        order_date=order_date,
        order_type=order.get("orderType"),
        original_customer_order_id=order.get("originalCustomerOrderID"),
        ship_node_id=ship_node.get("id"),
        ship_node_type=ship_node.get("type"),
        ship_method=shipping.get("methodCode"),
        estimated_ship_date=_epoch_ms_iso(shipping.get("estimatedShipDate")),
        estimated_delivery_date=_epoch_ms_iso(shipping.get("estimatedDeliveryDate")),
        status=order_status(line.status for line in lines),
        line_statuses=sorted(unit_statuses | {line.status or "Created" for line in lines}),
        status_updated_at=max(status_dates) if status_dates else order_date,
        lines=lines,
    )


# -- API views ---------------------------------------------------------------------------------------
SyncStreamName = Literal["locations", "products", "orders", "backfill", "settlements", "returns"]
DEFAULT_STREAMS: tuple[SyncStreamName, ...] = ("locations", "products", "orders", "settlements", "returns")


class Address(BaseModel):
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


class LocationView(BaseModel):
    id: str
    name: str | None = None
    type: str | None = None
    status: str | None = None
    time_zone: str | None = None
    address: Address | None = None
    removed_at: str | None = None
    synced_at: str | None = None


class ProductView(BaseModel):
    sku: str
    wpid: str | None = None
    gtin: str | None = None
    upc: str | None = None
    name: str | None = None
    price: Decimal | None = Field(default=None, description="Exact decimal, serialised as a string")
    currency: str | None = None
    published_status: str | None = None
    lifecycle_status: str | None = None
    unpublished_reasons: list[str] = Field(default_factory=list)
    internal_product_id: int | None = None
    updated_at: str | None = None


class ChargeView(BaseModel):
    type: str | None = None
    name: str | None = None
    amount: Decimal
    currency: str | None = None
    tax_name: str | None = None
    tax: Decimal


class TrackingView(BaseModel):
    carrier: str | None = None
    method: str | None = None
    number: str | None = None
    url: str | None = None
    shipped_at: str | None = None


class LineStatusView(BaseModel):
    status: str | None = None
    quantity: int = Field(description="Units of the line in this status")
    cancellation_reason: str | None = None
    tracking: TrackingView | None = None


class OrderLineView(BaseModel):
    line_number: str
    sku: str
    product_name: str | None = None
    quantity: int
    unit: str | None = None
    charges: list[ChargeView]
    status: str | None = Field(default=None, description="The line's status; ``statuses`` holds each with its units")
    statuses: list[LineStatusView] = Field(
        default_factory=list, description="Every status of the line with its quantity (e.g. 1 Shipped, 1 Cancelled)"
    )
    status_date: str | None = None
    tracking: TrackingView | None = None


class OrderView(BaseModel):
    purchase_order_id: str
    customer_order_id: str | None = None
    order_date: str
    order_type: str | None = Field(default=None, description="REGULAR, REPLACEMENT or PREORDER")
    original_customer_order_id: str | None = Field(default=None, description="The order a replacement replaces")
    ship_node_id: str | None = None
    ship_node_type: str | None = None
    ship_method: str | None = None
    status: str
    lines: list[OrderLineView]
    updated_at: str | None = None


class SyncRequest(StrictModel):
    streams: list[SyncStreamName] = Field(
        default_factory=lambda: list(DEFAULT_STREAMS), min_length=1, description="What to sync"
    )


class SyncStarted(BaseModel):
    run_id: str
    streams: list[str]


class InternalProductCreate(StrictModel):
    sku: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=255)
    cost: UnitCost = None


class InternalProduct(BaseModel):
    id: int
    sku: str
    name: str
    cost: Decimal | None = None
    created_at: str | None = None

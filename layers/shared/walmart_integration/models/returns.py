"""Walmart return orders (``GET /v3/returns``), as stored, and how Walmart's payload becomes them.

Source: docs/walmart/specs/marketplace__returns.openapi.yml, operation getReturns, 200 schema and example. A return
order (``returnOrderId``, the RMA number) has lines (``returnOrderLines[]``), each naming the sales order it returns
(``purchaseOrderId``, ``purchaseOrderLineNumber``), its quantity (``quantity.measurementValue``), its charges
(``charges[]``: ``chargeCategory``, ``chargeName``, ``chargePerUnit``, ``tax[].taxPerUnit``, ``isDiscount``,
``isBillable``) and Walmart's computed line totals (``chargeTotals[]``: ``lineUnitPrice``, ``lineProductTaxes``,
``lineTotalTaxes``, ``lineRestockingFee``, ``lineShippingFee``, ``lineSubTotal``, ``lineTotal``), its status
(``status`` INITIATED | DELIVERED | COMPLETED, the ``status`` query parameter's values), refund status and channel.
Money is ``Decimal`` (the client parses JSON numbers as decimals).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from walmart_integration.models.marketplace import MalformedRecord
from walmart_integration.walmart.shapes import as_list

# ``currentDeliveryStatus`` of a return whose goods reached the seller. The spec names no values besides its example's
# NOT_SHIPPED (docs/walmart/specs/marketplace__returns.openapi.yml, returnOrderLines[].currentDeliveryStatus):
# DELIVERED is the status the ``status`` parameter lists for a return that arrived (INITIATED, DELIVERED, COMPLETED).
DELIVERED = "DELIVERED"


class ReturnCharge(BaseModel):
    """One charge of a return line, per unit as Walmart gives it, and for the line's returned quantity."""

    model_config = ConfigDict(extra="ignore")

    category: str | None = None  # chargeCategory: PRODUCT, FEE, ...
    name: str | None = None  # chargeName: ItemPrice, Shipping, ...
    amount_per_unit: Decimal = Decimal("0")
    tax_per_unit: Decimal = Decimal("0")
    amount: Decimal = Decimal("0")  # per unit x quantity (negative for a discount)
    tax: Decimal = Decimal("0")
    is_discount: bool = False
    is_billable: bool = True


class ReturnLine(BaseModel):
    model_config = ConfigDict(extra="ignore")

    return_order_line_number: int
    purchase_order_id: str | None = None
    purchase_order_line_number: int | None = None
    sales_order_line_number: int | None = None
    sku: str | None = None
    product_name: str | None = None
    quantity: Decimal = Decimal("0")
    refunded_quantity: Decimal | None = None
    return_reason: str | None = None
    status: str | None = None
    status_time: str | None = None
    refund_status: str | None = None  # currentRefundStatus: REFUND_INITIATED, REFUND_COMPLETED, ...
    delivery_status: str | None = None  # currentDeliveryStatus: NOT_SHIPPED, ...
    refund_channel: str | None = None  # WALMART_SETTLED_REFUND, SELLER_AUTO_REFUND, ...
    goods_expected_back: bool | None = None  # returnExpectedFlag and not isKeepIt
    returned_to_stock: bool | None = Field(
        default=None,
        description="True once the goods came back (delivered to the return centre), False when the customer keeps "
        "them, None while Walmart has not said",
    )
    charges: list[ReturnCharge] = Field(default_factory=list)
    refund_by_charge_type: dict[str, Decimal] = Field(
        default_factory=dict, description="refund per charge name (tax under '<name> tax'), for the returned quantity"
    )
    totals: dict[str, Decimal] = Field(default_factory=dict, description="Walmart's chargeTotals by name")
    currency: str | None = None


class ReturnOrder(BaseModel):
    model_config = ConfigDict(extra="ignore")

    return_order_id: str
    customer_order_id: str | None = None
    return_order_date: str | None = None
    return_by_date: str | None = None
    return_type: str | None = None  # REFUND | REPLACEMENT
    refund_mode: str | None = None
    status: str | None = None  # the lines' status when they agree, else the least advanced one
    total_refund: Decimal | None = None
    currency: str | None = None
    purchase_order_ids: list[str] = Field(default_factory=list)
    lines: list[ReturnLine] = Field(default_factory=list)


_STATUS_ORDER = ("INITIATED", "DELIVERED", "COMPLETED")


def _money(node: Any) -> tuple[Decimal | None, str | None]:
    if not isinstance(node, dict):
        return None, None
    raw = node.get("currencyAmount", node.get("amount"))
    try:
        amount = Decimal(str(raw)) if raw is not None else None
    except InvalidOperation:
        raise MalformedRecord(f"money is not a number: {raw!r}") from None
    unit = node.get("currencyUnit", node.get("currency"))
    return amount, (str(unit) if unit else None)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _line(raw: dict[str, Any], key: str) -> ReturnLine:
    quantity, _ = _money({"currencyAmount": (raw.get("quantity") or {}).get("measurementValue")})
    if quantity is None:
        raise MalformedRecord("a return line without quantity", key)
    charges = []
    by_type: dict[str, Decimal] = {}
    currency = None
    for charge in as_list(raw.get("charges")):
        if not isinstance(charge, dict):
            continue
        per_unit, unit = _money(charge.get("chargePerUnit"))
        currency = currency or unit
        tax_per_unit = Decimal("0")
        for tax in as_list(charge.get("tax")):
            amount, _ = _money((tax or {}).get("taxPerUnit"))
            tax_per_unit += amount or Decimal("0")
        is_discount = bool(_flag(charge.get("isDiscount")))
        sign = Decimal("-1") if is_discount else Decimal("1")
        amount = sign * (per_unit or Decimal("0")) * quantity
        tax = sign * tax_per_unit * quantity
        name = str(charge.get("chargeName") or charge.get("chargeCategory") or "unknown")
        billable = _flag(charge.get("isBillable"))
        charges.append(
            ReturnCharge(
                category=charge.get("chargeCategory"),
                name=charge.get("chargeName"),
                amount_per_unit=per_unit or Decimal("0"),
                tax_per_unit=tax_per_unit,
                amount=amount,
                tax=tax,
                is_discount=is_discount,
                is_billable=True if billable is None else billable,
            )
        )
        if billable is not False:
            by_type[name] = by_type.get(name, Decimal("0")) + amount
            if tax:
                by_type[f"{name} tax"] = by_type.get(f"{name} tax", Decimal("0")) + tax
    totals: dict[str, Decimal] = {}
    for total in as_list(raw.get("chargeTotals")):
        if isinstance(total, dict) and total.get("name"):
            amount, unit = _money(total.get("value"))
            currency = currency or unit
            if amount is not None:
                totals[str(total["name"])] = amount
    expected = _flag(raw.get("returnExpectedFlag"))
    keep_it = _flag(raw.get("isKeepIt"))
    goods_expected_back = None if expected is None and keep_it is None else bool(expected) and not keep_it
    delivery = raw.get("currentDeliveryStatus")
    returned_to_stock: bool | None = None
    if goods_expected_back is False:
        returned_to_stock = False
    elif str(delivery or "").upper() == DELIVERED:
        returned_to_stock = True
    refunded, _ = _money({"currencyAmount": raw.get("refundedQty")})
    number = _int(raw.get("returnOrderLineNumber"))
    if number is None:
        raise MalformedRecord("a return line without returnOrderLineNumber", key)
    item: dict[str, Any] = raw["item"] if isinstance(raw.get("item"), dict) else {}
    return ReturnLine(
        return_order_line_number=number,
        purchase_order_id=str(raw["purchaseOrderId"]) if raw.get("purchaseOrderId") else None,
        purchase_order_line_number=_int(raw.get("purchaseOrderLineNumber")),
        sales_order_line_number=_int(raw.get("salesOrderLineNumber")),
        sku=item.get("sku"),
        product_name=item.get("productName"),
        quantity=quantity,
        refunded_quantity=refunded,
        return_reason=raw.get("returnReason"),
        status=raw.get("status"),
        status_time=raw.get("statusTime"),
        refund_status=raw.get("currentRefundStatus"),
        delivery_status=delivery,
        refund_channel=raw.get("refundChannel"),
        goods_expected_back=goods_expected_back,
        returned_to_stock=returned_to_stock,
        charges=charges,
        refund_by_charge_type=by_type,
        totals=totals,
        currency=currency,
    )


def return_from_walmart(raw: Any) -> ReturnOrder:
    """A ``returnOrders[]`` element as a ``ReturnOrder``; ``MalformedRecord`` when it has no id or an unreadable line
    (the caller skips and reports it, never failing the page)."""
    if not isinstance(raw, dict) or not raw.get("returnOrderId"):
        raise MalformedRecord("a return order without returnOrderId")
    key = str(raw["returnOrderId"])
    lines = [_line(line, key) for line in as_list(raw.get("returnOrderLines")) if isinstance(line, dict)]
    total, currency = _money(raw.get("totalRefundAmount"))
    statuses = [line.status.upper() for line in lines if line.status]
    known = [s for s in statuses if s in _STATUS_ORDER]
    status = None
    if statuses and len(set(statuses)) == 1:
        status = statuses[0]
    elif known:
        status = min(known, key=_STATUS_ORDER.index)
    return ReturnOrder(
        return_order_id=key,
        customer_order_id=str(raw["customerOrderId"]) if raw.get("customerOrderId") else None,
        return_order_date=raw.get("returnOrderDate"),
        return_by_date=raw.get("returnByDate"),
        return_type=raw.get("returnType"),
        refund_mode=raw.get("refundMode"),
        status=status,
        total_refund=total,
        currency=currency or next((line.currency for line in lines if line.currency), None),
        purchase_order_ids=sorted({line.purchase_order_id for line in lines if line.purchase_order_id}),
        lines=lines,
    )

"""What an order should have posted to accounting, as amounts per line: the rules in one place, no I/O.

A line's *target* is what its invoice and credit should total today (product, shipping, tax, cost of goods). What was
already posted is kept per order; the difference is what a new document posts. So a re-evaluation posts nothing, and a
late change posts only its correction: an issued document never changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0")
INVOICED_STATUSES = {"Shipped", "Delivered", "Refund"}
AMOUNTS = ("product", "shipping", "tax", "cogs")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else ZERO


@dataclass(frozen=True)
class LineAmounts:
    product: Decimal = ZERO
    shipping: Decimal = ZERO
    tax: Decimal = ZERO
    cogs: Decimal = ZERO

    @classmethod
    def of(cls, data: Mapping[str, Any] | None) -> LineAmounts:
        data = data or {}
        return cls(*(money(data.get(name)) for name in AMOUNTS))

    def plus(self, other: LineAmounts) -> LineAmounts:
        return LineAmounts(*(getattr(self, n) + getattr(other, n) for n in AMOUNTS))

    def minus(self, other: LineAmounts) -> LineAmounts:
        return LineAmounts(*(getattr(self, n) - getattr(other, n) for n in AMOUNTS))

    def as_dict(self) -> dict[str, str]:
        return {name: str(getattr(self, name)) for name in AMOUNTS}

    @property
    def is_zero(self) -> bool:
        return all(getattr(self, name) == 0 for name in AMOUNTS)

    @property
    def gross(self) -> Decimal:
        return self.product + self.shipping + self.tax


@dataclass(frozen=True)
class LineTarget:
    line_number: str
    sku: str
    quantity: int
    status: str
    status_date: str | None
    invoice: LineAmounts
    credit: LineAmounts
    credit_reason: str | None  # refund | cancellation
    cost_missing: bool = False


def _charges(charges: list[dict[str, Any]]) -> tuple[Decimal, Decimal, Decimal]:
    product = sum((money(c.get("amount")) for c in charges if c.get("type") == "PRODUCT"), ZERO)
    shipping = sum((money(c.get("amount")) for c in charges if c.get("type") == "SHIPPING"), ZERO)
    tax = sum((money(c.get("tax")) for c in charges), ZERO)
    return product, shipping, tax


def _refund(line: Mapping[str, Any]) -> tuple[Decimal, Decimal, Decimal] | None:
    """Walmart's refund amounts of a line (absolute values), or None when it gives none."""
    refund = line.get("refund") or {}
    entries = ((refund.get("refundCharges") or {}) if isinstance(refund, dict) else {}).get("refundCharge") or []
    if not isinstance(entries, list) or not entries:
        return None
    product = shipping = tax = ZERO
    for entry in entries:
        charge = (entry or {}).get("charge") or {}
        amount = abs(money((charge.get("chargeAmount") or {}).get("amount")))
        tax += abs(money(((charge.get("tax") or {}).get("taxAmount") or {}).get("amount")))
        if charge.get("chargeType") == "SHIPPING":
            shipping += amount
        else:
            product += amount
    return product, shipping, tax


def line_targets(order: Mapping[str, Any], costs: Mapping[str, Decimal | None]) -> list[LineTarget]:
    """Every line's invoice and credit targets from the stored order and the internal products' unit costs."""
    targets = []
    for line in order.get("lines") or []:
        status = str(line.get("status") or "Created")
        sku = str(line.get("sku") or "")
        quantity = int(line.get("quantity") or 0)
        product, shipping, tax = _charges(line.get("charges") or [])
        cost = costs.get(sku)
        invoice = LineAmounts()
        if status in INVOICED_STATUSES:
            cogs = cents(cost * quantity) if cost is not None else ZERO
            invoice = LineAmounts(product, shipping, tax, cogs)
        credit = LineAmounts()
        reason = None
        refund = _refund(line)
        if refund is not None:
            credit, reason = LineAmounts(*refund), "refund"
        elif status == "Refund":
            credit, reason = LineAmounts(product, shipping, tax), "refund"
        elif status == "Cancelled":
            credit, reason = LineAmounts(product, shipping, tax), "cancellation"
        targets.append(
            LineTarget(
                line_number=str(line.get("line_number")),
                sku=sku,
                quantity=quantity,
                status=status,
                status_date=line.get("status_date"),
                invoice=invoice,
                credit=credit,
                credit_reason=reason,
                cost_missing=cost is None,
            )
        )
    return targets


@dataclass
class Posted:
    """What an order has posted so far, per line (invoice and credit amounts)."""

    invoice: dict[str, LineAmounts] = field(default_factory=dict)
    credit: dict[str, LineAmounts] = field(default_factory=dict)

    @classmethod
    def of(cls, item: Mapping[str, Any] | None) -> Posted:
        item = item or {}
        return cls(
            {k: LineAmounts.of(v) for k, v in (item.get("invoice") or {}).items()},
            {k: LineAmounts.of(v) for k, v in (item.get("credit") or {}).items()},
        )


def invoice_due(target: LineTarget, posted: Posted) -> LineAmounts:
    """The invoice difference of a line (a negative one is a correction, posted as a credit)."""
    already = posted.invoice.get(target.line_number, LineAmounts())
    if target.status == "Cancelled":
        return LineAmounts()  # never invoice a cancelled line; an invoiced one is reversed by a credit
    if target.status not in INVOICED_STATUSES and already.is_zero:
        return LineAmounts()
    return target.invoice.minus(already)


def credit_due(target: LineTarget, posted: Posted) -> LineAmounts:
    """The credit difference of a line: only a line that was invoiced is credited, never more than invoiced."""
    invoiced = posted.invoice.get(target.line_number, LineAmounts())
    if invoiced.is_zero or target.credit_reason is None:
        return LineAmounts()
    wanted = LineAmounts(
        min(target.credit.product, invoiced.product),
        min(target.credit.shipping, invoiced.shipping),
        min(target.credit.tax, invoiced.tax),
        ZERO,
    )
    return wanted.minus(posted.credit.get(target.line_number, LineAmounts()))

"""What an order should have posted to accounting, as amounts per line: the rules in one place, no I/O.

A line's *target* is what its invoice and credit should total today (product, shipping, tax, cost of goods). What was
already posted is kept per order; the difference is what a new document posts. So a re-evaluation posts nothing, and a
late change posts only its correction: an issued document never changes.

Unit by unit: Walmart lists each status of a line with its quantity (one unit Shipped, one Cancelled:
docs/walmart/specs/marketplace__order-management.openapi.json, components.schemas.OrderLineStatusType). A line's
charges are for all its units; the units that shipped (Shipped, Delivered, Refund) are invoiced for their share of
them, rounded half-up to cents (all units: the charges exactly). A cancelled unit is never invoiced; one cancelled
after it was invoiced is credited (reason ``cancellation``); a refunded unit is credited for Walmart's refund amounts,
or for its share when Walmart gives none (reason ``refund``).

A refund Walmart made through its returns flow (``GET /v3/returns``:
docs/walmart/specs/marketplace__returns.openapi.yml, returnOrderLines[] with purchaseOrderId/purchaseOrderLineNumber,
charges[] per unit, refundedQty, currentRefundStatus) is credited once, whether or not the order also shows it: a
line's refund is the larger of what the order and its returns say, amount by amount (reason ``return`` when the
returns say more). Returned goods that came back
(``returned_to_stock``) are units whose cost of goods sold is reversed when the instance restocks them
(``returned_goods``: ``restock``; ``write_off`` keeps the cost).

Walmart zeroes the charges of a line it cancels (every amount and tax 0:
docs/walmart/examples/POST_v3_orders_purchaseOrderId_cancel__200__example.json): such a line keeps what was invoiced
for it, and the invoiced amounts are credited, since its charges no longer say what its units came to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0")
INVOICED_STATUSES = {"Shipped", "Delivered", "Refund"}
CANCELLED = "Cancelled"
REFUND = "Refund"
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

    @property
    def sales_price(self) -> Decimal:
        """Item price plus shipping, tax excluded: the base of Walmart's referral fee (docs/walmart/FACTS.md,
        "Referral fees")."""
        return self.product + self.shipping

    @property
    def revenue(self) -> LineAmounts:
        """The invoice's part: everything but the cost of goods sold."""
        return LineAmounts(self.product, self.shipping, self.tax, ZERO)

    @property
    def cost(self) -> LineAmounts:
        """The cost of goods sold alone (its own document)."""
        return LineAmounts(cogs=self.cogs)

    def each(self, other: LineAmounts, pick: Any) -> LineAmounts:
        """``pick(mine, theirs)`` amount by amount."""
        return LineAmounts(*(pick(getattr(self, n), getattr(other, n)) for n in AMOUNTS))


@dataclass(frozen=True)
class LineTarget:
    line_number: str
    sku: str
    quantity: int
    status: str
    status_date: str | None
    invoice: LineAmounts  # the share of the units that shipped
    credit: LineAmounts  # what refunds owe (Walmart's amounts, or the refunded units' share)
    credit_reason: str | None  # refund | cancellation
    cost_missing: bool = False
    # the share of the units that shipped or were cancelled: what may stay invoiced when units are cancelled after
    # they were invoiced (they are credited, not taken off the invoice)
    invoice_ceiling: LineAmounts | None = None
    shipped: int = 0  # units that shipped (their cost of goods sold is owed)
    restocked: int = 0  # units returned to stock (their cost of goods sold is reversed when restocking)
    cancelled: int = 0  # units cancelled
    unit_cost: Decimal | None = None  # the internal product's cost (None: no product, or no cost yet)
    # Walmart zeroed the charges of the cancelled line: what was invoiced stays invoiced and is credited
    charges_zeroed: bool = False

    def ceiling(self, invoiced: LineAmounts) -> LineAmounts:
        """What may stay on the invoice: the shipped and cancelled units' share (what was invoiced, when Walmart
        zeroed the cancelled line's charges)."""
        if self.charges_zeroed:
            return invoiced
        return self.invoice_ceiling or self.invoice


def _charges(charges: list[dict[str, Any]], units: int = 1, quantity: int = 1) -> tuple[Decimal, Decimal, Decimal]:
    """(product, shipping, tax) of ``units`` of the line's ``quantity``: each charge's share, rounded half-up."""
    product = sum((_share(c.get("amount"), units, quantity) for c in charges if c.get("type") == "PRODUCT"), ZERO)
    shipping = sum((_share(c.get("amount"), units, quantity) for c in charges if c.get("type") == "SHIPPING"), ZERO)
    tax = sum((_share(c.get("tax"), units, quantity) for c in charges), ZERO)
    return product, shipping, tax


def _share(amount: Any, units: int, quantity: int) -> Decimal:
    value = money(amount)
    if units >= quantity:
        return value
    if units <= 0 or quantity <= 0:
        return ZERO
    return cents(value * units / quantity)


def _amounts(charges: list[dict[str, Any]], units: int, quantity: int, unit_cost: Decimal | None) -> LineAmounts:
    """What ``units`` of the line come to: their share of its charges, and their cost (none without a cost)."""
    if units <= 0:
        return LineAmounts()
    cogs = cents(unit_cost * units) if unit_cost is not None else ZERO
    return LineAmounts(*_charges(charges, units, quantity), cogs)


def _units(line: Mapping[str, Any]) -> dict[str, int]:
    """Units per status; a line stored before statuses were kept per quantity is all in its one status."""
    statuses = line.get("statuses")
    if statuses is None:
        statuses = [{"status": line.get("status") or "Created", "quantity": line.get("quantity") or 0}]
    units: dict[str, int] = {}
    for entry in statuses:
        name = str(entry.get("status") or "Created")
        units[name] = units.get(name, 0) + int(entry.get("quantity") or 0)
    return units


def _refund(line: Mapping[str, Any]) -> tuple[Decimal, Decimal, Decimal] | None:
    """Walmart's refund amounts of a line (absolute values), or None when it gives none."""
    if line.get("refund_charges") is not None:
        entries = [
            {"type": c.get("type"), "amount": c.get("amount"), "tax": c.get("tax")} for c in line["refund_charges"]
        ]
    else:  # stored before refunds were parsed: Walmart's raw refund block
        refund = line.get("refund") or {}
        raw = ((refund.get("refundCharges") or {}) if isinstance(refund, dict) else {}).get("refundCharge") or []
        raw = raw if isinstance(raw, list) else [raw]
        entries = []
        for entry in raw:
            charge = (entry or {}).get("charge") or {}
            entries.append(
                {
                    "type": charge.get("chargeType"),
                    "amount": (charge.get("chargeAmount") or {}).get("amount"),
                    "tax": ((charge.get("tax") or {}).get("taxAmount") or {}).get("amount"),
                }
            )
    if not entries:
        return None
    product = shipping = tax = ZERO
    for entry in entries:
        amount = abs(money(entry.get("amount")))
        tax += abs(money(entry.get("tax")))
        if entry.get("type") == "SHIPPING":
            shipping += amount
        else:
            product += amount
    return product, shipping, tax


@dataclass(frozen=True)
class Returned:
    """What a line's returns (``/v3/returns``) refunded, and how many of its units came back to stock."""

    refund: LineAmounts = LineAmounts()
    restocked: int = 0


def returned_by_line(returns: list[Any], purchase_order_id: str) -> dict[str, Returned]:
    """Per line number of the order: the refunds of its returns' lines that were refunded (``refundedQty`` > 0 or
    ``currentRefundStatus`` REFUND_COMPLETED) and the units returned to stock. Charges are per return line's quantity:
    a shipping charge (its name says so) is a shipping refund, every other billable charge a product refund."""
    found: dict[str, Returned] = {}
    for order in returns:
        for line in order.lines:
            if line.purchase_order_id not in (None, purchase_order_id) or line.purchase_order_line_number is None:
                continue
            key = str(line.purchase_order_line_number)
            current = found.get(key, Returned())
            refund = current.refund
            if (line.refunded_quantity or 0) > 0 or (line.refund_status or "").upper() == "REFUND_COMPLETED":
                for charge in line.charges:
                    if not charge.is_billable:
                        continue
                    shipping = "shipping" in (charge.name or charge.category or "").casefold()
                    part = LineAmounts(
                        product=ZERO if shipping else abs(charge.amount),
                        shipping=abs(charge.amount) if shipping else ZERO,
                        tax=abs(charge.tax),
                    )
                    refund = refund.plus(part)
            restocked = current.restocked + (int(line.quantity) if line.returned_to_stock else 0)
            found[key] = Returned(refund, restocked)
    return found


def line_targets(
    order: Mapping[str, Any], costs: Mapping[str, Decimal | None], returned: Mapping[str, Returned] | None = None
) -> list[LineTarget]:
    """Every line's invoice and credit targets from the stored order, its returns and the products' unit costs."""
    targets = []
    for line in order.get("lines") or []:
        status = str(line.get("status") or "Created")
        sku = str(line.get("sku") or "")
        quantity = int(line.get("quantity") or 0)
        charges = line.get("charges") or []
        units = _units(line)
        shipped = sum(n for name, n in units.items() if name in INVOICED_STATUSES)
        cancelled = units.get(CANCELLED, 0)
        refunded = units.get(REFUND, 0)
        cost = costs.get(sku)
        zeroed = bool(cancelled) and all(money(c.get("amount")) == 0 and money(c.get("tax")) == 0 for c in charges)
        reason = None
        refund = _refund(line)
        if refund is not None:
            credit, reason = LineAmounts(*refund), "refund"
        elif refunded:
            credit, reason = _amounts(charges, refunded, quantity, None), "refund"
        else:
            credit = LineAmounts()
            reason = "cancellation" if cancelled else None
        back = (returned or {}).get(str(line.get("line_number")), Returned())
        if not back.refund.is_zero:
            more = back.refund.each(credit, max)
            if more != credit:
                credit, reason = more, "return"
        targets.append(
            LineTarget(
                line_number=str(line.get("line_number")),
                sku=sku,
                quantity=quantity,
                status=status,
                status_date=line.get("status_date"),
                invoice=_amounts(charges, shipped, quantity, cost),
                credit=credit,
                credit_reason=reason,
                cost_missing=cost is None,
                invoice_ceiling=_amounts(charges, shipped + cancelled, quantity, cost),
                shipped=shipped,
                restocked=back.restocked,
                cancelled=cancelled,
                unit_cost=cost,
                charges_zeroed=zeroed,
            )
        )
    return targets


@dataclass
class Posted:
    """What an order has posted so far, per line (invoice and credit amounts)."""

    invoice: dict[str, LineAmounts] = field(default_factory=dict)
    credit: dict[str, LineAmounts] = field(default_factory=dict)
    cost_units: dict[str, int] = field(default_factory=dict)  # units sold whose cost of goods sold was posted
    restocked_units: dict[str, int] = field(default_factory=dict)  # units returned to stock whose cost was reversed

    @classmethod
    def of(cls, item: Mapping[str, Any] | None) -> Posted:
        item = item or {}
        return cls(
            {k: LineAmounts.of(v) for k, v in (item.get("invoice") or {}).items()},
            {k: LineAmounts.of(v) for k, v in (item.get("credit") or {}).items()},
            {k: int(v) for k, v in (item.get("cogs_units") or {}).items()},
            {k: int(v) for k, v in (item.get("restocked_units") or {}).items()},
        )


def invoice_due(target: LineTarget, posted: Posted) -> LineAmounts:
    """The invoice difference of a line (a negative one is a correction, posted as a credit).

    Units cancelled after they were invoiced stay on the invoice (up to the share of shipped and cancelled units):
    they are reversed by a credit, never by a negative invoice.
    """
    already = posted.invoice.get(target.line_number, LineAmounts())
    ceiling = target.ceiling(already)
    wanted = target.invoice.each(already.each(ceiling, min), max)
    return wanted.minus(already)


@dataclass(frozen=True)
class CostChange:
    """A change of a line's cost of goods sold: ``units`` sold (positive: cost posted) or returned to stock
    (``restocked``: cost reversed), its amount (negative: a reversal), and the line's count of such units after it."""

    units: int
    amount: Decimal
    total: int
    restocked: bool = False


def cost_due(target: LineTarget, posted: Posted, restock: bool = True) -> list[CostChange]:
    """The cost of goods sold a line owes, in the order to post it: the units that shipped since, at the product's
    cost now, then the units returned to stock since, reversed at the average cost they were posted at.

    Sales and restocks are counted apart, so the documents are the same whichever Walmart told us first (an order
    first seen with its return already made gets the sale's cost and the return's reversal, as one seen before it).
    Counted in units, so a cost changed later (``PATCH /api/products/{id}``) applies to what ships from then on and
    never revalues what was posted. Units cancelled after they shipped keep their cost here (as they stay invoiced and
    are credited). A line posted before units were kept counts every unit shipped so far as posted.
    """
    line = target.line_number
    cost = posted.invoice.get(line, LineAmounts()).cogs
    sold = posted.cost_units.get(line)
    if sold is None:
        sold = target.shipped if cost else 0
    back = posted.restocked_units.get(line, 0)
    changes = []
    wanted = max(target.shipped, min(sold, target.shipped + target.cancelled))
    if wanted < sold:  # reversed at the cost they were posted at (the average per unit)
        held = sold - back
        changes.append(CostChange(wanted - sold, -cents(cost * (sold - wanted) / held) if held > 0 else ZERO, wanted))
    elif wanted > sold and target.unit_cost is not None:
        changes.append(CostChange(wanted - sold, cents(target.unit_cost * (wanted - sold)), wanted))
    else:
        wanted = sold  # (no cost yet: nothing sold is posted)
    cost += sum((change.amount for change in changes), ZERO)
    restocked = min(target.restocked, wanted) if restock else back
    if restocked > back and wanted - back > 0:  # goods back in stock: their cost is reversed
        reversed_cost = -cents(cost * (restocked - back) / (wanted - back))
        changes.append(CostChange(restocked - back, reversed_cost, restocked, restocked=True))
    return changes


def credit_due(target: LineTarget, posted: Posted) -> LineAmounts:
    """The credit difference of a line: only a line that was invoiced is credited, never more than invoiced.

    What is owed: the refunds, and the invoiced share of units cancelled since (what the invoice holds beyond the
    shipped units' share, up to the shipped and cancelled units' share).
    """
    invoiced = posted.invoice.get(target.line_number, LineAmounts())
    if invoiced.is_zero or target.credit_reason is None:
        return LineAmounts()
    ceiling = target.ceiling(invoiced)
    cancelled = invoiced.each(ceiling, min).minus(target.invoice).each(LineAmounts(), max)
    owed = target.credit.plus(cancelled)
    wanted = LineAmounts(
        min(owed.product, invoiced.product),
        min(owed.shipping, invoiced.shipping),
        min(owed.tax, invoiced.tax),
        ZERO,
    )
    return wanted.minus(posted.credit.get(target.line_number, LineAmounts()))

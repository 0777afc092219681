"""Accounting rules without AWS: periods, targets and what is still due."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from walmart_integration.services.accounting import Entries, period_key, totals
from walmart_integration.services.accounting_rules import (
    ZERO,
    LineAmounts,
    Posted,
    credit_due,
    invoice_due,
    line_targets,
)


def order(status: str, refund: dict | None = None) -> dict:
    return {
        "purchase_order_id": "1",
        "lines": [
            {
                "line_number": "1",
                "sku": "A",
                "quantity": 3,
                "status": status,
                "charges": [
                    {"type": "PRODUCT", "amount": Decimal("10.00"), "tax": Decimal("0.80")},
                    {"type": "SHIPPING", "amount": Decimal("2.00"), "tax": Decimal("0.16")},
                ],
                "refund": refund,
            }
        ],
    }


def test_periods_are_utc_days_iso_weeks_and_months() -> None:
    moment = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    assert period_key("daily", moment) == ("2026-12-31", datetime(2027, 1, 1, tzinfo=UTC))
    assert period_key("weekly", moment) == ("2026-W53", datetime(2027, 1, 4, tzinfo=UTC))
    assert period_key("monthly", moment) == ("2026-12", datetime(2027, 1, 1, tzinfo=UTC))


def test_a_shipped_line_is_due_once_and_its_cost_is_rounded_half_up() -> None:
    (target,) = line_targets(order("Shipped"), {"A": Decimal("1.005")})
    due = invoice_due(target, Posted())
    assert due == LineAmounts(Decimal("10.00"), Decimal("2.00"), Decimal("0.96"), Decimal("3.02"))
    assert invoice_due(target, Posted(invoice={"1": due})).is_zero


def test_credits_never_exceed_what_was_invoiced_and_need_an_invoice() -> None:
    refund = {
        "refundCharges": {"refundCharge": [{"charge": {"chargeType": "PRODUCT", "chargeAmount": {"amount": -50}}}]}
    }
    (target,) = line_targets(order("Refund", refund), {"A": Decimal("1")})
    assert credit_due(target, Posted()).is_zero
    invoiced = LineAmounts(Decimal("10.00"), Decimal("2.00"), Decimal("0.96"), Decimal("3"))
    assert credit_due(target, Posted(invoice={"1": invoiced})) == LineAmounts(Decimal("10.00"))
    (cancelled,) = line_targets(order("Cancelled"), {})
    assert invoice_due(cancelled, Posted()).is_zero and credit_due(cancelled, Posted()).is_zero


def test_documents_balance() -> None:
    (target,) = line_targets(order("Delivered"), {"A": Decimal("2.50")})
    entries = Entries({"sales": (1, "4000"), "shipping_revenue": (3, "4010"), "cogs": (2, "5000")})
    due = invoice_due(target, Posted())
    entries.invoice(target, due.revenue, "1")
    entries.cost(target, due.cost, "1")
    entries.proforma(due.sales_price, {"proforma_marketplace_cost_percentage": 15}, "1")
    result = totals(entries.lines)
    assert result.debit == result.credit == "22.26"  # 12.96 receivable + 7.50 cogs + 15% x 12.00 = 1.80 marketplace
    assert (result.gross, result.tax, result.net) == ("12.96", "0.96", "12.00")
    assert entries.missing() == [
        "accounts_receivable",
        "facilitator_tax",
        "inventory",
        "marketplace_fees",
        "accrued_costs",
    ]


# -- per-status quantities: invoiced and credited unit by unit (issue #12, point 5) ----------------------------------
def split(units: list[tuple[str, int]], refund_charges: list[dict] | None = None, quantity: int = 2) -> dict:
    """A stored order whose line lists each status with its quantity (models.marketplace.order_from_walmart)."""
    line = order("Shipped")["lines"][0] | {
        "quantity": quantity,
        "statuses": [{"status": status, "quantity": units_} for status, units_ in units],
        "refund_charges": refund_charges or [],
    }
    return {"purchase_order_id": "1", "lines": [line]}


def test_one_unit_shipped_and_one_cancelled_invoices_the_shipped_unit_only() -> None:
    (target,) = line_targets(split([("Shipped", 1), ("Cancelled", 1)]), {"A": Decimal("1.25")})
    due = invoice_due(target, Posted())
    # half of 10.00 and 2.00, half of each tax (0.40 + 0.08), one unit's cost
    assert due == LineAmounts(Decimal("5.00"), Decimal("1.00"), Decimal("0.48"), Decimal("1.25"))
    assert credit_due(target, Posted(invoice={"1": due})).is_zero  # the cancelled unit was never invoiced


def test_a_unit_cancelled_after_the_whole_line_was_invoiced_is_credited() -> None:
    full = LineAmounts(Decimal("10.00"), Decimal("2.00"), Decimal("0.96"), Decimal("3.00"))
    (target,) = line_targets(split([("Shipped", 2), ("Cancelled", 1)], quantity=3), {"A": Decimal("1")})
    assert invoice_due(target, Posted(invoice={"1": full})).is_zero  # reversed by a credit, not a negative invoice
    assert target.credit_reason == "cancellation"
    # one unit of three: 10.00 - 6.67, 2.00 - 1.33, (0.80 - 0.53) + (0.16 - 0.11)
    assert credit_due(target, Posted(invoice={"1": full})) == LineAmounts(
        Decimal("3.33"), Decimal("0.67"), Decimal("0.32")
    )


def test_a_refunded_unit_without_amounts_is_credited_for_its_share() -> None:
    (target,) = line_targets(split([("Delivered", 1), ("Refund", 1)]), {"A": Decimal("1")})
    invoiced = invoice_due(target, Posted())
    assert invoiced.product == Decimal("10.00")  # both units invoiced: a refunded unit was sold first
    assert target.credit_reason == "refund"
    assert credit_due(target, Posted(invoice={"1": invoiced})) == LineAmounts(
        Decimal("5.00"), Decimal("1.00"), Decimal("0.48")
    )


def test_walmarts_refund_amounts_win_over_the_units_share() -> None:
    refund = [{"type": "PRODUCT", "amount": Decimal("-4.00"), "tax": Decimal("-0.32"), "reason": "DamagedItem"}]
    (target,) = line_targets(split([("Delivered", 1), ("Refund", 1)], refund), {"A": Decimal("1")})
    invoiced = invoice_due(target, Posted())
    assert credit_due(target, Posted(invoice={"1": invoiced})) == LineAmounts(Decimal("4.00"), ZERO, Decimal("0.32"))


def _apply(posted, line: str, changes) -> None:
    from walmart_integration.services.accounting_rules import LineAmounts

    for change in changes:
        posted.invoice[line] = posted.invoice.get(line, LineAmounts()).plus(LineAmounts(cogs=change.amount))
        (posted.restocked_units if change.restocked else posted.cost_units)[line] = change.total


def test_cost_of_a_return_is_its_own_reversal_whichever_walmart_told_us_first():
    """Three units shipped at 2.75, one came back to stock: the sale's cost (8.25) and the return's reversal (-2.75),
    whether the order was first seen before its return or with it (the documents then match)."""
    from walmart_integration.services.accounting_rules import LineAmounts, LineTarget, Posted, cost_due

    def target(restocked: int) -> LineTarget:
        return LineTarget(
            "1",
            "SKU",
            3,
            "Shipped",
            None,
            LineAmounts(),
            LineAmounts(),
            None,
            shipped=3,
            restocked=restocked,
            unit_cost=Decimal("2.75"),
        )

    seen_first = Posted()
    first = cost_due(target(0), seen_first)
    _apply(seen_first, "1", first)
    later = cost_due(target(1), seen_first)
    _apply(seen_first, "1", later)
    together = Posted()
    both = cost_due(target(1), together)
    _apply(together, "1", both)
    assert (
        [(c.units, c.amount, c.restocked) for c in both]
        == [(c.units, c.amount, c.restocked) for c in [*first, *later]]
        == [(3, Decimal("8.25"), False), (1, Decimal("-2.75"), True)]
    )
    assert seen_first == together
    assert cost_due(target(1), together) == []  # evaluated again: nothing more
    assert cost_due(target(1), Posted(), restock=False) == [cost_due(target(0), Posted())[0]]  # written off: kept

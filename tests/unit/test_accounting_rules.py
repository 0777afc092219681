"""Accounting rules without AWS: periods, targets and what is still due."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from walmart_integration.services.accounting import Entries, period_key, totals
from walmart_integration.services.accounting_rules import LineAmounts, Posted, credit_due, invoice_due, line_targets


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
    entries.invoice(target, invoice_due(target, Posted()), "1")
    entries.proforma(Decimal("12.96"), {"proforma_marketplace_cost_percentage": 15}, "1")
    result = totals(entries.lines)
    assert result["debit"] == result["credit"] == "22.40"  # 12.96 receivable + 7.50 cogs + 1.94 marketplace
    assert (result["gross"], result["tax"], result["net"]) == ("12.96", "0.96", "12.00")

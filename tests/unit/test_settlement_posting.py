"""What each reconciliation-report row posts to (services/settlement_rules.py), and the journal's holds, without AWS."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from walmart_integration.models.settlements import SettlementPeriod, settlement_line_from_row
from walmart_integration.services.settlement_posting import build_journal
from walmart_integration.services.settlement_rules import classify

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def line(kind: str, amount_type: str, amount: str, po: str = "P1", position: int = 1):  # type: ignore[no-untyped-def]
    row = {"Transaction Type": kind, "Amount Type": amount_type, "Amount": amount, "Purchase Order #": po}
    return settlement_line_from_row("2026-11-29", position, row)


@pytest.mark.parametrize(
    ("kind", "amount_type", "po", "role"),
    [
        ("Sale", "Product Price", "P1", "receivable"),
        ("Sale", "Shipping tax", "P1", "receivable"),
        ("Refund", "Product  Price", "P1", "receivable"),  # Walmart's spacing varies
        ("Sale", "Product tax withheld", "P1", "facilitator_tax"),
        ("Refund", "Shipping tax withheld", "P1", "facilitator_tax"),
        ("Sale", "Commission on Product", "P1", "commission"),
        ("Adjustment", "WFS Fulfillment fee", "P1", "wfs_fees"),
        ("Adjustment", "Fee/Reimbursement", "", "adjustments"),
        ("Reserve", "Reserve", "", "reserves"),
        ("Release Reserve", "Reserve", "", "reserves"),
    ],
)
def test_report_rows_are_classified_by_transaction_and_amount_type(kind: str, amount_type: str, po: str, role: str):
    assert classify(line(kind, amount_type, "1.00", po)) == (role, None)


@pytest.mark.parametrize(
    ("kind", "amount_type", "amount", "po", "why"),
    [
        ("Deposit Interest", "Interest", "0.45", "", "has no account"),
        ("Sale", "Gift wrap", "2.00", "P1", "has no account"),
        ("Sale", "Product Price", "n/a", "P1", "cannot be read"),
        ("Sale", "Product Price", "1.00", "", "without a purchase order"),
    ],
)
def test_rows_that_cannot_be_classified_say_why(kind: str, amount_type: str, amount: str, po: str, why: str):
    role, reason = classify(line(kind, amount_type, amount, po))
    assert role is None and why in (reason or "")


def test_a_report_that_does_not_sum_to_its_deposit_holds_the_journal():
    period = SettlementPeriod(
        settlement_id="2026-11-29", report_date="11292026", status="final", deposit=Decimal("10.00"),
        period_end=date(2026, 11, 29),
    )  # fmt: skip
    report = [line("Adjustment", "Fee/Reimbursement", "-2.50", "")]
    journal = build_journal(period, report, {}, {}, {"bank": (7, "1000"), "adjustments": (14, "6900")}, NOW)
    assert journal.lines == [] and journal.unexplained == Decimal("12.50")
    [hold] = journal.holds
    assert hold["reason"] == "The report's lines sum to -2.50, the deposit is 10.00."

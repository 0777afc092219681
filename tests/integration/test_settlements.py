"""Settlements (Walmart's reconciliation reports) and returns: stored, synced from the emulator, served by the API."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from walmart_integration.models.returns import return_from_walmart
from walmart_integration.models.settlements import SettlementLine, SettlementPeriod
from walmart_integration.store.settlements import ReturnRepository, SettlementRepository

REGION = "us-east-1"
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "walmart" / "examples"


def _line(settlement_id: str, position: int, amount: str, kind: str = "Sale") -> SettlementLine:
    return SettlementLine(
        settlement_id=settlement_id,
        position=position,
        transaction_type=kind,
        amount_type="Product Price",
        amount=Decimal(amount),
        columns={"Transaction Type": kind, "Amount": amount},
    )


# -- the store -------------------------------------------------------------------------------------------------------
def test_a_refetched_report_replaces_its_lines_and_never_duplicates_them(stack):
    repo = SettlementRepository(stack.env["DATA_TABLE_NAME"], REGION)
    tenant, instance = "t-store", "i-store"
    assert repo.put_lines(tenant, instance, [_line("2026-01-14", p, "1.00") for p in range(30)]) == 30
    # fetched again: the report now has 28 rows, one of which changed
    again = [_line("2026-01-14", p, "1.00") for p in range(28)]
    again[5] = _line("2026-01-14", 5, "2.50", kind="Refund")
    repo.put_lines(tenant, instance, again)
    assert repo.trim_lines(tenant, instance, "2026-01-14", 28) == 2
    stored = repo.lines(tenant, instance, "2026-01-14")
    assert [line.position for line in stored] == list(range(28))
    assert stored[5].transaction_type == "Refund" and stored[5].amount == Decimal("2.50")
    assert stored[5].columns == {"Transaction Type": "Refund", "Amount": "2.50"}
    assert repo.lines(tenant, instance, "2026-01-28") == []


def test_a_period_keeps_accountings_unexplained_through_later_syncs(stack):
    repo = SettlementRepository(stack.env["DATA_TABLE_NAME"], REGION)
    tenant, instance = "t-period", "i-period"
    period = SettlementPeriod(settlement_id="2026-01-14", report_date="01142026", status="pending")
    repo.save_period(tenant, instance, period)
    final = period.model_copy(update={"status": "final", "deposit": Decimal("812.34"), "currency": "USD"})
    repo.save_period(tenant, instance, final)
    assert repo.mark_finalised(tenant, instance, "2026-01-14", "2026-01-15T00:00:00Z") is True
    assert repo.mark_finalised(tenant, instance, "2026-01-14", "2026-01-16T00:00:00Z") is False  # once only
    repo.set_unexplained(tenant, instance, "2026-01-14", Decimal("0.00"))
    repo.save_period(tenant, instance, final)  # a later sync writes the period again
    repo.save_period(tenant, instance, SettlementPeriod(settlement_id="2026-01-28", report_date="01282026"))
    stored = repo.period(tenant, instance, "2026-01-14")
    assert stored is not None
    assert stored.unexplained == Decimal("0.00")
    assert stored.finalised_at == "2026-01-15T00:00:00Z"
    assert stored.deposit == Decimal("812.34") and stored.status == "final"
    assert [p.settlement_id for p in repo.periods(tenant, instance)] == ["2026-01-28", "2026-01-14"]  # newest first
    assert repo.period(tenant, "another-instance", "2026-01-14") is None


def test_returns_are_upserted_by_id_and_found_by_their_order(stack):
    repo = ReturnRepository(stack.env["DATA_TABLE_NAME"], REGION)
    tenant, instance = "t-returns", "i-returns"
    raw = json.loads((EXAMPLES / "GET_v3_returns__200__example.json").read_text(), parse_float=Decimal)
    walmart_return = return_from_walmart(raw["returnOrders"][0])
    assert repo.upsert_changed(tenant, instance, [walmart_return], "2026-01-01T00:00:00Z") == 1
    assert repo.upsert_changed(tenant, instance, [walmart_return], "2026-01-01T00:05:00Z") == 0  # unchanged
    found = repo.of_order(tenant, instance, "4790210558890")
    assert [r.return_order_id for r in found] == ["103738048909818825"]
    assert found[0] == walmart_return
    page, cursor = repo.page(tenant, instance, 10, None)
    assert [r.return_order_id for r in page] == ["103738048909818825"] and cursor is None
    assert repo.of_order(tenant, instance, "no-such-order") == []

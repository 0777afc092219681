"""Settlements (Walmart's reconciliation reports) and returns: stored, synced from the emulator, served by the API."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from local.emulator import finance
from local.harness import WORKERS
from tests.integration.test_marketplace_sync import connect
from tests.support import response_json
from walmart_integration.models.returns import return_from_walmart
from walmart_integration.models.settlements import SettlementLine, SettlementPeriod
from walmart_integration.store.settlements import ReturnRepository, SettlementRepository

REGION = "us-east-1"
TENANT = "demo"  # the tenant the harness authenticates by default
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
    found = repo.of_orders(tenant, instance, ["4790210558890"])["4790210558890"]
    assert [r.return_order_id for r in found] == ["103738048909818825"]
    assert found[0] == walmart_return
    page, cursor = repo.page(tenant, instance, 10, None)
    assert [r.return_order_id for r in page] == ["103738048909818825"] and cursor is None
    assert repo.of_orders(tenant, instance, ["no-such-order"]) == {"no-such-order": []}
    second = walmart_return.model_copy(update={"return_order_id": "103738048909818826"})
    assert repo.upsert_changed(tenant, instance, [second], "2026-01-01T00:10:00Z") == 1  # a second return of the order
    both = repo.of_orders(tenant, instance, ["4790210558890", "no-such-order"])
    assert {po: [r.return_order_id for r in found] for po, found in both.items()} == {
        "4790210558890": ["103738048909818825", "103738048909818826"],
        "no-such-order": [],
    }


# -- the sync against the emulator, and the API ----------------------------------------------------------------------
SELLER = {"client_id": "settle-seller", "client_secret": "settle-secret", "seller_id": "900000777"}
NOT_ACCOUNTING = {name: function for name, function in WORKERS.items() if name != "AccountingQueue"}


def add_seller(emulator, suffix="", orders=150):
    seller = {k: v + suffix for k, v in SELLER.items()}
    emulator.add_seller(
        seller["client_id"], seller["client_secret"], seller_id=seller["seller_id"], item_count=20, order_count=orders
    )
    return seller


def periods(api, instance_id, **kwargs):
    response = api("GET", f"/api/walmart/{instance_id}/settlements", query={"limit": "100"}, **kwargs)
    assert response["statusCode"] == 200, response["body"]
    return response_json(response)["data"]


def detail(api, instance_id, settlement_id):
    response = api("GET", f"/api/walmart/{instance_id}/settlements/{settlement_id}")
    assert response["statusCode"] == 200, response["body"]
    return response_json(response)["data"]


def walmart_rows(emulator, seller, settlement_id):
    """The report's rows as the emulator serves them (the truth the stored lines are compared with)."""
    end = date.fromisoformat(settlement_id)
    start = end - timedelta(days=emulator.faults.settlement_cycle_days - 1)
    return finance.report_rows(emulator.state, seller["seller_id"], start, end)


def accounting_jobs(stack):
    return [json.loads(body) for body in stack.messages("AccountingQueue")]


def stored_lines(stack, tenant, instance_id, settlement_id):
    repo = SettlementRepository(stack.env["DATA_TABLE_NAME"], REGION)
    return repo.lines(tenant, instance_id, settlement_id)


def test_a_sync_stores_every_line_of_every_report_and_the_api_groups_them(api, stack, emulator):
    emulator.faults.update({"settlement_history_days": 180})  # every report Walmart lists
    seller = add_seller(emulator)
    instance_id = connect(api, seller, "settle")
    stack.pump(queues=NOT_ACCOUNTING)
    jobs = response_json(api("GET", f"/api/walmart/{instance_id}"))["data"]["jobs"]
    assert jobs["settlements"]["status"] == "succeeded", jobs["settlements"]
    assert jobs["returns"]["status"] == "succeeded", jobs["returns"]
    listed = periods(api, instance_id)
    assert len(listed) >= 10  # 14-day periods over the 180 days Walmart serves
    final = [p for p in listed if p["status"] == "final"]
    assert final and all(p["unexplained"] is None for p in listed)  # accounting has not posted them yet
    told = sorted(i for job in accounting_jobs(stack) for i in job.get("settlement_ids", []))
    assert told == sorted(p["settlement_id"] for p in final)  # one AccountingJob per final period
    for period in final[-3:]:
        shown = detail(api, instance_id, period["settlement_id"])
        rows = walmart_rows(emulator, seller, period["settlement_id"])
        assert shown["line_count"] == len(rows)  # the PaymentSummary row included: nothing dropped
        assert Decimal(shown["deposit"]) == Decimal(rows[0]["Total Payable"])
        assert Decimal(shown["lines_total"]) == Decimal(shown["deposit"])  # ties out to the cent
        totals = sum((Decimal(group["total"]) for group in shown["groups"]), Decimal("0"))
        assert totals == Decimal(shown["deposit"])
        by_type = {group["transaction_type"]: group for group in shown["groups"]}
        assert by_type["PaymentSummary"]["lines"][0]["total_payable"] == rows[0]["Total Payable"]
        sales = by_type["Sale"]
        assert Decimal(sales["totals_by_amount_type"]["Product Price"]) == sum(
            (
                Decimal(r["Amount"])
                for r in rows
                if (r["Transaction Type"], r.get("Amount Type")) == ("Sale", "Product Price")
            ),
            Decimal("0"),
        )
        stored = stored_lines(stack, TENANT, instance_id, period["settlement_id"])
        assert [line.columns for line in stored] == [{k: str(v) for k, v in row.items()} for row in rows]
    returns = response_json(api("GET", f"/api/walmart/{instance_id}/returns", query={"limit": "100"}))
    assert returns["data"], "the emulator returns 5% of shipped lines"
    first = returns["data"][0]
    assert first["lines"][0]["purchase_order_id"] and Decimal(first["total_refund"]) > 0


def test_another_tenant_sees_nothing(api, stack, emulator):
    seller = add_seller(emulator, "-private")
    instance_id = connect(api, seller, "private")
    stack.pump(queues=NOT_ACCOUNTING)
    settlement_id = periods(api, instance_id)[0]["settlement_id"]
    for path in ("settlements", f"settlements/{settlement_id}", "returns"):
        assert api("GET", f"/api/walmart/{instance_id}/{path}", tenant="intruder")["statusCode"] == 404
    assert api("GET", f"/api/walmart/{instance_id}/settlements/2001-01-01")["statusCode"] == 404


def test_429_and_5xx_are_retried_and_a_refetch_stores_nothing_twice(stack_factory, emulator):
    stack = stack_factory(RECON_REFETCH_MINUTES="0")  # pending reports fetched again at once, not after two hours
    api = stack.call
    seller = add_seller(emulator, "-faults")
    emulator.faults.fail_next("/v3/report/reconreport/reconFileJson", 429, count=2)
    emulator.faults.fail_next("/v3/report/reconreport/availableReconFiles", 503, count=1)
    emulator.faults.fail_next("/v3/returns", 500, count=3)
    instance_id = connect(api, seller, "faults")
    stack.pump(queues=NOT_ACCOUNTING, timeout=120)
    jobs = response_json(api("GET", f"/api/walmart/{instance_id}"))["data"]["jobs"]
    assert (jobs["settlements"]["status"], jobs["returns"]["status"]) == ("succeeded", "succeeded"), jobs
    assert emulator.calls(seller["seller_id"], "/v3/report/reconreport/reconFileJson", 429) == 2
    before = {p["settlement_id"]: p for p in periods(api, instance_id)}
    returns_before = response_json(api("GET", f"/api/walmart/{instance_id}/returns", query={"limit": "100"}))["data"]
    told = accounting_jobs(stack)
    # a second run fetches only the pending reports again; the lines are replaced in place, nothing is doubled
    response = api("POST", f"/api/walmart/{instance_id}/sync", {"streams": ["settlements", "returns"]})
    assert response["statusCode"] == 202, response["body"]
    stack.pump(queues=NOT_ACCOUNTING)
    after = {p["settlement_id"]: p for p in periods(api, instance_id)}
    assert after.keys() == before.keys()
    for settlement_id, period in after.items():
        assert period["line_count"] == before[settlement_id]["line_count"]
        lines = stored_lines(stack, TENANT, instance_id, settlement_id)
        assert [line.position for line in lines] == list(range(period["line_count"]))
    assert (
        response_json(api("GET", f"/api/walmart/{instance_id}/returns", query={"limit": "100"}))["data"]
        == returns_before
    )
    assert told and accounting_jobs(stack) == []  # a final period is never announced twice


def test_duplicate_deliveries_store_nothing_twice(api, stack, emulator):
    seller = add_seller(emulator, "-dupes")
    instance_id = connect(api, seller, "dupes")
    stack.pump(queues={"TokenQueue": "token"})
    for _ in range(100):  # every sync message delivered twice, as SQS may
        bodies = stack.messages("SyncQueue")
        if not bodies:
            break
        for body in bodies:
            stack.handler("sync").handler(stack.sqs_event([body, body]), stack.context())
    stack.pump(queues=NOT_ACCOUNTING)
    listed = periods(api, instance_id)
    for period in listed:
        lines = stored_lines(stack, TENANT, instance_id, period["settlement_id"])
        assert [line.position for line in lines] == list(range(period["line_count"]))
    told = [i for job in accounting_jobs(stack) for i in job.get("settlement_ids", [])]
    assert sorted(told) == sorted(p["settlement_id"] for p in listed if p["status"] == "final")


def test_a_pending_report_is_fetched_again_and_becomes_final(stack_factory, emulator):
    stack = stack_factory(RECON_REFETCH_MINUTES="0")
    api = stack.call
    seller = add_seller(emulator, "-pending")
    emulator.faults.update({"settlement_final_after_days": 1000})  # no report carries its deposit yet
    instance_id = connect(api, seller, "pending")
    stack.pump(queues=NOT_ACCOUNTING)
    listed = periods(api, instance_id)
    assert listed and {p["status"] for p in listed} == {"pending"}
    assert all(p["deposit"] is None for p in listed)
    assert [job for job in accounting_jobs(stack) if job.get("settlement_ids")] == []
    emulator.faults.update({"settlement_final_after_days": 0})  # Walmart has paid every period
    assert api("POST", f"/api/walmart/{instance_id}/sync", {"streams": ["settlements"]})["statusCode"] == 202
    stack.pump(queues=NOT_ACCOUNTING)
    final = periods(api, instance_id)
    assert {p["status"] for p in final} == {"final"}
    for period, was in zip(final, listed, strict=True):
        assert period["line_count"] == was["line_count"] + 1  # the PaymentSummary row came
        assert Decimal(period["deposit"]) == Decimal(detail(api, instance_id, period["settlement_id"])["lines_total"])
    told = sorted(i for job in accounting_jobs(stack) for i in job.get("settlement_ids", []))
    assert told == sorted(p["settlement_id"] for p in final)

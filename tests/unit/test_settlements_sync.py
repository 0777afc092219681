"""SettlementsSync on in-memory stores: which reports a run fetches, how a report is paged and stored, when a period
is final and accounting is told, and the incremental returns window."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.unit.fakes import (
    Clock,
    FakeCatalog,
    FakeInstances,
    FakeQueues,
    FakeReturns,
    FakeRuns,
    FakeSettlements,
    FakeSynced,
    FakeWalmartCalls,
    connected_instance,
)
from walmart_integration.config import Settings
from walmart_integration.models.common import new_id
from walmart_integration.models.instance import Job
from walmart_integration.models.messages import SyncJob
from walmart_integration.models.settlements import SettlementPeriod
from walmart_integration.services.settlements_sync import SettlementsSync
from walmart_integration.walmart.marketplace import ReturnsPage
from walmart_integration.worker import Delivery

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TENANT = "t1"
EXAMPLES = Path(__file__).parents[2] / "docs" / "walmart" / "examples"


def summary(end: str, total: str) -> dict[str, str]:
    return {
        "Period Start Date": "02/01/2026",
        "Period End Date": end,
        "Currency": "USD",
        "Transaction Type": "PaymentSummary",
        "Total Payable": total,
        "Transaction Description": "Deposited in account",
    }


def sale(po: str, amount: str, kind: str = "Sale", amount_type: str = "Product Price") -> dict[str, str]:
    return {"Transaction Type": kind, "Amount Type": amount_type, "Amount": amount, "Purchase Order #": po}


class World:
    def __init__(self, **settings: Any) -> None:
        self.settings = Settings.model_validate(
            {
                "sync_queue_url": "q/sync",
                "accounting_queue_url": "q/accounting",
                "recon_rows_per_page": 2,
                **settings,
            }
        )
        self.instances = FakeInstances()
        self.runs = FakeRuns()
        self.settlements = FakeSettlements()
        self.returns = FakeReturns()
        self.queues = FakeQueues()
        self.walmart = FakeWalmartCalls()
        self.clock = Clock(NOW)
        self.returned: list[list[str]] = []
        self.sync = SettlementsSync(
            self.settings,
            self.instances,
            self.runs,
            FakeSynced(),
            FakeCatalog(),
            self.walmart,
            self.queues,
            lambda key, work, context: work(),
            self.settlements,
            self.returns,
            clock=self.clock,
            returns_stored=lambda t, i, returns: self.returned.append([r.return_order_id for r in returns]),
        )
        self.record = connected_instance(TENANT, NOW, ("settlements", "returns"))
        self.instances.create(self.record)

    def run(self, stream: str) -> str:
        """A whole run of ``stream``: the plan, then every message it enqueues, in order."""
        run_id = new_id()
        ids = {"tenant_id": TENANT, "instance_id": self.record.id, "run_id": run_id, "credentials_version": 3}
        self.sync.sync(SyncJob.model_validate({**ids, "stream": stream}), Delivery(1, 5))
        while pending := [message for url, message, _ in self.queues.sent if url == "q/sync"]:
            self.queues.sent = [entry for entry in self.queues.sent if entry[0] != "q/sync"]
            for message in pending:  # through JSON, as SQS carries them
                self.sync.sync(SyncJob.model_validate_json(message.model_dump_json()), Delivery(1, 5))
        return run_id

    def job(self, stream: str) -> Job:
        return self.instances.get(TENANT, self.record.id).jobs[stream]

    def told(self) -> list[str]:
        return [i for body in self.queues.bodies("q/accounting") for i in body.get("settlement_ids", [])]


def test_a_final_report_is_paged_stored_whole_and_announced_once() -> None:
    world = World()
    world.walmart.recon_dates = ["02142026", "12262025"]  # the second lies before the instance's start date
    world.walmart.recon_reports["02142026"] = [
        summary("02/14/2026", "17.25"),
        sale("p1", "20.00"),
        sale("p1", "-3.00", amount_type="Commission on Product"),
        sale("p2", "0.25", kind="Something New", amount_type="Mystery"),
        {"Transaction Type": "Adjustment", "Amount": "not a number"},
    ]
    world.run("settlements")
    period = world.settlements.period(TENANT, world.record.id, "2026-02-14")
    assert period is not None
    assert (period.status, period.deposit, period.lines_total, period.line_count) == (
        "final",
        Decimal("17.25"),
        Decimal("17.25"),
        5,
    )
    lines = world.settlements.lines(TENANT, world.record.id, "2026-02-14")
    assert [line.transaction_type for line in lines] == [
        "PaymentSummary",
        "Sale",
        "Sale",
        "Something New",
        "Adjustment",
    ]
    assert lines[4].amount is None and lines[4].columns["Amount"] == "not a number"  # kept, not dropped
    offsets = [r[1]["offset"] for r in world.walmart.requests if r[0] == "recon"]
    assert offsets == [0, 200, 400]  # 2 rows a page, each next offset as Walmart gave it
    assert world.settlements.period(TENANT, world.record.id, "2025-12-26") is None
    assert world.told() == ["2026-02-14"]
    assert (world.job("settlements").status, world.job("settlements").records) == ("succeeded", 5)
    world.queues.sent.clear()
    world.run("settlements")  # a final period is not fetched again, nor announced again
    assert len([r for r in world.walmart.requests if r[0] == "recon"]) == 3
    assert world.told() == []


def test_a_pending_report_is_fetched_again_and_its_lines_replaced() -> None:
    world = World()
    world.walmart.recon_dates = ["02282026"]
    world.walmart.recon_reports["02282026"] = [sale("p1", "20.00"), sale("p2", "5.00"), sale("p3", "1.00")]
    world.run("settlements")
    pending = world.settlements.period(TENANT, world.record.id, "2026-02-28")
    assert pending is not None and (pending.status, pending.deposit, pending.line_count) == ("pending", None, 3)
    assert world.told() == []
    # Walmart regenerated the report: one sale fewer, and now with its deposit
    world.walmart.recon_reports["02282026"] = [summary("02/28/2026", "25.00"), sale("p1", "20.00"), sale("p2", "5.00")]
    world.clock.advance(minutes=119)
    world.run("settlements")  # not within two hours of the last fetch (Walmart's recommendation)
    assert len([r for r in world.walmart.requests if r[0] == "recon"]) == 2
    assert world.settlements.period(TENANT, world.record.id, "2026-02-28") == pending
    world.clock.advance(minutes=1)
    world.run("settlements")
    final = world.settlements.period(TENANT, world.record.id, "2026-02-28")
    assert final is not None and (final.status, final.deposit, final.line_count) == ("final", Decimal("25.00"), 3)
    lines = world.settlements.lines(TENANT, world.record.id, "2026-02-28")
    assert [(line.position, line.amount) for line in lines] == [(0, None), (1, Decimal("20.00")), (2, Decimal("5.00"))]
    assert world.told() == ["2026-02-28"]


def test_a_report_whose_period_has_not_ended_stays_pending_even_with_its_deposit_row() -> None:
    world = World()
    world.walmart.recon_dates = ["03012026"]
    world.walmart.recon_reports["03012026"] = [summary("03/01/2026", "5.00"), sale("p1", "5.00")]
    world.run("settlements")
    period = world.settlements.period(TENANT, world.record.id, "2026-03-01")
    assert period is not None and period.status == "pending" and period.deposit == Decimal("5.00")
    assert world.told() == []


def test_accountings_unexplained_survives_a_refetch() -> None:
    world = World()
    world.settlements.save_period(
        TENANT, world.record.id, SettlementPeriod(settlement_id="2026-02-28", report_date="02282026")
    )
    world.settlements.set_unexplained(TENANT, world.record.id, "2026-02-28", Decimal("0.00"))
    world.walmart.recon_dates = ["02282026"]
    world.walmart.recon_reports["02282026"] = [summary("02/28/2026", "1.00"), sale("p1", "1.00")]
    world.run("settlements")
    period = world.settlements.period(TENANT, world.record.id, "2026-02-28")
    assert period is not None and period.unexplained == Decimal("0.00") and period.status == "final"


def test_returns_are_incremental_from_the_watermark_and_stored_once() -> None:
    world = World()
    example = json.loads((EXAMPLES / "GET_v3_returns__200__example.json").read_text())
    world.walmart.returns = [
        ReturnsPage(example["returnOrders"], 2, "?sellerId=151&limit=10&offset=10"),
        ReturnsPage([{"no": "id"}], 2, None),  # unreadable: reported, the page goes on
    ]
    world.run("returns")
    first, second = [r[1] for r in world.walmart.requests if r[0] == "returns"]
    assert first == {
        "limit": 200,
        "returnCreationStartDate": "2026-01-01T00:00:00.000Z",  # the start date (within the 180 days)
        "returnLastModifiedStartDate": "2026-01-01T00:00:00.000Z",  # first run: the whole history
        "returnLastModifiedEndDate": "2026-03-01T12:00:00.000Z",
    }
    assert second == "?sellerId=151&limit=10&offset=10"  # verbatim
    stored = world.returns.of_orders(TENANT, world.record.id, ["4790210558890"])["4790210558890"]
    assert [r.return_order_id for r in stored] == ["103738048909818825"]
    assert world.returned == [["103738048909818825"]]
    job = world.job("returns")
    assert (job.status, job.records) == ("succeeded", 1) and job.error
    assert world.runs.watermark(TENANT, world.record.id, "returns") == "2026-03-01T12:00:00.000Z"
    world.clock.now = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
    world.run("returns")
    latest = [r[1] for r in world.walmart.requests if r[0] == "returns"][-1]
    assert latest["returnLastModifiedStartDate"] == "2026-03-01T11:45:00.000Z"  # the watermark less 15 minutes

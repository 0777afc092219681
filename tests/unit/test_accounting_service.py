"""AccountingService's evaluation on in-memory stores: what an order posts, once, and what waits (held lines,
concurrent evaluations, open batches, the outbox). Amounts are computed by hand from the rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.unit.fakes import (
    Clock,
    FakeCatalog,
    FakeEvents,
    FakeInstances,
    FakePostings,
    FakeQueues,
    FakeReference,
    FakeSynced,
)
from walmart_integration.config import Settings
from walmart_integration.errors import RetryLater
from walmart_integration.models.instance import ACCOUNTS, InstanceRecord
from walmart_integration.models.marketplace import order_from_walmart
from walmart_integration.models.messages import AccountingJob
from walmart_integration.services.accounting import ATTEMPTS, AccountingService
from walmart_integration.worker import Delivery

TENANT, INSTANCE = "t1", "i1"
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
SHIPPED = NOW - timedelta(hours=3)
# every account's nominal code, ids 1-15 in ACCOUNTS' order (sales 4000, cogs 5000, ..., reserves 1150)
CODE_NUMBERS = ("4000", "5000", "4010", "4020", "4030", "1100", "1000", "6100", "6110", "2200", "1200", "2100")
CODES = dict(enumerate((*CODE_NUMBERS, "6120", "6900", "1150"), start=1))
ALL_CODES = {f"{account}_nominal_code_id": number for number, account in enumerate(ACCOUNTS, start=1)}
PROFORMA = {"proforma_marketplace_cost_percentage": 15, "proforma_payment_cost_percentage": 2.9}


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def walmart_order(po: str, status: str, charges: list[tuple[str, str, str]], at: datetime = SHIPPED) -> dict[str, Any]:
    """One line of sku SKU-1, quantity 2, in Walmart's shape; ``charges``: (type, amount, tax)."""
    return {
        "purchaseOrderId": po,
        "customerOrderId": f"C{po}",
        "orderDate": ms(at - timedelta(days=1)),
        "orderLines": {
            "orderLine": [
                {
                    "lineNumber": "1",
                    "item": {"productName": "Product", "sku": "SKU-1"},
                    "charges": {
                        "charge": [
                            {
                                "chargeType": kind,
                                "chargeName": "ItemPrice" if kind == "PRODUCT" else "Shipping",
                                "chargeAmount": {"currency": "USD", "amount": Decimal(amount)},
                                "tax": {"taxName": "Tax1", "taxAmount": {"currency": "USD", "amount": Decimal(tax)}},
                            }
                            for kind, amount, tax in charges
                        ]
                    },
                    "orderLineQuantity": {"unitOfMeasurement": "EACH", "amount": "2"},
                    "statusDate": ms(at),
                    "orderLineStatuses": {
                        "orderLineStatus": [
                            {"status": status, "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "2"}}
                        ]
                    },
                }
            ]
        },
    }


class World:
    def __init__(self, **settings: Any) -> None:
        self.instances = FakeInstances()
        self.synced = FakeSynced()
        self.catalog = FakeCatalog()
        self.postings = FakePostings()
        self.queues = FakeQueues()
        self.events = FakeEvents()
        self.clock = Clock(NOW)
        self.service = AccountingService(
            Settings.model_validate({"accounting_queue_url": "q/accounting"}),
            self.instances,
            self.synced,
            self.catalog,
            FakeReference(codes={TENANT: CODES}),
            self.postings,
            self.queues,
            self.events,
            clock=self.clock,
        )
        self.instances.create(
            InstanceRecord(
                tenant_id=TENANT,
                id=INSTANCE,
                name="main",
                integration_id=1,
                environment="sandbox",
                integration_settings={"start_date": "2026-01-01", "store_id": 1, **settings},
                created_at=NOW,
                updated_at=NOW,
            )
        )
        self.catalog.add(TENANT, "SKU-1", "6.50")

    def sync(self, raw: dict[str, Any]) -> None:
        self.synced.upsert_changed(TENANT, INSTANCE, "order", [order_from_walmart(raw)], NOW.isoformat())
        self.evaluate(raw["purchaseOrderId"])

    def evaluate(self, *pos: str, release: bool = False) -> None:
        job = AccountingJob(tenant_id=TENANT, instance_id=INSTANCE, purchase_order_ids=list(pos), release=release)
        self.service.evaluate(job, Delivery(1, 5))

    def documents(self, doc_type: str | None = None) -> list[dict[str, Any]]:
        found = self.service.documents(TENANT, INSTANCE, 100, None, doc_type, None, None)[0]
        return [document.model_dump() for document in found]

    def holds(self) -> list[dict[str, Any]]:
        return [hold.model_dump() for hold in self.service.holds(TENANT, INSTANCE)]

    def set(self, **settings: Any) -> None:
        record = self.instances.get(TENANT, INSTANCE)
        self.instances.update(record, {"integration_settings": {**record.integration_settings, **settings}})


def postings(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted((line["account"], line["debit"], line["credit"]) for line in document["lines"])


SIMPLE = [("PRODUCT", "20.00", "1.60")]
# product 20.00, tax 1.60, receivable 21.60; fees on the sales price 20.00 (tax excluded): marketplace 15% = 3.00,
# payment 2.9% = 0.58; the cost of goods sold, 6.50 x 2 = 13.00, is a document of its own
SIMPLE_INVOICE = sorted(
    [
        ("accounts_receivable", "21.60", "0.00"),
        ("sales", "0.00", "20.00"),
        ("facilitator_tax", "0.00", "1.60"),
        ("marketplace_fees", "3.00", "0.00"),
        ("accrued_costs", "0.00", "3.00"),
        ("payment_fees", "0.58", "0.00"),
        ("accrued_costs", "0.00", "0.58"),
    ]
)
SIMPLE_COGS = sorted([("cogs", "13.00", "0.00"), ("inventory", "0.00", "13.00")])


def test_a_shipped_line_is_invoiced_once_and_published_once() -> None:
    world = World(**ALL_CODES, **PROFORMA)
    world.sync(walmart_order("P1", "Shipped", SIMPLE))
    [invoice] = world.documents("invoice")
    [cost] = world.documents("cogs")
    assert (invoice["type"], invoice["reason"], invoice["period"], invoice["status"]) == (
        "invoice",
        "sale",
        "immediate",
        "issued",
    )
    assert postings(invoice) == SIMPLE_INVOICE
    assert invoice["totals"] == {"debit": "25.18", "credit": "25.18", "gross": "21.60", "tax": "1.60", "net": "20.00"}
    assert (cost["reason"], postings(cost)) == ("sale", SIMPLE_COGS)
    assert cost["totals"] == {"debit": "13.00", "credit": "13.00", "gross": "0.00", "tax": "0.00", "net": "0.00"}
    world.sync(walmart_order("P1", "Shipped", SIMPLE))  # synced again
    world.evaluate("P1", "P1")  # and delivered twice
    assert sorted(d["id"] for d in world.documents()) == sorted([invoice["id"], cost["id"]])
    assert sorted((t, d["id"], d["tenant_id"]) for _, t, d in world.events.published) == sorted(
        [("SalesInvoiceIssued", invoice["id"], TENANT), ("CostOfGoodsSoldPosted", cost["id"], TENANT)]
    )


def test_a_cancellation_after_invoicing_credits_what_was_invoiced() -> None:
    world = World(**ALL_CODES)
    charges = [("PRODUCT", "40.00", "3.20"), ("SHIPPING", "6.00", "0.48")]
    world.sync(walmart_order("P2", "Shipped", charges))
    world.clock.advance(hours=1)
    world.sync(walmart_order("P2", "Cancelled", charges, at=NOW))
    [invoice] = world.documents("invoice")
    [credit] = world.documents("credit")
    assert (credit["type"], credit["reason"]) == ("credit", "cancellation")
    # tax 3.20 + 0.48 = 3.68; receivable 40.00 + 6.00 + 3.68 = 49.68
    assert postings(credit) == sorted(
        [
            ("sales_returns_allowances", "40.00", "0.00"),
            ("shipping_refund", "6.00", "0.00"),
            ("facilitator_tax", "3.68", "0.00"),
            ("accounts_receivable", "0.00", "49.68"),
        ]
    )
    assert invoice["totals"]["gross"] == credit["totals"]["gross"] == "49.68"


def test_a_line_cancelled_before_it_shipped_posts_nothing() -> None:
    world = World(**ALL_CODES)
    world.sync(walmart_order("P3", "Created", SIMPLE))
    world.sync(walmart_order("P3", "Cancelled", SIMPLE))
    assert world.documents() == [] and world.holds() == []


def test_a_missing_code_holds_the_line_until_the_setting_is_fixed() -> None:
    world = World(**{**ALL_CODES, "sales_nominal_code_id": None})
    world.sync(walmart_order("P4", "Shipped", SIMPLE))
    assert [d["type"] for d in world.documents()] == ["cogs"]  # the cost does not wait on the revenue
    [hold] = world.holds()
    assert (hold["purchase_order_id"], hold["line_number"], hold["type"]) == ("P4", "1", "invoice")
    assert hold["reason"] == "No sales nominal code is set on the instance (or it no longer exists)."
    world.clock.advance(minutes=5)
    world.evaluate("P4")  # evaluated again without the fix: still held, since when it was first held
    assert world.holds() == [hold]
    world.set(sales_nominal_code_id=1)
    world.evaluate(release=True)  # what a PATCH of the accounting settings queues
    [invoice] = world.documents("invoice")
    assert ("sales", "0.00", "20.00") in postings(invoice)
    assert world.holds() == []


def test_a_product_without_cost_is_held_with_its_sku() -> None:
    world = World(**ALL_CODES)
    world.catalog.products[TENANT]["SKU-1"].cost = None
    world.sync(walmart_order("P5", "Shipped", SIMPLE))
    assert [(h["type"], h["reason"]) for h in world.holds()] == [
        ("cogs", "Product SKU-1 has no cost: set it with PATCH /api/products/{id}.")
    ]
    [invoice] = world.documents()  # revenue never waits on the cost
    assert postings(invoice) == sorted(
        [("accounts_receivable", "21.60", "0.00"), ("sales", "0.00", "20.00"), ("facilitator_tax", "0.00", "1.60")]
    )
    world.catalog.products[TENANT]["SKU-1"].cost = Decimal("6.50")
    world.evaluate("P5")
    assert [d["type"] for d in world.documents()] == ["invoice", "cogs"] and world.holds() == []
    assert postings(world.documents("cogs")[0]) == SIMPLE_COGS
    world.evaluate("P5")
    assert len(world.documents()) == 2


def test_an_evaluation_that_lost_a_race_reads_again_and_posts_nothing_twice() -> None:
    world = World(**ALL_CODES)
    world.synced.upsert_changed(
        TENANT, INSTANCE, "order", [order_from_walmart(walmart_order("P6", "Shipped", SIMPLE))], ""
    )
    raced: list[bool] = []

    def concurrent_evaluation() -> None:  # another worker evaluates the same order between our read and our write
        if not raced:
            raced.append(True)
            world.evaluate("P6")

    world.postings.interfere = concurrent_evaluation
    world.evaluate("P6")
    assert [d["type"] for d in world.documents()] == ["invoice", "cogs"]
    assert world.postings.commits == 1


def test_endless_conflicts_defer_the_job() -> None:
    world = World(**ALL_CODES)
    world.synced.upsert_changed(
        TENANT, INSTANCE, "order", [order_from_walmart(walmart_order("P7", "Shipped", SIMPLE))], ""
    )
    tries: list[bool] = []

    def someone_else_posts() -> None:
        tries.append(True)
        key = (TENANT, INSTANCE, "P7")
        current = world.postings.postings_by_po.get(key) or {"version": 0}
        world.postings.postings_by_po[key] = {**current, "version": int(current["version"]) + 1}

    world.postings.interfere = someone_else_posts
    with pytest.raises(RetryLater, match="changed concurrently"):
        world.evaluate("P7")
    assert len(tries) == ATTEMPTS and world.documents() == []


def test_a_daily_batch_stays_open_until_its_day_ends_then_is_issued_and_published() -> None:
    world = World(**ALL_CODES, batch_period_sales_order_fulfillments="daily")
    world.sync(walmart_order("P8", "Shipped", SIMPLE))
    world.sync(walmart_order("P9", "Shipped", SIMPLE, at=SHIPPED + timedelta(hours=1)))
    [batch] = world.documents("invoice")
    assert (batch["period"], batch["period_key"], batch["status"]) == ("daily", "2026-03-10", "open")
    assert batch["purchase_order_ids"] == ["P8", "P9"]
    assert world.service.close_batches() == 0 and world.events.published == []
    world.clock.advance(hours=10)  # 01:00 the next day
    assert world.service.close_batches() == 2  # the day's invoice and cost of goods sold
    [issued] = world.documents("invoice")
    assert issued["status"] == "issued" and issued["totals"]["gross"] == "43.20"
    assert sorted(t for _, t, _ in world.events.published) == ["CostOfGoodsSoldPosted", "SalesInvoiceIssued"]
    assert world.service.close_batches() == 0 and len(world.events.published) == 2


def test_only_orders_that_may_owe_a_document_are_queued_in_batches_of_a_hundred() -> None:
    world = World(**ALL_CODES)
    orders = [{"purchase_order_id": f"P{n}", "lines": [{"status": "Shipped"}]} for n in range(150)]
    orders.append({"purchase_order_id": "created", "lines": [{"status": "Created"}]})
    orders.append({"purchase_order_id": "refunded", "lines": [{"status": "Created", "refund": {"amount": "1"}}]})
    world.service.orders_stored(TENANT, INSTANCE, {}, orders)
    batches = [body["purchase_order_ids"] for body in world.queues.bodies("q/accounting")]
    assert [len(b) for b in batches] == [100, 51]
    assert "created" not in batches[1] and batches[1][-1] == "refunded"
    world.service.orders_stored(
        TENANT,
        INSTANCE,
        {"sync_sales_order_invoices_to_accounting": False, "sync_sales_credit_to_accounting": False},
        orders,
    )
    assert len(world.queues.sent) == 2

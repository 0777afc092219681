"""MarketplaceSync's planning and page bookkeeping on in-memory stores: which units a run has, which windows a
backfill asks Walmart for, when a window is split, and when a run is complete."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.unit.fakes import (
    Clock,
    FakeCatalog,
    FakeInstances,
    FakeQueues,
    FakeRuns,
    FakeSynced,
    FakeWalmartCalls,
    connected_instance,
)
from walmart_integration.config import Settings
from walmart_integration.models.common import new_id
from walmart_integration.models.instance import Job
from walmart_integration.models.messages import BackfillJob, SyncJob
from walmart_integration.services.marketplace_sync import MarketplaceSync
from walmart_integration.walmart.marketplace import OrdersPage
from walmart_integration.worker import Delivery

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TENANT = "t1"
TYPES = ["SellerFulfilled", "WFSFulfilled", "3PLFulfilled"]
# Walmart's own example answer of GET /v3/orders (docs/walmart: marketplace__order-management, getAllOrders).
EXAMPLE = json.loads(
    (Path(__file__).parents[2] / "docs" / "walmart" / "examples" / "GET_v3_orders__200__example.json").read_text()
)


class World:
    def __init__(self, **settings: Any) -> None:
        self.settings = Settings.model_validate(
            {"sync_queue_url": "q/sync", "backfill_queue_url": "q/backfill", **settings}
        )
        self.instances = FakeInstances()
        self.runs = FakeRuns()
        self.synced = FakeSynced()
        self.queues = FakeQueues()
        self.walmart = FakeWalmartCalls()
        self.clock = Clock(NOW)
        self.stored: list[tuple[str, list[str]]] = []
        self.sync = MarketplaceSync(
            self.settings,
            self.instances,
            self.runs,
            self.synced,
            FakeCatalog(),
            self.walmart,
            self.queues,
            lambda key, work, context: work(),  # the claim of a worker that died has lapsed: the work runs again
            clock=self.clock,
            orders_stored=lambda t, i, s, orders: self.stored.append((i, [o["purchase_order_id"] for o in orders])),
        )
        self.record = connected_instance(TENANT, NOW, ("products", "orders", "backfill"))
        self.instances.create(self.record)
        self.run_id = new_id()

    def ids(self) -> dict[str, Any]:
        return {"tenant_id": TENANT, "instance_id": self.record.id, "run_id": self.run_id, "credentials_version": 3}

    def orders_run(self, **fields: Any) -> None:
        self.sync.sync(SyncJob.model_validate({**self.ids(), "stream": "orders", **fields}), Delivery(1, 5))

    def backfill_run(self, **fields: Any) -> None:
        self.sync.backfill(BackfillJob.model_validate({**self.ids(), **fields}), Delivery(1, 5))

    def job(self, stream: str) -> Job:
        return self.instances.get(TENANT, self.record.id).jobs[stream]


def test_an_orders_run_is_one_pass_per_ship_node_type_since_the_watermark_less_the_overlap() -> None:
    world = World()
    world.runs.advance_watermark(TENANT, world.record.id, "orders", "2026-02-28T09:30:00.000Z")
    world.orders_run()
    passes = world.queues.bodies("q/sync")
    assert [p["unit"] for p in passes] == [p["ship_node_type"] for p in passes] == TYPES
    assert {(p["window_start"], p["window_end"], p["created_from"]) for p in passes} == {
        ("2026-02-28T09:15:00.000Z", "2026-03-01T12:00:00.000Z", "2025-09-02T13:00:00.000Z")  # 180 days less an hour
    }
    assert world.runs.get(TENANT, world.record.id, "orders", world.run_id).units == dict.fromkeys(TYPES, "pending")
    assert (world.job("orders").status, world.job("orders").run_id) == ("running", world.run_id)


def test_a_first_orders_run_looks_one_day_back() -> None:
    world = World(incremental_overlap_minutes=0)
    world.orders_run()
    assert {p["window_start"] for p in world.queues.bodies("q/sync")} == {"2026-02-28T12:00:00.000Z"}


def test_a_backfill_is_consecutive_windows_per_type_from_the_start_date() -> None:
    world = World()
    world.backfill_run()
    windows = [(w["ship_node_type"], w["window_start"], w["window_end"]) for w in world.queues.bodies("q/backfill")]
    bounds = [
        ("2026-01-01T00:00:00.000Z", "2026-01-15T23:59:59.999Z"),
        ("2026-01-16T00:00:00.000Z", "2026-01-30T23:59:59.999Z"),
        ("2026-01-31T00:00:00.000Z", "2026-02-14T23:59:59.999Z"),
        ("2026-02-15T00:00:00.000Z", "2026-03-01T12:00:00.000Z"),
    ]
    assert windows == [(kind, start, end) for kind in TYPES for start, end in bounds]
    assert world.instances.get(TENANT, world.record.id).effective_start_date == "2026-01-01"


def test_a_start_date_beyond_walmarts_180_days_is_clamped_and_shown() -> None:
    world = World(backfill_window_days=365)
    world.record = world.instances.get(TENANT, world.record.id)
    world.instances.records[(TENANT, world.record.id)] = world.record.model_copy(
        update={"integration_settings": {"start_date": "2024-06-01", "store_id": 1}}
    )
    world.backfill_run()
    assert {w["window_start"] for w in world.queues.bodies("q/backfill")} == {"2025-09-02T13:00:00.000Z"}
    assert world.instances.get(TENANT, world.record.id).effective_start_date == "2025-09-02"


def test_a_plan_made_again_after_a_worker_died_registers_the_same_units() -> None:
    world = World()
    world.backfill_run()
    first = world.queues.bodies("q/backfill")
    world.clock.advance(minutes=5)  # the redelivery comes later; the run's windows must not move with the clock
    world.backfill_run()
    again = world.queues.bodies("q/backfill")[len(first) :]
    assert again == first
    units = world.runs.get(TENANT, world.record.id, "backfill", world.run_id).units
    assert sorted(units) == sorted(w["unit"] for w in first) and set(units.values()) == {"pending"}


def test_work_of_other_credentials_or_refused_credentials_is_dropped() -> None:
    world = World()
    world.sync.sync(
        SyncJob.model_validate({**world.ids(), "credentials_version": 2, "stream": "orders"}), Delivery(1, 5)
    )
    world.instances.save_progress(TENANT, world.record.id, 3, {}, status="credentials_invalid")
    world.orders_run()
    assert world.queues.sent == [] and world.runs.runs == {}


def test_a_window_holding_more_than_walmart_serves_is_split_in_two() -> None:
    world = World(orders_max_per_query=10)
    world.backfill_run()
    window = world.queues.bodies("q/backfill")[0]
    world.walmart.orders = [OrdersPage([], total_count=25, next_cursor="more")]
    world.backfill_run(**{k: window[k] for k in ("unit", "ship_node_type", "window_start", "window_end")})
    halves = world.queues.bodies("q/backfill")[-2:]
    assert [(h["window_start"], h["window_end"]) for h in halves] == [
        ("2026-01-01T00:00:00.000Z", "2026-01-08T11:59:58.999Z"),  # halved at a whole second, neither overlapping
        ("2026-01-08T11:59:59.000Z", "2026-01-15T23:59:59.999Z"),  # nor leaving a gap (Walmart's bounds: inclusive)
    ]
    units = world.runs.get(TENANT, world.record.id, "backfill", world.run_id).units
    assert units[window["unit"]] == "split"
    assert [units[h["unit"]] for h in halves] == ["pending", "pending"]
    assert world.synced.records == {}  # nothing of the oversized page was stored


def test_the_last_page_of_every_pass_completes_the_run_and_moves_the_watermark() -> None:
    world = World()
    orders = EXAMPLE["list"]["elements"]["order"]
    numbers = [str(o.get("purchaseOrderId") or o["order"]["purchaseOrderId"]) for o in orders]  # (one is wrapped)
    world.orders_run()
    passes = world.queues.bodies("q/sync")
    world.walmart.orders = [OrdersPage(orders[:6], 6, "page-2"), OrdersPage(orders[6:], 5, None)]
    world.orders_run(
        **{k: passes[0][k] for k in ("unit", "ship_node_type", "window_start", "window_end", "created_from")}
    )
    following = world.queues.bodies("q/sync")[-1]
    assert (following["page"], following["cursor"]) == (1, "page-2")
    assert world.job("orders").status == "running"
    world.orders_run(**{k: following[k] for k in ("unit", "page", "cursor", "ship_node_type", "window_end")})
    for other in passes[1:]:
        world.orders_run(
            **{k: other[k] for k in ("unit", "ship_node_type", "window_start", "window_end", "created_from")}
        )
    job = world.job("orders")
    assert (job.status, job.records, job.run_id) == ("succeeded", len(orders), world.run_id)
    assert world.runs.watermark(TENANT, world.record.id, "orders") == "2026-03-01T12:00:00.000Z"
    assert world.synced.count(TENANT, world.record.id, "order") == len(set(numbers))
    assert [pos for _, pos in world.stored] == [numbers[:6], numbers[6:]]  # each stored page goes to accounting
    assert world.walmart.requests[0] == (
        "orders",
        {
            "limit": 200,
            "shipNodeType": "SellerFulfilled",
            "replacementInfo": "true",  # issue #12: replacement orders too (order-management spec, getAllOrders)
            "createdStartDate": "2025-09-02T13:00:00.000Z",
            "lastModifiedStartDate": passes[0]["window_start"],
        },
    )
    assert world.walmart.requests[1] == ("orders", "page-2")

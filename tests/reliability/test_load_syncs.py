"""Load, part 2, on a stack of this module's own: ``SELLERS`` sellers sync at once against the one emulator while
readers read instances and orders.

Each seller's orders budget is ``ORDERS_PER_MINUTE`` calls (Walmart's is 5,000), for the emulator and for the
service alike (the ``WalmartRateLimits`` template parameter through LOCAL_PARAMETERS), and a sync of
``HISTORY_DAYS`` takes more order calls than the bucket holds, so it has to wait for the bucket to refill. Every
sync must complete with the emulator's records, no seller may see a 429, and no seller's calls may exceed its token
bucket: in any stretch of ``t`` seconds an endpoint of a seller takes at most ``limit + limit / 60 * t`` calls (the
bucket starts full and refills at the limit per minute). ``max_rate_vs_limit`` is the highest share of that bound any
stretch of calls used, and ``sellers_at_their_orders_limit`` counts the sellers whose orders calls came within 10 %
of it.
"""

from __future__ import annotations

import json
import shlex
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import RunningStack
from tests.e2e.test_marketplace_sync import STREAMS, read_all, settled
from tests.reliability.conftest import Figures, instance_body, scale
from tests.reliability.load import Readers, add_sellers, client, create_at_once, percentile, wait_until, walmart_side

pytestmark = pytest.mark.e2e

SELLERS = scale(4, 20)
ORDERS_PER_MINUTE = 8  # per seller, emulator and service alike (Walmart: 5,000)
HISTORY_DAYS = 30  # a syncing seller's history: 2 backfill windows of 15 days per ship-node type
ITEMS_PER_MINUTE = 60  # Walmart's published GET /v3/items budget, which the service assumes by default
# The emulator's buckets (local/emulator/ratelimit.py) and the service's budget names for them.
EMULATOR_LIMITS = {"GET /v3/orders": ORDERS_PER_MINUTE, "GET /v3/items?query": ITEMS_PER_MINUTE}
SERVICE_LIMITS = {"orders": ORDERS_PER_MINUTE, "items": ITEMS_PER_MINUTE}
STACK_ENV = {"LOCAL_PARAMETERS": f"WalmartRateLimits={shlex.quote(json.dumps(SERVICE_LIMITS))}"}
SETTLE_TIMEOUT = scale(240, 420)


@pytest.fixture(scope="module")
def stack(module_stack: RunningStack) -> Iterator[RunningStack]:
    with module_stack.emulator() as emulator:
        knobs = emulator.post("/__emulator/faults", json={"rate_limits": EMULATOR_LIMITS})
        assert knobs.status_code == 200, knobs.text
    yield module_stack


def test_many_sellers_syncing_at_once_within_their_limits(stack: RunningStack, figures: Figures):
    run = uuid.uuid4().hex[:8]
    sellers = add_sellers(stack, SELLERS, item_count=12, order_count=24, order_days=HISTORY_DAYS - 5)
    history_start = (datetime.now(UTC) - timedelta(days=HISTORY_DAYS)).date().isoformat()
    bodies = [
        instance_body(f"sync {run} {n}", seller["client_id"], seller["client_secret"], history_start)
        for n, seller in enumerate(sellers)
    ]
    began = time.monotonic()
    syncing: list[str] = []

    def sync_reads(n: int) -> str:  # the instances, one of them, a page of its orders
        if not syncing:
            return "/api/walmart?limit=50"
        instance = syncing[n % len(syncing)]
        return ("/api/walmart?limit=50", f"/api/walmart/{instance}", f"/api/walmart/{instance}/orders?limit=50")[n % 3]

    with Readers(stack, sync_reads) as readers:
        created = create_at_once(stack, bodies)
        assert Counter(status for status, _, _ in created) == {201: SELLERS}, created
        syncing += [body["data"]["id"] for _, body, _ in created]

        def all_settled() -> tuple[bool, Any]:
            with client(stack) as api:
                views = [api.get(f"/api/walmart/{i}").json()["data"] for i in syncing]
            if all(settled(view) for view in views):
                return True, views
            return False, [{n: (v["jobs"][n]["status"], v["jobs"][n]["records"]) for n in STREAMS} for v in views]

        views = wait_until(all_settled, SETTLE_TIMEOUT, "every sync settled")
    sync_seconds = time.monotonic() - began
    assert not readers.failures, readers.failures[:5]
    sync_read_latencies = list(readers.latencies)

    completed = 0
    problems: list[str] = []
    with stack.emulator() as emulator:
        for seller, view in zip(sellers, views, strict=True):
            expected_orders = emulator.get(f"/__emulator/sellers/{seller['seller_id']}/orders", params={"limit": 0})
            expected_items = emulator.get(f"/__emulator/sellers/{seller['seller_id']}/items", params={"limit": 0})
            orders = read_all(stack, f"/api/walmart/{view['id']}/orders")
            products = read_all(stack, f"/api/walmart/{view['id']}/products")
            jobs = {name: view["jobs"][name]["status"] for name in STREAMS}
            counts = (len(orders), len(products))
            wanted = (expected_orders.json()["count"], expected_items.json()["count"])
            if set(jobs.values()) == {"succeeded"} and counts == wanted:
                completed += 1
            else:
                problems.append(f"seller {seller['seller_id']}: jobs {jobs}, orders/products {counts} of {wanted}")

    # Walmart's side: per-seller limits.
    syncing_sellers = {seller["seller_id"] for seller in sellers}
    walmart = walmart_side(stack, syncing_sellers, EMULATOR_LIMITS)
    orders_calls = [len(walmart["by_bucket"][(s, "GET /v3/orders")]) for s in syncing_sellers]
    bound = [s for s in syncing_sellers if walmart["usage"][(s, "GET /v3/orders")] > 0.9]

    figures.record(
        "load_syncs",
        sellers_syncing=SELLERS,
        syncs_completed=completed,
        sync_wall_seconds=round(sync_seconds, 1),
        sync_read_p50_ms=percentile(sync_read_latencies, 0.50),
        sync_read_p99_ms=percentile(sync_read_latencies, 0.99),
        reads_during_syncs=len(sync_read_latencies),
        orders_limit_per_minute=ORDERS_PER_MINUTE,
        orders_calls_per_seller=[min(orders_calls), max(orders_calls)],
        sellers_at_their_orders_limit=len(bound),
        walmart_429s=len(walmart["throttled"]),
        max_rate_vs_limit=round(walmart["worst"], 3),
    )
    assert not problems, problems
    assert completed == SELLERS
    assert not walmart["throttled"], walmart["throttled"][:5]
    assert walmart["worst"] <= 1.0, sorted(walmart["usage"].items(), key=lambda item: -item[1])[:5]
    # The limit really bound: every syncing seller made more orders calls than its bucket holds.
    assert min(orders_calls) > ORDERS_PER_MINUTE, orders_calls

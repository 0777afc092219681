"""Load, part 1, on the session's stack (``module_stack`` without ``STACK_ENV``): ``INSTANCES`` instances (each
with a tiny seller of its own) are created at the same moment while readers list the instances. Every create is a
201 with a distinct id, every instance is listed exactly once and connects, and none of those sellers meets a Walmart
429. The API's latency is measured per request (``time.perf_counter``) for the creates, the reads and the deletes:
each instance is deleted once seen connected, as a user cleaning up would, while the rest are still connecting.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import RunningStack
from tests.e2e.test_marketplace_sync import read_all
from tests.reliability.conftest import Figures, instance_body, scale
from tests.reliability.load import (
    Readers,
    add_sellers,
    create_at_once,
    delete_all,
    percentile,
    wait_until,
    walmart_side,
)

pytestmark = pytest.mark.e2e

INSTANCES = scale(40, 200)
SETTLE_TIMEOUT = scale(240, 420)
WALMART_LIMITS = {"GET /v3/orders": 5000, "GET /v3/items?query": 60}  # Walmart's published per-minute budgets


def test_many_instances_created_at_once(module_stack: RunningStack, figures: Figures):
    stack = module_stack
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    tiny = add_sellers(stack, INSTANCES, item_count=2, order_count=2, order_days=1)
    run = uuid.uuid4().hex[:8]
    bodies = [
        instance_body(f"load {run} {n}", seller["client_id"], seller["client_secret"], yesterday)
        for n, seller in enumerate(tiny)
    ]
    began = time.monotonic()
    with Readers(stack, lambda n: "/api/walmart?limit=50") as readers:
        results = create_at_once(stack, bodies)
    create_seconds = time.monotonic() - began
    statuses = Counter(status for status, _, _ in results)
    assert statuses == {201: INSTANCES}, (statuses, [r for r in results if r[0] != 201][:3])
    ids = [body["data"]["id"] for _, body, _ in results]
    assert len(set(ids)) == INSTANCES
    assert not readers.failures, readers.failures[:5]
    create_latencies = [seconds for _, _, seconds in results]
    read_latencies = list(readers.latencies)

    listed = Counter(i["id"] for i in read_all(stack, "/api/walmart"))
    assert all(listed[i] == 1 for i in ids), {i: listed[i] for i in ids if listed[i] != 1}

    waiting, deleted = set(ids), []

    def all_connected() -> tuple[bool, Any]:
        views = [i for i in read_all(stack, "/api/walmart") if i["id"] in waiting]
        connected = [i["id"] for i in views if i["status"] == "connected"]
        deleted.extend(delete_all(stack, connected))
        waiting.difference_update(connected)
        return not waiting, Counter(i["status"] for i in views)

    wait_until(all_connected, SETTLE_TIMEOUT, "every instance connected")
    connect_seconds = time.monotonic() - began
    assert Counter(status for status, _ in deleted) == {204: INSTANCES}, Counter(status for status, _ in deleted)
    assert not {i["id"] for i in read_all(stack, "/api/walmart")} & set(ids)
    delete_latencies = [seconds for _, seconds in deleted]
    walmart = walmart_side(stack, {seller["seller_id"] for seller in tiny}, WALMART_LIMITS)

    figures.record(
        "load_creates",
        instances_created=INSTANCES,
        create_p50_ms=percentile(create_latencies, 0.50),
        create_p95_ms=percentile(create_latencies, 0.95),
        create_p99_ms=percentile(create_latencies, 0.99),
        read_p99_ms=percentile(read_latencies, 0.99),
        delete_p99_ms=percentile(delete_latencies, 0.99),
        reads_during_creates=len(read_latencies),
        create_wall_seconds=round(create_seconds, 1),
        connected_wall_seconds=round(connect_seconds, 1),
        walmart_429s=len(walmart["throttled"]),
    )
    assert not walmart["throttled"], walmart["throttled"][:5]

"""Load against a stack of this module's own: many instances created at once, then many sellers syncing at once
against the one emulator with per-seller limits small enough to bind.

1. ``INSTANCES`` instances (each with a tiny seller of its own) are created at the same moment while readers list
   the instances: every create is a 201 with a distinct id, every instance is listed exactly once and connects.
   The API's latency is measured per request (``time.perf_counter``) for the creates and for the reads. Each is
   deleted once seen connected, so that its syncs do not run on under the next part.
2. ``SELLERS`` sellers sync at once while readers read instances and orders. Their orders budget is
   ``ORDERS_PER_MINUTE`` calls (Walmart's is 5,000), for the emulator and for the service alike (the
   ``WalmartRateLimits`` template parameter through LOCAL_PARAMETERS), and a sync of ``HISTORY_DAYS`` takes more
   order calls than the bucket holds, so it has to wait for the bucket to refill. Every sync must complete with the
   emulator's records, no seller may see a 429, and no seller's calls may exceed its token bucket: in any stretch
   of ``t`` seconds an endpoint of a seller takes at most ``limit + limit / 60 * t`` calls (the bucket starts full
   and refills at the limit per minute). ``max_rate_vs_limit`` is the highest share of that bound any stretch of
   calls used, and ``sellers_at_their_orders_limit`` counts the sellers whose orders calls came within 10 % of it.
"""

from __future__ import annotations

import json
import math
import shlex
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import RunningStack
from tests.e2e.test_marketplace_sync import STREAMS, read_all, settled
from tests.reliability.conftest import Figures, instance_body, scale

pytestmark = pytest.mark.e2e

INSTANCES = scale(40, 200)
SELLERS = scale(4, 20)
READERS = 4  # threads reading the API while it is under load
DELETERS = 8  # threads deleting the instances of part 1
ORDERS_PER_MINUTE = 8  # per seller, emulator and service alike (Walmart: 5,000)
HISTORY_DAYS = 30  # a syncing seller's history: 2 backfill windows of 15 days per ship-node type
ITEMS_PER_MINUTE = 60  # Walmart's published GET /v3/items budget, which the service assumes by default
# The emulator's buckets (local/emulator/ratelimit.py) and the service's budget names for them.
EMULATOR_LIMITS = {"GET /v3/orders": ORDERS_PER_MINUTE, "GET /v3/items?query": ITEMS_PER_MINUTE}
SERVICE_LIMITS = {"orders": ORDERS_PER_MINUTE, "items": ITEMS_PER_MINUTE}
STACK_ENV = {"LOCAL_PARAMETERS": f"WalmartRateLimits={shlex.quote(json.dumps(SERVICE_LIMITS))}"}
TIMEOUT = 300  # seconds one request may wait in the gateway's queue under this load (the local gateway has no 29 s cap)
SETTLE_TIMEOUT = scale(240, 420)


def percentile(samples: list[float], share: float) -> float:
    """Nearest-rank percentile, in milliseconds of seconds ``samples``."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(share * len(ordered)))
    return round(ordered[rank - 1] * 1000, 1)


def client(stack: RunningStack) -> httpx.Client:
    api = stack.client()
    api.timeout = httpx.Timeout(TIMEOUT)
    return api


def add_sellers(stack: RunningStack, count: int, **sizes: int) -> list[dict[str, Any]]:
    sellers = []
    with stack.emulator() as emulator:
        for _ in range(count):
            seller = {"client_id": f"load-{uuid.uuid4().hex[:10]}", "client_secret": "load-secret", **sizes}
            added = emulator.post("/__emulator/sellers", json=seller)
            assert added.status_code == 201, added.text
            sellers.append({**seller, "seller_id": added.json()["seller_id"]})
    return sellers


class Readers:
    """Threads reading the API (the instance list, one instance, its orders) until stopped, timing each read."""

    def __init__(self, stack: RunningStack, paths: Callable[[int], str]) -> None:
        self.stack = stack
        self.paths = paths
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._read, args=(n,)) for n in range(READERS)]
        self._lock = threading.Lock()

    def _read(self, number: int) -> None:
        with client(self.stack) as api:
            turn = number
            while not self._stop.is_set():
                path = self.paths(turn)
                turn += READERS
                started = time.perf_counter()
                try:
                    response = api.get(path)
                except httpx.HTTPError as error:
                    with self._lock:
                        self.failures.append(f"GET {path}: {error!r}")
                    continue
                elapsed = time.perf_counter() - started
                with self._lock:
                    self.latencies.append(elapsed)
                    if response.status_code != 200:
                        self.failures.append(f"GET {path}: {response.status_code} {response.text[:200]}")

    def __enter__(self) -> Readers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(TIMEOUT + 10)


def create_at_once(stack: RunningStack, bodies: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any], float]]:
    """POST every body at the same moment (a thread and client each): (status, response body, seconds)."""
    barrier = threading.Barrier(len(bodies))
    results: list[tuple[int, dict[str, Any], float] | BaseException | None] = [None] * len(bodies)

    def create(index: int) -> None:
        try:
            with client(stack) as api:
                barrier.wait(timeout=60)
                started = time.perf_counter()
                response = api.post("/api/walmart", json=bodies[index])
                results[index] = (response.status_code, response.json(), time.perf_counter() - started)
        except BaseException as error:
            results[index] = error

    threads = [threading.Thread(target=create, args=(index,)) for index in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT + 70)
    failed = [r for r in results if not isinstance(r, tuple)]
    assert not failed, f"{len(failed)} creates did not answer: {failed[:3]!r}"
    return [r for r in results if isinstance(r, tuple)]


def delete_all(stack: RunningStack, ids: list[str]) -> list[tuple[int, float]]:
    """DELETE every instance, ``DELETERS`` at a time: (status, seconds) each."""
    results: list[tuple[int, float]] = []
    lock = threading.Lock()
    pending = list(ids)

    def delete() -> None:
        with client(stack) as api:
            while True:
                with lock:
                    if not pending:
                        return
                    instance_id = pending.pop()
                started = time.perf_counter()
                status = api.delete(f"/api/walmart/{instance_id}").status_code
                with lock:
                    results.append((status, time.perf_counter() - started))

    threads = [threading.Thread(target=delete) for _ in range(DELETERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def wait_until(probe: Callable[[], tuple[bool, Any]], timeout: float, what: str) -> Any:
    """Poll ``probe`` (done, detail) every second until done; the detail goes into the failure message."""
    deadline = time.monotonic() + timeout
    while True:
        done, detail = probe()
        if done:
            return detail
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout} s: {json.dumps(detail, default=str)[:3000]}")
        time.sleep(1)


def bucket_of(call: dict[str, Any]) -> str:
    """The emulator's rate bucket of a logged call (GET /v3/items with a query string has a bucket of its own)."""
    if call["endpoint"] == "GET /v3/items" and call.get("query_string"):
        return "GET /v3/items?query"
    return str(call["endpoint"])


def bucket_usage(times: list[float], per_minute: float) -> float:
    """The highest share of the token-bucket bound (``limit + limit / 60 * t`` calls in ``t`` seconds) any run of
    consecutive calls used: above 1.0 the limit was exceeded."""
    times = sorted(times)
    worst = 0.0
    for first in range(len(times)):
        for last in range(first, len(times)):
            allowed = per_minute + per_minute / 60 * (times[last] - times[first])
            worst = max(worst, (last - first + 1) / allowed)
    return worst


@pytest.fixture(scope="module")
def stack(module_stack: RunningStack) -> Iterator[RunningStack]:
    with module_stack.emulator() as emulator:
        knobs = emulator.post("/__emulator/faults", json={"rate_limits": EMULATOR_LIMITS})
        assert knobs.status_code == 200, knobs.text
    yield module_stack


def test_many_instances_created_at_once_and_many_sellers_syncing_at_once(stack: RunningStack, figures: Figures):
    # -- 1. creates ------------------------------------------------------------------------------------------------
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

    # Each instance, once seen connected, goes (as a user would clean up): its queued syncs find it gone, and the
    # sellers below sync on a stack that is not still working through these.
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

    # -- 2. syncs ----------------------------------------------------------------------------------------------
    sellers = add_sellers(stack, SELLERS, item_count=30, order_count=40, order_days=HISTORY_DAYS - 5)
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
        calls = emulator.get("/__emulator/calls").json()["calls"]

    # -- 3. Walmart's side: per-seller limits --------------------------------------------------------------------
    ours = {seller["seller_id"] for seller in [*tiny, *sellers]}
    by_bucket: dict[tuple[str, str], list[float]] = defaultdict(list)
    throttled = 0
    for call in calls:
        if call["seller_id"] in ours:
            by_bucket[(call["seller_id"], bucket_of(call))].append(call["ts"])
            throttled += call["status"] == 429
    usage = {
        key: bucket_usage(times, EMULATOR_LIMITS[key[1]])
        for key, times in by_bucket.items()
        if key[1] in EMULATOR_LIMITS
    }
    syncing_sellers = {seller["seller_id"] for seller in sellers}
    orders_calls = [len(by_bucket[(s, "GET /v3/orders")]) for s in syncing_sellers]
    bound = [s for s in syncing_sellers if usage[(s, "GET /v3/orders")] > 0.9]
    worst = max(usage.values())

    figures.record(
        "load",
        instances_created=INSTANCES,
        create_p50_ms=percentile(create_latencies, 0.50),
        create_p95_ms=percentile(create_latencies, 0.95),
        create_p99_ms=percentile(create_latencies, 0.99),
        read_p99_ms=percentile(read_latencies, 0.99),
        delete_p99_ms=percentile(delete_latencies, 0.99),
        reads_during_creates=len(read_latencies),
        create_wall_seconds=round(create_seconds, 1),
        connected_wall_seconds=round(connect_seconds, 1),
        sellers_syncing=SELLERS,
        syncs_completed=completed,
        sync_wall_seconds=round(sync_seconds, 1),
        sync_read_p50_ms=percentile(sync_read_latencies, 0.50),
        sync_read_p99_ms=percentile(sync_read_latencies, 0.99),
        reads_during_syncs=len(sync_read_latencies),
        orders_limit_per_minute=ORDERS_PER_MINUTE,
        orders_calls_per_seller=[min(orders_calls), max(orders_calls)],
        sellers_at_their_orders_limit=len(bound),
        walmart_429s=throttled,
        max_rate_vs_limit=round(worst, 3),
    )
    assert not problems, problems
    assert completed == SELLERS
    assert throttled == 0, [c for c in calls if c["seller_id"] in ours and c["status"] == 429][:5]
    assert worst <= 1.0, sorted(usage.items(), key=lambda item: -item[1])[:5]
    # The limit really bound: every syncing seller made more orders calls than its bucket holds.
    assert min(orders_calls) > ORDERS_PER_MINUTE, orders_calls

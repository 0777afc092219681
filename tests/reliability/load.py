"""What the load tests share (``test_load_creates.py``, ``test_load_syncs.py``): many API calls at the same moment,
readers timing the API while it is under load, and Walmart's side of the load (the emulator's log of calls) measured
against per-seller token buckets.

Each load test is a file of its own, so pytest-xdist can run the two on different workers; the creates run on the
session's stack, the syncs on one with their rate limits (``module_stack``).
"""

from __future__ import annotations

import json
import math
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from tests.e2e.conftest import RunningStack

READERS = 4  # threads reading the API while it is under load
DELETERS = 8  # threads deleting instances
TIMEOUT = 300  # seconds one request may wait in the gateway's queue under this load (the local gateway has no 29 s cap)


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


def walmart_side(stack: RunningStack, seller_ids: set[str], limits: Mapping[str, float]) -> dict[str, Any]:
    """The emulator's calls of these sellers: per (seller, bucket) call times, the 429s they met, and the highest
    share of its token-bucket bound any seller's bucket of ``limits`` used."""
    with stack.emulator() as emulator:
        calls = emulator.get("/__emulator/calls").json()["calls"]
    by_bucket: dict[tuple[str, str], list[float]] = defaultdict(list)
    throttled = []
    for call in calls:
        if call["seller_id"] in seller_ids:
            by_bucket[(call["seller_id"], bucket_of(call))].append(call["ts"])
            if call["status"] == 429:
                throttled.append(call)
    usage = {key: bucket_usage(times, limits[key[1]]) for key, times in by_bucket.items() if key[1] in limits}
    return {"by_bucket": by_bucket, "throttled": throttled, "usage": usage, "worst": max(usage.values(), default=0.0)}

"""Whole catalogues (issue #12): a 50,000-listing seller synced completely, and a products run whose items cursor
expires mid-run, against the emulator with Walmart's behaviours on (docs/walmart/FACTS.md "Checked behaviours").

1. ``large``: ``GET /v3/items`` serves offsets up to 10,000, so a 50,000-listing catalogue is listed through
   Walmart's ITEM report (request, polls through SQS delays, a zipped CSV stored a page of rows at a time). Printed:
   listings stored against Walmart's, Walmart calls by endpoint, the local wall time (the emulator's report takes
   ``BENCH_REPORT_SECONDS``), and the time the same calls take at Walmart's published limits, computed: the report
   is ready after 15 to 45 minutes (page "On-request reports"), polled at our cadence (60 s x 1.5^n, at most
   300 s), and the calls fit the per-minute limits of FACTS.md's table (items 60/min; the reports API publishes none,
   our budget is 30/min).
2. ``expiring_cursor``: a catalogue paging can list (5,000 listings, pages of 200), whose cursor lives
   ``BENCH_CURSOR_TTL`` seconds (Walmart: 120); mid-run another tool of the seller spends Walmart's items bucket, a
   429 says Retry-After longer than the cursor lives, the page comes back with an expired cursor. Printed: listings
   stored against Walmart's, the 429s and the expired-cursor 400s met, how the run ended (listing started again, or
   the ITEM report), the calls made and the wall time.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from bench import QUIET, in_process_environment

LISTINGS = int(os.environ.get("BENCH_LISTINGS", "50000"))
REPORT_SECONDS = float(os.environ.get("BENCH_REPORT_SECONDS", "3"))  # Walmart: 15 to 45 minutes
ROWS_PER_PAGE = 5000
CURSOR_LISTINGS = int(os.environ.get("BENCH_CURSOR_LISTINGS", "5000"))
CURSOR_TTL = int(os.environ.get("BENCH_CURSOR_TTL", "30"))  # Walmart: 120 s
PAGE_SIZE = 200
ITEMS_PER_MINUTE = 60.0  # FACTS.md rate-limit table: GET /v3/items with query parameters
REPORTS_PER_MINUTE = 30.0  # not published: our budget (store/rate_limits.py)
POLL_INITIAL, POLL_GROWTH, POLL_MAX = 60.0, 1.5, 300.0  # config.py item_report_poll_* (defaults)


def _stack(env_overrides: dict[str, str], url: str) -> tuple[Any, Callable[..., Any]]:
    from local.harness import QUEUE_ENVIRONMENT, Harness, new_container
    from local.inprocess import provision
    from local.seed import seed_demo

    stack = provision({"WalmartSandboxUrl": url, "WalmartProductionUrl": url})
    env = {**stack.function_env("ApiFunction"), **env_overrides}
    env.pop("POWERTOOLS_SERVICE_NAME", None)
    os.environ.update({**env, **QUIET})
    new_container()
    seed_demo({**env, "AWS_DEFAULT_REGION": "us-east-1"})
    harness = Harness({**env, **{f"queue:{q}": stack.ref(q) for q in QUEUE_ENVIRONMENT}})
    return harness, harness.call


def _connect(harness: Any, seller: dict[str, str]) -> str:
    from local.harness import response_json

    body = {
        "name": f"bench {seller['seller_id']}",
        "integration_id": 1,
        "connection_settings": {"clientId": seller["client_id"], "clientSecret": seller["client_secret"]},
        "integration_settings": {
            "start_date": "2025-01-01",
            "store_id": 1,
            "auto_link_products": False,
            "auto_create_products": False,
        },
    }
    return str(response_json(harness.call("POST", "/api/walmart", body))["data"]["id"])


def _products(harness: Any, instance_id: str) -> tuple[dict[str, Any], set[str]]:
    """The products job as the API shows it, and the skus stored (read from the data table in a few large pages: the
    API's pages of 100 would cost the in-process moto a sort of the whole partition each)."""
    import boto3

    from local.harness import response_json
    from walmart_integration.store import keys

    table = harness.env["DATA_TABLE_NAME"]
    client = boto3.client("dynamodb", region_name="us-east-1")
    params: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {
            ":pk": {"S": keys.instance_data_pk("demo", instance_id)},
            ":prefix": {"S": keys.PRODUCT_PREFIX},
        },
        "ProjectionExpression": "sku",
    }
    skus: set[str] = set()
    while True:
        page = client.query(**params)
        skus |= {item["sku"]["S"] for item in page.get("Items", [])}
        if "LastEvaluatedKey" not in page:
            break
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    job = response_json(harness.call("GET", f"/api/walmart/{instance_id}"))["data"]["jobs"]["products"]
    return job, skus


def _calls(emulator: Any, seller_id: str) -> dict[str, int]:
    counted = Counter(f"{c.endpoint} {c.status}" for c in emulator.call_log if c.seller_id == seller_id)
    return dict(sorted(counted.items()))


def poll_finish_seconds(ready_after: float) -> tuple[float, int]:
    """When our polls (60 s x 1.5^n, at most 300 s, the first one 60 s after the request) first see READY, and how
    many polls that takes."""
    elapsed, polls = 0.0, 0
    while True:
        elapsed += min(POLL_MAX, POLL_INITIAL * POLL_GROWTH**polls)
        polls += 1
        if elapsed >= ready_after:
            return elapsed, polls


def large() -> dict[str, Any]:
    from moto import mock_aws

    from local.emulator import Emulator

    emulator = Emulator(seed=21)
    url = emulator.start()
    emulator.faults.update({"item_report_processing_seconds": REPORT_SECONDS})
    seller = {"client_id": "bench-large", "client_secret": "bench-secret", "seller_id": "777000050"}
    emulator.add_seller(
        seller["client_id"], seller["client_secret"], seller["seller_id"], item_count=LISTINGS, order_count=10
    )
    emulator.generate(seller["seller_id"])
    env = {
        "ITEM_REPORT_POLL_INITIAL_SECONDS": "1",
        "ITEM_REPORT_POLL_MAX_SECONDS": "2",
        "ITEM_REPORT_ROWS_PER_PAGE": str(ROWS_PER_PAGE),
    }
    with mock_aws():
        harness, _ = _stack(env, url)
        instance_id = _connect(harness, seller)
        started = time.monotonic()
        harness.pump(timeout=3600)
        seconds = time.monotonic() - started
        job, skus = _products(harness, instance_id)
    walmart = {item["sku"] for item in emulator.items(seller["seller_id"])}
    calls = _calls(emulator, seller["seller_id"])
    emulator.stop()
    report_calls = sum(n for name, n in calls.items() if "/v3/reports/" in name)
    file_downloads = sum(n for name, n in calls.items() if "/reports/files/" in name)
    items_calls = sum(n for name, n in calls.items() if name.startswith("GET /v3/items "))
    chunks = math.ceil(LISTINGS / ROWS_PER_PAGE)

    def at_limits(generation_minutes: float) -> dict[str, Any]:
        """Walmart's generation time seen by our polls; then a reports call per page of rows. Every call fits the
        per-minute budgets' bursts (items 60, reports 30), so none waits for a token."""
        finish, polls = poll_finish_seconds(generation_minutes * 60)
        calls_made = items_calls + 2 + polls + chunks  # first items page, list + request, polls, a URL per page
        assert calls_made <= REPORTS_PER_MINUTE + ITEMS_PER_MINUTE
        return {"minutes": round(finish / 60, 1), "polls": polls, "walmart_calls": calls_made}

    return {
        "listings_at_walmart": len(walmart),
        "listings_stored": len(skus),
        "every_listing_stored": skus == walmart,
        "products_job": {"status": job["status"], "records": job["records"]},
        "walmart_calls": calls,
        "walmart_calls_total": sum(calls.values()),
        "items_calls": items_calls,
        "report_api_calls": report_calls,
        "report_file_downloads": file_downloads,
        "report_rows_pages": chunks,
        "local_wall_seconds": round(seconds, 1),
        "local_report_generation_seconds": REPORT_SECONDS,
        "at_walmarts_limits": {
            "report_ready_after_15_minutes": at_limits(15),
            "report_ready_after_45_minutes": at_limits(45),
            "how": "computed from Walmart's 15-45 minutes, our poll cadence and the per-minute limits (FACTS.md)",
        },
        "paging_alone_would_reach": 10_000 + PAGE_SIZE,
    }


def expiring_cursor() -> dict[str, Any]:
    from moto import mock_aws

    from local.emulator import Emulator

    emulator = Emulator(seed=22)
    url = emulator.start()
    seller = {"client_id": "bench-cursor", "client_secret": "bench-secret", "seller_id": "777000051"}
    emulator.add_seller(
        seller["client_id"], seller["client_secret"], seller["seller_id"], item_count=CURSOR_LISTINGS, order_count=10
    )
    emulator.generate(seller["seller_id"])
    # Mid-run, another tool of the seller spends Walmart's items bucket: one 429 whose Retry-After outlives the cursor.
    emulator.faults.update(
        {
            "item_cursor_ttl_seconds": CURSOR_TTL,
            "retry_after_seconds": CURSOR_TTL + 2,
            "item_report_processing_seconds": REPORT_SECONDS,  # if the listing keeps outliving its cursor
        }
    )
    stop = threading.Event()

    def storm_mid_run() -> None:
        while not stop.is_set():
            if emulator.calls(seller["seller_id"], "GET /v3/items") >= CURSOR_LISTINGS // PAGE_SIZE // 2:
                emulator.faults.fail_next("/v3/items", 429, count=1, seller_id=seller["seller_id"])
                return
            time.sleep(0.02)

    watcher = threading.Thread(target=storm_mid_run, daemon=True)
    env = {
        "ITEMS_PAGE_SIZE": str(PAGE_SIZE),
        "ITEM_REPORT_POLL_INITIAL_SECONDS": "1",
        "ITEM_REPORT_POLL_MAX_SECONDS": "2",
    }
    with mock_aws():
        harness, _ = _stack(env, url)
        instance_id = _connect(harness, seller)
        watcher.start()
        started = time.monotonic()
        harness.pump(timeout=1800)
        seconds = time.monotonic() - started
        stop.set()
        job, skus = _products(harness, instance_id)
    walmart = {item["sku"] for item in emulator.items(seller["seller_id"])}
    calls = _calls(emulator, seller["seller_id"])
    emulator.stop()
    expired = calls.get("GET /v3/items 400", 0)
    reported = calls.get("POST /v3/reports/reportRequests 200", 0)
    return {
        "listings_at_walmart": len(walmart),
        "listings_stored": len(skus),
        "every_listing_stored": skus == walmart,
        "products_job": {"status": job["status"], "records": job["records"]},
        "cursor_ttl_seconds": CURSOR_TTL,
        "retry_after_seconds": CURSOR_TTL + 2,
        "walmart_429s": calls.get("GET /v3/items 429", 0),
        "expired_cursor_400s": expired,
        "ended_by": "ITEM report" if reported else ("listing started again from *" if expired else "no expiry met"),
        "items_calls": sum(n for name, n in calls.items() if name.startswith("GET /v3/items ")),
        "items_calls_without_expiry": math.ceil(CURSOR_LISTINGS / PAGE_SIZE),
        "walmart_calls": calls,
        "local_wall_seconds": round(seconds, 1),
    }


def run() -> dict[str, Any]:
    in_process_environment()
    return {"large": large(), "expiring_cursor": expiring_cursor()}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))

"""Full sync of a large seller against the emulator with its rate limits scaled down so they bind.

Prints: achieved orders/minute against the ceiling the orders limit allows, how close the sync ran
to that limit, 429s seen, Walmart calls per 1,000 orders, and DynamoDB writes to the data table per
order (and line item) on the first sync and on an unchanged re-sync.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from typing import Any

from bench import QUIET, in_process_environment

ORDERS = int(os.environ.get("BENCH_ORDERS", "20000"))
ITEMS = int(os.environ.get("BENCH_ITEMS", "5000"))
ORDERS_PER_MINUTE = float(os.environ.get("BENCH_ORDERS_CALLS_PER_MINUTE", "60"))  # scaled down from 5000
ITEMS_PER_MINUTE = 600.0  # items are not what this measures: generous, but enforced on both sides
PAGE_SIZE = 200


def run() -> dict[str, Any]:
    in_process_environment()
    import botocore.client
    from moto import mock_aws

    from local.emulator import Emulator
    from local.harness import QUEUE_ENVIRONMENT, Harness, new_container, response_json
    from local.inprocess import provision
    from local.seed import seed_demo

    emulator = Emulator(seed=11)
    url = emulator.start()
    emulator.faults.update(
        {"rate_limits": {"GET /v3/orders": ORDERS_PER_MINUTE, "GET /v3/items?query": ITEMS_PER_MINUTE}}
    )
    seller = {"client_id": "bench-seller", "client_secret": "bench-secret", "seller_id": "777000001"}
    emulator.add_seller(
        seller["client_id"],
        seller["client_secret"],
        seller_id=seller["seller_id"],
        item_count=ITEMS,
        order_count=ORDERS,
    )
    emulator.generate(seller["seller_id"])

    writes: Counter[str] = Counter()  # data-table writes by record kind (ORDER, PRODUCT, LOCATION)
    original = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]

    def counting(self: Any, operation: str, params: dict[str, Any]) -> Any:
        data_table = os.environ.get("DATA_TABLE_NAME")
        if operation == "BatchWriteItem":
            for request in params.get("RequestItems", {}).get(data_table, []):
                sort_key = request.get("PutRequest", request.get("DeleteRequest", {})).get("Item", {}).get("sk", {})
                writes[str(sort_key.get("S", "?#")).split("#", 1)[0]] += 1
        elif operation in ("PutItem", "UpdateItem", "DeleteItem") and params.get("TableName") == data_table:
            writes["other"] += 1
        return original(self, operation, params)

    limits = json.dumps({"orders": ORDERS_PER_MINUTE, "items": ITEMS_PER_MINUTE})
    with mock_aws():
        stack = provision({"WalmartSandboxUrl": url, "WalmartProductionUrl": url, "WalmartRateLimits": limits})
        env = stack.function_env("ApiFunction")
        env.pop("POWERTOOLS_SERVICE_NAME", None)
        os.environ.update({**env, **QUIET})
        new_container()
        seed_demo({**env, "AWS_DEFAULT_REGION": "us-east-1"})
        harness = Harness({**env, **{f"queue:{q}": stack.ref(q) for q in QUEUE_ENVIRONMENT}})
        body = {
            "name": "bench",
            "integration_id": 1,
            "connection_settings": {"clientId": seller["client_id"], "clientSecret": seller["client_secret"]},
            "integration_settings": {
                "start_date": "2025-01-01",
                "store_id": 1,
                "auto_link_products": True,
                "auto_create_products": False,
            },
        }
        instance_id = response_json(harness.call("POST", "/api/walmart", body))["data"]["id"]
        botocore.client.BaseClient._make_api_call = counting  # type: ignore[attr-defined,method-assign]
        try:
            started = time.monotonic()
            harness.pump(timeout=1800)
            first_seconds = time.monotonic() - started
            first_writes = Counter(writes)
            first_calls = emulator.call_log
            writes.clear()
            harness.call("POST", f"/api/walmart/{instance_id}/sync", {"streams": ["products", "orders", "backfill"]})
            harness.pump(timeout=1800)
            resync_writes = sum(writes.values())
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[attr-defined,method-assign]
        instance = response_json(harness.call("GET", f"/api/walmart/{instance_id}"))["data"]
    emulator.stop()

    calls = first_calls
    resync_calls = len(emulator.call_log) - len(first_calls)
    orders_calls = sorted(c.ts for c in calls if c.endpoint == "GET /v3/orders" and c.status != 429)
    throttled = sum(1 for c in emulator.call_log if c.status == 429)
    stored_orders = len(emulator.orders(seller["seller_id"]))
    line_items = sum(len(o["orderLines"]["orderLine"]) for o in emulator.orders(seller["seller_id"]))
    rate = ORDERS_PER_MINUTE / 60
    span = orders_calls[-1] - orders_calls[0] if len(orders_calls) > 1 else 0.0
    minimum = max(0.0, (len(orders_calls) - ORDERS_PER_MINUTE) / rate)  # the bucket starts full
    achieved = stored_orders / (span / 60) if span else float("inf")
    return {
        "seller": {"orders": ORDERS, "items": ITEMS},
        "limits_per_minute": {"orders": ORDERS_PER_MINUTE, "items": ITEMS_PER_MINUTE},
        "jobs": {name: {"status": job["status"], "records": job["records"]} for name, job in instance["jobs"].items()},
        "first_sync_seconds": round(first_seconds, 1),
        "orders_calls": len(orders_calls),
        "orders_call_span_seconds": round(span, 1),
        # The best the limit allows for these calls (the bucket starts full): that many orders per minute.
        "ceiling_orders_per_minute": round(stored_orders / (minimum / 60)) if minimum else None,
        "achieved_orders_per_minute": round(achieved),
        "achieved_fraction_of_ceiling": round(minimum / span, 3) if span else None,
        "steady_state_ceiling_orders_per_minute": ORDERS_PER_MINUTE * PAGE_SIZE,
        "walmart_429s_first_sync_and_resync": throttled,
        "walmart_calls_first_sync": len(calls),
        "walmart_calls_per_1000_orders_first_sync": round(len(calls) / stored_orders * 1000, 1),
        "walmart_calls_unchanged_resync": resync_calls,
        "dynamodb_data_writes_first_sync": dict(first_writes),
        "order_and_line_items": stored_orders + line_items,
        "dynamodb_order_writes_per_order_and_line_item_first_sync": round(
            first_writes["ORDER"] / (stored_orders + line_items), 3
        ),
        "dynamodb_order_writes_per_order_first_sync": round(first_writes["ORDER"] / stored_orders, 3),
        "dynamodb_data_writes_unchanged_resync": resync_writes,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))

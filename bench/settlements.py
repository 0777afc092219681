"""One settlement period of a large seller fetched from the emulator and stored: the settlements stream alone.

The emulator's clock is set a day and a half after a 14-day period that holds about 10,000 orders' shipments (its
report: some 60,000 lines, final). The instance is connected, every other stream's first messages are dropped, and a
``settlements`` run is pumped through the real sync worker under our rate budget (``recon``: 30 calls a minute, an
assumption: docs/walmart/FACTS.md "Settlements and returns: rate limits").

Prints: seconds, Walmart calls (and the least time the budget allows for them), report lines stored, DynamoDB writes to
the data table per report line, and whether the stored lines add up to Walmart's deposit.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench import QUIET, in_process_environment

ORDERS = int(os.environ.get("BENCH_SETTLEMENT_ORDERS", "12000"))  # over 15.5 days: ~10,000 ship in the period
RECON_PER_MINUTE = 30.0  # store/rate_limits.py DEFAULT_LIMITS["recon"]


def run() -> dict[str, Any]:
    in_process_environment()
    import botocore.client
    from moto import mock_aws

    from local.emulator import Emulator, finance
    from local.harness import QUEUE_ENVIRONMENT, Harness, instance_body, new_container, response_json
    from local.inprocess import provision
    from local.seed import seed_demo
    from walmart_integration.store.settlements import SettlementRepository

    real_now = datetime.now(UTC)
    start, end = finance.period_of((real_now - timedelta(days=40)).date(), 14)
    emulated_now = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1, hours=12)
    offset = emulated_now.timestamp() - time.time()
    emulator = Emulator(seed=13, clock=lambda: time.time() + offset)
    url = emulator.start()
    emulator.faults.update({"settlement_final_after_days": 0, "return_rate": 0.02})
    seller = {"client_id": "settle-bench", "client_secret": "settle-bench-secret", "seller_id": "777000013"}
    emulator.add_seller(
        seller["client_id"],
        seller["client_secret"],
        seller_id=seller["seller_id"],
        item_count=2000,
        order_count=ORDERS,
        order_days=15.5,
    )
    emulator.generate(seller["seller_id"])
    rows = finance.report_rows(emulator.state, seller["seller_id"], start, end)
    orders_in_period = len({row["Purchase Order #"] for row in rows if row.get("Purchase Order #")})

    writes: Counter[str] = Counter()
    original = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]

    def counting(self: Any, operation: str, params: dict[str, Any]) -> Any:
        data_table = os.environ.get("DATA_TABLE_NAME")
        if operation == "BatchWriteItem":
            for request in params.get("RequestItems", {}).get(data_table, []):
                item = request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key") or {}
                writes[str(item.get("sk", {}).get("S", "?#")).split("#", 1)[0]] += 1
        elif operation in ("PutItem", "UpdateItem", "DeleteItem") and params.get("TableName") == data_table:
            writes[str(params.get("Key", {}).get("sk", {}).get("S", "other#")).split("#", 1)[0]] += 1
        return original(self, operation, params)

    with mock_aws():
        stack = provision({"WalmartSandboxUrl": url, "WalmartProductionUrl": url})
        env = stack.function_env("ApiFunction")
        env.pop("POWERTOOLS_SERVICE_NAME", None)
        os.environ.update({**env, **QUIET})
        new_container()
        seed_demo({**env, "AWS_DEFAULT_REGION": "us-east-1"})
        harness = Harness({**env, **{f"queue:{q}": stack.ref(q) for q in QUEUE_ENVIRONMENT}})
        body = instance_body("settlement bench", seller["client_id"], seller["client_secret"])
        instance_id = response_json(harness.call("POST", "/api/walmart", body))["data"]["id"]
        harness.pump(queues={"TokenQueue": "token"})
        for queue in ("SyncQueue", "BackfillQueue", "LocationsQueue"):  # only the settlements stream is measured
            harness.messages(queue)
        calls_before = len(emulator.call_log)
        harness.call("POST", f"/api/walmart/{instance_id}/sync", {"streams": ["settlements"]})
        botocore.client.BaseClient._make_api_call = counting  # type: ignore[attr-defined,method-assign]
        try:
            started = time.monotonic()
            harness.pump(timeout=3600, queues={"SyncQueue": "sync"})
            seconds = time.monotonic() - started
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[attr-defined,method-assign]
        instance = response_json(harness.call("GET", f"/api/walmart/{instance_id}"))["data"]
        repo = SettlementRepository(env["DATA_TABLE_NAME"], "us-east-1")
        period = repo.period("demo", instance_id, end.isoformat())
        stored = repo.lines("demo", instance_id, end.isoformat())
    emulator.stop()

    calls = emulator.call_log[calls_before:]
    recon_calls = [c for c in calls if "/reconreport/" in c.endpoint and c.status != 429]
    lines = len(stored)
    line_sum = sum((line.amount or Decimal("0") for line in stored if not line.is_payment_summary), Decimal("0"))
    least = max(0.0, (len(recon_calls) - RECON_PER_MINUTE) / (RECON_PER_MINUTE / 60))  # the bucket starts full
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "orders_in_period": orders_in_period,
        "report_lines_walmart": len(rows),
        "report_lines_stored": lines,
        "job": {
            "status": instance["jobs"]["settlements"]["status"],
            "records": instance["jobs"]["settlements"]["records"],
        },
        "status": period.status if period else None,
        "seconds": round(seconds, 1),
        "walmart_calls": len(calls),
        "walmart_recon_calls": len(recon_calls),
        "walmart_429s": sum(1 for c in calls if c.status == 429),
        "least_seconds_the_recon_budget_allows": round(least, 1),
        "dynamodb_data_writes": dict(writes),
        "dynamodb_writes_per_report_line": round(sum(writes.values()) / lines, 3) if lines else None,
        "deposit": str(period.deposit) if period else None,
        "lines_sum": str(line_sum),
        "deposit_minus_lines": str((period.deposit or Decimal("0")) - line_sum) if period else None,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))

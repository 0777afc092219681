"""Sellers connecting through their authorization of our app (OAuth 2.0), then syncing on several workers.

Runs the whole service as ``local.stack.LocalStack`` does (moto server, one Lambda-like runtime per function with
the template's concurrency, SQS pollers, the API behind its gateway) against the emulator playing Walmart. Time is
scaled: the emulator's access tokens live ``BENCH_OAUTH_TOKEN_SECONDS`` (T, default 30) instead of Walmart's 900, and
our refresh margin is scaled alike (60 s of 900), so T seconds here stand for a 15-minute token and 4 T for an hour.

Prints:
- ``callback_to_connected_seconds``: for each of ``BENCH_OAUTH_SELLERS`` sellers (3), the time from the callback's
  answer (the page saying connected) to the instance's ``connected`` as the API shows it (polled every 50 ms);
- the token calls Walmart received per seller while the seller's locations, products and orders were synced
  continuously (a new run of each every 2 s, on the sync, locations and backfill functions' several workers) for
  ``BENCH_OAUTH_HOURS`` (1) scaled hours: per seller-hour (target at most 4, one per 15-minute token, whatever the
  number of workers) and per token lifetime (1), with the Marketplace calls they served and the waits of workers
  that found the token being renewed.

Run alone: ``.venv/bin/python -m bench.oauth``.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from bench import in_process_environment

SELLERS = int(os.environ.get("BENCH_OAUTH_SELLERS", "3"))
TOKEN_SECONDS = float(os.environ.get("BENCH_OAUTH_TOKEN_SECONDS", "30"))  # T: a 15-minute token, scaled
HOURS = float(os.environ.get("BENCH_OAUTH_HOURS", "1"))
SCALE = TOKEN_SECONDS / 900  # (Walmart's access token: 900 s)
MARGIN_SECONDS = 60 * SCALE  # our 60-second refresh margin, scaled alike
RUN_SECONDS = 3600 * SCALE * HOURS
SYNC_EVERY_SECONDS = 2.0
TARGET_PER_SELLER_HOUR = 4
CALLBACK = "/api/walmart/oauth/callback"
TOKEN = "POST /v3/token"


def _log(message: str) -> None:
    print(f"oauth: {message}", file=sys.stderr, flush=True)


def run() -> dict[str, Any]:
    in_process_environment()
    import httpx

    from local.stack import LocalStack

    environ = {"TOKEN_REFRESH_MARGIN_SECONDS": str(MARGIN_SECONDS)}
    with LocalStack(api_port=0, schedules=False, parameters={"LogLevel": "WARNING"}, environ=environ) as stack:
        emulator = stack.emulator
        emulator.faults.update({"token_ttl_seconds": int(TOKEN_SECONDS)})
        api = httpx.Client(base_url=stack.api_url, timeout=60, headers={"Authorization": f"Bearer {stack.token}"})
        browser = httpx.Client(timeout=30)
        sellers = [
            emulator.add_seller(f"bench-oauth-{n}", f"unused-{n}", str(888000001 + n), item_count=60, order_count=300)
            for n in range(SELLERS)
        ]
        instances: dict[str, str] = {}
        connected_after: list[float] = []
        for seller in sellers:
            body = {
                "name": f"OAuth bench {seller.seller_id}",
                "integration_id": 1,
                "integration_settings": {
                    "start_date": "2025-01-01",
                    "store_id": 1,
                    "auto_link_products": False,
                    "auto_create_products": False,
                },
            }
            instance_id = api.post("/api/walmart", json=body).json()["data"]["id"]
            url = api.post(f"/api/walmart/{instance_id}/authorization").json()["data"]["authorization_url"]
            page = browser.get(url)
            request_id = re.search(r'name="request_id" value="([^"]+)"', page.text)
            assert request_id, page.text
            decision = {"request_id": request_id.group(1), "seller_id": seller.seller_id, "decision": "authorize"}
            location = browser.post(urlsplit(url)._replace(query="").geturl(), data=decision).headers["location"]
            answered = browser.get(location)
            assert answered.status_code == 200, answered.text
            answered_at = time.monotonic()
            while api.get(f"/api/walmart/{instance_id}").json()["data"]["status"] != "connected":
                if time.monotonic() - answered_at > 60:
                    raise RuntimeError(f"instance {instance_id} not connected within 60 s")
                time.sleep(0.05)
            connected_after.append(round(time.monotonic() - answered_at, 2))
            instances[seller.seller_id] = instance_id
        _log(f"{SELLERS} sellers connected: {connected_after} s after the callback")

        # Continuous syncing: every seller's locations, products and orders runs, a new one every 2 s.
        stop = threading.Event()
        started_runs = Counter[str]()

        def keep_syncing() -> None:
            client = httpx.Client(
                base_url=stack.api_url, timeout=60, headers={"Authorization": f"Bearer {stack.token}"}
            )
            while not stop.is_set():
                for instance_id in instances.values():
                    streams = {"streams": ["locations", "products", "orders"]}
                    response = client.post(f"/api/walmart/{instance_id}/sync", json=streams)
                    started_runs[str(response.status_code)] += 1
                stop.wait(SYNC_EVERY_SECONDS)
            client.close()

        first_call = len(emulator.call_log)
        began = emulator.state.clock()
        syncing = threading.Thread(target=keep_syncing, daemon=True)
        syncing.start()
        _log(f"syncing for {RUN_SECONDS:.0f} s ({HOURS} scaled hour(s), tokens of {TOKEN_SECONDS:.0f} s)")
        time.sleep(RUN_SECONDS)
        stop.set()
        syncing.join(30)
        ended = emulator.state.clock()
        window = [c for c in emulator.call_log[first_call:] if began <= c.ts <= ended]
        token_calls = {sid: sum(1 for c in window if c.seller_id == sid and c.endpoint == TOKEN) for sid in instances}
        api_calls = {sid: sum(1 for c in window if c.seller_id == sid and c.endpoint != TOKEN) for sid in instances}
        statuses = {sid: api.get(f"/api/walmart/{iid}").json()["data"]["status"] for sid, iid in instances.items()}
        workers = {name: stack.runtimes[name].concurrency for name in ("SyncFunction", "LocationsFunction")}
        api.close()
        browser.close()

    hours = (ended - began) / (3600 * SCALE)
    lifetimes = (ended - began) / TOKEN_SECONDS
    per_hour = {sid: round(n / hours, 2) for sid, n in token_calls.items()}
    return {
        "sellers": SELLERS,
        "callback_to_connected_seconds": {
            "each": connected_after,
            "median": statistics.median(connected_after),
            "max": max(connected_after),
        },
        "token_seconds_scaled_from_900": TOKEN_SECONDS,
        "refresh_margin_seconds": round(MARGIN_SECONDS, 2),
        "scaled_hours_synced": round(hours, 2),
        "sync_runs_started": dict(started_runs),
        "marketplace_calls_per_seller": api_calls,
        "token_calls_per_seller": token_calls,
        "token_calls_per_seller_hour": per_hour,
        "token_calls_per_token_lifetime": {sid: round(n / lifetimes, 2) for sid, n in token_calls.items()},
        "target_per_seller_hour": TARGET_PER_SELLER_HOUR,
        "workers": workers,
        "status_after": statuses,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))

"""Walmart Connect advertising: 50 advertisers linked at once, backfilled against the emulator.

Runs the whole service as ``local.stack.LocalStack`` does (moto server, one Lambda-like runtime per function with
the template's concurrency, SQS pollers honouring delays, the API behind its gateway and authorizer), with the
emulator's report snapshots taking ``BENCH_ADS_PROCESSING_SECONDS`` (D) to be ready and the snapshot polls scaled to
it (first after D/4, growing by half each time, at most D/2 apart).

Prints:
- profile discovery (the 15-minute refresh): the Walmart operations one run spends with 5 tenants (each claiming
  one advertiser) and with 50, which should be equal;
- the backfill: wall time from the first link to every account's 60-day backfill ``succeeded`` (target: at most
  D + 2 minutes, i.e. ``overhead_seconds`` <= 120), checked against the emulator: every account stored as many rows
  as Walmart's files have, and a few accounts' daily spend read through the API equals Walmart's adSpend;
- Walmart operations per advertiser backfill: report requests per report type (target exactly 1), polls per
  report, downloads, operations in all, and 429s (target 0).

The overhead measured here is mostly the local AWS: one serialized moto server (in this process) takes every
DynamoDB write of 50 advertisers' rows, so a report step takes far longer than on AWS (``report_function`` and
``timeline_seconds`` show where the time went). Settings: BENCH_ADS_ADVERTISERS (50), BENCH_ADS_PROCESSING_SECONDS
(20). Run alone: ``.venv/bin/python -m bench.ads_backfill``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Any

from bench import in_process_environment

ADVERTISERS = int(os.environ.get("BENCH_ADS_ADVERTISERS", "50"))
SMALL_DISCOVERY = 5  # tenants (one advertiser each) of the first discovery; all ADVERTISERS in the second
PROCESSING_SECONDS = float(os.environ.get("BENCH_ADS_PROCESSING_SECONDS", "20"))  # D (Walmart: 10-60 minutes)
POLL_INITIAL_SECONDS = PROCESSING_SECONDS / 4
POLL_MAX_SECONDS = PROCESSING_SECONDS / 2
# Discovery's insight snapshot is ready after twice the first poll delay: not ready at the first poll (unless it
# comes that much late), ready at the second (2.5 x). The polls a discovery spends depend on this, not on tenants.
INSIGHT_PROCESSING_SECONDS = POLL_INITIAL_SECONDS * 2
TARGET_OVERHEAD_SECONDS = 120.0
FIRST_ADVERTISER = 710001
CLIENTS = 8  # concurrent API callers (the setup and the links)
WAIT_SECONDS = PROCESSING_SECONDS + 600  # give up on a run this long after the links

INSIGHT_REQUEST = "POST /api/v1/snapshot/insight"
INSIGHT_POLL = "GET /api/v1/snapshot"
REPORT_REQUEST = "POST /api/v2/snapshot/report"
REPORT_POLL = "GET /api/v2/snapshot"
DOWNLOAD = "GET /ads/files"


def spread(values: Iterable[float]) -> dict[str, float]:
    numbers = list(values)
    if not numbers:
        return {}
    return {"min": min(numbers), "max": max(numbers), "mean": round(statistics.fmean(numbers), 2)}


def wait_for(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not done within {timeout:.0f} s")
        time.sleep(interval)


class Phases:
    """How long each step took (reported, and told on stderr as it goes: a long run shows where it is)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.began = self.last = time.monotonic()

    def done(self, name: str) -> None:
        now = time.monotonic()
        self.seconds[name] = round(now - self.last, 1)
        self.last = now
        print(f"ads_backfill: {name} {self.seconds[name]} s", file=sys.stderr, flush=True)


def run() -> dict[str, Any]:
    in_process_environment()
    phases = Phases()
    import httpx

    from local.stack import LocalStack
    from walmart_integration.services.auth import AuthService
    from walmart_integration.store.advertising import AdvertisingRepository
    from walmart_integration.store.tenants import TenantRepository

    # Only these settings: an earlier benchmark in this interpreter may have left Walmart URLs in os.environ, and the
    # stack would then not serve Connect from its own emulator.
    environ = {"ADS_POLL_INITIAL_SECONDS": str(POLL_INITIAL_SECONDS), "ADS_POLL_MAX_SECONDS": str(POLL_MAX_SECONDS)}
    with LocalStack(api_port=0, schedules=False, parameters={"LogLevel": "WARNING"}, environ=environ) as stack:
        phases.done("start")
        emulator = stack.emulator
        connect = emulator.connect_state
        emulator.connect_faults.update(
            {
                "report_processing_seconds": PROCESSING_SECONDS,
                "insight_processing_seconds": INSIGHT_PROCESSING_SECONDS,
            }
        )
        app_table = stack.physical_id("AppTable")
        dynamodb = stack.client("dynamodb")
        repo = AdvertisingRepository(app_table, stack.region, dynamodb)
        auth = AuthService(TenantRepository(app_table, stack.region, dynamodb))
        advertisers = [FIRST_ADVERTISER + n for n in range(ADVERTISERS)]
        kinds = {adv: "1p" if n % 2 else "3p" for n, adv in enumerate(advertisers)}
        tenants = {adv: f"bench-{n + 1:02d}" for n, adv in enumerate(advertisers)}
        tokens = {tenant: auth.issue_token(tenant) for tenant in tenants.values()}
        local = threading.local()

        def api(method: str, path: str, tenant: str, body: Any = None, **params: str) -> Any:
            if not hasattr(local, "client"):
                local.client = httpx.Client(base_url=stack.api_url, timeout=60)
            headers = {"Authorization": f"Bearer {tokens[tenant]}"}
            response = local.client.request(method, path, json=body, params=params or None, headers=headers)
            if response.status_code >= 300:
                raise RuntimeError(f"{method} {path} ({tenant}): {response.status_code} {response.text}")
            return response.json()["data"] if response.content else None

        def calls_since(index: int) -> list[Any]:
            with connect.lock:
                return list(connect.call_log[index:])

        def claim(adv: int) -> None:
            body = {"advertiser_id": str(adv), "advertiser_name": f"Bench Brand {adv}"}
            api("POST", "/api/advertising/claims", tenants[adv], body)

        def discovery(claimed: list[int]) -> dict[str, Any]:
            """A new advertiser for each tenant of ``claimed`` not seen yet, claimed by it, then one scheduled
            discovery (the 15-minute refresh), carried through its polls."""
            new = [adv for adv in claimed if adv not in emulator_advertisers()]
            for adv in new:
                emulator.add_advertiser(adv, f"Bench Brand {adv}", kinds[adv], "write")
            with ThreadPoolExecutor(CLIENTS) as pool:
                list(pool.map(claim, new))
            first = len(connect.call_log)
            started = time.monotonic()
            result = stack.invoke("ProfileRefreshFunction", {"source": "aws.events", "detail-type": "Scheduled Event"})
            refresh_id = (result.payload or {}).get("refresh_id")
            if not result.ok or not refresh_id:
                raise RuntimeError(f"discovery did not start: {result.error or result.payload}")

            def finished() -> bool:
                state = repo.discovery()
                return state is not None and state.refresh_id == refresh_id and state.status in ("succeeded", "failed")

            wait_for(finished, 120, "discovery")
            seconds = time.monotonic() - started
            calls = Counter(c.endpoint for c in calls_since(first))
            profiles = [api("GET", "/api/advertising/profiles", tenants[adv]) for adv in claimed]
            assigned = sum(
                1 for adv, mine in zip(claimed, profiles, strict=True) if [p["profile_id"] for p in mine] == [str(adv)]
            )
            return {
                "tenants_claiming": len(claimed),
                "advertisers_listed_by_walmart": len(emulator_advertisers()),
                "status": state.status if (state := repo.discovery()) else None,
                "profiles_assigned": assigned,
                "insight_requests": calls[INSIGHT_REQUEST],
                "polls": calls[INSIGHT_POLL],
                "downloads": calls[DOWNLOAD],
                "operations": sum(calls.values()),
                "seconds": round(seconds, 1),
            }

        def emulator_advertisers() -> set[int]:
            return {int(a["advertiserId"]) for a in emulator.advertisers if not a.get("revoked")}

        small = discovery(advertisers[:SMALL_DISCOVERY])
        phases.done("discovery_small")
        large = discovery(advertisers)
        phases.done("discovery_large")

        # One company and account per tenant (not timed); the report function's 10 workers started (imports done).
        def open_account(adv: int) -> str:
            tenant = tenants[adv]
            company = api("POST", "/api/companies", tenant, {"name": f"Company {adv}"})
            body = {"name": f"Account {adv}", "channel": f"walmart-{kinds[adv]}", "geo": "US"}
            return str(api("POST", f"/api/companies/{company['id']}/accounts", tenant, body)["id"])

        with ThreadPoolExecutor(CLIENTS) as pool:
            accounts = dict(zip(advertisers, pool.map(open_account, advertisers), strict=True))
        for thread in stack.runtimes["AdsReportsFunction"].warm(10):
            thread.join(60)

        # Each report step's time in the function (request; poll, with the download when the snapshot is ready).
        steps: list[tuple[str, float]] = []
        reports_runtime = stack.runtimes["AdsReportsFunction"]
        plain_invoke = reports_runtime.invoke

        def timed_invoke(event: Any, *, request_id: str | None = None) -> Any:
            result = plain_invoke(event, request_id=request_id)
            for record in event.get("Records") or []:
                step = "poll" if json.loads(record["body"]).get("snapshot_id") else "request"
                steps.append((step, result.duration_ms / 1000))
            return result

        reports_runtime.invoke = timed_invoke  # type: ignore[method-assign]

        def link(adv: int) -> Any:
            body = {"profile_id": str(adv)}
            return api("PUT", f"/api/accounts/{accounts[adv]}/advertising-profile", tenants[adv], body)

        phases.done("accounts")
        first_call = len(connect.call_log)
        linked_at, linked_epoch = time.monotonic(), time.time()  # the emulator's clock is time.time
        with ThreadPoolExecutor(CLIENTS) as pool:
            links = list(pool.map(link, advertisers))
        links_seconds = time.monotonic() - linked_at
        ours = {(tenants[adv], accounts[adv]): adv for adv in advertisers}
        stored: dict[int, dict[str, Any]] = {}  # advertiser -> its account's backfill, as stored
        reports = sum(len(view["backfill"]["reports"]) for view in links)
        downloads_before = connect.count_calls(DOWNLOAD)
        look_at = [time.monotonic()]

        def finished() -> bool:
            # The accounts are read (from the moto server the workers need) once every report is downloaded, or
            # every few seconds: polling them all the time would slow the run it measures.
            if connect.count_calls(DOWNLOAD) - downloads_before < reports and time.monotonic() < look_at[0]:
                return False
            look_at[0] = time.monotonic() + 5
            stored.clear()
            for tenant_id, account in repo.linked_accounts():
                adv = ours.get((tenant_id, account.id))
                if adv is not None:
                    stored[adv] = account.backfill.model_dump() if account.backfill else {}
            return len(stored) == len(ours) and all(b.get("status") in ("succeeded", "failed") for b in stored.values())

        wait_for(finished, WAIT_SECONDS, "backfill")
        wall = time.monotonic() - linked_at
        phases.done("backfill")
        calls = calls_since(first_call)
        with connect.lock:
            ready = [s.ready_at for s in connect.snapshots.values() if s.kind == "report" and s.advertiser_id in kinds]

        # What a user sees, for a few accounts (the API is slow under the local AWS): the backfill, and the
        # account's daily spend against Walmart's over the window.
        def check(adv: int) -> dict[str, Any]:
            view = api("GET", f"/api/accounts/{accounts[adv]}", tenants[adv])
            start, end = view["backfill"]["window_start"], view["backfill"]["window_end"]
            path = f"/api/accounts/{accounts[adv]}/performance"
            rows = api("GET", path, tenants[adv], group_by="date", to=end, **{"from": start})
            walmart = emulator.report_rows(
                adv, "adGroup", date.fromisoformat(start), date.fromisoformat(end), ["date", "adSpend"]
            )
            return {
                "advertiser_id": adv,
                "advertiser_type": kinds[adv],
                "backfill": view["backfill"]["status"],
                "window_days": (date.fromisoformat(end) - date.fromisoformat(start)).days + 1,
                "days": len(rows),
                "stored_spend": str(sum((Decimal(str(r["spend"])) for r in rows), Decimal(0))),
                "walmart_spend": str(sum((Decimal(r["adSpend"]) for r in walmart), Decimal(0))),
            }

        with ThreadPoolExecutor(CLIENTS) as pool:
            checks = list(pool.map(check, dict.fromkeys(advertisers[:3] + advertisers[-2:])))
        phases.done("checks")

    # Every account, from its stored state: each report stored as many rows as Walmart's file has.
    complete = 0
    requests_per_type: dict[str, list[int]] = defaultdict(list)
    polls_per_report: list[int] = []
    for adv, backfill in stored.items():
        whole = backfill.get("status") == "succeeded"
        for report in backfill["reports"].values():
            kind = str(report["report_type"])
            requests_per_type[kind].append(int(report.get("attempts") or 0))
            polls_per_report.append(int(report.get("polls") or 0) + 1)  # "polls": those that found it not ready
            first, last = date.fromisoformat(report["start"]), date.fromisoformat(report["end"])
            metrics = ["date", "adGroupId", "keywordId"] if kind == "keyword" else ["date", "adGroupId"]
            whole = whole and int(report.get("rows") or 0) == len(emulator.report_rows(adv, kind, first, last, metrics))
        complete += whole
    per_advertiser: dict[int | None, Counter[str]] = defaultdict(Counter)
    for call in calls:
        per_advertiser[call.advertiser_id][call.endpoint] += 1

    def offsets(endpoint: str) -> list[float]:
        return [c.ts - linked_epoch for c in calls if c.endpoint == endpoint]

    requested, downloaded = offsets(REPORT_REQUEST), offsets(DOWNLOAD)
    busy = sum(seconds for _, seconds in steps)
    overhead = wall - PROCESSING_SECONDS
    return {
        "advertisers": ADVERTISERS,
        "advertiser_types": dict(Counter(kinds.values())),
        "tenants": len(tokens),
        "processing_seconds": PROCESSING_SECONDS,
        "poll_settings": {
            "ADS_POLL_INITIAL_SECONDS": POLL_INITIAL_SECONDS,
            "ADS_POLL_MAX_SECONDS": POLL_MAX_SECONDS,
            "delays": "initial x 1.5^n capped at max (SQS: whole seconds)",
        },
        "insight_processing_seconds": INSIGHT_PROCESSING_SECONDS,
        "discovery": {
            "small": small,
            "large": large,
            "operations_independent_of_tenants": small["operations"] == large["operations"],
        },
        "backfill": {
            "backfill_wall_seconds": round(wall, 1),
            "processing_seconds": PROCESSING_SECONDS,
            "overhead_seconds": round(overhead, 1),
            "target_overhead_seconds": TARGET_OVERHEAD_SECONDS,
            "within_target": overhead <= TARGET_OVERHEAD_SECONDS,
            "statuses": dict(Counter(str(b.get("status")) for b in stored.values())),
            "accounts_with_every_row_of_walmarts_files": complete,
            "windows": sorted({f"{b.get('window_start')}..{b.get('window_end')}" for b in stored.values()}),
            "linked_with_backfill_queued": sum(1 for view in links if view["backfill"]["status"] == "queued"),
            # Seconds after the first link: where the overhead went.
            "timeline_seconds": {
                "all_linked": round(links_seconds, 1),
                "last_report_requested": round(max(requested), 1),
                "last_report_ready": round(max(ready) - linked_epoch, 1),
                "first_download": round(min(downloaded), 1),
                "last_download": round(max(downloaded), 1),
                "all_succeeded": round(wall, 1),
            },
            # The report function's invocations: how busy its 10 concurrent workers were (the local AWS is one
            # serialized moto server, so a step here takes far longer than on DynamoDB and SQS).
            "report_function": {
                "concurrency": reports_runtime.concurrency,
                "invocations": len(steps),
                "step_seconds": {
                    step: spread(round(s, 2) for k, s in steps if k == step) for step in ("request", "poll")
                },
                "busy_seconds": round(busy, 1),
                "busy_fraction_of_wall": round(busy / (wall * reports_runtime.concurrency), 2),
            },
            "spend_checked_through_the_api": checks,
            "spend_matches_walmart": all(
                c["stored_spend"] == c["walmart_spend"] and c["days"] == c["window_days"] for c in checks
            ),
        },
        "walmart_operations_per_advertiser_backfill": {
            "report_requests_per_type": {kind: spread(n) for kind, n in sorted(requests_per_type.items())},
            "report_requests": spread(per_advertiser[a][REPORT_REQUEST] for a in advertisers),
            "polls_per_report": spread(polls_per_report),
            "polls": spread(per_advertiser[a][REPORT_POLL] for a in advertisers),
            "downloads": spread(per_advertiser[a][DOWNLOAD] for a in advertisers),
            "operations": spread(sum(per_advertiser[a].values()) for a in advertisers),
            "operations_all_advertisers_by_endpoint": dict(Counter(c.endpoint for c in calls)),
        },
        "walmart_429s": sum(1 for c in calls if c.status == 429),
        "phases_seconds": phases.seconds,
        "machine": {"cpus": os.cpu_count(), "load_average_1m_at_end": round(os.getloadavg()[0], 1)},
        "bench_seconds": round(time.monotonic() - phases.began, 1),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))

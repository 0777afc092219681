"""Faults: the full flow run clean, then again for the same Walmart sellers and fresh advertisers while workers are
killed after DynamoDB writes, SQS delivers messages twice and Walmart answers 429s, 5xx, slowly and with expiring
tokens. Through the API, the faulty run must leave exactly what the clean run left: the same locations, products
and orders, the same accounting documents for every order (none issued twice), advertising performance equal to
Walmart's own figures; and once retries settle the dead-letter queues hold nothing but a deliberate poison case (a
seller whose orders endpoint always fails), which the API shows as failed jobs.

The stack is this module's own (``module_stack``) with the chaos knobs of ``local/chaos.py`` read from a file, so
chaos is switched on for the second run only.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from local import chaos
from local.emulator.connect_state import METRICS, ConnectState
from local.emulator.errors import system_error
from local.template import load_template
from tests.e2e.conftest import ROOT, RunningStack
from tests.e2e.test_advertising import Ads, data, until
from tests.e2e.test_marketplace_sync import STREAMS, read_all, settled, snapshot
from tests.reliability.conftest import ACCOUNTING_CODES, SOAK, Figures, instance_body, scale

pytestmark = pytest.mark.e2e

CHAOS_FILE = Path(tempfile.gettempdir()) / f"walmart-faults-chaos-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
STACK_ENV = {
    "LOCAL_CHAOS_FILE": str(CHAOS_FILE),
    "LOCAL_CHAOS_SEED": "6",
    "ADS_THROTTLE_SECONDS": "2",  # a Walmart Connect 429 defers the work 2 s here (10 minutes deployed)
}

KILL_RATE = 0.05  # per successful DynamoDB write of an SQS batch (first two deliveries) ...
KILLS = scale(4, 8)  # ... until this many workers were killed (a kill inside a page's claim costs its timeout)
DUPLICATE_RATE = 0.25  # per successfully processed message (first two deliveries)
LATENCY_MS = 15
MARKETPLACE_FAULTS = {"error_rate": 0.08, "token_expiry_after_calls": 6, "latency_ms": LATENCY_MS}
FORCED = [
    {"path_prefix": "/v3/orders", "status": 429, "count": 3},
    {"path_prefix": "/v3/items", "status": 429, "count": 2},
    {"path_prefix": "/v3/orders", "status": 503, "count": 2},
    {"path_prefix": "/api/v2/snapshot/report", "status": 429, "count": 2},
    {"path_prefix": "/api/v2/snapshot", "status": 500, "count": 2, "method": "GET"},
]
CONNECT_FAULTS = {"error_rate": 0.08}
ADS_ROLES = {"clean": ["flow", "race"], "faulty": ["write", "revoke"]}  # 3p advertisers of test_advertising's roles
COST = "2.75"
NO_FAULTS = {"error_rate": 0, "token_expiry_after_calls": None, "latency_ms": 0}


# -- the stack's queues ----------------------------------------------------------------------------------------
def queues(stack: RunningStack, ads: Ads) -> dict[str, str]:
    """Every SQS queue of the template (logical id -> URL), found through the stack's CloudFormation resources."""
    template = load_template(ROOT / "template.yaml")
    wanted = {name for name, spec in template.resources.items() if spec.get("Type") == "AWS::SQS::Queue"}
    resources = ads.aws("cloudformation").describe_stack_resources(StackName=stack.state["stack_name"])
    urls = {}
    for resource in resources["StackResources"]:
        if resource["LogicalResourceId"] in wanted:
            name = str(resource["PhysicalResourceId"]).rstrip("/").rsplit("/", 1)[-1]
            urls[resource["LogicalResourceId"]] = ads.aws("sqs").get_queue_url(QueueName=name)["QueueUrl"]
    assert set(urls) == wanted and any(n.endswith("DeadLetterQueue") for n in urls), urls
    return urls


def in_flight(ads: Ads, urls: dict[str, str]) -> dict[str, int]:
    counts = {}
    for name, url in urls.items():
        if name.endswith("DeadLetterQueue"):
            continue
        attributes = ads.aws("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        counts[name] = sum(
            int(attributes.get(key, 0))
            for key in (
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            )
        )
    return counts


def quiet(ads: Ads, urls: dict[str, str], timeout: float) -> None:
    """Every work queue empty (nothing visible, in flight or delayed) on three checks in a row."""
    streak = 0

    def probe() -> bool:
        nonlocal streak
        busy = {name: n for name, n in in_flight(ads, urls).items() if n}
        streak = 0 if busy else streak + 1
        return streak >= 3

    until(probe, timeout, "every work queue to drain", interval=0.5)


def dead_letters(ads: Ads, urls: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """The bodies in every dead-letter queue (read, left in place)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for name, url in urls.items():
        if not name.endswith("DeadLetterQueue"):
            continue
        seen: dict[str, dict[str, Any]] = {}
        handles = []
        for _ in range(50):
            batch = ads.aws("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)
            messages = batch.get("Messages") or []
            if not messages:
                break
            seen |= {m["MessageId"]: json.loads(m["Body"]) for m in messages}
            handles += [m["ReceiptHandle"] for m in messages]
        for handle in handles:  # visible again for whoever reads next
            ads.aws("sqs").change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
        found[name] = list(seen.values())
    return found


# -- Walmart's side --------------------------------------------------------------------------------------------
def add_seller(stack: RunningStack, items: int, orders: int, days: int) -> dict[str, str]:
    seller = {"client_id": f"faults-{uuid.uuid4().hex[:10]}", "client_secret": "faults-secret"}
    with stack.emulator() as emulator:
        added = emulator.post(
            "/__emulator/sellers", json={**seller, "item_count": items, "order_count": orders, "order_days": days}
        )
        assert added.status_code == 201, added.text
        seller["seller_id"] = str(added.json()["seller_id"])
        catalogue = emulator.get(f"/__emulator/sellers/{seller['seller_id']}/items", params={"limit": 10_000}).json()
    with stack.client() as client:
        for item in catalogue["items"]:  # every sku with a cost, so every shipped line can be invoiced
            body = {"sku": item["sku"], "name": f"Product {item['sku']}", "cost": COST}
            response = client.post("/api/products", json=body)
            assert response.status_code in (201, 409, 422), response.text
    return seller


def emulator_faults(stack: RunningStack, marketplace: dict[str, Any], connect: dict[str, Any]) -> None:
    with stack.emulator() as emulator:
        assert emulator.post("/__emulator/faults", json=marketplace).status_code == 200
        assert emulator.post("/__emulator/connect/faults", json=connect).status_code == 200


def walmart_calls(stack: RunningStack, since: float) -> list[dict[str, Any]]:
    with stack.emulator() as emulator:
        calls = emulator.get("/__emulator/calls").json()["calls"]
    return [c for c in calls if c["ts"] >= since]


def expected_performance(stack: RunningStack, ads: Ads, role: str, start: date, end: date) -> list[dict[str, Any]]:
    """Walmart's daily figures for the advertiser, computed by the emulator's own model from its seed."""
    with stack.emulator() as emulator:
        seed = int(emulator.get("/__emulator/").json()["seed"])
    model = ConnectState(seed)
    model.add_advertiser(int(ads.id(role)), ads.name(role), "3p", "write")
    rows = model.report_rows(int(ads.id(role)), "adGroup", start, end, list(METRICS[:5]) + list(METRICS[8:]))
    days: dict[str, dict[str, Any]] = {}
    for row in rows:
        day = days.setdefault(
            row["date"],
            {"date": row["date"], "spend": Decimal(0), "impressions": 0, "clicks": 0, "attributed_sales": Decimal(0)},
        )
        day["spend"] += Decimal(row["adSpend"])
        day["impressions"] += int(row["numAdsShown"])
        day["clicks"] += int(row["numAdsClicks"])
        day["attributed_sales"] += Decimal(row["attributedSales14days"])
        day.setdefault("attributed_orders", 0)
        day["attributed_orders"] += int(row["attributedOrders14days"])
    return [{**d, "spend": str(d["spend"]), "attributed_sales": str(d["attributed_sales"])} for d in days.values()]


# -- the service's side ----------------------------------------------------------------------------------------
def create_instance(stack: RunningStack, seller: dict[str, str], name: str, start: date) -> str:
    body = instance_body(
        name,
        seller["client_id"],
        seller["client_secret"],
        start.isoformat(),
        auto_link_products=True,
        proforma_marketplace_cost_percentage=15,
        proforma_payment_cost_percentage=2.9,
        **ACCOUNTING_CODES,
    )
    with stack.client() as client:
        response = client.post("/api/walmart", json=body, headers={"Idempotency-Key": f"faults-{uuid.uuid4()}"})
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def documents(stack: RunningStack, instance_id: str) -> Counter[str]:
    """The instance's accounting documents as a multiset, without what differs by instance or time."""
    kept = ("type", "reason", "period", "status", "currency", "purchase_order_ids", "lines", "totals")
    return Counter(
        json.dumps({k: d[k] for k in kept}, sort_keys=True)
        for d in read_all(stack, f"/api/walmart/{instance_id}/accounting-documents")
    )


def per_order(docs: Counter[str]) -> Counter[tuple[str, str, str]]:
    counts: Counter[tuple[str, str, str]] = Counter()
    for text, n in docs.items():
        doc = json.loads(text)
        for po in doc["purchase_order_ids"]:
            counts[(po, doc["type"], doc["reason"])] += n
    return counts


def link_and_backfill(ads: Ads, roles: list[str]) -> dict[str, str]:
    accounts = {}
    for role in roles:
        account = ads.account(name=f"Faults {role}")
        ads.link(account["id"], role)
        accounts[role] = account["id"]
    return accounts


def performance(ads: Ads, account_id: str) -> list[dict[str, Any]]:
    with ads.api() as client:
        return list(data(client.get(f"/api/accounts/{account_id}/performance", params={"group_by": "date"})))


@pytest.fixture(scope="module")
def ads(module_stack: RunningStack) -> Iterator[Ads]:
    state = Ads(module_stack, random.randrange(8200, 8300) * 100)
    state.no_discovery_running()
    with module_stack.emulator() as emulator, state.api() as client:
        for role in ADS_ROLES["clean"] + ADS_ROLES["faulty"]:
            body = {"advertiser_id": int(state.id(role)), "name": state.name(role), "advertiser_type": "3p"}
            assert emulator.post("/__emulator/connect/advertisers", json=body).status_code == 201
            claim = {"advertiser_id": state.id(role), "advertiser_name": state.name(role)}
            assert data(client.post("/api/advertising/claims", json=claim), 201)["status"] in ("waiting", "assigned")
    state.discover()
    yield state


def run(
    stack: RunningStack, ads: Ads, sellers: list[dict[str, str]], roles: list[str], label: str, start: date
) -> tuple[dict[str, str], dict[str, str]]:
    """Instances of the sellers and links of the advertisers, started at once."""
    instances = {s["seller_id"]: create_instance(stack, s, f"{label} {s['client_id']}", start) for s in sellers}
    return instances, link_and_backfill(ads, roles)


def finished(stack: RunningStack, ads: Ads, instances: dict[str, str], accounts: dict[str, str], urls, timeout):
    try:
        for instance_id in instances.values():
            stack.wait_for(instance_id, settled, timeout=timeout)
        for account_id in accounts.values():
            ads.backfilled(account_id, timeout=timeout)
        quiet(ads, urls, timeout)
    except AssertionError as error:  # where the work stands, for whoever reads the failure
        raise AssertionError(f"{error}\nqueues (visible, in flight, delayed): {queue_depths(ads, urls)}") from None


def queue_depths(ads: Ads, urls: dict[str, str]) -> dict[str, tuple[int, ...]]:
    names = (
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    )
    depths = {}
    for name, url in urls.items():
        attributes = ads.aws("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=list(names))["Attributes"]
        depths[name] = tuple(int(attributes.get(n, 0)) for n in names)
    return {name: depth for name, depth in depths.items() if any(depth)}


@contextlib.contextmanager
def chaos_on(kills: int) -> Iterator[None]:
    """Chaos in the stack while the block runs; kills stop once ``kills`` workers died (duplicates go on)."""
    log = Path(f"{CHAOS_FILE}.log")
    chaos.configure(CHAOS_FILE, kill_rate=KILL_RATE, duplicate_rate=DUPLICATE_RATE)
    stop = threading.Event()

    def budget() -> None:
        while not stop.wait(0.25):
            if chaos.counts(log)["kills"] >= kills:
                chaos.configure(CHAOS_FILE, kill_rate=0, duplicate_rate=DUPLICATE_RATE)
                return

    watcher = threading.Thread(target=budget, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join(5)
        chaos.configure(CHAOS_FILE, kill_rate=0, duplicate_rate=0)


# -- the test -------------------------------------------------------------------------------------------------
def test_a_faulty_run_leaves_exactly_what_a_clean_run_leaves(module_stack: RunningStack, ads: Ads, figures: Figures):
    stack = module_stack
    chaos.configure(CHAOS_FILE, kill_rate=0, duplicate_rate=0)
    urls = queues(stack, ads)
    days = scale(20, 30)
    today = datetime.now(UTC).date()
    start = today - timedelta(days=days)
    sellers = [add_seller(stack, scale(12, 16), scale(40, 60), days) for _ in range(scale(2, 3))]
    poison = add_seller(stack, 5, 10, 5)  # one backfill window
    roles = {kind: names[: scale(1, 2)] for kind, names in ADS_ROLES.items()}

    # 1. Clean.
    began = time.monotonic()
    clean, clean_accounts = run(stack, ads, sellers, roles["clean"], "clean", start)
    finished(stack, ads, clean, clean_accounts, urls, timeout=scale(180, 300))
    clean_seconds = time.monotonic() - began
    expected = {seller: snapshot(stack, instance_id) for seller, instance_id in clean.items()}
    expected_docs = {seller: documents(stack, instance_id) for seller, instance_id in clean.items()}
    for seller, instance_id in clean.items():
        view = stack.wait_for(instance_id, settled, timeout=5)
        assert {view["jobs"][n]["status"] for n in STREAMS} == {"succeeded"}, view["jobs"]
        assert expected[seller]["orders"] and expected[seller]["products"] and expected[seller]["locations"]
        assert expected_docs[seller], "the clean run issued no accounting document"
        with stack.client() as client:
            assert data(client.get(f"/api/walmart/{instance_id}/accounting-holds")) == []
    assert all(not messages for messages in dead_letters(ads, urls).values())

    # 2. Faulty: chaos in the stack, faults at Walmart, and a poison seller whose orders always fail.
    since = time.time()
    forced = [*FORCED, {"path_prefix": "/v3/orders", "status": 500, "count": 100_000, "seller_id": poison["seller_id"]}]
    emulator_faults(stack, {**MARKETPLACE_FAULTS, "fail_next": forced}, CONNECT_FAULTS)
    began = time.monotonic()
    try:
        with chaos_on(KILLS):
            faulty, faulty_accounts = run(stack, ads, sellers, roles["faulty"], "faulty", start)
            poisoned = create_instance(stack, poison, f"poison {poison['client_id']}", today - timedelta(days=5))
            finished(stack, ads, faulty, faulty_accounts, urls, timeout=scale(240, 360))
            stack.wait_for(poisoned, settled, timeout=180)
    finally:
        emulator_faults(stack, {**NO_FAULTS, "clear_fail_next": True}, {"error_rate": 0})
    quiet(ads, urls, scale(180, 300))  # every retry settled
    faulty_seconds = time.monotonic() - began
    injected = chaos.counts(Path(f"{CHAOS_FILE}.log"))
    began = time.monotonic()
    calls = walmart_calls(stack, since)

    # 3. The same data, record for record.
    lost = duplicated = compared = twice = 0
    for seller, instance_id in faulty.items():
        view = stack.wait_for(instance_id, settled, timeout=5)
        assert {view["jobs"][n]["status"] for n in STREAMS} == {"succeeded"}, view["jobs"]
        got = snapshot(stack, instance_id)
        for kind, records in expected[seller].items():
            have = Counter(json.dumps(r, sort_keys=True) for r in got[kind])
            want = Counter(json.dumps(r, sort_keys=True) for r in records)
            compared += sum(want.values())
            lost += sum((want - have).values())
            duplicated += sum((have - want).values())
        docs = documents(stack, instance_id)
        compared += sum(expected_docs[seller].values())
        lost += sum((expected_docs[seller] - docs).values())
        duplicated += sum((docs - expected_docs[seller]).values())
        before, after = per_order(expected_docs[seller]), per_order(docs)
        twice += sum(1 for key, n in after.items() if n > before.get(key, 0))
        assert docs == expected_docs[seller], f"seller {seller}: the documents differ from the clean run's"
        assert got == expected[seller], f"seller {seller}: the stored records differ from the clean run's"

    # Advertising: Walmart's figures, every day once.
    for kind, accounts in (("clean", clean_accounts), ("faulty", faulty_accounts)):
        for role, account_id in accounts.items():
            view = ads.get_account(account_id)
            assert view["backfill"]["status"] == "succeeded", (kind, view["backfill"])
            window = (
                date.fromisoformat(view["backfill"]["window_start"]),
                date.fromisoformat(view["backfill"]["window_end"]),
            )
            want_rows = expected_performance(stack, ads, role, *window)
            have_rows = [{k: r[k] for k in want_rows[0]} for r in performance(ads, account_id)]
            compared += len(want_rows)
            lost += len([r for r in want_rows if r not in have_rows])
            duplicated += len([r for r in have_rows if r not in want_rows])
            assert have_rows == want_rows, (kind, role)

    # 4. Dead letters: only the poison seller's orders work, and the API says so.
    letters = dead_letters(ads, urls)
    poison_letters = {name: messages for name, messages in letters.items() if messages}
    assert {m["instance_id"] for messages in poison_letters.values() for m in messages} == {poisoned}, poison_letters
    poison_view = stack.wait_for(poisoned, settled, timeout=5)
    jobs = poison_view["jobs"]
    assert (jobs["orders"]["status"], jobs["backfill"]["status"]) == ("failed", "failed"), jobs
    assert jobs["products"]["status"] == jobs["locations"]["status"] == "succeeded", jobs
    assert jobs["orders"]["error"] == jobs["backfill"]["error"] == system_error()["description"], jobs  # Walmart's
    # One orders unit and one backfill window per ship-node type. SQS delivers at least once, so a unit's message
    # may have been delivered (and failed to the DLQ) more than once: the work items are the distinct bodies.
    ship_node_types = 3
    poison_work = {name: {json.dumps(m, sort_keys=True) for m in messages} for name, messages in poison_letters.items()}
    assert sorted((name, len(work)) for name, work in poison_work.items()) == [
        ("BackfillDeadLetterQueue", ship_node_types),
        ("SyncDeadLetterQueue", ship_node_types),
    ], poison_letters

    walmart_5xx = sum(1 for c in calls if c["status"] >= 500 and c["seller_id"] != poison["seller_id"])
    figures.record(
        "faults",
        kills=injected["kills"],
        duplicate_deliveries=injected["duplicates"],
        walmart_5xx=walmart_5xx,
        walmart_429=sum(1 for c in calls if c["status"] == 429),
        token_expiries=sum(1 for c in calls if c["outcome"] in ("unauthorized:expired", "unauthorized:exhausted")),
        latency_ms=LATENCY_MS,
        records_compared=compared,
        records_lost=lost,
        records_duplicated=duplicated,
        documents_issued_twice=twice,
        dlq_messages=sum(len(m) for m in letters.values()),
        poison=sum(len(m) for m in poison_letters.values()),
        poison_work_items=sum(len(work) for work in poison_work.values()),
        sellers=len(sellers),
        clean_seconds=round(clean_seconds, 1),
        faulty_seconds=round(faulty_seconds, 1),
        check_seconds=round(time.monotonic() - began, 1),
    )
    assert injected["kills"] > 0 and injected["duplicates"] > 0, injected
    assert walmart_5xx > 0 and any(c["status"] == 429 for c in calls)
    assert (lost, duplicated, twice) == (0, 0, 0)
    assert SOAK or len(sellers) == 2

"""Products and orders synced from the emulator through the real workers: what a user reads back.

Each fault scenario is compared with a clean run of the same seller: the same records, none lost,
none duplicated.
"""

from __future__ import annotations

import contextlib
import json
import time
from decimal import Decimal
from typing import Any

import pytest

from local.harness import instance_body
from tests.support import response_json

SELLER = {"client_id": "sync-seller", "client_secret": "sync-secret", "seller_id": "900000001"}


def add_seller(emulator, suffix="", items=40, orders=150, **extra):
    seller = {k: v + suffix for k, v in SELLER.items()}
    emulator.add_seller(
        seller["client_id"],
        seller["client_secret"],
        seller_id=seller["seller_id"],
        item_count=items,
        order_count=orders,
        **extra,
    )
    return seller


def connect(api, seller, name, **settings):
    body = instance_body(name, seller["client_id"], seller["client_secret"], **settings)
    response = api("POST", "/api/walmart", body)
    assert response["statusCode"] == 201, response["body"]
    return response_json(response)["data"]["id"]


def read_all(api, path):
    items, cursor = [], None
    while True:
        page = response_json(api("GET", path, query={"limit": "100", **({"cursor": cursor} if cursor else {})}))
        items += page["data"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def snapshot(api, instance_id) -> dict[str, Any]:
    strip = lambda record: {k: v for k, v in record.items() if k not in ("updated_at", "synced_at")}  # noqa: E731
    return {
        "products": sorted(
            (strip(p) for p in read_all(api, f"/api/walmart/{instance_id}/products")), key=lambda p: p["sku"]
        ),
        "orders": sorted(
            (strip(o) for o in read_all(api, f"/api/walmart/{instance_id}/orders")),
            key=lambda o: o["purchase_order_id"],
        ),
        "locations": sorted(
            (strip(loc) for loc in read_all(api, f"/api/walmart/{instance_id}/locations")), key=lambda loc: loc["id"]
        ),
    }


def jobs(api, instance_id):
    return response_json(api("GET", f"/api/walmart/{instance_id}"))["data"]["jobs"]


@pytest.fixture
def clean(api, stack, emulator):
    """A clean full sync of the reference seller; fault scenarios then sync the same seller again."""
    seller = add_seller(emulator)
    instance_id = connect(api, seller, "clean")
    stack.pump()
    return snapshot(api, instance_id)


def test_full_sync_lands_every_job_with_its_count(api, stack, emulator):
    seller = add_seller(emulator)
    instance_id = connect(api, seller, "full")
    stack.pump()
    state = jobs(api, instance_id)
    for name in ("token", "locations", "products", "orders", "backfill", "settlements", "returns"):
        assert state[name]["status"] == "succeeded", (name, state[name])
    data = snapshot(api, instance_id)
    assert state["products"]["records"] == len(data["products"]) > 0
    assert len(data["orders"]) > 0
    assert state["backfill"]["records"] >= len(data["orders"]) - state["orders"]["records"]
    assert len({o["purchase_order_id"] for o in data["orders"]}) == len(data["orders"])
    order = data["orders"][0]
    line = order["lines"][0]
    assert isinstance(line["quantity"], int)
    assert isinstance(line["charges"][0]["amount"], str)
    Decimal(line["charges"][0]["amount"])  # exact decimal, as a string
    instance = response_json(api("GET", f"/api/walmart/{instance_id}"))["data"]
    assert instance["status"] == "connected"


def test_orders_are_listed_newest_first_and_filtered(api, stack, emulator):
    seller = add_seller(emulator, "-list")
    instance_id = connect(api, seller, "list")
    stack.pump()
    orders = read_all(api, f"/api/walmart/{instance_id}/orders")
    dates = [o["order_date"] for o in orders]
    assert dates == sorted(dates, reverse=True)
    status = orders[0]["status"]
    response = api("GET", f"/api/walmart/{instance_id}/orders", query={"status": status})
    filtered = response_json(response)["data"]
    assert filtered and all(
        o["status"] == status or status in [line["status"] for line in o["lines"]] for o in filtered
    )
    assert api("GET", f"/api/walmart/{instance_id}/orders", query={"updated_since": "not a date"})["statusCode"] == 422
    assert api("GET", f"/api/walmart/{instance_id}/orders", tenant="intruder")["statusCode"] == 404


def test_faults_leave_exactly_what_a_clean_run_leaves(api, stack, emulator, clean):
    seller = dict(SELLER)
    emulator.faults.update({"error_rate": 0.2, "token_expiry_after_calls": 7, "duplicate_item_rate": 0.3})
    emulator.faults.fail_next("/v3/orders", 429, count=4)  # a 429 storm: deferred until replenishment
    instance_id = connect(api, seller, "faulty")
    stack.pump(timeout=120)
    emulator.faults.update({"error_rate": 0.0, "token_expiry_after_calls": None, "duplicate_item_rate": 0.0})
    state = jobs(api, instance_id)
    assert {state[n]["status"] for n in ("products", "orders", "backfill")} == {"succeeded"}, state
    faulty = snapshot(api, instance_id)
    assert faulty == clean
    assert emulator.calls(seller["seller_id"], "GET /v3/orders", status=429) == 4


def test_duplicate_deliveries_change_nothing(api, stack, emulator, clean):
    seller = dict(SELLER)
    instance_id = connect(api, seller, "dupes")
    stack.pump(queues={"TokenQueue": "token"})
    # Deliver every sync/backfill message twice, as SQS may.
    for queue, function in (("SyncQueue", "sync"), ("BackfillQueue", "backfill"), ("LocationsQueue", "locations")):
        for _ in range(200):
            bodies = stack.messages(queue)
            if not bodies:
                break
            for body in bodies:
                stack.handler(function).handler(stack.sqs_event([body, body]), stack.context())
    stack.pump()
    assert snapshot(api, instance_id) == clean
    state = jobs(api, instance_id)
    assert state["products"]["records"] == len(clean["products"])


class Died(BaseException):
    """A Lambda process killed mid-invocation: no exception handler of ours or Powertools' runs."""


def test_a_worker_dying_between_write_and_checkpoint_loses_nothing(api, stack, emulator, clean, monkeypatch):
    from walmart_integration.store.runs import RunRepository

    seller = dict(SELLER)
    instance_id = connect(api, seller, "dies")
    stack.timeout_ms = 1000  # a dead invocation's claim on its page lapses after its timeout
    stack.pump(queues={"TokenQueue": "token", "LocationsQueue": "locations"})
    original = RunRepository.record_page
    deaths = {"left": 3}

    def record_page_or_die(self, *args, **kwargs):
        if deaths["left"] > 0:
            deaths["left"] -= 1
            raise Died()  # the page's records are written; its checkpoint is not
        return original(self, *args, **kwargs)

    monkeypatch.setattr(RunRepository, "record_page", record_page_or_die)
    for queue, function in (("SyncQueue", "sync"), ("BackfillQueue", "backfill")):
        for _ in range(40):
            if deaths["left"] == 0:
                break
            for body in stack.messages(queue, keep=True):
                with contextlib.suppress(Died):
                    stack.handler(function).handler(stack.sqs_event([body]), stack.context())
    assert deaths["left"] == 0
    time.sleep(1.2)
    stack.pump(timeout=120)
    assert snapshot(api, instance_id) == clean
    state = jobs(api, instance_id)
    assert {state[n]["status"] for n in ("products", "orders", "backfill")} == {"succeeded"}
    assert state["products"]["records"] == len(clean["products"])


def test_a_worker_dying_while_planning_the_backfill_leaves_a_run_that_finishes(
    api, stack, emulator, clean, monkeypatch
):
    """Found by the soak's faults test: a backfill planned again after a worker died mid-plan must plan the same
    windows (its last one used to end at the moment of planning, so the first attempt's windows, registered but
    never sent, stayed pending and the backfill stayed ``running`` for ever)."""
    from walmart_integration.store.queues import Queues

    seller = dict(SELLER)
    instance_id = connect(api, seller, "dies planning")
    stack.timeout_ms = 1000  # a dead invocation's claim on the plan lapses after its timeout
    stack.pump(queues={"TokenQueue": "token", "LocationsQueue": "locations"})
    original = Queues.send_many
    deaths = {"left": 1}

    def send_many_or_die(self, queue_url, messages):
        if deaths["left"] > 0 and queue_url == stack.env["BACKFILL_QUEUE_URL"]:
            deaths["left"] -= 1
            raise Died()  # the run's windows are registered; their messages are not sent
        return original(self, queue_url, messages)

    monkeypatch.setattr(Queues, "send_many", send_many_or_die)
    for body in stack.messages("BackfillQueue", keep=True):
        with contextlib.suppress(Died):
            stack.handler("backfill").handler(stack.sqs_event([body]), stack.context())
    assert deaths["left"] == 0
    assert jobs(api, instance_id)["backfill"]["status"] == "running"
    time.sleep(1.2)
    stack.pump(timeout=120)
    state = jobs(api, instance_id)
    assert {state[n]["status"] for n in ("products", "orders", "backfill")} == {"succeeded"}, state
    assert snapshot(api, instance_id) == clean


def test_an_unchanged_resync_writes_nothing_and_a_changed_order_is_updated(api, stack, emulator, monkeypatch):
    import botocore.client

    seller = add_seller(emulator, "-resync")
    instance_id = connect(api, seller, "resync")
    stack.pump()
    writes: list[str] = []
    original = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]

    def counting(self, operation, params):
        if operation in ("PutItem", "BatchWriteItem", "UpdateItem", "TransactWriteItems") and (
            params.get("TableName") == stack.env["DATA_TABLE_NAME"]
            or stack.env["DATA_TABLE_NAME"] in params.get("RequestItems", {})
        ):
            writes.append(operation)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    started = api("POST", f"/api/walmart/{instance_id}/sync", {"streams": ["products", "orders", "backfill"]})
    assert started["statusCode"] == 202, started["body"]
    stack.pump()
    assert writes == []
    orders = read_all(api, f"/api/walmart/{instance_id}/orders")
    target = next(o for o in orders if o["status"] in ("Created", "Acknowledged"))
    emulator.update_order(seller["seller_id"], target["purchase_order_id"], status="Shipped")
    api("POST", f"/api/walmart/{instance_id}/sync", {"streams": ["orders"]})
    stack.pump()
    assert len(writes) == 1  # just the changed order
    updated = next(
        o
        for o in read_all(api, f"/api/walmart/{instance_id}/orders")
        if o["purchase_order_id"] == target["purchase_order_id"]
    )
    assert {line["status"] for line in updated["lines"]} == {"Shipped"}


def test_malformed_records_are_skipped_counted_and_reported(api, stack, emulator):
    seller = add_seller(emulator, "-bad")
    emulator.faults.update({"malformed_record_rate": 0.1})
    instance_id = connect(api, seller, "bad")
    stack.pump()
    emulator.faults.update({"malformed_record_rate": 0.0})
    state = jobs(api, instance_id)
    assert state["backfill"]["status"] == "succeeded"
    assert "malformed record(s) skipped" in (state["backfill"]["error"] or "") + (state["products"]["error"] or "")


def test_backfill_splits_windows_over_walmarts_cap(stack_factory, emulator):
    stack = stack_factory(ORDERS_MAX_PER_QUERY="25", BACKFILL_WINDOW_DAYS="200")
    seller = add_seller(emulator, "-split", items=5, orders=150)
    instance_id = connect(stack.call, seller, "split")
    stack.pump(timeout=120)
    state = jobs(stack.call, instance_id)
    assert state["backfill"]["status"] == "succeeded", state["backfill"]
    orders = read_all(stack.call, f"/api/walmart/{instance_id}/orders")
    assert len(orders) == len({o["purchase_order_id"] for o in orders})
    assert state["backfill"]["records"] == len(orders)


def test_products_link_to_internal_products(api, stack, emulator):
    seller = add_seller(emulator, "-link", items=10, orders=5)
    instance_id = connect(api, seller, "link", auto_link_products=True, auto_create_products=True)
    stack.pump()
    products = read_all(api, f"/api/walmart/{instance_id}/products")
    internal = read_all(api, "/api/products")
    assert len(internal) == len(products)
    assert {p["internal_product_id"] for p in products} == {p["id"] for p in internal}
    created = api("POST", "/api/products", {"sku": "OWN-1", "name": "Own product", "cost": "12.30"})
    assert response_json(created)["data"]["cost"] == "12.30"
    assert api("POST", "/api/products", {"sku": "OWN-1", "name": "Again"})["statusCode"] == 422


def test_sync_requires_a_connected_instance(api):
    body = {
        "name": "not connected",
        "integration_id": 1,
        "integration_settings": {
            "start_date": "2026-01-01",
            "store_id": 1,
            "auto_link_products": False,
            "auto_create_products": False,
        },
    }
    instance_id = response_json(api("POST", "/api/walmart", body))["data"]["id"]
    assert api("POST", f"/api/walmart/{instance_id}/sync", {"streams": ["orders"]})["statusCode"] == 409
    assert api("POST", f"/api/walmart/{instance_id}/sync", {"streams": ["everything"]})["statusCode"] == 422


def test_automatic_sync_schedules_only_connected_auto_sync_instances(api, stack, emulator):
    seller = add_seller(emulator, "-auto", items=5, orders=5)
    auto_id = connect(api, seller, "auto")
    api("PATCH", f"/api/walmart/{auto_id}", {"is_automatic_sync_enabled": True})
    manual_id = connect(api, seller, "manual")
    stack.pump()
    scheduled = stack.handler("scheduler").handler(
        {"source": "aws.events", "detail-type": "Scheduled Event"}, stack.context()
    )
    assert scheduled == {"scheduled_jobs": 4, "advertising_refreshes": 0, "accounting_batches_closed": 0}
    bodies = [json.loads(b) for b in stack.messages("SyncQueue")]
    assert {(b["instance_id"], b["stream"]) for b in bodies} == {
        (auto_id, stream) for stream in ("products", "orders", "settlements", "returns")
    }
    assert manual_id not in {b["instance_id"] for b in bodies}
    api("PATCH", f"/api/walmart/{auto_id}", {"is_automatic_sync_enabled": False})
    assert stack.handler("scheduler").handler({}, stack.context())["scheduled_jobs"] == 0


def test_late_progress_of_a_finished_run_does_not_reopen_it(api, stack, emulator):
    from walmart_integration.models.instance import Job
    from walmart_integration.store.instances import InstanceRepository

    seller = add_seller(emulator, "-late", items=5, orders=20)
    instance_id = connect(api, seller, "late")
    stack.pump()
    finished = jobs(api, instance_id)["orders"]
    assert finished["status"] == "succeeded" and finished["run_id"]
    repository = InstanceRepository(stack.env["APP_TABLE_NAME"], "us-east-1")
    late = Job(status="running", records=0, run_id=finished["run_id"])
    # A worker of the same run that reports after the run's last page (workers report concurrently).
    assert not repository.save_progress("demo", instance_id, 1, {"orders": late}, progress_of_run=finished["run_id"])
    assert jobs(api, instance_id)["orders"] == finished
    started = response_json(api("POST", f"/api/walmart/{instance_id}/sync", {"streams": ["orders"]}))["data"]
    assert jobs(api, instance_id)["orders"]["run_id"] == started["run_id"]
    stack.pump()
    assert jobs(api, instance_id)["orders"]["status"] == "succeeded"


# -- Walmart's behaviours (issue #12; docs/walmart/FACTS.md "Checked behaviours"): each on by default in the emulator --
def test_products_survive_the_items_cursor_expiring_mid_run(stack_factory, emulator, monkeypatch):
    """A cursor lives two minutes (here 3 s): a page delayed past it starts the listing again; every listing lands."""
    from walmart_integration.walmart.marketplace import MarketplaceClient

    stack = stack_factory(ITEMS_PAGE_SIZE="20")
    seller = add_seller(emulator, "-cursor", items=100, orders=5)
    emulator.faults.update({"item_cursor_ttl_seconds": 3})
    original = MarketplaceClient.items_page
    delayed = {"left": 1}

    def late_third_page(self, access_token, cursor, offset, limit):
        if offset == 40 and delayed["left"]:
            delayed["left"] -= 1
            time.sleep(3.5)  # this page comes late (a 429 waited out, a retry): its cursor has expired
        return original(self, access_token, cursor, offset, limit)

    monkeypatch.setattr(MarketplaceClient, "items_page", late_third_page)
    instance_id = connect(stack.call, seller, "cursor")
    stack.pump(timeout=120)
    state = jobs(stack.call, instance_id)
    assert state["products"]["status"] == "succeeded", state["products"]
    products = read_all(stack.call, f"/api/walmart/{instance_id}/products")
    assert sorted(p["sku"] for p in products) == sorted(i["sku"] for i in emulator.items(seller["seller_id"]))
    assert state["products"]["records"] == 100
    # the late page met an expired cursor (a slow machine may see a restarted listing outlive its cursor too)
    assert emulator.calls(seller["seller_id"], "GET /v3/items", status=400) >= 1


def test_a_catalogue_past_what_offsets_reach_is_listed_by_the_item_report(stack_factory, emulator):
    """GET /v3/items stops at offset 10,000 (here 40): the ITEM report lists the whole catalogue."""
    stack = stack_factory(
        ITEMS_PAGE_SIZE="20",
        ITEMS_MAX_OFFSET="40",
        ITEM_REPORT_POLL_INITIAL_SECONDS="1",
        ITEM_REPORT_POLL_MAX_SECONDS="1",
        ITEM_REPORT_ROWS_PER_PAGE="70",
    )
    seller = add_seller(emulator, "-report", items=150, orders=5)
    # Not ready when first polled, however long the machine took to get there (a slow machine polled a report with
    # 2 s of processing once only, and the "not ready at first" below failed)
    emulator.faults.update(
        {"items_max_offset": 40, "item_report_processing_seconds": 0, "item_report_ready_after_reads": 2}
    )
    instance_id = connect(stack.call, seller, "report", auto_link_products=True, auto_create_products=True)
    stack.pump(timeout=120)
    state = jobs(stack.call, instance_id)
    assert state["products"]["status"] == "succeeded", state["products"]
    assert state["products"]["records"] == 150
    products = {p["sku"]: p for p in read_all(stack.call, f"/api/walmart/{instance_id}/products")}
    catalogue = emulator.items(seller["seller_id"])
    assert sorted(products) == sorted(item["sku"] for item in catalogue)
    item = catalogue[0]
    product = products[item["sku"]]
    assert (product["name"], product["gtin"], product["wpid"]) == (item["productName"], item["gtin"], item["wpid"])
    assert Decimal(product["price"]) == Decimal(str(item["price"]["amount"]))
    assert product["internal_product_id"]  # linked like listed products
    seller_id = seller["seller_id"]
    assert emulator.calls(seller_id, "POST /v3/reports/reportRequests") == 1
    assert emulator.calls(seller_id, "GET /v3/items") == 1  # the first page says how many there are
    assert emulator.calls(seller_id, "GET /v3/reports/downloadReport") == 3  # 150 rows, 70 a page
    assert emulator.calls(seller_id, "GET /v3/reports/reportRequests/{requestId}") >= 2  # not ready at first
    # a products run within the hour reuses the report (Walmart takes one request per type and hour)
    stack.call("POST", f"/api/walmart/{instance_id}/sync", {"streams": ["products"]})
    stack.pump(timeout=120)
    assert jobs(stack.call, instance_id)["products"]["status"] == "succeeded"
    assert emulator.calls(seller_id, "POST /v3/reports/reportRequests") == 1


def test_an_order_list_answering_the_order_apis_404_is_no_orders(api, stack, emulator):
    """The order spec's 404 example (NOT_FOUND.GMP_ORDER_API) is no orders: the run succeeds, the watermark moves."""
    seller = add_seller(emulator, "-none", items=5, orders=3, order_days=100)
    instance_id = connect(api, seller, "none")
    stack.pump()
    state = jobs(api, instance_id)
    assert emulator.calls(seller["seller_id"], "GET /v3/orders", status=404) >= 1
    assert state["orders"]["status"] == "succeeded", state["orders"]
    assert state["backfill"]["status"] == "succeeded", state["backfill"]
    known = {o["purchase_order_id"] for o in read_all(api, f"/api/walmart/{instance_id}/orders")}
    new = emulator.add_orders(seller["seller_id"], 2)
    api("POST", f"/api/walmart/{instance_id}/sync", {"streams": ["orders"]})
    stack.pump()
    assert jobs(api, instance_id)["orders"]["status"] == "succeeded"
    synced = {o["purchase_order_id"] for o in read_all(api, f"/api/walmart/{instance_id}/orders")}
    assert synced == known | set(new)


def test_orders_whose_one_element_lists_are_objects_are_stored_like_the_others(api, stack, emulator, clean):
    seller = dict(SELLER)
    emulator.faults.update({"single_object_rate": 1.0})
    instance_id = connect(api, seller, "objects")
    stack.pump()
    state = jobs(api, instance_id)
    assert {state[n]["status"] for n in ("orders", "backfill")} == {"succeeded"}, state
    assert not (state["backfill"]["error"] or state["orders"]["error"])  # nothing skipped as malformed
    assert snapshot(api, instance_id) == clean


def test_lines_keep_every_status_with_its_quantity(api, stack, emulator):
    seller = add_seller(emulator, "-units", items=20, orders=200)
    instance_id = connect(api, seller, "units")
    stack.pump()
    orders = {o["purchase_order_id"]: o for o in read_all(api, f"/api/walmart/{instance_id}/orders")}
    for po, order in orders.items():
        walmart = emulator.order(seller["seller_id"], po)
        for line, raw in zip(order["lines"], walmart["orderLines"]["orderLine"], strict=True):
            expected = [
                (s["status"], int(s["statusQuantity"]["amount"])) for s in raw["orderLineStatuses"]["orderLineStatus"]
            ]
            assert [(s["status"], s["quantity"]) for s in line["statuses"]] == expected
    assert any(len(line["statuses"]) > 1 for order in orders.values() for line in order["lines"])
    target = next(o for o in orders.values() if o["lines"][0]["quantity"] >= 2)
    po = target["purchase_order_id"]
    emulator.update_order(seller["seller_id"], po, status="Acknowledged", line="1")
    emulator.update_order(seller["seller_id"], po, status="Shipped", line="1", quantity=1)
    emulator.update_order(seller["seller_id"], po, status="Cancelled", line="1", quantity=1)
    api("POST", f"/api/walmart/{instance_id}/sync", {"streams": ["orders"]})
    stack.pump()
    line = next(o for o in read_all(api, f"/api/walmart/{instance_id}/orders") if o["purchase_order_id"] == po)[
        "lines"
    ][0]
    units = {s["status"]: s["quantity"] for s in line["statuses"]}
    assert units["Shipped"] == 1 and units["Cancelled"] == 1 and sum(units.values()) == line["quantity"]
    assert next(s for s in line["statuses"] if s["status"] == "Shipped")["tracking"]["number"]
    assert next(s for s in line["statuses"] if s["status"] == "Cancelled")["cancellation_reason"]
    filtered = response_json(api("GET", f"/api/walmart/{instance_id}/orders", query={"status": "Cancelled"}))["data"]
    assert po in {o["purchase_order_id"] for o in filtered}


def test_a_429_is_waited_out_until_its_retry_after(api, stack, emulator):
    """Retry-After (30 s in the spec's example; 3 s here) outlasts the replenishment header: nothing calls before it."""
    seller = add_seller(emulator, "-retry", items=5, orders=20)
    emulator.faults.update({"retry_after_seconds": 3})
    emulator.faults.fail_next("/v3/orders", 429, count=1, seller_id=seller["seller_id"])
    instance_id = connect(api, seller, "retry")
    stack.pump(timeout=120)
    assert {jobs(api, instance_id)[n]["status"] for n in ("orders", "backfill")} == {"succeeded"}
    assert emulator.calls(seller["seller_id"], "GET /v3/orders", status=429) == 1


def test_replacement_orders_are_synced(api, stack, emulator):
    """Replacement orders come only with replacementInfo=true (order spec, GET /v3/orders, orderType)."""
    seller = add_seller(emulator, "-replacement", items=20, orders=300)
    instance_id = connect(api, seller, "replacement")
    stack.pump()
    orders = read_all(api, f"/api/walmart/{instance_id}/orders")
    every = {o["purchaseOrderId"] for o in emulator.orders(seller["seller_id"])}
    assert {o["purchase_order_id"] for o in orders} == every
    replacements = [o for o in orders if o["order_type"] == "REPLACEMENT"]
    assert replacements and all(o["original_customer_order_id"] for o in replacements)
    assert {o["order_type"] for o in orders} == {"REGULAR", "REPLACEMENT"}


def test_a_busy_gateway_answering_html_changes_nothing(api, stack, emulator, clean):
    seller = dict(SELLER)
    emulator.faults.update({"non_json_rate": 0.25})
    instance_id = connect(api, seller, "busy")
    stack.pump(timeout=120)
    emulator.faults.update({"non_json_rate": 0.0})
    state = jobs(api, instance_id)
    assert {state[n]["status"] for n in ("products", "orders", "backfill")} == {"succeeded"}, state
    assert snapshot(api, instance_id) == clean

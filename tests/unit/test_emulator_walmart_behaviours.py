"""The emulator behaves as Walmart's documents say, by default (issue #12; docs/walmart/FACTS.md "Checked behaviours").

Each behaviour the service must survive is on without any knob; the knobs only tune it.
"""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from local.emulator import DEMO_SELLER_ID, Emulator
from tests.unit.test_emulator_orders_items import NOW, OTHER, Api, FakeClock, day

# (parent, key) of Walmart's lists that may come as one object: charges.charge, not refundCharge.charge (an object)
ONE_LIST_PATHS = {("orderLines", "orderLine"), ("orderLineStatuses", "orderLineStatus"), ("charges", "charge")}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def em(clock: FakeClock) -> Emulator:
    emulator = Emulator(seed=3, clock=clock)
    emulator.add_seller("big", "big-secret", "404", item_count=400, order_count=600, order_days=60)
    return emulator


@pytest.fixture
def client(em: Emulator) -> FlaskClient:
    return em.wsgi_app.test_client()


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client, "big", "big-secret")


def every_order(api: Api, **params: Any) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = []
    for kind in ("SellerFulfilled", "WFSFulfilled", "3PLFulfilled"):
        orders += api.all_orders(createdStartDate=day(-100), limit=200, shipNodeType=kind, **params)[0]
    return orders


# 1. items cursor: two minutes ---------------------------------------------------------------------------------------
def test_an_items_cursor_expires_after_two_minutes(api: Api, em: Emulator, clock: FakeClock) -> None:
    cursor = api.get("/v3/items", nextCursor="*", limit=50).get_json()["nextCursor"]
    clock.now += 119
    assert api.get("/v3/items", nextCursor=cursor, offset=50, limit=50).status_code == 200
    clock.now += 2
    expired = api.get("/v3/items", nextCursor=cursor, offset=100, limit=50)
    assert expired.status_code == 400
    error = expired.get_json()["error"][0]
    assert (error["field"], error["description"]) == ("nextCursor", "Invalid Cursor")
    em.faults.update({"item_cursor_ttl_seconds": None})
    assert api.get("/v3/items", nextCursor=cursor, offset=100, limit=50).status_code == 200


# 2. the ITEM report -------------------------------------------------------------------------------------------------
def report(client: FlaskClient, api: Api, path: str, method: str = "GET", **params: Any) -> Any:
    call = client.post if method == "POST" else client.get
    body: dict[str, Any] | None = {} if method == "POST" else None
    return api._send(lambda: call(path, headers=api.headers(), query_string=params or None, json=body))


def test_the_item_report_is_requested_polled_and_downloaded_as_a_zipped_csv(
    client: FlaskClient, api: Api, em: Emulator, clock: FakeClock
) -> None:
    created = report(client, api, "/v3/reports/reportRequests", "POST", reportType="ITEM", reportVersion="v4")
    assert created.status_code == 200, created.get_data(as_text=True)
    body = created.get_json()
    request_id = body["requestId"]
    assert (body["requestStatus"], body["reportType"], body["reportVersion"]) == ("RECEIVED", "ITEM", "v4")
    assert body["requestSubmissionDate"].startswith(day(0))
    # Walmart takes 15 to 45 minutes (page "On-request reports"): not ready at first
    status = report(client, api, f"/v3/reports/reportRequests/{request_id}").get_json()
    assert status["requestStatus"] in ("RECEIVED", "INPROGRESS") and "reportGenerationDate" not in status
    early = report(client, api, "/v3/reports/downloadReport", requestId=request_id)
    assert early.status_code == 400
    clock.now += 15 * 60
    ready = report(client, api, f"/v3/reports/reportRequests/{request_id}").get_json()
    assert ready["requestStatus"] == "READY" and ready["reportGenerationDate"]
    download = report(client, api, "/v3/reports/downloadReport", requestId=request_id).get_json()
    assert download["requestStatus"] == "READY" and download["downloadURLExpirationTime"]
    url = urlsplit(download["downloadURL"])
    file = client.get(f"{url.path}?{url.query}")  # a pre-signed address: no Walmart headers
    assert file.status_code == 200
    with zipfile.ZipFile(io.BytesIO(file.data)) as archive:
        (name,) = archive.namelist()
        assert name.endswith(".csv")
        rows = list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
    catalogue = em.items("404")
    assert [row["SKU"] for row in rows] == [item["sku"] for item in catalogue]
    first, item = rows[0], catalogue[0]
    assert {"SKU", "Item ID", "Product Name", "Lifecycle Status", "Publish Status", "Price", "Currency"} <= set(first)
    assert (first["Product Name"], first["Publish Status"], first["GTIN"]) == (
        item["productName"],
        item["publishedStatus"],
        item["gtin"],
    )
    # the address is signed and expires
    assert client.get(f"{url.path}?{url.query.replace('sig=', 'sig=0')}").status_code == 403
    clock.now += 24 * 3600
    assert client.get(f"{url.path}?{url.query}").status_code == 403


def test_one_report_request_per_type_and_hour_and_the_list_of_requests(
    client: FlaskClient, api: Api, em: Emulator, clock: FakeClock
) -> None:
    first = report(client, api, "/v3/reports/reportRequests", "POST", reportType="ITEM", reportVersion="v4")
    again = report(client, api, "/v3/reports/reportRequests", "POST", reportType="ITEM", reportVersion="v4")
    assert again.status_code == 429 and 3500 <= int(again.headers["Retry-After"]) <= 3600
    listed = report(client, api, "/v3/reports/reportRequests", reportType="ITEM").get_json()
    assert [r["requestId"] for r in listed["requests"]] == [first.get_json()["requestId"]]
    assert listed["totalCount"] == 1
    clock.now += 3600
    assert (
        report(client, api, "/v3/reports/reportRequests", "POST", reportType="ITEM", reportVersion="v4").status_code
        == 200
    )
    for bad in (
        {"reportType": "ITEM"},
        {"reportType": "NOPE", "reportVersion": "v1"},
        {"reportType": "ITEM", "reportVersion": "v9"},
    ):
        assert report(client, api, "/v3/reports/reportRequests", "POST", **bad).status_code == 400, bad
    em.add_seller(OTHER["client_id"], OTHER["client_secret"], OTHER["seller_id"])
    other = Api(client, OTHER["client_id"], OTHER["client_secret"])
    mine = first.get_json()["requestId"]
    assert report(client, other, f"/v3/reports/reportRequests/{mine}").status_code == 404
    assert report(client, api, "/v3/reports/reportRequests/no-such-request").status_code == 404


def test_report_processing_time_and_failures_are_knobs(client: FlaskClient, api: Api, em: Emulator) -> None:
    em.faults.update({"item_report_processing_seconds": 0})
    request_id = report(
        client, api, "/v3/reports/reportRequests", "POST", reportType="ITEM", reportVersion="v4"
    ).get_json()["requestId"]
    assert report(client, api, f"/v3/reports/reportRequests/{request_id}").get_json()["requestStatus"] == "READY"
    em.faults.update({"item_report_failure_rate": 1.0, "report_requests_per_hour": 10})
    failed = report(client, api, "/v3/reports/reportRequests", "POST", reportType="ITEM", reportVersion="v4").get_json()
    status = report(client, api, f"/v3/reports/reportRequests/{failed['requestId']}").get_json()
    assert status["requestStatus"] == "ERROR"


def test_a_report_can_be_ready_only_after_its_status_was_read_whatever_the_clock(
    client: FlaskClient, api: Api, em: Emulator
) -> None:
    em.faults.update({"item_report_processing_seconds": 0, "item_report_ready_after_reads": 2})
    request_id = report(
        client, api, "/v3/reports/reportRequests", "POST", reportType="ITEM", reportVersion="v4"
    ).get_json()["requestId"]
    statuses = [
        report(client, api, f"/v3/reports/reportRequests/{request_id}").get_json()["requestStatus"] for _ in range(3)
    ]
    assert statuses == ["INPROGRESS", "READY", "READY"]
    with pytest.raises(ValueError):
        em.faults.update({"item_report_ready_after_reads": -1})


# 3. an empty order list: the order API's own 404 --------------------------------------------------------------------
def test_an_empty_order_list_is_the_order_apis_404(api: Api, em: Emulator) -> None:
    resp = api.get("/v3/orders", createdStartDate=day(5), createdEndDate=day(6))
    assert resp.status_code == 404
    (error,) = resp.get_json()["errors"]
    assert error["code"] == "NOT_FOUND.GMP_ORDER_API"
    em.faults.update({"order_not_found_code": "CONTENT_NOT_FOUND.GMP_ORDER_API"})
    again = api.get("/v3/orders", createdStartDate=day(5), createdEndDate=day(6))
    assert again.get_json()["errors"][0]["code"] == "CONTENT_NOT_FOUND.GMP_ORDER_API"


# 4. one-element lists as objects ------------------------------------------------------------------------------------
def one_element_objects(order: dict[str, Any]) -> set[str]:
    found: set[str] = set()

    def walk(value: Any, parent: str = "") -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if (parent, key) in ONE_LIST_PATHS and isinstance(inner, dict):
                    found.add(key)
                walk(inner, key)
        elif isinstance(value, list):
            for inner in value:
                walk(inner, parent)

    walk(order)
    return found


def test_some_orders_come_with_their_one_element_lists_as_objects(api: Api, em: Emulator) -> None:
    orders = every_order(api)
    collapsed = [o for o in orders if one_element_objects(o)]
    assert 0 < len(collapsed) < len(orders) / 5
    assert {"orderLine", "orderLineStatus", "charge"} <= set().union(*map(one_element_objects, collapsed))
    # a page holding one order holds it as the object itself
    target = next(o for o in collapsed if o["shipNode"]["type"] == "SellerFulfilled")
    page = api.get("/v3/orders", createdStartDate=day(-100), purchaseOrderId=target["purchaseOrderId"]).get_json()
    assert page["list"]["elements"]["order"] == target
    em.faults.update({"single_object_rate": 0})
    assert not [o for o in every_order(api) if one_element_objects(o)]


# 5. per-status quantities -------------------------------------------------------------------------------------------
def test_some_lines_hold_several_statuses_with_their_quantities(api: Api, em: Emulator, clock: FakeClock) -> None:
    em.faults.update({"single_object_rate": 0})
    lines = [line for order in em.orders("404") for line in order["orderLines"]["orderLine"]]
    split = [line for line in lines if len(line["orderLineStatuses"]["orderLineStatus"]) > 1]
    assert split
    for line in lines:
        statuses = line["orderLineStatuses"]["orderLineStatus"]
        assert sum(int(s["statusQuantity"]["amount"]) for s in statuses) == int(line["orderLineQuantity"]["amount"])
    kinds = {tuple(sorted(s["status"] for s in line["orderLineStatuses"]["orderLineStatus"])) for line in split}
    assert ("Cancelled", "Shipped") in kinds or ("Cancelled", "Delivered") in kinds
    for line in split:
        for status in line["orderLineStatuses"]["orderLineStatus"]:
            if status["status"] == "Cancelled":
                assert status["cancellationReason"]
    # a test moves units of a line: one of two units shipped, the other cancelled
    order = next(
        o for o in em.orders("404") if int(o["orderLines"]["orderLine"][0]["orderLineQuantity"]["amount"]) >= 2
    )
    po = order["purchaseOrderId"]
    clock.now += 60
    em.update_order("404", po, status="Created", line="1")
    em.update_order("404", po, status="Shipped", line="1", quantity=1)
    changed = em.update_order("404", po, status="Cancelled", line="1", quantity=1)
    statuses = changed["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"]
    quantity = int(order["orderLines"]["orderLine"][0]["orderLineQuantity"]["amount"])
    assert {s["status"]: int(s["statusQuantity"]["amount"]) for s in statuses} == {
        k: v for k, v in {"Created": quantity - 2, "Shipped": 1, "Cancelled": 1}.items() if v
    }
    assert "trackingInfo" in next(s for s in statuses if s["status"] == "Shipped")
    with pytest.raises(ValueError):
        em.update_order("404", po, status="Delivered", line="1", quantity=quantity + 1)
    found = api.all_orders(createdStartDate=day(-100), shipNodeType=order["shipNode"]["type"], status="Cancelled")[0]
    assert po in {o["purchaseOrderId"] for o in found}


# 6. 429: Retry-After ------------------------------------------------------------------------------------------------
def test_a_429_says_retry_after_and_a_penalty_window_is_enforced(api: Api, em: Emulator, clock: FakeClock) -> None:
    em.faults.update({"rate_limits": {"GET /v3/orders": 2}})
    assert [api.get("/v3/orders").status_code for _ in range(3)] == [200, 200, 429]
    throttled = api.get("/v3/orders")
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "30"  # 2/min: a token in 30 s
    em.faults.update({"retry_after_seconds": 90})
    clock.now += 30
    penalised = [api.get("/v3/orders") for _ in range(2)]
    assert [r.status_code for r in penalised] == [200, 429]
    assert penalised[1].headers["Retry-After"] == "90"
    clock.now += 60  # a token is back, but Walmart said 90 s
    refused = api.get("/v3/orders")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) == 30
    clock.now += 30
    assert api.get("/v3/orders").status_code == 200


# 7. replacement orders come back only with replacementInfo=true -----------------------------------------------------
def test_replacement_orders_come_only_with_replacement_info(api: Api, em: Emulator) -> None:
    plain = every_order(api)
    complete = every_order(api, replacementInfo="true")
    replacements = [o for o in complete if o.get("orderType") == "REPLACEMENT"]
    assert replacements and all(o["originalCustomerOrderID"] for o in replacements)
    assert {o["purchaseOrderId"] for o in complete} == {o["purchaseOrderId"] for o in em.orders("404")}
    assert {o["purchaseOrderId"] for o in plain} == {o["purchaseOrderId"] for o in complete} - {
        o["purchaseOrderId"] for o in replacements
    }
    assert all("orderType" not in o for o in plain)
    only = every_order(api, replacementInfo="true", orderType="REPLACEMENT")
    assert {o["purchaseOrderId"] for o in only} == {o["purchaseOrderId"] for o in replacements}
    assert api.get("/v3/orders", orderType="REPLACEMENT").status_code == 404  # without replacementInfo: none


# 8. a busy gateway answers 200 with a body that is not JSON ---------------------------------------------------------
def test_a_busy_gateway_answers_200_with_html(api: Api, em: Emulator) -> None:
    em.faults.update({"gateway_busy_concurrency": 0})  # every call finds the gateway busier than this
    resp = api.get("/v3/orders")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    with pytest.raises(ValueError):
        resp.get_json(force=True)
    em.faults.update({"gateway_busy_concurrency": 32, "non_json_rate": 1.0})
    assert api.get("/v3/items").mimetype == "text/html"
    em.faults.update({"non_json_rate": 0.0})
    assert api.get("/v3/items").get_json()["ItemResponse"]
    assert NOW and DEMO_SELLER_ID  # the demo seller stays untouched by these knobs' tests

"""Walmart sandbox emulator: GET /v3/orders and GET /v3/items as docs/walmart/FACTS.md and specs describe them."""

from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from flask.testing import FlaskClient

from local.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_SELLER_ID, Emulator

NOW = 1_760_000_000.0  # 2025-10-09T08:53:20Z
DAY = 86_400.0
LINE_STATUSES = {"Created", "Acknowledged", "Shipped", "Delivered", "Cancelled", "Refund"}
OTHER = {"client_id": "other-client", "client_secret": "other-secret", "seller_id": "202"}


class FakeClock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def day(offset_days: float, now: float = NOW) -> str:
    """yyyy-MM-dd of now + offset."""
    return datetime.fromtimestamp(now + offset_days * DAY, UTC).strftime("%Y-%m-%d")


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Api:
    """A Walmart client over Flask's test client, one token per seller."""

    def __init__(self, client: FlaskClient, client_id: str = DEMO_CLIENT_ID, secret: str = DEMO_CLIENT_SECRET) -> None:
        self.client = client
        self.client_id, self.secret = client_id, secret
        self.token = self.new_token()

    def headers(self) -> dict[str, str]:
        return {
            "WM_SVC.NAME": "Walmart Marketplace",
            "WM_QOS.CORRELATION_ID": str(uuid.uuid4()),
            "Accept": "application/json",
            "WM_SEC.ACCESS_TOKEN": self.token,
        }

    def new_token(self) -> str:
        basic = "Basic " + base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()
        resp = self.client.post(
            "/v3/token",
            headers={"WM_SVC.NAME": "x", "WM_QOS.CORRELATION_ID": "1", "Authorization": basic},
            data={"grant_type": "client_credentials"},
        )
        assert resp.status_code == 200, resp.get_data(as_text=True)
        token: str = resp.get_json()["access_token"]
        return token

    def get(self, path: str, **params: Any) -> Any:
        return self._send(lambda: self.client.get(path, headers=self.headers(), query_string=params or None))

    def raw(self, path_and_query: str) -> Any:
        """GET exactly this path + query string (a cursor appended verbatim)."""
        return self._send(lambda: self.client.get(path_and_query, headers=self.headers()))

    def _send(self, call: Any) -> Any:
        resp = call()
        if resp.status_code == 401:  # the token ran out (tests move the clock): a new one, retry once
            self.token = self.new_token()
            resp = call()
        return resp

    def all_orders(self, **params: Any) -> tuple[list[dict[str, Any]], int, list[str]]:
        """Every page of a query: (orders, totalCount of the first page, the cursors followed)."""
        resp = self.get("/v3/orders", **params)
        if resp.status_code == 404:
            return [], 0, []
        assert resp.status_code == 200, resp.get_data(as_text=True)
        body = resp.get_json()["list"]
        orders, total, cursors = list(body["elements"]["order"]), body["meta"]["totalCount"], []
        cursor = body["meta"].get("nextCursor")
        while cursor:
            cursors.append(cursor)
            resp = self.raw("/v3/orders" + cursor)
            assert resp.status_code == 200, resp.get_data(as_text=True)
            body = resp.get_json()["list"]
            orders += body["elements"]["order"]
            cursor = body["meta"].get("nextCursor")
        return orders, total, cursors

    def all_items(self, limit: int = 20, **filters: Any) -> tuple[list[dict[str, Any]], int, set[str]]:
        """Page GET /v3/items by offset with the cursor Walmart hands out: (items, totalItems, cursors)."""
        items: list[dict[str, Any]] = []
        cursor, offset, total = "*", 0, 0
        cursors: set[str] = set()
        while True:
            resp = self.get("/v3/items", nextCursor=cursor, offset=offset, limit=limit, **filters)
            assert resp.status_code == 200, resp.get_data(as_text=True)
            body = resp.get_json()
            items += body["ItemResponse"]
            total = body["totalItems"]
            if not body.get("nextCursor"):
                return items, total, cursors
            cursor = body["nextCursor"]
            cursors.add(cursor)
            offset += limit


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def em(clock: FakeClock) -> Emulator:
    return Emulator(seed=3, clock=clock)


@pytest.fixture
def client(em: Emulator) -> FlaskClient:
    return em.wsgi_app.test_client()


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client)


def created_ms(em: Emulator, po: str, seller: str = DEMO_SELLER_ID) -> int:
    meta = em.order_meta(seller, po)
    assert meta is not None
    return int(meta["orderDate"])


def error_code(resp: Any, key: str = "error") -> str:
    code: str = resp.get_json()[key][0]["code"]
    return code


# --- GET /v3/orders: paging -------------------------------------------------------------------


def test_orders_page_through_verbatim_cursors_without_duplicates(api: Api, em: Emulator) -> None:
    # replacementInfo=true: replacement orders come only with it (order spec, GET /v3/orders, orderType)
    orders, total, cursors = api.all_orders(createdStartDate=day(-100), limit=37, replacementInfo="true")
    pos = [o["purchaseOrderId"] for o in orders]
    assert len(pos) == total == len(set(pos))
    expected = [o for o in em.orders(DEMO_SELLER_ID) if o["shipNode"]["type"] == "SellerFulfilled"]
    assert total == len(expected) > 200
    assert set(pos) == {o["purchaseOrderId"] for o in expected}
    assert [o["orderDate"] for o in orders] == sorted((o["orderDate"] for o in orders), reverse=True)
    # the cursor is a whole query string shaped like Walmart's
    assert len(cursors) == -(-total // 37) - 1
    first = cursors[0]
    assert first.startswith("?limit=37&hasMoreElements=true&soIndex=")
    params = dict(parse_qsl(first[1:]))
    assert params["poIndex"] == "37" and params["soIndex"] == str(total)
    assert params["partnerId"] == DEMO_SELLER_ID and params["createdStartDate"] == day(-100)
    assert params["createdEndDate"] == "2025-10-09T08:53:20.000Z"  # pinned to the first call
    assert "sig" in params


def test_cursor_pins_created_end_date_to_the_first_call(api: Api, em: Emulator, clock: FakeClock) -> None:
    first = api.get("/v3/orders", createdStartDate=day(-3), limit=5).get_json()["list"]
    total, cursor = first["meta"]["totalCount"], first["meta"]["nextCursor"]
    clock.now += 3600
    new = em.add_orders(DEMO_SELLER_ID, 20)
    page = api.raw("/v3/orders" + cursor).get_json()["list"]
    assert page["meta"]["totalCount"] == total
    assert not {o["purchaseOrderId"] for o in page["elements"]["order"]} & set(new)
    # a new query sees them (all of them SellerFulfilled or not: filter by shipNodeType passes)
    everything = {
        o["purchaseOrderId"]
        for t in ("SellerFulfilled", "WFSFulfilled", "3PLFulfilled")
        for o in api.all_orders(shipNodeType=t)[0]
    }
    assert set(new) <= everything


def test_tampered_cursor_is_400(api: Api) -> None:
    cursor = api.get("/v3/orders", createdStartDate=day(-60), limit=10).get_json()["list"]["meta"]["nextCursor"]
    assert api.raw("/v3/orders" + cursor).status_code == 200
    tampered = [
        cursor.replace("poIndex=10", "poIndex=20"),
        cursor.replace("limit=10", "limit=200"),
        cursor.replace(":", "%3A"),  # decoded and re-encoded
        "?" + urlencode(parse_qsl(cursor[1:])),  # parsed and rebuilt by a client library
        cursor.rsplit("&sig=", 1)[0],  # no signature
        cursor[:-1] + ("0" if cursor[-1] != "0" else "1"),
        "?" + "&".join(reversed(cursor[1:].split("&"))),
    ]
    for bad in tampered:
        assert bad != cursor
        resp = api.raw("/v3/orders" + bad)
        assert resp.status_code == 400, bad
        error = resp.get_json()["error"][0]
        assert error["code"] == "INVALID_REQUEST_PARAM.GMP_ORDER_API" and error["field"] == "nextCursor"


def test_cursor_mixed_with_other_parameters_is_400(api: Api) -> None:
    cursor = api.get("/v3/orders", createdStartDate=day(-60), limit=10).get_json()["list"]["meta"]["nextCursor"]
    assert api.raw("/v3/orders" + cursor + "&limit=10").status_code == 400
    assert api.raw("/v3/orders" + cursor + "&shipNodeType=SellerFulfilled").status_code == 400
    assert api.raw("/v3/orders?shipNodeType=SellerFulfilled&" + cursor[1:]).status_code == 400
    assert api.raw("/v3/orders" + cursor).status_code == 200


def test_cursor_of_another_seller_is_400(api: Api, em: Emulator, client: FlaskClient) -> None:
    em.add_seller(OTHER["client_id"], OTHER["client_secret"], OTHER["seller_id"])
    cursor = api.get("/v3/orders", createdStartDate=day(-60), limit=10).get_json()["list"]["meta"]["nextCursor"]
    other = Api(client, OTHER["client_id"], OTHER["client_secret"])
    assert other.raw("/v3/orders" + cursor).status_code == 400


def test_empty_window_is_404_not_found(api: Api, em: Emulator) -> None:
    # the order API's own 404, as the order spec's example (components.responses.NotFound) shows it
    resp = api.get("/v3/orders", createdStartDate=day(5), createdEndDate=day(6))
    assert resp.status_code == 404
    error = resp.get_json()["errors"][0]
    assert error["code"] == "NOT_FOUND.GMP_ORDER_API"
    assert {"description", "info", "severity", "category"} <= set(error)
    em.faults.update({"order_not_found_code": "CONTENT_NOT_FOUND.GMP_ORDER_API"})
    resp = api.get("/v3/orders", purchaseOrderId="nope")
    assert resp.status_code == 404 and error_code(resp, "errors") == "CONTENT_NOT_FOUND.GMP_ORDER_API"


def test_created_start_date_defaults_to_seven_days_even_with_last_modified(
    api: Api, em: Emulator, clock: FakeClock
) -> None:
    target = next(
        o
        for o in em.orders(DEMO_SELLER_ID)
        if o["shipNode"]["type"] == "SellerFulfilled" and 18 * DAY < NOW - o["orderDate"] / 1000 < 25 * DAY
    )
    po = target["purchaseOrderId"]
    default, _, _ = api.all_orders()
    assert default and po not in {o["purchaseOrderId"] for o in default}
    assert all(o["orderDate"] >= (NOW - 7 * DAY) * 1000 for o in default)
    assert po in {o["purchaseOrderId"] for o in api.all_orders(createdStartDate=day(-30))[0]}
    # the incremental-sync trap: an old order changes, lastModifiedStartDate alone misses it
    clock.now += 3600
    em.update_order(DEMO_SELLER_ID, po, status="Delivered")
    since = iso(clock.now - 60)
    assert api.get("/v3/orders", lastModifiedStartDate=since).status_code == 404
    found = api.all_orders(lastModifiedStartDate=since, createdStartDate=day(-30))[0]
    assert [o["purchaseOrderId"] for o in found] == [po]


def test_ship_node_type_defaults_to_seller_fulfilled_one_pass_per_type(api: Api, em: Emulator) -> None:
    start = day(-100)
    by_type = {
        t: api.all_orders(createdStartDate=start, shipNodeType=t, replacementInfo="true")[0]
        for t in ("WFSFulfilled", "3PLFulfilled")
    }
    by_type["SellerFulfilled"] = api.all_orders(createdStartDate=start, replacementInfo="true")[0]
    for kind, orders in by_type.items():
        assert orders, kind
        assert {o["shipNode"]["type"] for o in orders} == {kind}
    assert len(by_type["SellerFulfilled"]) > len(by_type["WFSFulfilled"]) + len(by_type["3PLFulfilled"])
    every = {o["purchaseOrderId"] for orders in by_type.values() for o in orders}
    assert every == {o["purchaseOrderId"] for o in em.orders(DEMO_SELLER_ID)}
    node_ids = {n["shipNode"] for n in em.seller(DEMO_SELLER_ID).ship_nodes}  # type: ignore[union-attr]
    assert {o["shipNode"]["id"] for orders in by_type.values() for o in orders} <= node_ids
    bad = api.get("/v3/orders", shipNodeType="Amazon")
    assert bad.status_code == 400 and error_code(bad) == "INVALID_REQUEST_PARAM.GMP_ORDER_API"


@pytest.mark.parametrize("limit", ["201", "1000", "0", "-5", "ten"])
def test_bad_limit_is_400(api: Api, limit: str) -> None:
    resp = api.get("/v3/orders", limit=limit)
    assert resp.status_code == 400
    assert resp.get_json()["error"][0]["field"] == "limit"


def test_limit_200_and_default_100(api: Api) -> None:
    big = api.get("/v3/orders", createdStartDate=day(-100), limit=200).get_json()["list"]
    assert len(big["elements"]["order"]) == 200 and big["meta"]["limit"] == 200
    default = api.get("/v3/orders", createdStartDate=day(-100)).get_json()["list"]
    assert len(default["elements"]["order"]) == 100 and default["meta"]["limit"] == 100


@pytest.mark.parametrize(
    "start",
    [day(-100), day(-100) + "T00:00:00Z", day(-100) + "T00:00:00.000Z", day(-100) + "T00:00:00+00:00"],
)
def test_date_formats(api: Api, start: str) -> None:
    resp = api.get("/v3/orders", createdStartDate=start, limit=1)
    assert resp.status_code == 200


def test_bad_date_is_400(api: Api) -> None:
    resp = api.get("/v3/orders", createdStartDate="last tuesday")
    assert resp.status_code == 400 and resp.get_json()["error"][0]["field"] == "createdStartDate"


def test_only_the_last_180_days_are_served(api: Api, em: Emulator, client: FlaskClient, clock: FakeClock) -> None:
    em.add_seller(OTHER["client_id"], OTHER["client_secret"], OTHER["seller_id"], order_count=400, order_days=300)
    other = Api(client, OTHER["client_id"], OTHER["client_secret"])
    every = em.orders(OTHER["seller_id"])
    old = [o for o in every if o["orderDate"] < (NOW - 180 * DAY) * 1000]
    young = [o for o in every if o["orderDate"] >= (NOW - 180 * DAY) * 1000]
    assert old and young
    served = set()
    for kind in ("SellerFulfilled", "WFSFulfilled", "3PLFulfilled"):
        served |= {
            o["purchaseOrderId"]
            for o in other.all_orders(createdStartDate=day(-400), shipNodeType=kind, replacementInfo="true")[0]
        }
    assert served == {o["purchaseOrderId"] for o in young}
    assert other.get(f"/v3/orders/{old[0]['purchaseOrderId']}").status_code == 404
    assert other.get(f"/v3/orders/{young[0]['purchaseOrderId']}").status_code == 200
    # time passes: orders age out
    clock.now += 30 * DAY
    later = set()
    for kind in ("SellerFulfilled", "WFSFulfilled", "3PLFulfilled"):
        later |= {
            o["purchaseOrderId"]
            for o in other.all_orders(createdStartDate=day(-400), shipNodeType=kind, replacementInfo="true")[0]
        }
    assert later < served


def test_last_modified_filter_sees_update_order(api: Api, em: Emulator, clock: FakeClock) -> None:
    orders = [o for o in em.orders(DEMO_SELLER_ID) if o["shipNode"]["type"] == "SellerFulfilled"]
    target = next(o for o in orders if len(o["orderLines"]["orderLine"]) > 1)
    po = target["purchaseOrderId"]
    clock.now += 600
    since = iso(clock.now - 1)
    assert api.get("/v3/orders", createdStartDate=day(-100), lastModifiedStartDate=since).status_code == 404
    clock.now += 60
    updated = em.update_order(DEMO_SELLER_ID, po, status="Shipped", line="1")
    lines = updated["orderLines"]["orderLine"]
    assert lines[0]["orderLineStatuses"]["orderLineStatus"][0]["status"] == "Shipped"
    assert lines[0]["statusDate"] == int(clock.now * 1000)
    assert "trackingInfo" in lines[0]["orderLineStatuses"]["orderLineStatus"][0]
    assert (
        lines[1]["orderLineStatuses"]["orderLineStatus"][0]["status"]
        == target["orderLines"]["orderLine"][1]["orderLineStatuses"]["orderLineStatus"][0]["status"]
    )
    assert em.order_meta(DEMO_SELLER_ID, po)["lastModified"] == int(clock.now * 1000)  # type: ignore[index]
    found = api.all_orders(createdStartDate=day(-100), lastModifiedStartDate=since)[0]
    assert [o["purchaseOrderId"] for o in found] == [po]
    # lastModifiedEndDate before the change excludes it
    resp = api.get(
        "/v3/orders", createdStartDate=day(-100), lastModifiedStartDate=since, lastModifiedEndDate=iso(clock.now - 30)
    )
    assert resp.status_code == 404
    # status filter: any line in that status
    shipped = api.all_orders(createdStartDate=day(-100), status="Shipped")[0]
    assert po in {o["purchaseOrderId"] for o in shipped}
    with pytest.raises(ValueError):
        em.update_order(DEMO_SELLER_ID, po, status="Lost")
    with pytest.raises(KeyError):
        em.update_order(DEMO_SELLER_ID, "000", status="Shipped")
    with pytest.raises(KeyError):
        em.update_order(DEMO_SELLER_ID, po, status="Shipped", line="99")


def test_filters_by_sku_purchase_order_and_customer_order(api: Api, em: Emulator) -> None:
    target = next(o for o in em.orders(DEMO_SELLER_ID) if o["shipNode"]["type"] == "SellerFulfilled")
    start = day(-100)
    by_po = api.all_orders(createdStartDate=start, purchaseOrderId=target["purchaseOrderId"])[0]
    assert [o["purchaseOrderId"] for o in by_po] == [target["purchaseOrderId"]]
    by_customer = api.all_orders(createdStartDate=start, customerOrderId=target["customerOrderId"])[0]
    assert [o["purchaseOrderId"] for o in by_customer] == [target["purchaseOrderId"]]
    sku = target["orderLines"]["orderLine"][0]["item"]["sku"]
    by_sku = api.all_orders(createdStartDate=start, sku=sku)[0]
    assert target["purchaseOrderId"] in {o["purchaseOrderId"] for o in by_sku}
    assert all(any(ln["item"]["sku"] == sku for ln in o["orderLines"]["orderLine"]) for o in by_sku)
    with_info = api.get("/v3/orders", createdStartDate=start, productInfo="true", limit=1).get_json()
    item = with_info["list"]["elements"]["order"][0]["orderLines"]["orderLine"][0]["item"]
    assert item["imageUrl"].startswith("https://") and "weight" in item


def test_get_one_order(api: Api, em: Emulator) -> None:
    em.faults.update({"single_object_rate": 0})  # served exactly as rendered
    target = em.orders(DEMO_SELLER_ID)[5]
    resp = api.get(f"/v3/orders/{target['purchaseOrderId']}")
    assert resp.status_code == 200
    assert resp.get_json() == {"order": target}
    missing = api.get("/v3/orders/123456789")
    assert missing.status_code == 404 and error_code(missing, "errors") == "NOT_FOUND.GMP_ORDER_API"
    assert em.calls(DEMO_SELLER_ID, "GET /v3/orders/{purchaseOrderId}") == 2


def test_order_shape_matches_walmarts_example(em: Emulator) -> None:
    orders = em.orders(DEMO_SELLER_ID)
    assert len(orders) == 300
    ages = [NOW - o["orderDate"] / 1000 for o in orders]
    assert max(ages) <= 90 * DAY and sum(a > 7 * DAY for a in ages) > 200 and min(ages) >= 0
    seen_status, seen_charges, seen_types, multi = set(), set(), set(), 0
    node_ids = {n["shipNode"] for n in em.seller(DEMO_SELLER_ID).ship_nodes}  # type: ignore[union-attr]
    for order in orders:
        assert list(order)[:4] == ["purchaseOrderId", "customerOrderId", "customerEmailId", "orderDate"]
        assert isinstance(order["purchaseOrderId"], str) and isinstance(order["orderDate"], int)
        shipping = order["shippingInfo"]
        assert {"phone", "estimatedDeliveryDate", "estimatedShipDate", "methodCode", "postalAddress"} <= set(shipping)
        assert {"name", "address1", "city", "state", "postalCode", "country"} <= set(shipping["postalAddress"])
        assert order["shipNode"]["id"] in node_ids and order["shipNode"]["name"]
        seen_types.add(order["shipNode"]["type"])
        lines = order["orderLines"]["orderLine"]
        multi += len(lines) > 1
        for number, line in enumerate(lines, 1):
            assert line["lineNumber"] == str(number)
            assert {"productName", "sku"} <= set(line["item"])
            assert isinstance(line["orderLineQuantity"]["amount"], str)
            assert isinstance(line["statusDate"], int)
            for charge in line["charges"]["charge"]:
                seen_charges.add(charge["chargeType"])
                assert charge["chargeAmount"]["currency"] == "USD"
                assert isinstance(charge["tax"]["taxAmount"]["amount"], (int, float))
            # every status of the line with its quantity (one shipped, one cancelled: two entries)
            statuses = line["orderLineStatuses"]["orderLineStatus"]
            units = sum(int(status["statusQuantity"]["amount"]) for status in statuses)
            assert units == int(line["orderLineQuantity"]["amount"])
            for status in statuses:
                seen_status.add(status["status"])
                if status["status"] in ("Shipped", "Delivered"):
                    tracking = status["trackingInfo"]
                    assert {"shipDateTime", "carrierName", "methodCode", "trackingNumber", "trackingURL"} <= set(
                        tracking
                    )
                    assert tracking["carrierName"]["carrier"]
            if any(status["status"] == "Refund" for status in statuses):
                refund = line["refund"]["refundCharges"]["refundCharge"][0]
                assert refund["charge"]["chargeAmount"]["amount"] < 0
            else:
                assert "refund" not in line
            assert line["fulfillment"]["fulfillmentOption"]
    assert seen_status == LINE_STATUSES
    assert seen_charges == {"PRODUCT", "SHIPPING"}
    assert seen_types == {"SellerFulfilled", "WFSFulfilled", "3PLFulfilled"}
    assert multi > 30


def test_orders_max_results_caps_what_a_cursor_reaches(api: Api, em: Emulator) -> None:
    em.faults.update({"orders_max_results": 50})
    orders, total, _ = api.all_orders(createdStartDate=day(-100), limit=20)
    assert total > 200 and len(orders) == 50
    assert len({o["purchaseOrderId"] for o in orders}) == 50


def test_add_orders_appear_as_created(api: Api, em: Emulator, clock: FakeClock) -> None:
    clock.now += 60
    new = em.add_orders(DEMO_SELLER_ID, 25)
    assert len(set(new)) == 25
    found: set[str] = set()
    for kind in ("SellerFulfilled", "WFSFulfilled", "3PLFulfilled"):
        found |= {
            o["purchaseOrderId"] for o in api.all_orders(shipNodeType=kind, lastModifiedStartDate=iso(clock.now))[0]
        }
    assert found == set(new)
    order = em.order(DEMO_SELLER_ID, new[0])
    assert order is not None and order["orderDate"] == int(clock.now * 1000)
    assert {ln["orderLineStatuses"]["orderLineStatus"][0]["status"] for ln in order["orderLines"]["orderLine"]} == {
        "Created"
    }


# --- GET /v3/items -----------------------------------------------------------------------------


def test_items_page_by_offset_with_the_same_cursor(api: Api, em: Emulator) -> None:
    items, total, cursors = api.all_items(limit=7)
    assert total == 60 == len(items)
    assert [i["sku"] for i in items] == [i["sku"] for i in em.items(DEMO_SELLER_ID)]
    assert len(cursors) == 1  # the same opaque string on every page
    (cursor,) = cursors
    assert cursor != "*" and cursor.startswith("AoE")
    last = api.get("/v3/items", nextCursor=cursor, offset=56, limit=7).get_json()
    assert len(last["ItemResponse"]) == 4 and "nextCursor" not in last
    # a fresh "*" starts a new query: a new cursor
    again = api.get("/v3/items", nextCursor="*", limit=7).get_json()["nextCursor"]
    assert again.startswith("AoE")
    for item in items:
        assert {"mart", "sku", "wpid", "upc", "gtin", "productName", "shelf", "productType", "price"} <= set(item)
        assert {"publishedStatus", "lifecycleStatus"} <= set(item)
        assert item["price"]["currency"] == "USD" and len(item["gtin"]) == 14
        if item["publishedStatus"] == "UNPUBLISHED":
            assert item["unpublishedReasons"]["reason"]
    assert {i["publishedStatus"] for i in items} >= {"PUBLISHED", "UNPUBLISHED"}


def test_items_defaults_and_bounds(api: Api, em: Emulator) -> None:
    first = api.get("/v3/items").get_json()
    assert len(first["ItemResponse"]) == 20 and first["totalItems"] == 60 and first["nextCursor"]
    for params in ({"offset": "10001"}, {"offset": "-1"}, {"limit": "1001"}, {"limit": "0"}, {"limit": "x"}):
        resp = api.get("/v3/items", nextCursor="*", **params)
        assert resp.status_code == 400, params
        assert error_code(resp) == "INVALID_REQUEST_PARAM.GMP_ITEM_QUERY_API"
    assert api.get("/v3/items", nextCursor="*", offset="10000").status_code == 200
    beyond = api.get("/v3/items", nextCursor="*", offset="100").get_json()
    assert beyond["ItemResponse"] == [] and "nextCursor" not in beyond


def test_items_bad_cursor_is_400(api: Api, em: Emulator, client: FlaskClient) -> None:
    cursor = api.get("/v3/items", nextCursor="*").get_json()["nextCursor"]
    for bad in ("garbage", cursor[:-1] + ("0" if cursor[-1] != "0" else "1"), cursor.replace("AoE", "AoF")):
        resp = api.get("/v3/items", nextCursor=bad, offset=20)
        assert resp.status_code == 400
        assert resp.get_json()["error"][0]["description"].startswith("Invalid Cursor")
    em.add_seller(OTHER["client_id"], OTHER["client_secret"], OTHER["seller_id"])
    other = Api(client, OTHER["client_id"], OTHER["client_secret"])
    assert other.get("/v3/items", nextCursor=cursor, offset=20).status_code == 400


def test_items_cursor_ttl_knob(api: Api, em: Emulator, clock: FakeClock) -> None:
    cursor = api.get("/v3/items", nextCursor="*").get_json()["nextCursor"]
    clock.now += 600
    assert api.get("/v3/items", nextCursor=cursor, offset=20).status_code == 400  # 120 s by default, as the spec says
    em.faults.update({"item_cursor_ttl_seconds": None})
    assert api.get("/v3/items", nextCursor=cursor, offset=20).status_code == 200


def test_items_filters_and_single_item(api: Api, em: Emulator) -> None:
    catalogue = em.items(DEMO_SELLER_ID)
    published = [i for i in catalogue if i["publishedStatus"] == "PUBLISHED"]
    items, total, cursors = api.all_items(limit=10, publishedStatus="PUBLISHED")
    assert total == len(published) == len(items) and {i["publishedStatus"] for i in items} == {"PUBLISHED"}
    # later pages may leave the filter out (the cursor carries it) but not change it
    (cursor,) = cursors
    page = api.get("/v3/items", nextCursor=cursor, offset=10, limit=10).get_json()
    assert [i["sku"] for i in page["ItemResponse"]] == [i["sku"] for i in published[10:20]]
    assert api.get("/v3/items", nextCursor=cursor, offset=10, publishedStatus="UNPUBLISHED").status_code == 400
    target = catalogue[3]
    one = api.get("/v3/items", sku=target["sku"]).get_json()
    assert one["totalItems"] == 1 and one["ItemResponse"] == [target]
    assert api.get(f"/v3/items/{target['sku']}").get_json() == {"ItemResponse": [target], "totalItems": 1}
    by_gtin = api.get(f"/v3/items/{target['gtin']}", productIdType="GTIN").get_json()
    assert by_gtin["ItemResponse"][0]["sku"] == target["sku"]
    missing = api.get("/v3/items/NO-SUCH-SKU")
    assert missing.status_code == 404 and error_code(missing) == "CONTENT_NOT_FOUND.GMP_ITEM_QUERY_API"
    nothing = api.get("/v3/items", sku="NO-SUCH-SKU")
    assert nothing.status_code == 404 and error_code(nothing) == "CONTENT_NOT_FOUND.GMP_ITEM_QUERY_API"


def test_duplicate_item_rate_repeats_earlier_items_and_loses_none(api: Api, em: Emulator) -> None:
    em.faults.update({"duplicate_item_rate": 0.3})
    items, total, _ = api.all_items(limit=10)
    skus = [i["sku"] for i in items]
    assert total == 60 and set(skus) == {i["sku"] for i in em.items(DEMO_SELLER_ID)}
    duplicates = len(skus) - len(set(skus))
    assert duplicates == 15  # 3 per page after the first
    first = api.get("/v3/items", nextCursor="*", limit=10).get_json()["ItemResponse"]
    assert len(first) == 10 == len({i["sku"] for i in first})
    # deterministic
    assert [i["sku"] for i in api.all_items(limit=10)[0]] == skus
    em.faults.update({"duplicate_item_rate": 0.0})
    assert len(api.all_items(limit=10)[0]) == 60


def test_malformed_record_rate_breaks_the_same_records_every_time(api: Api, em: Emulator) -> None:
    em.faults.update({"malformed_record_rate": 0.2, "single_object_rate": 0})
    orders, total, _ = api.all_orders(createdStartDate=day(-100), limit=50)
    assert len(orders) == total

    def broken(order: dict[str, Any]) -> bool:
        lines = order.get("orderLines")
        return (
            "purchaseOrderId" not in order
            or not isinstance(lines, dict)
            or not isinstance(order.get("orderDate"), int)
            or any(not ln["orderLineQuantity"]["amount"].isdigit() for ln in lines["orderLine"])
        )

    bad = [o for o in orders if broken(o)]
    assert 0.1 * total < len(bad) < 0.3 * total
    again, _, _ = api.all_orders(createdStartDate=day(-100), limit=50)
    assert orders == again
    items, _, _ = api.all_items(limit=20)
    bad_items = [i for i in items if not i.get("sku") or not isinstance(i["price"]["amount"], (int, float))]
    assert 0 < len(bad_items) < 30
    em.faults.update({"malformed_record_rate": 0})
    clean, _, _ = api.all_orders(createdStartDate=day(-100), limit=50)
    assert not [o for o in clean if broken(o)]


def test_wrapped_order_rate_wraps_like_walmarts_example(api: Api, em: Emulator) -> None:
    em.faults.update({"wrapped_order_rate": 0.25})
    orders, total, _ = api.all_orders(createdStartDate=day(-100), limit=50)
    wrapped = [o for o in orders if set(o) == {"order"}]
    assert 0 < len(wrapped) < total
    assert all("purchaseOrderId" in o["order"] for o in wrapped)


# --- rate limits -------------------------------------------------------------------------------


def test_items_have_two_buckets_and_429_when_empty(api: Api, em: Emulator, clock: FakeClock) -> None:
    em.faults.update({"rate_limit_scale": 1 / 30})  # 300/min -> 10, 60/min -> 2
    assert api.get("/v3/items", nextCursor="*").status_code == 200
    assert api.get("/v3/items", nextCursor="*").status_code == 200
    throttled = api.get("/v3/items", nextCursor="*")
    assert throttled.status_code == 429
    assert error_code(throttled) == "REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API"
    assert throttled.headers["x-current-token-count"] == "0"
    assert int(throttled.headers["x-next-replenishment-time"]) > NOW * 1000
    # the bucket of calls without query parameters is separate (and larger)
    plain = [api.get("/v3/items").status_code for _ in range(11)]
    assert plain == [200] * 10 + [429]
    clock.now += 30  # refilled gradually: 1 token of the small bucket
    assert api.get("/v3/items", nextCursor="*").status_code == 200


def test_orders_429_when_bucket_is_empty(api: Api, em: Emulator) -> None:
    em.faults.update({"rate_limit_scale": 0.001})  # 5000/min -> 5
    codes = [api.get("/v3/orders", createdStartDate=day(-10)).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    ok = api.get("/v3/settings/shipping/shipnodes")
    assert ok.status_code == 200  # other endpoints keep their own buckets


# --- data generation ---------------------------------------------------------------------------


def test_same_seed_same_data(clock: FakeClock) -> None:
    a, b = Emulator(seed=11, clock=clock), Emulator(seed=11, clock=clock)
    for em in (a, b):
        em.add_seller("x", "y", "303", item_count=30, order_count=80, order_days=40)
    assert a.orders("303") == b.orders("303") and a.items("303") == b.items("303")
    assert a.orders(DEMO_SELLER_ID) == b.orders(DEMO_SELLER_ID)
    c = Emulator(seed=12, clock=clock)
    assert c.orders(DEMO_SELLER_ID) != a.orders(DEMO_SELLER_ID)
    # a reset regenerates the same data
    first = a.orders(DEMO_SELLER_ID)
    a.update_order(DEMO_SELLER_ID, first[0]["purchaseOrderId"], status="Cancelled")
    a.reset()
    assert a.orders(DEMO_SELLER_ID) == first


def test_status_change_does_not_shift_other_fields(em: Emulator) -> None:
    before = em.orders(DEMO_SELLER_ID)[10]
    after = em.update_order(DEMO_SELLER_ID, before["purchaseOrderId"], status="Delivered")
    assert after["shippingInfo"] == before["shippingInfo"]
    assert after["customerEmailId"] == before["customerEmailId"]
    for old, new in zip(before["orderLines"]["orderLine"], after["orderLines"]["orderLine"], strict=True):
        assert old["charges"] == new["charges"]


def test_generating_20k_orders_and_5k_items_is_fast(clock: FakeClock) -> None:
    em = Emulator(seed=5, clock=clock)
    em.add_seller("big", "big-secret", "404", item_count=5000, order_count=20_000, order_days=170)
    started = time.perf_counter()
    assert em.generate("404") == {"items": 5000, "orders": 20_000}
    assert time.perf_counter() - started < 2.5
    api = Api(em.wsgi_app.test_client(), "big", "big-secret")
    started = time.perf_counter()
    page = api.get("/v3/orders", createdStartDate=day(-170), limit=200).get_json()["list"]
    assert page["meta"]["totalCount"] > 10_000 and len(page["elements"]["order"]) == 200
    assert time.perf_counter() - started < 0.5


# --- control endpoints -------------------------------------------------------------------------


def test_control_endpoints_for_sizes_orders_and_knobs(client: FlaskClient, em: Emulator, clock: FakeClock) -> None:
    created = client.post(
        "/__emulator/sellers",
        json={**OTHER, "item_count": 12, "order_count": 40, "order_days": 20},
    )
    assert created.status_code == 201
    assert created.get_json()["item_count"] == 12 and created.get_json()["order_count"] == 40
    assert client.post("/__emulator/sellers", json={**OTHER, "order_count": "many"}).status_code == 400
    listed = client.get(f"/__emulator/sellers/{OTHER['seller_id']}/orders?limit=5").get_json()
    assert listed["count"] == 40 and len(listed["orders"]) == 5
    assert {"purchaseOrderId", "orderDate", "lastModified", "shipNodeType", "lines"} <= set(listed["orders"][0])
    assert client.get(f"/__emulator/sellers/{OTHER['seller_id']}/items").get_json()["count"] == 12

    clock.now += 60
    added = client.post(f"/__emulator/sellers/{OTHER['seller_id']}/orders", json={"count": 3})
    assert added.status_code == 201 and len(added.get_json()["purchase_order_ids"]) == 3
    po = added.get_json()["purchase_order_ids"][0]
    clock.now += 60
    changed = client.post(f"/__emulator/sellers/{OTHER['seller_id']}/orders/{quote(po)}", json={"status": "Shipped"})
    assert changed.status_code == 200
    body = changed.get_json()
    assert body["meta"]["lastModified"] == int(clock.now * 1000)
    assert {ln["status"] for ln in body["meta"]["lines"]} == {"Shipped"}
    assert (
        client.post(f"/__emulator/sellers/{OTHER['seller_id']}/orders/{po}", json={"status": "Lost"}).status_code == 400
    )
    assert (
        client.post(f"/__emulator/sellers/{OTHER['seller_id']}/orders/000", json={"status": "Shipped"}).status_code
        == 404
    )
    assert client.post("/__emulator/sellers/nobody/orders", json={"count": 1}).status_code == 404
    assert (
        client.get(f"/__emulator/sellers/{OTHER['seller_id']}/orders/{po}").get_json()["meta"]["purchaseOrderId"] == po
    )

    knobs = {
        "malformed_record_rate": 0.1,
        "duplicate_item_rate": 0.3,
        "wrapped_order_rate": 0.05,
        "orders_max_results": 500,
        "item_cursor_ttl_seconds": 120,
    }
    resp = client.post("/__emulator/faults", json=knobs)
    assert resp.status_code == 200 and {k: resp.get_json()[k] for k in knobs} == knobs
    for bad in ({"malformed_record_rate": 2}, {"duplicate_item_rate": -0.1}, {"orders_max_results": 0}):
        assert client.post("/__emulator/faults", json=bad).status_code == 400
    state = client.get("/__emulator/state").get_json()
    other = next(s for s in state["sellers"] if s["seller_id"] == OTHER["seller_id"])
    assert other["order_count"] == 43


def test_per_endpoint_rate_limit_override_binds() -> None:
    from local.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Emulator

    emulator = Emulator(seed=3)
    emulator.faults.update({"rate_limits": {"GET /v3/settings/shipping/shipnodes": 2}})
    client = emulator.wsgi_app.test_client()
    import base64

    basic = base64.b64encode(f"{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}".encode()).decode()
    headers = {"WM_SVC.NAME": "t", "WM_QOS.CORRELATION_ID": "c"}
    token = client.post(
        "/v3/token",
        data={"grant_type": "client_credentials"},
        headers={**headers, "Authorization": f"Basic {basic}", "Accept": "application/json"},
    ).get_json()["access_token"]
    statuses = [
        client.get("/v3/settings/shipping/shipnodes", headers={**headers, "WM_SEC.ACCESS_TOKEN": token}).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    with pytest.raises(ValueError):
        emulator.faults.update({"rate_limits": {"GET /v3/orders": 0}})

"""Walmart payloads (Walmart's own examples) become our product and order records; bad ones are reported."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from walmart_integration.models.marketplace import (
    MalformedRecord,
    content_hash,
    order_from_walmart,
    order_status,
    product_from_item,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "walmart" / "examples"  # Walmart's, from its specs


def example(name):
    return json.loads((EXAMPLES / name).read_text(), parse_float=Decimal)


def test_every_order_of_walmarts_example_parses_including_the_wrapped_one():
    orders = example("GET_v3_orders__200__example.json")["list"]["elements"]["order"]
    parsed = [order_from_walmart(raw) for raw in orders]
    assert len(parsed) == 11
    assert len({order["purchase_order_id"] for order in parsed}) == 11
    first = parsed[0]
    assert first["purchase_order_id"] == "1796277083022"
    assert first["customer_order_id"] == "5281956426648"
    assert first["order_date"] == "2019-09-14T13:09:31Z"  # epoch milliseconds -> ISO 8601 UTC
    line = first["lines"][0]
    assert line["quantity"] == 1 and isinstance(line["quantity"], int)  # Walmart sends "1"
    assert line["charges"][0]["amount"] == Decimal("10")
    assert line["charges"][0]["tax"] == Decimal("0.8")
    assert line["status"] == "Created"


def test_money_stays_exact():
    orders = example("GET_v3_orders__200__example.json")["list"]["elements"]["order"]
    amounts = [c["amount"] for o in map(order_from_walmart, orders) for line in o["lines"] for c in line["charges"]]
    assert all(isinstance(amount, Decimal) for amount in amounts)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda o: o.pop("purchaseOrderId"), "order without a purchaseOrderId"),
        (lambda o: o.update(orderLines="garbage"), "order without order lines"),
        (lambda o: o["orderLines"]["orderLine"][0]["orderLineQuantity"].update(amount="many"), "quantity"),
        (lambda o: o["orderLines"]["orderLine"][0]["item"].pop("sku"), "order line without a sku"),
        (lambda o: o.update(orderDate="yesterday"), "timestamp"),
    ],
)
def test_malformed_orders_raise_with_a_reason(mutate, reason):
    order = example("GET_v3_orders__200__example.json")["list"]["elements"]["order"][0]
    mutate(order)
    with pytest.raises(MalformedRecord, match=reason):
        order_from_walmart(order)


def test_items_of_walmarts_example_parse():
    items = example("GET_v3_items__200__example.json")["ItemResponse"]
    products = [product_from_item(item) for item in items]
    assert products[0]["sku"] == "SKU-06311216175845"
    assert products[0]["wpid"] == "389C68OHA8XI"
    assert products[0]["published_status"] == "UNPUBLISHED"
    assert products[0]["lifecycle_status"] == "ACTIVE"
    assert products[0]["price"] == Decimal("0")
    assert len(products[0]["unpublished_reasons"]) == 4
    with pytest.raises(MalformedRecord):
        product_from_item({"productName": "no sku"})


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["Created", "Shipped"], "Created"),
        (["Shipped", "Delivered"], "Shipped"),
        (["Cancelled", "Cancelled"], "Cancelled"),
        (["Cancelled", "Delivered"], "Delivered"),
        (["Delivered", "Refund"], "Refund"),
    ],
)
def test_order_status_from_line_statuses(statuses, expected):
    assert order_status([{"status": s} for s in statuses]) == expected


def test_content_hash_ignores_key_order_and_sees_changes():
    a = {"sku": "1", "price": Decimal("1.50")}
    assert content_hash(a) == content_hash({"price": Decimal("1.50"), "sku": "1"})
    assert content_hash(a) != content_hash({"sku": "1", "price": Decimal("1.51")})

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
    product_from_report_row,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "walmart" / "examples"  # Walmart's, from its specs


def example(name):
    return json.loads((EXAMPLES / name).read_text(), parse_float=Decimal)


def test_every_order_of_walmarts_example_parses_including_the_wrapped_one():
    orders = example("GET_v3_orders__200__example.json")["list"]["elements"]["order"]
    parsed = [order_from_walmart(raw) for raw in orders]
    assert len(parsed) == 11
    assert len({order.purchase_order_id for order in parsed}) == 11
    first = parsed[0]
    assert first.purchase_order_id == "1796277083022"
    assert first.customer_order_id == "5281956426648"
    assert first.order_date == "2019-09-14T13:09:31Z"  # epoch milliseconds -> ISO 8601 UTC
    line = first.lines[0]
    assert line.quantity == 1 and isinstance(line.quantity, int)  # Walmart sends "1"
    assert line.charges[0].amount == Decimal("10")
    assert line.charges[0].tax == Decimal("0.8")
    assert line.status == "Created"


def test_money_stays_exact():
    orders = example("GET_v3_orders__200__example.json")["list"]["elements"]["order"]
    amounts = [c.amount for o in map(order_from_walmart, orders) for line in o.lines for c in line.charges]
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
    assert products[0].sku == "SKU-06311216175845"
    assert products[0].wpid == "389C68OHA8XI"
    assert products[0].published_status == "UNPUBLISHED"
    assert products[0].lifecycle_status == "ACTIVE"
    assert products[0].price == Decimal("0")
    assert len(products[0].unpublished_reasons) == 4
    with pytest.raises(MalformedRecord):
        product_from_item({"productName": "no sku"})


def test_a_field_of_a_type_no_record_holds_is_a_malformed_record_and_numbers_are_kept_as_text():
    with pytest.raises(MalformedRecord, match="name") as error:
        product_from_item({"sku": "S-1", "productName": {"en": "Jeans"}})
    assert error.value.key == "S-1"
    order = example("GET_v3_orders__200__example.json")["list"]["elements"]["order"][0]
    with pytest.raises(MalformedRecord, match="customer_order_id") as error:
        order_from_walmart({**order, "customerOrderId": ["C1", "C2"]})
    assert error.value.key == order["purchaseOrderId"]
    assert product_from_item({"sku": "S-2", "gtin": 12345678905}).gtin == "12345678905"


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
    assert order_status(statuses) == expected


def test_content_hash_ignores_key_order_and_sees_changes():
    a = {"sku": "1", "price": Decimal("1.50")}
    assert content_hash(a) == content_hash({"price": Decimal("1.50"), "sku": "1"})
    assert content_hash(a) != content_hash({"sku": "1", "price": Decimal("1.51")})


# -- Walmart's JSON comes from XML: a list of one may arrive as the element itself (issue #12, point 4) -----------
def collapse(order):
    """Every one-element list of the order as its only element, as an XML-to-JSON conversion writes it."""
    if isinstance(order, dict):
        return {k: collapse(v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in order.items()}
    if isinstance(order, list):
        return [collapse(x) for x in order]
    return order


def test_an_order_whose_one_element_lists_are_objects_parses_like_the_arrays():
    original = example("GET_v3_orders__200__example.json")["list"]["elements"]["order"][0]
    refund = {
        "refundId": "R1",
        "refundCharges": {
            "refundCharge": [
                {
                    "refundReason": "DamagedItem",
                    "charge": {
                        "chargeType": "PRODUCT",
                        "chargeName": "ItemPrice",
                        "chargeAmount": {"currency": "USD", "amount": Decimal("-10")},
                        "tax": {"taxName": "Tax1", "taxAmount": {"currency": "USD", "amount": Decimal("-0.8")}},
                    },
                }
            ]
        },
    }
    original["orderLines"]["orderLine"][0]["refund"] = refund
    collapsed = collapse(original)
    line = collapsed["orderLines"]["orderLine"]
    assert isinstance(line, dict) and isinstance(line["charges"]["charge"], dict)
    assert isinstance(line["orderLineStatuses"]["orderLineStatus"], dict)
    assert isinstance(line["refund"]["refundCharges"]["refundCharge"], dict)
    assert order_from_walmart(collapsed) == order_from_walmart(original)
    record = order_from_walmart(collapsed)
    assert record.lines[0].charges[0].amount == Decimal("10")
    assert record.model_dump()["lines"][0]["refund_charges"] == [
        {"type": "PRODUCT", "amount": Decimal("-10"), "tax": Decimal("-0.8"), "reason": "DamagedItem"}
    ]


# -- per-status quantities (issue #12, point 5) ----------------------------------------------------------------------
def test_every_status_of_a_line_is_kept_with_its_quantity():
    order = example("GET_v3_orders__200__example.json")["list"]["elements"]["order"][0]
    line = order["orderLines"]["orderLine"][0]
    line["orderLineQuantity"]["amount"] = "2"
    tracking = {
        "shipDateTime": 1568466571000,
        "carrierName": {"carrier": "UPS"},
        "methodCode": "Standard",
        "trackingNumber": "1Z",
        "trackingURL": "https://t",
    }
    line["orderLineStatuses"]["orderLineStatus"] = [
        {"status": "Shipped", "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "1"}, "trackingInfo": tracking},
        {
            "status": "Cancelled",
            "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "1"},
            "cancellationReason": "SELLER_CANCEL_OUT_OF_STOCK",
        },
    ]
    record = order_from_walmart(order)
    (parsed,) = record.lines
    assert parsed.quantity == 2
    assert [(s.status, s.quantity) for s in parsed.statuses] == [("Shipped", 1), ("Cancelled", 1)]
    assert parsed.statuses[1].cancellation_reason == "SELLER_CANCEL_OUT_OF_STOCK"
    assert parsed.statuses[0].tracking is not None and parsed.statuses[0].tracking.number == "1Z"
    assert parsed.status == "Shipped"  # the line is as far as its least advanced live unit
    assert record.line_statuses == ["Cancelled", "Shipped"]
    assert record.status == "Shipped"


def test_a_status_quantity_that_is_not_a_number_is_a_malformed_record():
    order = example("GET_v3_orders__200__example.json")["list"]["elements"]["order"][0]
    order["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][0]["statusQuantity"]["amount"] = "x"
    with pytest.raises(MalformedRecord, match="status quantity"):
        order_from_walmart(order)


def test_replacement_attributes_are_kept():
    order = example("GET_v3_orders__200__example.json")["list"]["elements"]["order"][0]
    order |= {"orderType": "REPLACEMENT", "originalCustomerOrderID": "1234"}
    record = order_from_walmart(order)
    assert (record.order_type, record.original_customer_order_id) == ("REPLACEMENT", "1234")


def test_item_report_rows_become_products_like_items_do():
    row = {
        "SKU": "SKU-1",
        "Item ID": "123456",
        "Product Name": "Blue Jeans",
        "Lifecycle Status": "ACTIVE",
        "Publish Status": "UNPUBLISHED",
        "Status Change Reason": "No price was found for this listing.",
        "Price": "19.99",
        "Currency": "USD",
        "WPID": "389C68OHA8XI",
        "GTIN": "00012345678905",
        "UPC": "012345678905",
    }
    product = product_from_report_row(row)
    assert product.model_dump() == {
        "sku": "SKU-1",
        "wpid": "389C68OHA8XI",
        "gtin": "00012345678905",
        "upc": "012345678905",
        "name": "Blue Jeans",
        "price": Decimal("19.99"),
        "currency": "USD",
        "published_status": "UNPUBLISHED",
        "lifecycle_status": "ACTIVE",
        "unpublished_reasons": ["No price was found for this listing."],
    }
    with pytest.raises(MalformedRecord):
        product_from_report_row({"Product Name": "no sku"})
    with pytest.raises(MalformedRecord):
        product_from_report_row({**row, "Price": "N/A"})


def test_the_item_report_file_is_read_from_a_zip_a_gzip_or_plain_csv():
    import gzip
    import io
    import zipfile

    from walmart_integration.walmart.item_report import read_item_report

    text = '\ufeffSKU,Product Name,Price\r\nA-1,"Jeans, blue",19.99\r\nB-2,Tee,\r\n'
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("ItemReport_1_2026.csv", text)
    expected = [
        {"SKU": "A-1", "Product Name": "Jeans, blue", "Price": "19.99"},
        {"SKU": "B-2", "Product Name": "Tee", "Price": ""},
    ]
    assert read_item_report(archive.getvalue()) == expected
    assert read_item_report(gzip.compress(text.encode())) == expected
    assert read_item_report(text.encode("utf-8")) == expected
    assert read_item_report(b"") == []
    with pytest.raises(ValueError):
        read_item_report(b"PK\x03\x04 not really a zip")
    products = [product_from_report_row(row) for row in expected]
    assert products[0].price == Decimal("19.99") and products[1].price is None

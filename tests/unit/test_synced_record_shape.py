"""Synced products and orders keep their stored shape and content hash: what the repository writes is what earlier
versions wrote (attribute by attribute, number by number), an unchanged record is not written again, and what is
stored reads back as the API showed it (no sockets, no moto: a small in-memory table stands in for DynamoDB)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from walmart_integration.models.marketplace import order_from_walmart, product_from_item, product_from_report_row
from walmart_integration.services.synced_data import SyncedDataService
from walmart_integration.store import dynamo
from walmart_integration.store.synced import SyncedDataRepository

NOW = "2026-12-02T13:00:00Z"
LATER = "2026-12-03T13:00:00Z"


class InMemoryTable:
    """The DynamoDB calls ``SyncedDataRepository`` makes, on one table held in memory (typed items, as on the wire)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.puts = 0

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        for requests in RequestItems.values():
            for request in requests:
                item = request["PutRequest"]["Item"]
                self.items[(item["pk"]["S"], item["sk"]["S"])] = item
                self.puts += 1
        return {}

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        responses = {}
        for table, request in RequestItems.items():
            found = [self.items.get((key["pk"]["S"], key["sk"]["S"])) for key in request["Keys"]]
            responses[table] = [item for item in found if item is not None]
        return {"Responses": responses}

    def get_item(self, Key: dict[str, Any], **_: Any) -> dict[str, Any]:
        item = self.items.get((Key["pk"]["S"], Key["sk"]["S"]))
        return {"Item": item} if item else {}

    def query(self, **params: Any) -> dict[str, Any]:
        pk = params["ExpressionAttributeValues"][":pk"]["S"]
        if params.get("IndexName") == "gsi1":
            found = [i for i in self.items.values() if i.get("gsi1pk", {}).get("S") == pk]
            found.sort(key=lambda i: i["gsi1sk"]["S"], reverse=not params.get("ScanIndexForward", True))
        else:
            prefix = params["ExpressionAttributeValues"][":prefix"]["S"]
            found = sorted(
                (i for i in self.items.values() if i["pk"]["S"] == pk and i["sk"]["S"].startswith(prefix)),
                key=lambda i: i["sk"]["S"],
            )
        return {"Items": found[: params.get("Limit", len(found))], "Count": len(found)}


class AnyInstance:
    def get(self, tenant_id: str, instance_id: str) -> None:
        return None


def tracking_info(number: str) -> dict[str, Any]:
    return {
        "shipDateTime": 1764680400000,
        "carrierName": {"carrier": "UPS"},
        "methodCode": "Standard",
        "trackingNumber": number,
        "trackingURL": f"https://track/{number}",
    }


def charge(kind: str, name: str, amount: str, tax: str | None = None) -> dict[str, Any]:
    """A Walmart charge; its numbers are ``Decimal`` as the client parses them."""
    entry: dict[str, Any] = {
        "chargeType": kind,
        "chargeName": name,
        "chargeAmount": {"currency": "USD", "amount": Decimal(amount)},
    }
    if tax is not None:
        entry["tax"] = {"taxName": "Tax1", "taxAmount": {"currency": "USD", "amount": Decimal(tax)}}
    return entry


WALMART_ORDER: dict[str, Any] = {
    "purchaseOrderId": "PO-1",
    "customerOrderId": "C-1",
    "orderDate": 1764590400000,  # 2025-12-01T12:00:00Z
    "orderType": "REPLACEMENT",
    "originalCustomerOrderID": "C-0",
    "shipNode": {"id": "N1", "type": "SellerFulfilled"},
    "shippingInfo": {"methodCode": "Value", "estimatedShipDate": 1764676800000},
    "orderLines": {
        "orderLine": [
            {
                "lineNumber": "1",
                "item": {"productName": "Blue Jeans", "sku": "SKU-1"},
                "charges": {
                    "charge": [
                        charge("PRODUCT", "ItemPrice", "20.00", "1.60"),
                        charge("SHIPPING", "Shipping", "4.5"),
                    ]
                },
                "orderLineQuantity": {"unitOfMeasurement": "EACH", "amount": "2"},
                "statusDate": 1764766800000,
                "orderLineStatuses": {
                    "orderLineStatus": [
                        {
                            "status": "Shipped",
                            "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "1"},
                            "trackingInfo": tracking_info("1Z"),
                        },
                        {
                            "status": "Cancelled",
                            "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "1"},
                            "cancellationReason": "SELLER_CANCEL_OUT_OF_STOCK",
                        },
                    ]
                },
                "refund": {
                    "refundId": "R1",
                    "refundCharges": {
                        "refundCharge": [
                            {"refundReason": "DamagedItem", "charge": charge("PRODUCT", "ItemPrice", "-10.00", "-0.80")}
                        ]
                    },
                },
            },
            {
                "lineNumber": "2",
                "item": {"sku": "SKU-2"},
                "charges": {"charge": charge("PRODUCT", "ItemPrice", "7")},
                "orderLineQuantity": {"amount": "1"},
                "orderLineStatuses": {"orderLineStatus": {"status": "Acknowledged"}},  # no quantity: the whole line
            },
        ]
    },
}

STORED_ORDER: dict[str, Any] = {
    "purchase_order_id": "PO-1",
    "customer_order_id": "C-1",
    "order_date": "2025-12-01T12:00:00Z",
    "order_type": "REPLACEMENT",
    "original_customer_order_id": "C-0",
    "ship_node_id": "N1",
    "ship_node_type": "SellerFulfilled",
    "ship_method": "Value",
    "estimated_ship_date": "2025-12-02T12:00:00Z",
    "estimated_delivery_date": None,
    "status": "Acknowledged",
    "line_statuses": ["Acknowledged", "Cancelled", "Shipped"],
    "status_updated_at": "2025-12-03T13:00:00Z",
    "lines": [
        {
            "line_number": "1",
            "sku": "SKU-1",
            "product_name": "Blue Jeans",
            "quantity": 2,
            "unit": "EACH",
            "charges": [
                {
                    "type": "PRODUCT",
                    "name": "ItemPrice",
                    "amount": Decimal("20.00"),
                    "currency": "USD",
                    "tax_name": "Tax1",
                    "tax": Decimal("1.60"),
                },
                {
                    "type": "SHIPPING",
                    "name": "Shipping",
                    "amount": Decimal("4.5"),
                    "currency": "USD",
                    "tax_name": None,
                    "tax": Decimal("0"),
                },
            ],
            "status": "Shipped",
            "statuses": [
                {
                    "status": "Shipped",
                    "quantity": 1,
                    "tracking": {
                        "carrier": "UPS",
                        "method": "Standard",
                        "number": "1Z",
                        "url": "https://track/1Z",
                        "shipped_at": "2025-12-02T13:00:00Z",
                    },
                },
                {"status": "Cancelled", "quantity": 1, "cancellation_reason": "SELLER_CANCEL_OUT_OF_STOCK"},
            ],
            "status_date": "2025-12-03T13:00:00Z",
            "tracking": {
                "carrier": "UPS",
                "method": "Standard",
                "number": "1Z",
                "url": "https://track/1Z",
                "shipped_at": "2025-12-02T13:00:00Z",
            },
            "refund_charges": [
                {"type": "PRODUCT", "amount": Decimal("-10.00"), "tax": Decimal("-0.80"), "reason": "DamagedItem"}
            ],
        },
        {
            "line_number": "2",
            "sku": "SKU-2",
            "product_name": None,
            "quantity": 1,
            "unit": None,
            "charges": [
                {
                    "type": "PRODUCT",
                    "name": "ItemPrice",
                    "amount": Decimal("7"),
                    "currency": "USD",
                    "tax_name": None,
                    "tax": Decimal("0"),
                }
            ],
            "status": "Acknowledged",
            "statuses": [{"status": "Acknowledged", "quantity": 1}],
            "status_date": None,
            "tracking": None,
            "refund_charges": [],
        },
    ],
}
# The hashes the code before typed records gave: a different hash would rewrite every stored record once.
ORDER_HASH = "70563c31f6669af5eef5132f3a8f69e1"

WALMART_ITEM: dict[str, Any] = {
    "sku": "SKU-1",
    "wpid": "389C68OHA8XI",
    "gtin": "00012345678905",
    "productName": "Blue Jeans",
    "price": {"currency": "USD", "amount": Decimal("19.99")},
    "publishedStatus": "UNPUBLISHED",
    "lifecycleStatus": "ACTIVE",
    "unpublishedReasons": {"reason": ["No price", "No image"]},
}
STORED_PRODUCT: dict[str, Any] = {
    "sku": "SKU-1",
    "wpid": "389C68OHA8XI",
    "gtin": "00012345678905",
    "upc": None,
    "name": "Blue Jeans",
    "price": Decimal("19.99"),
    "currency": "USD",
    "published_status": "UNPUBLISHED",
    "lifecycle_status": "ACTIVE",
    "unpublished_reasons": ["No price", "No image"],
}
PRODUCT_HASH = "4dd3059040c5a3cb0de532a0a0043e3a"
LINKED_PRODUCT_HASH = "82d7981c6c2b38149fb1b41c67d09198"  # SKU-2, linked to internal product 7
REPORT_ROW = {"SKU": "SKU-3", "Product Name": "Tee", "Publish Status": "PUBLISHED", "Price": ""}
STORED_REPORT_PRODUCT: dict[str, Any] = {
    "sku": "SKU-3",
    "wpid": None,
    "gtin": None,
    "upc": None,
    "name": "Tee",
    "price": None,
    "currency": None,
    "published_status": "PUBLISHED",
    "lifecycle_status": None,
    "unpublished_reasons": [],
}
REPORT_PRODUCT_HASH = "9e5bdf6fc73618405c52a4ec736752bd"


def repository() -> tuple[SyncedDataRepository, InMemoryTable]:
    table = InMemoryTable()
    return SyncedDataRepository("data", "us-east-1", table), table


def test_the_record_read_from_walmart_is_the_one_stored_so_far():
    assert order_from_walmart(WALMART_ORDER).model_dump() == STORED_ORDER
    assert product_from_item(WALMART_ITEM).model_dump() == STORED_PRODUCT
    assert product_from_report_row(REPORT_ROW).model_dump() == STORED_REPORT_PRODUCT


def test_an_order_is_stored_with_the_attributes_and_the_hash_it_always_had():
    repo, table = repository()
    assert repo.upsert_changed("t1", "i1", "order", [order_from_walmart(WALMART_ORDER)], NOW) == 1
    expected = {
        "pk": "INSTANCE#t1#i1",
        "sk": "ORDER#PO-1",
        "gsi1pk": "ORDERS#t1#i1",
        "gsi1sk": "2025-12-01T12:00:00Z#PO-1",
        **STORED_ORDER,
        "content_hash": ORDER_HASH,
        "updated_at": NOW,
    }
    stored = table.items[("INSTANCE#t1#i1", "ORDER#PO-1")]
    assert stored == dynamo.serialize(expected)  # attribute types and number strings included
    assert "estimated_delivery_date" not in stored  # an attribute without a value is left out; nested ones stay null
    assert stored["lines"]["L"][1]["M"]["tracking"] == {"NULL": True}


def test_an_unchanged_order_is_not_written_again_and_a_changed_one_is():
    repo, table = repository()
    repo.upsert_changed("t1", "i1", "order", [order_from_walmart(WALMART_ORDER)], NOW)
    assert repo.upsert_changed("t1", "i1", "order", [order_from_walmart(WALMART_ORDER)], LATER) == 0
    assert table.puts == 1
    delivered = dict(WALMART_ORDER, orderLines={"orderLine": WALMART_ORDER["orderLines"]["orderLine"][:1]})
    assert repo.upsert_changed("t1", "i1", "order", [order_from_walmart(delivered)], LATER) == 1
    stored = dynamo.deserialize(table.items[("INSTANCE#t1#i1", "ORDER#PO-1")])
    assert stored["updated_at"] == LATER and stored["content_hash"] != ORDER_HASH and len(stored["lines"]) == 1


def test_products_are_stored_with_the_attributes_and_the_hashes_they_always_had():
    repo, table = repository()
    linked = product_from_item({**WALMART_ITEM, "sku": "SKU-2"}).linked_to(7)
    products = [product_from_item(WALMART_ITEM), linked, product_from_report_row(REPORT_ROW)]
    assert repo.upsert_changed("t1", "i1", "product", products, NOW) == 3
    base = {"pk": "INSTANCE#t1#i1", "updated_at": NOW}
    assert table.items[("INSTANCE#t1#i1", "PRODUCT#SKU-1")] == dynamo.serialize(
        {**base, "sk": "PRODUCT#SKU-1", **STORED_PRODUCT, "content_hash": PRODUCT_HASH}
    )
    assert table.items[("INSTANCE#t1#i1", "PRODUCT#SKU-2")] == dynamo.serialize(
        {
            **base,
            "sk": "PRODUCT#SKU-2",
            **STORED_PRODUCT,
            "sku": "SKU-2",
            "internal_product_id": 7,
            "content_hash": LINKED_PRODUCT_HASH,
        }
    )
    assert table.items[("INSTANCE#t1#i1", "PRODUCT#SKU-3")] == dynamo.serialize(
        {**base, "sk": "PRODUCT#SKU-3", **STORED_REPORT_PRODUCT, "content_hash": REPORT_PRODUCT_HASH}
    )
    assert repo.upsert_changed("t1", "i1", "product", products, LATER) == 0
    assert repo.count("t1", "i1", "product") == 3


def test_accounting_reads_the_stored_orders_as_it_always_did():
    repo, _ = repository()
    repo.upsert_changed("t1", "i1", "order", [order_from_walmart(WALMART_ORDER)], NOW)
    without_empty = {name: value for name, value in STORED_ORDER.items() if value is not None}
    assert repo.orders("t1", "i1", ["PO-1", "PO-9"]) == {"PO-1": {**without_empty, "updated_at": NOW}}


LEGACY_ORDER = {  # as stored before a line's statuses were kept with their quantities and refunds were parsed
    "pk": "INSTANCE#t1#i1",
    "sk": "ORDER#PO-0",
    "gsi1pk": "ORDERS#t1#i1",
    "gsi1sk": "2025-11-01T12:00:00Z#PO-0",
    "purchase_order_id": "PO-0",
    "order_date": "2025-11-01T12:00:00Z",
    "status": "Shipped",
    "lines": [
        {
            "line_number": "1",
            "sku": "SKU-1",
            "quantity": 3,
            "charges": [{"type": "PRODUCT", "amount": Decimal("30"), "tax": Decimal("0")}],
            "status": "Shipped",
            "refund": {"refundId": "R0"},
        }
    ],
    "content_hash": "old",
    "updated_at": "2025-11-02T00:00:00Z",
}


def test_stored_orders_read_back_as_the_api_showed_them_older_ones_included():
    repo, table = repository()
    repo.upsert_changed("t1", "i1", "order", [order_from_walmart(WALMART_ORDER)], NOW)
    table.items[("INSTANCE#t1#i1", "ORDER#PO-0")] = dynamo.serialize(LEGACY_ORDER)
    service = SyncedDataService(None, AnyInstance(), None, repo, None, None)  # type: ignore[arg-type]
    views, cursor = service.list_orders("t1", "i1", 50, None, None, None)
    assert cursor is None
    assert [view.model_dump(mode="json") for view in views] == [
        {
            "purchase_order_id": "PO-1",
            "customer_order_id": "C-1",
            "order_date": "2025-12-01T12:00:00Z",
            "order_type": "REPLACEMENT",
            "original_customer_order_id": "C-0",
            "ship_node_id": "N1",
            "ship_node_type": "SellerFulfilled",
            "ship_method": "Value",
            "status": "Acknowledged",
            "lines": [
                {
                    "line_number": "1",
                    "sku": "SKU-1",
                    "product_name": "Blue Jeans",
                    "quantity": 2,
                    "unit": "EACH",
                    "charges": [
                        {
                            "type": "PRODUCT",
                            "name": "ItemPrice",
                            "amount": "20.00",
                            "currency": "USD",
                            "tax_name": "Tax1",
                            "tax": "1.60",
                        },
                        {
                            "type": "SHIPPING",
                            "name": "Shipping",
                            "amount": "4.5",
                            "currency": "USD",
                            "tax_name": None,
                            "tax": "0",
                        },
                    ],
                    "status": "Shipped",
                    "statuses": [
                        {
                            "status": "Shipped",
                            "quantity": 1,
                            "cancellation_reason": None,
                            "tracking": {
                                "carrier": "UPS",
                                "method": "Standard",
                                "number": "1Z",
                                "url": "https://track/1Z",
                                "shipped_at": "2025-12-02T13:00:00Z",
                            },
                        },
                        {
                            "status": "Cancelled",
                            "quantity": 1,
                            "cancellation_reason": "SELLER_CANCEL_OUT_OF_STOCK",
                            "tracking": None,
                        },
                    ],
                    "status_date": "2025-12-03T13:00:00Z",
                    "tracking": {
                        "carrier": "UPS",
                        "method": "Standard",
                        "number": "1Z",
                        "url": "https://track/1Z",
                        "shipped_at": "2025-12-02T13:00:00Z",
                    },
                },
                {
                    "line_number": "2",
                    "sku": "SKU-2",
                    "product_name": None,
                    "quantity": 1,
                    "unit": None,
                    "charges": [
                        {
                            "type": "PRODUCT",
                            "name": "ItemPrice",
                            "amount": "7",
                            "currency": "USD",
                            "tax_name": None,
                            "tax": "0",
                        }
                    ],
                    "status": "Acknowledged",
                    "statuses": [
                        {"status": "Acknowledged", "quantity": 1, "cancellation_reason": None, "tracking": None}
                    ],
                    "status_date": None,
                    "tracking": None,
                },
            ],
            "updated_at": NOW,
        },
        {
            "purchase_order_id": "PO-0",
            "customer_order_id": None,
            "order_date": "2025-11-01T12:00:00Z",
            "order_type": None,
            "original_customer_order_id": None,
            "ship_node_id": None,
            "ship_node_type": None,
            "ship_method": None,
            "status": "Shipped",
            "lines": [
                {
                    "line_number": "1",
                    "sku": "SKU-1",
                    "product_name": None,
                    "quantity": 3,
                    "unit": None,
                    "charges": [
                        {
                            "type": "PRODUCT",
                            "name": None,
                            "amount": "30",
                            "currency": None,
                            "tax_name": None,
                            "tax": "0",
                        }
                    ],
                    "status": "Shipped",
                    "statuses": [{"status": "Shipped", "quantity": 3, "cancellation_reason": None, "tracking": None}],
                    "status_date": None,
                    "tracking": None,
                }
            ],
            "updated_at": "2025-11-02T00:00:00Z",
        },
    ]


def test_stored_products_read_back_as_the_api_showed_them():
    repo, _ = repository()
    linked = product_from_item({**WALMART_ITEM, "sku": "SKU-2"}).linked_to(7)
    repo.upsert_changed("t1", "i1", "product", [product_from_item(WALMART_ITEM), linked], NOW)
    service = SyncedDataService(None, AnyInstance(), None, repo, None, None)  # type: ignore[arg-type]
    views, cursor = service.list_products("t1", "i1", 50, None)
    shown = {
        "wpid": "389C68OHA8XI",
        "gtin": "00012345678905",
        "upc": None,
        "name": "Blue Jeans",
        "price": "19.99",
        "currency": "USD",
        "published_status": "UNPUBLISHED",
        "lifecycle_status": "ACTIVE",
        "unpublished_reasons": ["No price", "No image"],
        "updated_at": NOW,
    }
    assert cursor is None
    assert [view.model_dump(mode="json") for view in views] == [
        {"sku": "SKU-1", **shown, "internal_product_id": None},
        {"sku": "SKU-2", **shown, "internal_product_id": 7},
    ]

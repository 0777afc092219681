"""Accounting documents from stored orders (issue #5): hand-computed invoices and credit notes.

Orders are built in Walmart's shape, stored like the sync workers store them, and evaluated by the
accounting worker. Every expected posting line and total below is a literal computed by hand from
the rules (money rounded ROUND_HALF_UP to cents where a percentage is applied).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest

from tests.support import response_json

TENANT = "demo"
REGION = "us-east-1"
# The demo tenant's nominal codes (local/seed.py): account -> (id, code) as the instance settings below point them.
CODES: dict[str, tuple[int, str]] = {
    "sales": (1, "4000"),
    "cogs": (2, "5000"),
    "shipping_revenue": (3, "4010"),
    "shipping_refund": (4, "4020"),
    "sales_returns_allowances": (5, "4030"),
    "accounts_receivable": (6, "1100"),
    "bank": (7, "1000"),
    "marketplace_fees": (8, "6100"),
    "payment_fees": (9, "6110"),
    "facilitator_tax": (10, "2200"),
    "inventory": (11, "1200"),
    "accrued_costs": (12, "2100"),
    "wfs_fees": (13, "6120"),
    "adjustments": (14, "6900"),
    "reserves": (15, "1150"),
}
ALL_CODES: dict[str, Any] = {f"{account}_nominal_code_id": code_id for account, (code_id, _) in CODES.items()}
PROFORMA: dict[str, Any] = {"proforma_marketplace_cost_percentage": 15, "proforma_payment_cost_percentage": 2.9}
LINE_FIELDS = ("account", "nominal_code_id", "nominal_code", "debit", "credit", "purchase_order_id", "line_number")
MONEY = re.compile(r"^-?\d+\.\d{2}$")
Posting = tuple[Any, ...]

NOW = datetime.now(UTC).replace(microsecond=0)
ORDERED = NOW - timedelta(days=1)
SHIPPED = NOW - timedelta(hours=3)
LATER = NOW - timedelta(hours=1)


# -- setup helpers -----------------------------------------------------------------------------------
def create_instance(api, name: str, **settings: Any) -> str:
    """An instance without credentials (credentials_missing: no Walmart call) with these integration settings."""
    body = {
        "name": name,
        "integration_id": 1,
        "integration_settings": {
            "start_date": "2025-01-01",
            "store_id": 1,
            "auto_link_products": False,
            "auto_create_products": False,
            **settings,
        },
    }
    response = api("POST", "/api/walmart", body)
    assert response["statusCode"] == 201, response["body"]
    data = response_json(response)["data"]
    assert data["status"] == "credentials_missing"
    return str(data["id"])


def add_product(api, sku: str, cost: str | None) -> None:
    body: dict[str, Any] = {"sku": sku, "name": f"Product {sku}"}
    if cost is not None:
        body["cost"] = cost
    response = api("POST", "/api/products", body)
    assert response["statusCode"] == 201, response["body"]


def patch_settings(api, instance_id: str, **settings: Any) -> None:
    response = api("PATCH", f"/api/walmart/{instance_id}", {"integration_settings": settings})
    assert response["statusCode"] == 200, response["body"]


def connect_emulated_seller(api, emulator, seller_id: str, name: str, history_days: int, **counts: int) -> str:
    """An instance connected to a new emulator seller (``item_count``, ``order_count``) whose every SKU has a product
    with cost 1.00, with every nominal code set: its id (the sync runs when the stack is pumped)."""
    client = f"{name}-client"
    emulator.add_seller(client, f"{name}-secret", seller_id=seller_id, **counts)
    for sku in {item["sku"] for item in emulator.items(seller_id)} | {
        line["item"]["sku"] for o in emulator.orders(seller_id) for line in o["orderLines"]["orderLine"]
    }:
        add_product(api, sku, "1.00")
    body = {
        "name": name,
        "integration_id": 1,
        "connection_settings": {"clientId": client, "clientSecret": f"{name}-secret"},
        "integration_settings": {
            "start_date": (NOW - timedelta(days=history_days)).date().isoformat(),
            "store_id": 1,
            "auto_link_products": False,
            "auto_create_products": False,
            **ALL_CODES,
            **PROFORMA,
        },
    }
    response = api("POST", "/api/walmart", body)
    assert response["statusCode"] == 201, response["body"]
    return str(response_json(response)["data"]["id"])


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def charge(kind: str, amount: str, tax: str | None = None) -> dict[str, Any]:
    """A Walmart charge; numbers as the Walmart client parses them (Decimal)."""
    result: dict[str, Any] = {
        "chargeType": kind,
        "chargeName": "ItemPrice" if kind == "PRODUCT" else "Shipping",
        "chargeAmount": {"currency": "USD", "amount": Decimal(amount)},
    }
    if tax is not None:
        result["tax"] = {"taxName": "Tax1", "taxAmount": {"currency": "USD", "amount": Decimal(tax)}}
    return result


def refund_charge(kind: str, amount: str, tax: str | None = None) -> dict[str, Any]:
    return {"refundReason": "ItemNotAsAdvertised", "charge": charge(kind, amount, tax)}


def order_line(
    number: int,
    sku: str,
    quantity: int,
    charges: list[dict[str, Any]],
    status: str,
    status_at: datetime,
    refunds: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    line: dict[str, Any] = {
        "lineNumber": str(number),
        "item": {"productName": f"Product {sku}", "sku": sku},
        "charges": {"charge": charges},
        "orderLineQuantity": {"unitOfMeasurement": "EACH", "amount": str(quantity)},
        "statusDate": ms(status_at),
        "orderLineStatuses": {
            "orderLineStatus": [
                {"status": status, "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(quantity)}}
            ]
        },
    }
    if refunds:
        line["refund"] = {"refundId": f"R-{sku}-{number}", "refundCharges": {"refundCharge": refunds}}
    return line


def walmart_order(po: str, lines: list[dict[str, Any]], ordered_at: datetime = ORDERED) -> dict[str, Any]:
    return {
        "purchaseOrderId": po,
        "customerOrderId": f"C{po}",
        "orderDate": ms(ordered_at),
        "shippingInfo": {"methodCode": "Value"},
        "orderLines": {"orderLine": lines},
    }


def store_order(stack, instance_id: str, raw: dict[str, Any]) -> None:
    """Store the order the way the sync workers do."""
    from walmart_integration.models.marketplace import order_from_walmart
    from walmart_integration.store.synced import SyncedDataRepository

    record = order_from_walmart(raw)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    SyncedDataRepository(stack.env["DATA_TABLE_NAME"], REGION).upsert_changed(
        TENANT, instance_id, "order", [record], now
    )


def job(instance_id: str, *pos: str, tenant: str = TENANT) -> str:
    return json.dumps({"tenant_id": tenant, "instance_id": instance_id, "purchase_order_ids": list(pos)})


def evaluate(stack, instance_id: str, *pos: str, copies: int = 1, receive_count: int = 1) -> None:
    """Deliver one AccountingJob (``copies`` times in one batch) to the accounting worker."""
    event = stack.sqs_event([job(instance_id, *pos)] * copies, receive_count)
    result = stack.handler("accounting").handler(event, stack.context())
    assert not (result or {}).get("batchItemFailures"), result


def sync(stack, instance_id: str, raw: dict[str, Any]) -> None:
    store_order(stack, instance_id, raw)
    evaluate(stack, instance_id, raw["purchaseOrderId"])


def close_batches(stack) -> None:
    stack.handler("scheduler").handler({"source": "aws.events"}, stack.context())


def documents(api, instance_id: str, **query: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {**query, "limit": "2", **({"cursor": cursor} if cursor else {})}
        response = api("GET", f"/api/walmart/{instance_id}/accounting-documents", query=params)
        assert response["statusCode"] == 200, response["body"]
        page = response_json(response)
        items += page["data"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def sales_documents(api, instance_id: str, **query: str) -> list[dict[str, Any]]:
    """Invoices and credit notes (the cost of goods sold is a document of its own, type cogs)."""
    return [d for d in documents(api, instance_id, **query) if d["type"] != "cogs"]


def holds(api, instance_id: str) -> list[dict[str, Any]]:
    response = api("GET", f"/api/walmart/{instance_id}/accounting-holds")
    assert response["statusCode"] == 200, response["body"]
    return list(response_json(response)["data"])


# -- expected postings ---------------------------------------------------------------------------------
def posting(account: str, po: str | None, line: str | None, debit: str = "0.00", credit: str = "0.00") -> Posting:
    code_id, code = CODES.get(account, (None, None))
    return (account, code_id, code, debit, credit, po, line)


def dr(account: str, amount: str, po: str | None, line: str | None = None) -> Posting:
    return posting(account, po, line, debit=amount)


def cr(account: str, amount: str, po: str | None, line: str | None = None) -> Posting:
    return posting(account, po, line, credit=amount)


def cogs_lines(po: str, line: str, amount: str) -> list[Posting]:
    return [dr("cogs", amount, po, line), cr("inventory", amount, po, line)]


def ordered(postings: list[Posting]) -> list[Posting]:
    return sorted(postings, key=repr)


def lines_of(document: dict[str, Any]) -> list[Posting]:
    return ordered([tuple(line[field] for field in LINE_FIELDS) for line in document["lines"]])


def check_document(
    document: dict[str, Any],
    instance_id: str,
    *,
    type: str,
    reason: str,
    pos: list[str],
    lines: list[Posting],
    totals: tuple[str, str, str, str, str],
    skus: dict[tuple[str, str], str],
    period: str = "immediate",
    period_key: str | None = None,
    status: str = "issued",
) -> None:
    """``totals`` = (debit, credit, net, tax, gross); ``skus`` names the sku of each (po, line) posted."""
    assert document["instance_id"] == instance_id
    assert document["type"] == type
    assert document["reason"] == reason
    assert document["period"] == period
    assert document["period_key"] == period_key
    assert document["status"] == status
    assert document["currency"] == "USD"
    assert document["created_at"]
    assert (document["issued_at"] is not None) == (status == "issued")
    assert sorted(document["purchase_order_ids"]) == sorted(pos)
    assert lines_of(document) == ordered(lines)
    debit, credit, net, tax, gross = totals
    assert document["totals"] == {"debit": debit, "credit": credit, "net": net, "tax": tax, "gross": gross}
    # balanced, money as strings with two decimals
    for line in document["lines"]:
        assert MONEY.match(line["debit"]) and MONEY.match(line["credit"]), line
    assert sum(Decimal(line["debit"]) for line in document["lines"]) == Decimal(debit)
    assert sum(Decimal(line["credit"]) for line in document["lines"]) == Decimal(credit)
    assert debit == credit
    for line in document["lines"]:
        if line["account"] in ("sales", "sales_returns_allowances", "cogs"):
            assert line["sku"] == skus[(line["purchase_order_id"], line["line_number"])], line


@pytest.fixture
def codes(api) -> None:
    """The nominal code ids the instances below use are the seed's."""
    listed = response_json(api("GET", "/api/nominal-codes", query={"limit": "50"}))["data"]
    assert {c["id"]: c["code"] for c in listed} == dict(CODES.values())


# -- 1. a simple order ----------------------------------------------------------------------------------
SIMPLE_SKU = "SKU-SIMPLE"


def simple_order(po: str, status: str = "Shipped") -> dict[str, Any]:
    """qty 2, PRODUCT 20.00 with tax 1.60."""
    return walmart_order(po, [order_line(1, SIMPLE_SKU, 2, [charge("PRODUCT", "20.00", "1.60")], status, SHIPPED)])


def simple_invoice_lines(po: str) -> list[Posting]:
    """order total 21.60; fees on the sales price 20.00 (tax excluded): marketplace 15% = 3.00, payment 2.9% = 0.58."""
    return [
        cr("sales", "20.00", po, "1"),
        cr("facilitator_tax", "1.60", po, "1"),
        dr("accounts_receivable", "21.60", po, "1"),
        dr("marketplace_fees", "3.00", po),
        cr("accrued_costs", "3.00", po),
        dr("payment_fees", "0.58", po),
        cr("accrued_costs", "0.58", po),
    ]


# debit 21.60 + 3.00 + 0.58 = 25.18; credit 20.00 + 1.60 + 3.00 + 0.58 = 25.18
SIMPLE_TOTALS = ("25.18", "25.18", "20.00", "1.60", "21.60")
# the cost of goods sold, its own document: cost 6.50 x 2 = 13.00 (no receivable, no tax)
COGS_TOTALS_13 = ("13.00", "13.00", "0.00", "0.00", "0.00")


def test_simple_order_is_one_immediate_invoice(api, stack, codes):
    instance_id = create_instance(api, "simple", **ALL_CODES, **PROFORMA)
    add_product(api, SIMPLE_SKU, "6.50")
    po = "1000000000001"
    sync(stack, instance_id, simple_order(po))
    [invoice] = documents(api, instance_id, type="invoice")
    check_document(
        invoice,
        instance_id,
        type="invoice",
        reason="sale",
        pos=[po],
        lines=simple_invoice_lines(po),
        totals=SIMPLE_TOTALS,
        skus={(po, "1"): SIMPLE_SKU},
    )
    [cost] = documents(api, instance_id, type="cogs")
    check_document(
        cost,
        instance_id,
        type="cogs",
        reason="sale",
        pos=[po],
        lines=cogs_lines(po, "1", "13.00"),
        totals=COGS_TOTALS_13,
        skus={(po, "1"): SIMPLE_SKU},
    )
    assert holds(api, instance_id) == []


# -- 2. multi-line, shipping and tax; lines invoiced as they ship ------------------------------------------
def test_multi_line_order_invoices_each_line_when_it_ships(api, stack, codes):
    instance_id = create_instance(
        api,
        "multi",
        **ALL_CODES,
        proforma_marketplace_cost_percentage=10,
        proforma_payment_cost_percentage=3,
    )
    add_product(api, "SKU-A", "12.25")
    add_product(api, "SKU-B", "7.10")
    po = "1000000000002"
    line_a = order_line(
        1, "SKU-A", 1, [charge("PRODUCT", "30.00", "2.40"), charge("SHIPPING", "5.97", "0.48")], "Delivered", SHIPPED
    )

    def line_b(status: str, at: datetime) -> dict[str, Any]:
        return order_line(
            2, "SKU-B", 3, [charge("PRODUCT", "45.00", "3.60"), charge("SHIPPING", "4.50", "0.36")], status, at
        )

    sync(stack, instance_id, walmart_order(po, [line_a, line_b("Created", ORDERED)]))
    [first] = documents(api, instance_id, type="invoice")
    # line 1: product 30.00, shipping 5.97, tax 2.40 + 0.48 = 2.88, receivable 38.85; on the sales price 35.97:
    # marketplace 10% = 3.597 -> 3.60 (half up); payment 3% = 1.0791 -> 1.08
    check_document(
        first,
        instance_id,
        type="invoice",
        reason="sale",
        pos=[po],
        lines=[
            cr("sales", "30.00", po, "1"),
            cr("shipping_revenue", "5.97", po, "1"),
            cr("facilitator_tax", "2.88", po, "1"),
            dr("accounts_receivable", "38.85", po, "1"),
            dr("marketplace_fees", "3.60", po),
            cr("accrued_costs", "3.60", po),
            dr("payment_fees", "1.08", po),
            cr("accrued_costs", "1.08", po),
        ],
        # debit 38.85 + 3.60 + 1.08; credit 30.00 + 5.97 + 2.88 + 3.60 + 1.08
        totals=("43.53", "43.53", "35.97", "2.88", "38.85"),
        skus={(po, "1"): "SKU-A"},
    )
    assert holds(api, instance_id) == []

    sync(stack, instance_id, walmart_order(po, [line_a, line_b("Shipped", LATER)]))
    old, second = documents(api, instance_id, type="invoice")
    assert old == first  # an issued document never changes
    # line 2: product 45.00, shipping 4.50, tax 3.60 + 0.36 = 3.96, receivable 53.46; on the sales price 49.50:
    # marketplace 10% = 4.95; payment 3% = 1.485 -> 1.49 (half up)
    check_document(
        second,
        instance_id,
        type="invoice",
        reason="sale",
        pos=[po],
        lines=[
            cr("sales", "45.00", po, "2"),
            cr("shipping_revenue", "4.50", po, "2"),
            cr("facilitator_tax", "3.96", po, "2"),
            dr("accounts_receivable", "53.46", po, "2"),
            dr("marketplace_fees", "4.95", po),
            cr("accrued_costs", "4.95", po),
            dr("payment_fees", "1.49", po),
            cr("accrued_costs", "1.49", po),
        ],
        # debit 53.46 + 4.95 + 1.49; credit 45.00 + 4.50 + 3.96 + 4.95 + 1.49
        totals=("59.90", "59.90", "49.50", "3.96", "53.46"),
        skus={(po, "2"): "SKU-B"},
    )
    assert second["id"] != first["id"]
    # the cost of goods sold as each line shipped: 12.25 x 1, then 7.10 x 3 = 21.30
    assert [lines_of(d) for d in documents(api, instance_id, type="cogs")] == [
        ordered(cogs_lines(po, "1", "12.25")),
        ordered(cogs_lines(po, "2", "21.30")),
    ]


# -- 3. a partial refund ------------------------------------------------------------------------------
def test_partial_refund_is_one_credit_note(api, stack, codes):
    instance_id = create_instance(api, "refund", **ALL_CODES, **PROFORMA)
    add_product(api, "SKU-C", "10.00")
    po = "1000000000003"
    charges = [charge("PRODUCT", "25.00", "2.00")]
    sync(stack, instance_id, walmart_order(po, [order_line(1, "SKU-C", 1, charges, "Delivered", SHIPPED)]))
    [invoice] = documents(api, instance_id, type="invoice")
    # receivable 27.00; sales price 25.00: marketplace 15% = 3.75, payment 2.9% = 0.725 -> 0.73 (half up)
    check_document(
        invoice,
        instance_id,
        type="invoice",
        reason="sale",
        pos=[po],
        lines=[
            cr("sales", "25.00", po, "1"),
            cr("facilitator_tax", "2.00", po, "1"),
            dr("accounts_receivable", "27.00", po, "1"),
            dr("marketplace_fees", "3.75", po),
            cr("accrued_costs", "3.75", po),
            dr("payment_fees", "0.73", po),
            cr("accrued_costs", "0.73", po),
        ],
        # debit 27.00 + 3.75 + 0.73; credit 25.00 + 2.00 + 3.75 + 0.73
        totals=("31.48", "31.48", "25.00", "2.00", "27.00"),
        skus={(po, "1"): "SKU-C"},
    )

    refunded = order_line(
        1, "SKU-C", 1, charges, "Delivered", LATER, refunds=[refund_charge("PRODUCT", "-5.00", "-0.40")]
    )
    sync(stack, instance_id, walmart_order(po, [refunded]))
    same, credit = sales_documents(api, instance_id)
    assert same == invoice
    # no shipping refunded: no shipping_refund line; the estimate of the fees on the 5.00 credited is reversed:
    # marketplace 15% = 0.75, payment 2.9% = 0.145 -> 0.15 (half up)
    check_document(
        credit,
        instance_id,
        type="credit",
        reason="refund",
        pos=[po],
        lines=[
            dr("sales_returns_allowances", "5.00", po, "1"),
            dr("facilitator_tax", "0.40", po, "1"),
            cr("accounts_receivable", "5.40", po, "1"),
            cr("marketplace_fees", "0.75", po),
            dr("accrued_costs", "0.75", po),
            cr("payment_fees", "0.15", po),
            dr("accrued_costs", "0.15", po),
        ],
        # debit 5.00 + 0.40 + 0.75 + 0.15; credit 5.40 + 0.75 + 0.15
        totals=("6.30", "6.30", "5.00", "0.40", "5.40"),
        skus={(po, "1"): "SKU-C"},
    )
    evaluate(stack, instance_id, po)  # nothing changed since: nothing new
    assert sales_documents(api, instance_id) == [invoice, credit]


# -- 4. cancellations ---------------------------------------------------------------------------------
def test_cancellation_before_invoicing_produces_nothing(api, stack, codes):
    instance_id = create_instance(api, "cancel-early", **ALL_CODES, **PROFORMA)
    add_product(api, "SKU-D", "9.00")
    po = "1000000000041"
    charges = [charge("PRODUCT", "40.00", "3.20"), charge("SHIPPING", "6.00", "0.48")]
    sync(stack, instance_id, walmart_order(po, [order_line(1, "SKU-D", 2, charges, "Created", ORDERED)]))
    sync(stack, instance_id, walmart_order(po, [order_line(1, "SKU-D", 2, charges, "Cancelled", LATER)]))
    assert documents(api, instance_id) == []
    assert holds(api, instance_id) == []


def test_cancellation_after_invoicing_reverses_product_shipping_and_tax(api, stack, codes):
    instance_id = create_instance(api, "cancel-late", **ALL_CODES)
    add_product(api, "SKU-D", "9.00")
    po = "1000000000042"
    charges = [charge("PRODUCT", "40.00", "3.20"), charge("SHIPPING", "6.00", "0.48")]
    sync(stack, instance_id, walmart_order(po, [order_line(1, "SKU-D", 2, charges, "Shipped", SHIPPED)]))
    [invoice] = documents(api, instance_id, type="invoice")
    # tax 3.20 + 0.48 = 3.68; receivable 40.00 + 6.00 + 3.68 = 49.68; no proforma set
    check_document(
        invoice,
        instance_id,
        type="invoice",
        reason="sale",
        pos=[po],
        lines=[
            cr("sales", "40.00", po, "1"),
            cr("shipping_revenue", "6.00", po, "1"),
            cr("facilitator_tax", "3.68", po, "1"),
            dr("accounts_receivable", "49.68", po, "1"),
        ],
        totals=("49.68", "49.68", "46.00", "3.68", "49.68"),
        skus={(po, "1"): "SKU-D"},
    )

    sync(stack, instance_id, walmart_order(po, [order_line(1, "SKU-D", 2, charges, "Cancelled", LATER)]))
    same, credit = sales_documents(api, instance_id)
    assert same == invoice
    check_document(
        credit,
        instance_id,
        type="credit",
        reason="cancellation",
        pos=[po],
        lines=[
            dr("sales_returns_allowances", "40.00", po, "1"),
            dr("shipping_refund", "6.00", po, "1"),
            dr("facilitator_tax", "3.68", po, "1"),
            cr("accounts_receivable", "49.68", po, "1"),
        ],
        totals=("49.68", "49.68", "46.00", "3.68", "49.68"),
        skus={(po, "1"): "SKU-D"},
    )
    assert documents(api, instance_id, type="credit") == [credit]
    assert documents(api, instance_id, type="invoice") == [invoice]
    assert documents(api, instance_id, period="daily") == []
    assert sales_documents(api, instance_id, period="immediate") == [invoice, credit]


# -- 5. a daily batch spanning midnight UTC ---------------------------------------------------------------
def daily_lines(po: str, product: str, tax: str, receivable: str, marketplace: str) -> list[Posting]:
    return [
        cr("sales", product, po, "1"),
        cr("facilitator_tax", tax, po, "1"),
        dr("accounts_receivable", receivable, po, "1"),
        dr("marketplace_fees", marketplace, po),
        cr("accrued_costs", marketplace, po),
    ]


def test_daily_batch_spanning_midnight_utc(api, stack, codes):
    # marketplace 10% only: no payment cost lines (percentage not set)
    instance_id = create_instance(
        api,
        "daily",
        **ALL_CODES,
        proforma_marketplace_cost_percentage=10,
        batch_period_sales_order_fulfillments="daily",
    )
    add_product(api, "SKU-E", "4.00")
    today = NOW.date()
    day_before, yesterday = today - timedelta(days=2), today - timedelta(days=1)
    before_midnight = datetime.combine(day_before, time(23, 59, 30), UTC)
    after_midnight = datetime.combine(yesterday, time(0, 0, 30), UTC)
    po_a, po_b = "1000000000051", "1000000000052"
    at = before_midnight - timedelta(hours=1)
    store_order(
        stack,
        instance_id,
        walmart_order(
            po_a, [order_line(1, "SKU-E", 1, [charge("PRODUCT", "10.00", "0.80")], "Shipped", before_midnight)], at
        ),
    )
    store_order(
        stack,
        instance_id,
        walmart_order(
            po_b, [order_line(1, "SKU-E", 3, [charge("PRODUCT", "30.00", "2.40")], "Shipped", after_midnight)], at
        ),
    )
    evaluate(stack, instance_id, po_a, po_b)

    # a: 10.00 + 0.80 = 10.80, marketplace 10% of 10.00 = 1.00: debit 10.80 + 1.00 = 11.80
    # b: 30.00 + 2.40 = 32.40, marketplace 10% of 30.00 = 3.00: debit 32.40 + 3.00 = 35.40
    expected = {
        day_before.isoformat(): (
            po_a,
            daily_lines(po_a, "10.00", "0.80", "10.80", "1.00"),
            ("11.80", "11.80", "10.00", "0.80", "10.80"),
        ),
        yesterday.isoformat(): (
            po_b,
            daily_lines(po_b, "30.00", "2.40", "32.40", "3.00"),
            ("35.40", "35.40", "30.00", "2.40", "32.40"),
        ),
    }

    def check(docs: list[dict[str, Any]], status: str) -> None:
        assert sorted(d["period_key"] for d in docs) == sorted(expected)
        for doc in docs:
            po, lines, totals = expected[doc["period_key"]]
            check_document(
                doc,
                instance_id,
                type="invoice",
                reason="sale",
                pos=[po],
                lines=lines,
                totals=totals,
                skus={(po, "1"): "SKU-E"},
                period="daily",
                period_key=doc["period_key"],
                status=status,
            )

    open_docs = documents(api, instance_id, type="invoice")
    check(open_docs, "open")
    # the cost of goods sold in daily batches of their own: a 4.00 x 1, b 4.00 x 3 = 12.00
    assert {(d["period_key"], d["status"], tuple(lines_of(d))) for d in documents(api, instance_id, type="cogs")} == {
        (day_before.isoformat(), "open", tuple(ordered(cogs_lines(po_a, "1", "4.00")))),
        (yesterday.isoformat(), "open", tuple(ordered(cogs_lines(po_b, "1", "12.00")))),
    }
    assert len(documents(api, instance_id, status="open")) == 4
    assert documents(api, instance_id, status="issued") == []
    assert documents(api, instance_id, period="immediate") == []

    close_batches(stack)
    issued = documents(api, instance_id, type="invoice")
    check(issued, "issued")
    assert {d["id"] for d in issued} == {d["id"] for d in open_docs}
    assert documents(api, instance_id, status="open") == []

    # Lines for a day whose document was already issued go to a new document for that day (one per day, both
    # orders in it, each with its own proforma lines).
    po_c, po_d = "1000000000053", "1000000000054"
    noon, evening = (datetime.combine(day_before, time(h), UTC) for h in (12, 18))
    sync(
        stack,
        instance_id,
        walmart_order(po_c, [order_line(1, "SKU-E", 1, [charge("PRODUCT", "10.00", "0.80")], "Shipped", noon)], at),
    )
    sync(
        stack,
        instance_id,
        walmart_order(
            po_d, [order_line(1, "SKU-E", 2, [charge("PRODUCT", "20.00", "1.60")], "Delivered", evening)], at
        ),
    )
    assert [d for d in documents(api, instance_id) if d["id"] in {i["id"] for i in issued}] == issued
    [late] = documents(api, instance_id, status="open", type="invoice")
    # c: as a; d: 20.00 + 1.60 = 21.60, marketplace 10% of 20.00 = 2.00: debit 21.60 + 2.00 = 23.60
    late_lines = daily_lines(po_c, "10.00", "0.80", "10.80", "1.00") + daily_lines(
        po_d, "20.00", "1.60", "21.60", "2.00"
    )
    late_totals = ("35.40", "35.40", "30.00", "2.40", "32.40")
    check_document(
        late,
        instance_id,
        type="invoice",
        reason="sale",
        pos=[po_c, po_d],
        lines=late_lines,
        totals=late_totals,
        skus={(po_c, "1"): "SKU-E", (po_d, "1"): "SKU-E"},
        period="daily",
        period_key=day_before.isoformat(),
        status="open",
    )
    close_batches(stack)
    [closed] = [d for d in documents(api, instance_id) if d["id"] == late["id"]]
    assert closed["status"] == "issued"
    assert lines_of(closed) == lines_of(late)
    assert len(documents(api, instance_id, type="invoice")) == 3
    assert len(documents(api, instance_id, type="cogs")) == 3


# -- 6. holds ---------------------------------------------------------------------------------------------
def test_missing_sales_nominal_code_is_held_then_released(api, stack, codes):
    settings = {k: v for k, v in ALL_CODES.items() if k != "sales_nominal_code_id"}
    instance_id = create_instance(api, "held", **settings)
    add_product(api, "SKU-F", "5.00")
    po = "1000000000061"
    sync(
        stack,
        instance_id,
        walmart_order(po, [order_line(1, "SKU-F", 1, [charge("PRODUCT", "12.00", "0.96")], "Shipped", SHIPPED)]),
    )
    assert documents(api, instance_id, type="invoice") == []
    [cost] = documents(api, instance_id, type="cogs")  # the cost does not wait on the revenue
    assert lines_of(cost) == ordered(cogs_lines(po, "1", "5.00"))
    [hold] = holds(api, instance_id)
    assert (hold["purchase_order_id"], hold["line_number"], hold["sku"], hold["type"]) == (po, "1", "SKU-F", "invoice")
    assert re.search(r"sales[ _]nominal[ _]code", hold["reason"], re.IGNORECASE), hold
    assert hold["held_at"]

    patch_settings(api, instance_id, sales_nominal_code_id=1)
    stack.pump(queues={"AccountingQueue": "accounting"})
    [invoice] = documents(api, instance_id, type="invoice")
    check_document(
        invoice,
        instance_id,
        type="invoice",
        reason="sale",
        pos=[po],
        lines=[
            cr("sales", "12.00", po, "1"),
            cr("facilitator_tax", "0.96", po, "1"),
            dr("accounts_receivable", "12.96", po, "1"),
        ],
        totals=("12.96", "12.96", "12.00", "0.96", "12.96"),
        skus={(po, "1"): "SKU-F"},
    )
    assert holds(api, instance_id) == []


def test_product_without_cost_is_held_with_its_sku(api, stack, codes):
    instance_id = create_instance(api, "costless", **ALL_CODES)
    add_product(api, "SKU-NOCOST", None)
    po = "1000000000062"
    raw = walmart_order(
        po,
        [
            order_line(1, "SKU-NOCOST", 1, [charge("PRODUCT", "8.00", "0.64")], "Shipped", SHIPPED),
            order_line(2, "SKU-UNKNOWN", 2, [charge("PRODUCT", "18.00", "1.44")], "Shipped", SHIPPED),
        ],
    )
    sync(stack, instance_id, raw)
    # revenue never waits on the cost: both lines are invoiced; only their cost of goods sold is held
    [invoice] = documents(api, instance_id)
    # line 1: 8.00 + 0.64 = 8.64; line 2: 18.00 + 1.44 = 19.44; receivable 28.08
    check_document(
        invoice,
        instance_id,
        type="invoice",
        reason="sale",
        pos=[po],
        lines=[
            cr("sales", "8.00", po, "1"),
            cr("facilitator_tax", "0.64", po, "1"),
            dr("accounts_receivable", "8.64", po, "1"),
            cr("sales", "18.00", po, "2"),
            cr("facilitator_tax", "1.44", po, "2"),
            dr("accounts_receivable", "19.44", po, "2"),
        ],
        totals=("28.08", "28.08", "26.00", "2.08", "28.08"),
        skus={(po, "1"): "SKU-NOCOST", (po, "2"): "SKU-UNKNOWN"},
    )
    held = {h["line_number"]: h for h in holds(api, instance_id)}
    assert set(held) == {"1", "2"}
    for line_number, sku in (("1", "SKU-NOCOST"), ("2", "SKU-UNKNOWN")):
        assert (held[line_number]["purchase_order_id"], held[line_number]["sku"]) == (po, sku)
        assert held[line_number]["type"] == "cogs"
        assert sku in held[line_number]["reason"], held[line_number]

    add_product(api, "SKU-UNKNOWN", "3.00")
    evaluate(stack, instance_id, po)
    [same, cost] = documents(api, instance_id)
    assert same == invoice
    # line 2 only: cost 3.00 x 2 = 6.00
    check_document(
        cost,
        instance_id,
        type="cogs",
        reason="sale",
        pos=[po],
        lines=cogs_lines(po, "2", "6.00"),
        totals=("6.00", "6.00", "0.00", "0.00", "0.00"),
        skus={(po, "2"): "SKU-UNKNOWN"},
    )
    [still] = holds(api, instance_id)
    assert (still["line_number"], still["sku"], still["type"]) == ("1", "SKU-NOCOST", "cogs")


# -- 7. exactly once ------------------------------------------------------------------------------------
def test_same_order_synced_three_times_and_delivered_twice_is_one_invoice(api, stack, codes):
    instance_id = create_instance(api, "thrice", **ALL_CODES, **PROFORMA)
    add_product(api, SIMPLE_SKU, "6.50")
    po = "1000000000007"
    for _ in range(3):
        sync(stack, instance_id, simple_order(po))
    evaluate(stack, instance_id, po, copies=2)  # one batch carrying the same message twice
    evaluate(stack, instance_id, po, receive_count=2)  # a redelivery
    evaluate(stack, instance_id, po, po)
    sqs = boto3.client("sqs", region_name=REGION)
    for _ in range(2):
        sqs.send_message(QueueUrl=stack.env["queue:AccountingQueue"], MessageBody=job(instance_id, po))
    stack.pump(queues={"AccountingQueue": "accounting"})
    [invoice] = documents(api, instance_id, type="invoice")
    check_document(
        invoice,
        instance_id,
        type="invoice",
        reason="sale",
        pos=[po],
        lines=simple_invoice_lines(po),
        totals=SIMPLE_TOTALS,
        skus={(po, "1"): SIMPLE_SKU},
    )
    [cost] = documents(api, instance_id, type="cogs")
    assert lines_of(cost) == ordered(cogs_lines(po, "1", "13.00"))


# -- 8. flags -------------------------------------------------------------------------------------------
def test_flags_off_issue_nothing_new_and_keep_what_was_issued(api, stack, codes):
    add_product(api, SIMPLE_SKU, "6.50")
    never = create_instance(api, "no-invoices", **ALL_CODES, sync_sales_order_invoices_to_accounting=False)
    sync(stack, never, simple_order("1000000000081"))
    assert documents(api, never) == []

    later = create_instance(api, "turned-off", **ALL_CODES, **PROFORMA)
    sync(stack, later, simple_order("1000000000082"))
    issued = documents(api, later)
    assert sorted(d["type"] for d in issued) == ["cogs", "invoice"]
    patch_settings(api, later, sync_sales_order_invoices_to_accounting=False)
    stack.pump(queues={"AccountingQueue": "accounting"})
    assert documents(api, later) == issued
    sync(stack, later, simple_order("1000000000083"))
    assert documents(api, later) == issued

    no_credits = create_instance(api, "no-credits", **ALL_CODES, sync_sales_credit_to_accounting=False)
    sync(stack, no_credits, simple_order("1000000000084"))
    kept = documents(api, no_credits)
    assert sorted(d["type"] for d in kept) == ["cogs", "invoice"]
    sync(stack, no_credits, simple_order("1000000000084", status="Cancelled"))
    assert documents(api, no_credits) == kept


# -- 9. events ------------------------------------------------------------------------------------------
def capture_events(stack) -> str:
    """An SQS queue receiving every event of the accounting bus (EventBridge rule -> SQS target)."""
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="accounting-events-capture")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = boto3.client("events", region_name=REGION)
    bus = stack.env["ACCOUNTING_EVENT_BUS_NAME"]
    events.put_rule(
        Name="capture-accounting",
        EventBusName=bus,
        EventPattern=json.dumps({"source": ["walmart-integration.accounting"]}),
        State="ENABLED",
    )
    events.put_targets(Rule="capture-accounting", EventBusName=bus, Targets=[{"Id": "capture", "Arn": arn}])
    return str(url)


def published(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    found: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return found
        for message in batch:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_issued_documents_are_published_once(api, stack, codes):
    url = capture_events(stack)
    instance_id = create_instance(api, "events", **ALL_CODES, **PROFORMA)
    add_product(api, SIMPLE_SKU, "6.50")
    po = "1000000000009"
    sync(stack, instance_id, simple_order(po))
    [invoice] = documents(api, instance_id, type="invoice")
    [cost] = documents(api, instance_id, type="cogs")
    events = {event["detail-type"]: event for event in published(url)}
    assert set(events) == {"SalesInvoiceIssued", "CostOfGoodsSoldPosted"}
    assert events["CostOfGoodsSoldPosted"]["detail"]["id"] == cost["id"]
    event = events["SalesInvoiceIssued"]
    assert event["source"] == "walmart-integration.accounting"
    assert event["detail-type"] == "SalesInvoiceIssued"
    assert event["detail"]["id"] == invoice["id"]
    assert event["detail"]["tenant_id"] == TENANT
    assert {k: v for k, v in event["detail"].items() if k != "tenant_id"} == invoice

    sync(stack, instance_id, simple_order(po))  # unchanged: nothing issued, nothing published
    assert published(url) == []

    sync(stack, instance_id, simple_order(po, status="Cancelled"))
    invoice_again, credit = sales_documents(api, instance_id)
    assert invoice_again == invoice
    [event] = published(url)
    assert event["detail-type"] == "SalesCreditIssued"
    assert event["detail"]["id"] == credit["id"]
    assert event["detail"]["type"] == "credit"


def test_batch_document_is_published_when_closed(api, stack, codes):
    url = capture_events(stack)
    instance_id = create_instance(api, "events-daily", **ALL_CODES, batch_period_sales_order_fulfillments="daily")
    add_product(api, SIMPLE_SKU, "6.50")
    shipped = datetime.combine(NOW.date() - timedelta(days=1), time(12), UTC)
    raw = walmart_order(
        "1000000000091",
        [order_line(1, SIMPLE_SKU, 2, [charge("PRODUCT", "20.00", "1.60")], "Shipped", shipped)],
        shipped - timedelta(hours=2),
    )
    sync(stack, instance_id, raw)
    [open_doc] = documents(api, instance_id, type="invoice")
    assert open_doc["status"] == "open"
    assert published(url) == []
    close_batches(stack)
    [issued] = documents(api, instance_id, type="invoice")
    [event] = [e for e in published(url) if e["detail-type"] != "CostOfGoodsSoldPosted"]
    assert event["detail-type"] == "SalesInvoiceIssued"
    assert event["detail"]["id"] == issued["id"] == open_doc["id"]
    assert event["detail"]["status"] == "issued"
    close_batches(stack)
    assert published(url) == []


# -- 10. tenant isolation ------------------------------------------------------------------------------------
def test_another_tenant_cannot_read_documents_or_holds(api, stack, codes):
    instance_id = create_instance(api, "isolated", **ALL_CODES, **PROFORMA)
    add_product(api, SIMPLE_SKU, "6.50")
    po = "1000000000010"
    sync(stack, instance_id, simple_order(po))
    before = documents(api, instance_id)
    for path in (
        f"/api/walmart/{instance_id}/accounting-documents",
        f"/api/walmart/{instance_id}/accounting-holds",
    ):
        assert api("GET", path, tenant="intruder")["statusCode"] == 404
        assert api("GET", path, tenant="intruder", query={"type": "invoice"})["statusCode"] == 404
        assert api("GET", path)["statusCode"] == 200
    unknown = "/api/walmart/00000000-0000-0000-0000-000000000000/accounting-documents"
    assert api("GET", unknown)["statusCode"] in (404, 422)
    # A job naming another tenant never touches this instance's documents.
    stack.handler("accounting").handler(stack.sqs_event([job(instance_id, po, tenant="intruder")]), stack.context())
    assert documents(api, instance_id) == before


def test_listing_rejects_unknown_filters(api, stack, codes):
    instance_id = create_instance(api, "filters", **ALL_CODES)
    path = f"/api/walmart/{instance_id}/accounting-documents"
    for query in ({"type": "receipt"}, {"period": "yearly"}, {"status": "draft"}):
        assert api("GET", path, query=query)["statusCode"] == 422, query


# -- further rules of the contract -------------------------------------------------------------------------
def test_late_charge_changes_are_correcting_documents(api, stack, codes):
    instance_id = create_instance(api, "corrections", **ALL_CODES, **PROFORMA)
    add_product(api, SIMPLE_SKU, "6.50")
    po = "1000000000101"
    sync(stack, instance_id, simple_order(po))
    [invoice] = documents(api, instance_id, type="invoice")

    def priced(product: str, tax: str) -> dict[str, Any]:
        return walmart_order(po, [order_line(1, SIMPLE_SKU, 2, [charge("PRODUCT", product, tax)], "Shipped", SHIPPED)])

    # increase 20.00/1.60 -> 22.00/1.76: +2.00 product, +0.16 tax, +2.16 receivable, cost unchanged;
    # proforma on the 2.00 of sales price: 15% = 0.30, 2.9% = 0.058 -> 0.06 (the same as 3.30 - 3.00 and 0.64 - 0.58)
    sync(stack, instance_id, priced("22.00", "1.76"))
    same, increase = sales_documents(api, instance_id)
    assert same == invoice
    assert increase["reason"] in ("sale", "correction")
    check_document(
        increase,
        instance_id,
        type="invoice",
        reason=increase["reason"],
        pos=[po],
        lines=[
            cr("sales", "2.00", po, "1"),
            cr("facilitator_tax", "0.16", po, "1"),
            dr("accounts_receivable", "2.16", po, "1"),
            dr("marketplace_fees", "0.30", po),
            cr("accrued_costs", "0.30", po),
            dr("payment_fees", "0.06", po),
            cr("accrued_costs", "0.06", po),
        ],
        # debit 2.16 + 0.30 + 0.06; credit 2.00 + 0.16 + 0.30 + 0.06
        totals=("2.52", "2.52", "2.00", "0.16", "2.16"),
        skus={(po, "1"): SIMPLE_SKU},
    )

    # decrease 22.00/1.76 -> 18.00/1.44: a credit "correction". The contract says "the difference is a new correcting
    # document"; this reads it as the negated invoice difference (sales 4000 debited back, the proforma of the
    # document's 4.00 of sales price reversed: 15% = 0.60, 2.9% = 0.116 -> 0.12), not as a credit note's postings
    # (returns 4030), which the contract describes for refunds and cancellations.
    sync(stack, instance_id, priced("18.00", "1.44"))
    first, second, decrease = sales_documents(api, instance_id)
    assert [first, second] == [invoice, increase]
    check_document(
        decrease,
        instance_id,
        type="credit",
        reason="correction",
        pos=[po],
        lines=[
            dr("sales", "4.00", po, "1"),
            dr("facilitator_tax", "0.32", po, "1"),
            cr("accounts_receivable", "4.32", po, "1"),
            cr("marketplace_fees", "0.60", po),
            dr("accrued_costs", "0.60", po),
            cr("payment_fees", "0.12", po),
            dr("accrued_costs", "0.12", po),
        ],
        # debit 4.00 + 0.32 + 0.60 + 0.12; credit 4.32 + 0.60 + 0.12
        totals=("5.04", "5.04", "4.00", "0.32", "4.32"),
        skus={(po, "1"): SIMPLE_SKU},
    )
    evaluate(stack, instance_id, po)
    evaluate(stack, instance_id, po)
    assert len(sales_documents(api, instance_id)) == 3
    assert len(documents(api, instance_id, type="cogs")) == 1  # the cost did not change


REFUND_CHARGES = [charge("PRODUCT", "15.00", "1.20"), charge("SHIPPING", "3.00", "0.24")]


def refund_invoice_lines(po: str) -> list[Posting]:
    return [
        cr("sales", "15.00", po, "1"),
        cr("shipping_revenue", "3.00", po, "1"),
        cr("facilitator_tax", "1.44", po, "1"),
        dr("accounts_receivable", "19.44", po, "1"),
    ]


def full_refund_lines(po: str) -> list[Posting]:
    return [
        dr("sales_returns_allowances", "15.00", po, "1"),
        dr("shipping_refund", "3.00", po, "1"),
        dr("facilitator_tax", "1.44", po, "1"),
        cr("accounts_receivable", "19.44", po, "1"),
    ]


def check_refund_pair(api, instance_id: str, po: str, credit_lines: list[Posting], credit_totals: tuple) -> None:
    """The order's invoice (REFUND_CHARGES, cost 5.00) and its one credit note."""
    docs = [d for d in sales_documents(api, instance_id) if d["purchase_order_ids"] == [po]]
    assert sorted(d["type"] for d in docs) == ["credit", "invoice"], [(d["type"], d["reason"]) for d in docs]
    [invoice] = [d for d in docs if d["type"] == "invoice"]
    [credit] = [d for d in docs if d["type"] == "credit"]
    # 15.00 + 3.00 + 1.20 + 0.24 = 19.44 receivable (the cost of goods sold, 5.00, is a document of its own)
    check_document(
        invoice,
        instance_id,
        type="invoice",
        reason="sale",
        pos=[po],
        lines=refund_invoice_lines(po),
        totals=("19.44", "19.44", "18.00", "1.44", "19.44"),
        skus={(po, "1"): "SKU-R"},
    )
    check_document(
        credit,
        instance_id,
        type="credit",
        reason="refund",
        pos=[po],
        lines=credit_lines,
        totals=credit_totals,
        skus={(po, "1"): "SKU-R"},
    )


def test_refund_status_without_amounts_credits_the_whole_line(api, stack, codes):
    instance_id = create_instance(api, "refund-status", **ALL_CODES)
    add_product(api, "SKU-R", "5.00")
    po = "1000000000111"
    sync(stack, instance_id, walmart_order(po, [order_line(1, "SKU-R", 1, REFUND_CHARGES, "Delivered", SHIPPED)]))
    sync(stack, instance_id, walmart_order(po, [order_line(1, "SKU-R", 1, REFUND_CHARGES, "Refund", LATER)]))
    check_refund_pair(api, instance_id, po, full_refund_lines(po), ("19.44", "19.44", "18.00", "1.44", "19.44"))
    evaluate(stack, instance_id, po)
    assert len(sales_documents(api, instance_id)) == 2


def test_order_first_seen_already_refunded_is_invoiced_and_credited_in_one_evaluation(api, stack, codes):
    """A backfilled order may be refunded before we ever see it: one evaluation posts both documents (the target
    postings are the invoice and the credit); re-evaluating the unchanged order then posts nothing."""
    instance_id = create_instance(api, "first-seen-refunded", **ALL_CODES)
    add_product(api, "SKU-R", "5.00")
    without_amounts, with_amounts = "1000000000112", "1000000000113"
    refunds = [refund_charge("PRODUCT", "-5.00", "-0.40"), refund_charge("SHIPPING", "-3.00", "-0.24")]
    store_order(
        stack, instance_id, walmart_order(without_amounts, [order_line(1, "SKU-R", 1, REFUND_CHARGES, "Refund", LATER)])
    )
    store_order(
        stack,
        instance_id,
        walmart_order(with_amounts, [order_line(1, "SKU-R", 1, REFUND_CHARGES, "Delivered", LATER, refunds=refunds)]),
    )
    evaluate(stack, instance_id, without_amounts, with_amounts)
    check_refund_pair(
        api,
        instance_id,
        without_amounts,
        full_refund_lines(without_amounts),
        ("19.44", "19.44", "18.00", "1.44", "19.44"),
    )
    # refunded: product 5.00, shipping 3.00, tax 0.40 + 0.24 = 0.64; receivable 8.64
    check_refund_pair(
        api,
        instance_id,
        with_amounts,
        [
            dr("sales_returns_allowances", "5.00", with_amounts, "1"),
            dr("shipping_refund", "3.00", with_amounts, "1"),
            dr("facilitator_tax", "0.64", with_amounts, "1"),
            cr("accounts_receivable", "8.64", with_amounts, "1"),
        ],
        ("8.64", "8.64", "8.00", "0.64", "8.64"),
    )
    before = documents(api, instance_id)
    evaluate(stack, instance_id, without_amounts, with_amounts)
    assert documents(api, instance_id) == before


def test_monthly_invoices_and_weekly_credits_have_their_period_keys(api, stack, codes):
    instance_id = create_instance(
        api,
        "periods",
        **ALL_CODES,
        batch_period_sales_order_fulfillments="monthly",
        batch_period_customer_returns="weekly",
    )
    add_product(api, "SKU-W", "2.50")
    po = "1000000000121"
    last_month = (NOW.replace(day=1) - timedelta(days=1)).replace(day=15, hour=10, minute=0, second=0)
    charges = [charge("PRODUCT", "16.00", "1.28")]
    sync(
        stack, instance_id, walmart_order(po, [order_line(1, "SKU-W", 2, charges, "Delivered", last_month)], last_month)
    )
    [invoice] = documents(api, instance_id, type="invoice")
    month_key = f"{last_month.year:04d}-{last_month.month:02d}"
    invoice_lines = [
        cr("sales", "16.00", po, "1"),
        cr("facilitator_tax", "1.28", po, "1"),
        dr("accounts_receivable", "17.28", po, "1"),
    ]
    invoice_totals = ("17.28", "17.28", "16.00", "1.28", "17.28")
    check_document(
        invoice,
        instance_id,
        type="invoice",
        reason="sale",
        pos=[po],
        lines=invoice_lines,
        totals=invoice_totals,
        skus={(po, "1"): "SKU-W"},
        period="monthly",
        period_key=month_key,
        status="open",
    )

    refunded = order_line(
        1, "SKU-W", 2, charges, "Delivered", LATER, refunds=[refund_charge("PRODUCT", "-4.00", "-0.32")]
    )
    sync(stack, instance_id, walmart_order(po, [refunded], last_month))
    iso_year, iso_week, iso_day = LATER.isocalendar()
    week_key = f"{iso_year:04d}-W{iso_week:02d}"
    week_end = datetime.combine(LATER.date() - timedelta(days=iso_day - 1) + timedelta(days=7), time(0), UTC)
    week_ended = datetime.now(UTC) >= week_end
    close_batches(stack)
    issued, credit = sales_documents(api, instance_id)
    check_document(
        issued,
        instance_id,
        type="invoice",
        reason="sale",
        pos=[po],
        lines=invoice_lines,
        totals=invoice_totals,
        skus={(po, "1"): "SKU-W"},
        period="monthly",
        period_key=month_key,
        status="issued",
    )
    check_document(
        credit,
        instance_id,
        type="credit",
        reason="refund",
        pos=[po],
        lines=[
            dr("sales_returns_allowances", "4.00", po, "1"),
            dr("facilitator_tax", "0.32", po, "1"),
            cr("accounts_receivable", "4.32", po, "1"),
        ],
        totals=("4.32", "4.32", "4.00", "0.32", "4.32"),
        skus={(po, "1"): "SKU-W"},
        period="weekly",
        period_key=week_key,
        status="issued" if week_ended else "open",
    )
    assert documents(api, instance_id, period="weekly") == [credit]
    assert documents(api, instance_id, period="monthly", type="invoice") == [issued]
    [cost] = documents(api, instance_id, period="monthly", type="cogs")  # 2.50 x 2
    assert (cost["period_key"], lines_of(cost)) == (month_key, ordered(cogs_lines(po, "1", "5.00")))


def test_missing_shipping_revenue_code_holds_only_the_line_with_shipping(api, stack, codes):
    settings = {k: v for k, v in ALL_CODES.items() if k != "shipping_revenue_nominal_code_id"}
    instance_id = create_instance(api, "no-shipping-code", **settings)
    add_product(api, "SKU-S", "1.00")
    po = "1000000000131"
    raw = walmart_order(
        po,
        [
            order_line(1, "SKU-S", 1, [charge("PRODUCT", "9.00", "0.72")], "Shipped", SHIPPED),
            order_line(
                2, "SKU-S", 1, [charge("PRODUCT", "9.00", "0.72"), charge("SHIPPING", "2.00")], "Shipped", SHIPPED
            ),
        ],
    )
    sync(stack, instance_id, raw)
    [invoice] = documents(api, instance_id, type="invoice")
    check_document(
        invoice,
        instance_id,
        type="invoice",
        reason="sale",
        pos=[po],
        lines=[
            cr("sales", "9.00", po, "1"),
            cr("facilitator_tax", "0.72", po, "1"),
            dr("accounts_receivable", "9.72", po, "1"),
        ],
        totals=("9.72", "9.72", "9.00", "0.72", "9.72"),
        skus={(po, "1"): "SKU-S"},
    )
    [hold] = holds(api, instance_id)
    assert (hold["purchase_order_id"], hold["line_number"], hold["type"]) == (po, "2", "invoice")
    assert re.search(r"shipping[ _]revenue[ _]nominal[ _]code", hold["reason"], re.IGNORECASE), hold

    patch_settings(api, instance_id, shipping_revenue_nominal_code_id=3)
    stack.pump(queues={"AccountingQueue": "accounting"})
    same, released = documents(api, instance_id, type="invoice")
    assert same == invoice
    # line 2: 9.00 + 2.00 shipping (no tax on it) + 0.72 tax = 11.72
    check_document(
        released,
        instance_id,
        type="invoice",
        reason="sale",
        pos=[po],
        lines=[
            cr("sales", "9.00", po, "2"),
            cr("shipping_revenue", "2.00", po, "2"),
            cr("facilitator_tax", "0.72", po, "2"),
            dr("accounts_receivable", "11.72", po, "2"),
        ],
        totals=("11.72", "11.72", "11.00", "0.72", "11.72"),
        skus={(po, "2"): "SKU-S"},
    )
    assert holds(api, instance_id) == []


def test_orders_synced_from_walmart_are_invoiced_through_the_queue(api, stack, emulator, codes):
    """The whole path: the sync worker stores Walmart's orders and queues them; the accounting worker invoices
    the shipped ones; a second sync of the same orders issues nothing more."""
    instance_id = connect_emulated_seller(api, emulator, "900000042", "acct", 120, item_count=5, order_count=20)
    emulator.update_order("900000042", emulator.orders("900000042")[0]["purchaseOrderId"], "Shipped")
    stack.pump()
    invoices = documents(api, instance_id, type="invoice")
    invoiced_pos = {po for document in invoices for po in document["purchase_order_ids"]}
    stored = {
        o["purchase_order_id"]: o
        for o in response_json(api("GET", f"/api/walmart/{instance_id}/orders", query={"limit": "100"}))["data"]
    }
    expected = {
        po
        for po, order in stored.items()
        if any(line["status"] in ("Shipped", "Delivered", "Refund") for line in order["lines"])
    }
    assert expected and invoiced_pos == expected
    for document in invoices:
        assert document["totals"]["debit"] == document["totals"]["credit"]
    api("POST", f"/api/walmart/{instance_id}/sync", {"streams": ["orders", "backfill"]})
    stack.pump()
    assert len(documents(api, instance_id, type="invoice")) == len(invoices)


# -- per-status quantities: unit by unit (issue #12, point 5) ----------------------------------------
def split_line(
    number: int, sku: str, charges: list[dict[str, Any]], units: list[tuple[str, int]], status_at: datetime
) -> dict[str, Any]:
    """A line listing each of its statuses with its quantity, as Walmart does (order spec, OrderLineStatusType)."""
    line = order_line(number, sku, sum(n for _, n in units), charges, units[0][0], status_at)
    line["orderLineStatuses"]["orderLineStatus"] = [
        {"status": status, "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(n)}} for status, n in units
    ]
    return line


def test_one_unit_shipped_one_cancelled_then_refunded_unit_by_unit(api, stack, codes):
    instance_id = create_instance(api, "units", **ALL_CODES, **PROFORMA)
    add_product(api, "SKU-U", "6.50")
    po = "1000000000201"
    charges = [charge("PRODUCT", "20.00", "1.60"), charge("SHIPPING", "5.00", "0.40")]
    sync(
        stack,
        instance_id,
        walmart_order(po, [split_line(1, "SKU-U", charges, [("Shipped", 1), ("Cancelled", 1)], SHIPPED)]),
    )
    [invoice] = documents(api, instance_id, type="invoice")
    # one unit of two: product 10.00, shipping 2.50, tax 0.80 + 0.20 = 1.00, receivable 13.50; on the sales price
    # 12.50: marketplace 15% = 1.875 -> 1.88 (half up); payment 2.9% = 0.3625 -> 0.36
    check_document(
        invoice,
        instance_id,
        type="invoice",
        reason="sale",
        pos=[po],
        lines=[
            cr("sales", "10.00", po, "1"),
            cr("shipping_revenue", "2.50", po, "1"),
            cr("facilitator_tax", "1.00", po, "1"),
            dr("accounts_receivable", "13.50", po, "1"),
            dr("marketplace_fees", "1.88", po),
            cr("accrued_costs", "1.88", po),
            dr("payment_fees", "0.36", po),
            cr("accrued_costs", "0.36", po),
        ],
        # debit 13.50 + 1.88 + 0.36; credit 10.00 + 2.50 + 1.00 + 1.88 + 0.36
        totals=("15.74", "15.74", "12.50", "1.00", "13.50"),
        skus={(po, "1"): "SKU-U"},
    )
    # the shipped unit comes back, refunded without amounts: its share is credited; the cancelled one never was invoiced
    sync(
        stack,
        instance_id,
        walmart_order(po, [split_line(1, "SKU-U", charges, [("Refund", 1), ("Cancelled", 1)], LATER)]),
    )
    same, credit = sales_documents(api, instance_id)
    assert same == invoice
    # the estimate of the fees on the 12.50 credited is reversed (1.88 and 0.36, as invoiced)
    check_document(
        credit,
        instance_id,
        type="credit",
        reason="refund",
        pos=[po],
        lines=[
            dr("sales_returns_allowances", "10.00", po, "1"),
            dr("shipping_refund", "2.50", po, "1"),
            dr("facilitator_tax", "1.00", po, "1"),
            cr("accounts_receivable", "13.50", po, "1"),
            cr("marketplace_fees", "1.88", po),
            dr("accrued_costs", "1.88", po),
            cr("payment_fees", "0.36", po),
            dr("accrued_costs", "0.36", po),
        ],
        # debit 10.00 + 2.50 + 1.00 + 1.88 + 0.36; credit 13.50 + 1.88 + 0.36
        totals=("15.74", "15.74", "12.50", "1.00", "13.50"),
        skus={(po, "1"): "SKU-U"},
    )
    evaluate(stack, instance_id, po)
    assert len(sales_documents(api, instance_id)) == 2


def test_a_unit_cancelled_after_its_line_was_invoiced_is_credited(api, stack, codes):
    instance_id = create_instance(api, "unit-cancelled", **ALL_CODES)
    add_product(api, "SKU-V", "4.00")
    po = "1000000000202"
    charges = [charge("PRODUCT", "30.00", "2.40")]
    sync(stack, instance_id, walmart_order(po, [split_line(1, "SKU-V", charges, [("Shipped", 3)], SHIPPED)]))
    [invoice] = documents(api, instance_id, type="invoice")
    # three units: product 30.00, tax 2.40, receivable 32.40; no proforma set
    check_document(
        invoice,
        instance_id,
        type="invoice",
        reason="sale",
        pos=[po],
        lines=[
            cr("sales", "30.00", po, "1"),
            cr("facilitator_tax", "2.40", po, "1"),
            dr("accounts_receivable", "32.40", po, "1"),
        ],
        totals=("32.40", "32.40", "30.00", "2.40", "32.40"),
        skus={(po, "1"): "SKU-V"},
    )
    sync(
        stack,
        instance_id,
        walmart_order(po, [split_line(1, "SKU-V", charges, [("Shipped", 2), ("Cancelled", 1)], LATER)]),
    )
    same, credit = sales_documents(api, instance_id)
    assert same == invoice  # never a negative invoice: the cancelled unit is credited
    # two units keep 30.00 x 2/3 = 20.00 and 2.40 x 2/3 = 1.60: the third is 10.00 and 0.80, receivable 10.80
    check_document(
        credit,
        instance_id,
        type="credit",
        reason="cancellation",
        pos=[po],
        lines=[
            dr("sales_returns_allowances", "10.00", po, "1"),
            dr("facilitator_tax", "0.80", po, "1"),
            cr("accounts_receivable", "10.80", po, "1"),
        ],
        totals=("10.80", "10.80", "10.00", "0.80", "10.80"),
        skus={(po, "1"): "SKU-V"},
    )


# -- the stored shapes (pinned before the documents became typed records) -----------------------------------
def stored_items(stack, instance_id: str, prefix: str) -> list[dict[str, Any]]:
    from walmart_integration.store import dynamo

    response = boto3.client("dynamodb", region_name=REGION).query(
        TableName=stack.env["APP_TABLE_NAME"],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{TENANT}"}, ":prefix": {"S": f"{prefix}#{instance_id}#"}},
    )
    return [dynamo.deserialize(item, exact=True) for item in response["Items"]]


def test_stored_document_and_posting_items_keep_their_shape(api, stack, codes):
    instance_id = create_instance(api, "shapes", **ALL_CODES, **PROFORMA)
    add_product(api, SIMPLE_SKU, "6.50")
    po = "1000000000301"
    sync(stack, instance_id, simple_order(po))
    [document] = [item for item in stored_items(stack, instance_id, "ACCTDOC") if item["type"] == "invoice"]
    assert set(document) == {
        "pk",
        "sk",
        "id",
        "tenant_id",
        "instance_id",
        "type",
        "reason",
        "period",
        "currency",
        "purchase_order_ids",
        "lines",
        "created_at",
        "status",
        "issued_at",
        "totals",
        "published",
    }  # fmt: skip (None values are not stored: an immediate document has no period_key)
    assert (document["pk"], document["sk"]) == (f"TENANT#{TENANT}", f"ACCTDOC#{instance_id}#{document['id']}")
    assert (document["status"], document["published"], document["period"]) == ("issued", True, "immediate")
    assert set(document["totals"]) == {"debit", "credit", "net", "tax", "gross"}
    for line in document["lines"]:
        assert set(line) == {
            "account", "nominal_code_id", "nominal_code", "debit", "credit", "purchase_order_id", "line_number",
            "sku", "description",
        }  # fmt: skip
        assert isinstance(line["debit"], str) and isinstance(line["credit"], str)
    [state] = stored_items(stack, instance_id, "ACCTPOST")
    # issue #13: cogs_units, the units whose cost of goods sold was posted (a later cost never revalues them), and
    # accrued_fees, the proforma fees accrued on the order (a settlement replaces them with Walmart's actual fees)
    assert set(state) == {
        "pk", "sk", "type", "purchase_order_id", "invoice", "credit", "cogs_units", "accrued_fees", "updated_at",
        "version",
    }  # fmt: skip
    assert state["type"] == "accounting_posting"
    assert state["cogs_units"] == {"1": 2}
    assert state["accrued_fees"] == {"marketplace_fees": "3.00", "payment_fees": "0.58"}
    assert state["version"] == 1
    assert set(state["invoice"]["1"]) == {"product", "shipping", "tax", "cogs"}


# -- issue #13: products with a cost, cancellations as Walmart sends them, paging, the journal, the codes ------------
def product_id(api, sku: str) -> int:
    listed = response_json(api("GET", "/api/products", query={"limit": "100"}))["data"]
    [found] = [p for p in listed if p["sku"] == sku]
    return int(found["id"])


def test_patching_a_products_cost_posts_its_held_cost_of_goods_sold_at_once(api, stack, codes):
    instance_id = create_instance(api, "patch-cost", **ALL_CODES)
    add_product(api, "SKU-LATE", None)
    po = "1000000000401"
    sync(
        stack,
        instance_id,
        walmart_order(po, [order_line(1, "SKU-LATE", 3, [charge("PRODUCT", "33.00", "2.64")], "Shipped", SHIPPED)]),
    )
    [invoice] = documents(api, instance_id)
    assert invoice["type"] == "invoice"
    [hold] = holds(api, instance_id)
    assert (hold["line_number"], hold["sku"], hold["type"]) == ("1", "SKU-LATE", "cogs")

    identifier = product_id(api, "SKU-LATE")
    response = api("PATCH", f"/api/products/{identifier}", {"cost": "4.125"})
    assert response["statusCode"] == 200, response["body"]
    assert response_json(response)["data"] == {
        "id": identifier,
        "sku": "SKU-LATE",
        "name": "Product SKU-LATE",
        "cost": "4.125",
        "created_at": response_json(response)["data"]["created_at"],
    }
    stack.pump(queues={"AccountingQueue": "accounting"})
    same, cost = documents(api, instance_id)
    assert same == invoice
    # 4.125 x 3 = 12.375 -> 12.38 (half up)
    check_document(
        cost,
        instance_id,
        type="cogs",
        reason="sale",
        pos=[po],
        lines=cogs_lines(po, "1", "12.38"),
        totals=("12.38", "12.38", "0.00", "0.00", "0.00"),
        skus={(po, "1"): "SKU-LATE"},
    )
    assert holds(api, instance_id) == []
    # a later cost applies to what ships from then on: what was posted is never revalued
    assert api("PATCH", f"/api/products/{identifier}", {"cost": "9.99"})["statusCode"] == 200
    stack.pump(queues={"AccountingQueue": "accounting"})
    sync(
        stack,
        instance_id,
        walmart_order(po, [order_line(1, "SKU-LATE", 3, [charge("PRODUCT", "33.00", "2.64")], "Delivered", LATER)]),
    )
    evaluate(stack, instance_id, po, copies=2)
    assert documents(api, instance_id) == [invoice, cost]


def test_patching_a_product_validates_and_hides_other_tenants_products(api, stack, codes):
    add_product(api, "SKU-MINE", "1.00")
    identifier = product_id(api, "SKU-MINE")
    path = f"/api/products/{identifier}"
    for body, field in (
        ({"cost": "-1"}, "cost"),
        ({"cost": "1.1234567"}, "cost"),
        ({"cost": "abc"}, "cost"),
        ({"name": "  "}, "name"),
        ({"name": None}, None),
        ({"sku": "OTHER"}, "sku"),
        ({}, None),
    ):
        response = api("PATCH", path, body)
        assert response["statusCode"] == 422, (body, response["body"])
        if field:
            assert field in response_json(response)["errors"], (body, response["body"])
    assert api("PATCH", path, {"name": "Renamed"}, tenant="intruder")["statusCode"] == 404
    assert api("PATCH", "/api/products/999999", {"name": "Renamed"})["statusCode"] == 404
    renamed = api("PATCH", path, {"name": "Renamed"})
    assert renamed["statusCode"] == 200
    assert (response_json(renamed)["data"]["name"], response_json(renamed)["data"]["cost"]) == ("Renamed", "1.00")


def test_a_line_cancelled_after_it_was_invoiced_with_its_charges_zeroed_is_credited(api, stack, codes):
    """Walmart zeroes a cancelled line's charges (docs/walmart/examples/POST_v3_orders_purchaseOrderId_cancel__200__
    example.json): the credit note reverses what was invoiced, the proforma fees on it included."""
    instance_id = create_instance(api, "zeroed", **ALL_CODES, proforma_marketplace_cost_percentage=15)
    add_product(api, "SKU-Z", "3.00")
    po = "1000000000402"
    charges = [charge("PRODUCT", "24.00", "1.92"), charge("SHIPPING", "4.00", "0.32")]
    sync(stack, instance_id, walmart_order(po, [order_line(1, "SKU-Z", 2, charges, "Shipped", SHIPPED)]))
    [invoice] = sales_documents(api, instance_id)
    # receivable 24.00 + 4.00 + 1.92 + 0.32 = 30.24; marketplace 15% of 28.00 = 4.20
    assert lines_of(invoice) == ordered(
        [
            cr("sales", "24.00", po, "1"),
            cr("shipping_revenue", "4.00", po, "1"),
            cr("facilitator_tax", "2.24", po, "1"),
            dr("accounts_receivable", "30.24", po, "1"),
            dr("marketplace_fees", "4.20", po),
            cr("accrued_costs", "4.20", po),
        ]
    )
    zeroed = [charge("PRODUCT", "0", "0"), charge("SHIPPING", "0", "0")]
    sync(stack, instance_id, walmart_order(po, [order_line(1, "SKU-Z", 2, zeroed, "Cancelled", LATER)]))
    same, credit = sales_documents(api, instance_id)
    assert same == invoice
    check_document(
        credit,
        instance_id,
        type="credit",
        reason="cancellation",
        pos=[po],
        lines=[
            dr("sales_returns_allowances", "24.00", po, "1"),
            dr("shipping_refund", "4.00", po, "1"),
            dr("facilitator_tax", "2.24", po, "1"),
            cr("accounts_receivable", "30.24", po, "1"),
            cr("marketplace_fees", "4.20", po),
            dr("accrued_costs", "4.20", po),
        ],
        # debit 24.00 + 4.00 + 2.24 + 4.20; credit 30.24 + 4.20
        totals=("34.44", "34.44", "28.00", "2.24", "30.24"),
        skus={(po, "1"): "SKU-Z"},
    )
    evaluate(stack, instance_id, po, copies=2)  # a duplicate delivery posts nothing twice
    assert sales_documents(api, instance_id) == [invoice, credit]


def test_a_filtered_listing_never_answers_an_empty_page_with_a_cursor(api, stack, codes):
    instance_id = create_instance(api, "paging", **ALL_CODES)
    add_product(api, SIMPLE_SKU, "6.50")
    for n in range(1, 4):
        sync(stack, instance_id, simple_order(f"100000000050{n}"))
    sync(stack, instance_id, simple_order("1000000000503", status="Cancelled"))
    path = f"/api/walmart/{instance_id}/accounting-documents"
    # 7 documents (3 invoices, 3 cogs, then the credit): the one credit is on the first page, and nothing follows
    page = response_json(api("GET", path, query={"type": "credit", "limit": "1"}))
    assert [d["purchase_order_ids"] for d in page["data"]] == [["1000000000503"]]
    assert page["next_cursor"] is None
    pages = []
    cursor = None
    while True:
        query = {"type": "invoice", "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = response_json(api("GET", path, query=query))
        pages.append([d["purchase_order_ids"][0] for d in page["data"]])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == [["1000000000501", "1000000000502"], ["1000000000503"]]
    assert api("GET", path, query={"cursor": "not-a-cursor"})["statusCode"] == 422


def test_documents_as_a_csv_journal_one_row_per_posting_line(api, stack, codes):
    instance_id = create_instance(api, "journal", **ALL_CODES, **PROFORMA)
    add_product(api, SIMPLE_SKU, "6.50")
    po = "1000000000601"
    sync(stack, instance_id, simple_order(po))
    [invoice] = documents(api, instance_id, type="invoice")
    [cost] = documents(api, instance_id, type="cogs")
    path = f"/api/walmart/{instance_id}/accounting-documents"
    first = api("GET", path, query={"format": "csv", "limit": "1"})
    assert first["statusCode"] == 200, first["body"]
    headers = {k.lower(): v[0] for k, v in first["multiValueHeaders"].items()}
    assert headers["content-type"].startswith("text/csv")
    cursor = headers["x-next-cursor"]
    assert (
        headers["link"]
        == f'</api/walmart/{instance_id}/accounting-documents?format=csv&limit=1&cursor={cursor}>; rel="next"'
    )
    day = invoice["issued_at"][:10]
    assert first["body"].split("\r\n") == [
        "date,reference,nominal_code,description,debit,credit,currency,document_type,account,purchase_order_id,"
        "line_number,sku",
        *[
            f"{day},{invoice['id']},{code},{description},{debit},{credit},USD,invoice,{account},{po},{line},{sku}"
            for account, code, description, debit, credit, line, sku in (
                ("accounts_receivable", "1100", "Amount due from the marketplace", "21.60", "0.00", "1", SIMPLE_SKU),
                ("sales", "4000", "Product revenue", "0.00", "20.00", "1", SIMPLE_SKU),
                (
                    "facilitator_tax",
                    "2200",
                    "Sales tax collected by Walmart (marketplace facilitator)",
                    "0.00",
                    "1.60",
                    "1",
                    SIMPLE_SKU,
                ),
                ("marketplace_fees", "6100", "Estimated marketplace fees (15%)", "3.00", "0.00", "", ""),
                ("accrued_costs", "2100", "Accrued marketplace fees", "0.00", "3.00", "", ""),
                ("payment_fees", "6110", "Estimated payment fees (2.9%)", "0.58", "0.00", "", ""),
                ("accrued_costs", "2100", "Accrued payment fees", "0.00", "0.58", "", ""),
            )
        ],
        "",
    ]
    second = api("GET", path, query={"format": "csv", "limit": "1", "cursor": cursor})
    rows = second["body"].split("\r\n")
    assert rows[1:] == [
        f"{day},{cost['id']},5000,Cost of goods sold,13.00,0.00,USD,cogs,cogs,{po},1,{SIMPLE_SKU}",
        f"{day},{cost['id']},1200,Inventory,0.00,13.00,USD,cogs,inventory,{po},1,{SIMPLE_SKU}",
        "",
    ]
    assert not {k.lower() for k in second["multiValueHeaders"]} & {"link", "x-next-cursor"}
    assert api("GET", path, query={"format": "xml"})["statusCode"] == 422
    assert api("GET", path, query={"format": "csv"}, tenant="intruder")["statusCode"] == 404


def test_control_account_codes_are_the_tenants_own_and_a_missing_one_holds_its_part(api, stack, codes):
    body: dict[str, Any] = {
        "name": "foreign-code",
        "integration_id": 1,
        "integration_settings": {
            "start_date": "2025-01-01",
            "store_id": 1,
            "auto_link_products": False,
            "auto_create_products": False,
            "facilitator_tax_nominal_code_id": 999,
        },
    }
    response = api("POST", "/api/walmart", body)
    assert response["statusCode"] == 422
    assert response_json(response)["errors"] == {
        "integration_settings.facilitator_tax_nominal_code_id": ["Nominal code 999 does not exist."]
    }
    body["integration_settings"] = {**body["integration_settings"], "facilitator_tax_nominal_code_id": None}
    body["integration_settings"]["returned_goods"] = "donate"
    assert api("POST", "/api/walmart", body)["statusCode"] == 422

    without = {
        k: v
        for k, v in ALL_CODES.items()
        if k not in ("accounts_receivable_nominal_code_id", "inventory_nominal_code_id")
    }
    instance_id = create_instance(api, "no-control-codes", **without)
    response = api("PATCH", f"/api/walmart/{instance_id}", {"integration_settings": {"bank_nominal_code_id": 999}})
    assert response["statusCode"] == 422
    assert list(response_json(response)["errors"]) == ["integration_settings.bank_nominal_code_id"]
    add_product(api, "SKU-K", "2.00")
    po = "1000000000701"
    sync(
        stack,
        instance_id,
        walmart_order(po, [order_line(1, "SKU-K", 1, [charge("PRODUCT", "10.00", "0.80")], "Shipped", SHIPPED)]),
    )
    assert documents(api, instance_id) == []
    reasons = {h["type"]: h["reason"] for h in holds(api, instance_id)}
    assert reasons == {
        "invoice": "No accounts receivable nominal code is set on the instance (or it no longer exists).",
        "cogs": "No inventory nominal code is set on the instance (or it no longer exists).",
    }
    patch_settings(api, instance_id, accounts_receivable_nominal_code_id=6, inventory_nominal_code_id=11)
    stack.pump(queues={"AccountingQueue": "accounting"})
    assert sorted(d["type"] for d in documents(api, instance_id)) == ["cogs", "invoice"]
    assert holds(api, instance_id) == []
    view = response_json(api("GET", f"/api/walmart/{instance_id}"))["data"]["integration_settings"]
    assert (view["returned_goods"], view["inventory_nominal_code_id"]) == ("restock", 11)


# -- a settlement document per payment period (issue #13 items 2 and 3) ------------------------------------------------
SETTLEMENT_ID = "2026-11-29"


def report_row(kind: str, amount_type: str, amount: str, po: str = "", description: str = "Purchase") -> dict[str, str]:
    """A transaction row of Walmart's reconciliation report, shaped as the spec's reconFileJson example's Sale row
    (docs/walmart/examples/GET_v3_report_reconreport_reconFileJson__200__example.json): every value text."""
    return {
        "Period Start Date": '""',
        "Transaction Key": f"2026_11_29_{po or 'x'}",
        "Transaction Posted Timestamp": "11/27/2026",
        "Transaction Type": kind,
        "Transaction Description": description,
        "Amount": amount,
        "Amount Type": amount_type,
        "Currency": "USD",
        "Purchase Order #": po,
        "Purchase Order line #": "1" if po else "",
        "Partner Item Id": "",
    }


def store_settlement(stack, instance_id: str, rows: list[dict[str, str]], deposit: str) -> None:
    """Store a final period and its lines the way the settlements sync does (PaymentSummary row first, as Walmart's
    example has it)."""
    from walmart_integration.models.settlements import SettlementPeriod, settlement_line_from_row
    from walmart_integration.store.settlements import SettlementRepository

    summary = {
        "Period Start Date": "11/16/2026",
        "Period End Date": "11/29/2026",
        "Currency": "USD",
        "Transaction Type": "PaymentSummary",
        "Total Payable": deposit,
        "Transaction Description": "Deposited in  account",
        "Transaction Posted Timestamp": "12/01/2026",
    }
    lines = [settlement_line_from_row(SETTLEMENT_ID, n, row) for n, row in enumerate([summary, *rows])]
    repo = SettlementRepository(stack.env["DATA_TABLE_NAME"], REGION)
    repo.put_lines(TENANT, instance_id, lines)
    total = sum((line.amount or Decimal("0") for line in lines[1:]), Decimal("0"))
    repo.save_period(
        TENANT,
        instance_id,
        SettlementPeriod(
            settlement_id=SETTLEMENT_ID,
            report_date="11292026",
            status="final",
            period_start=datetime(2026, 11, 16).date(),
            period_end=datetime(2026, 11, 29).date(),
            deposit=Decimal(deposit),
            currency="USD",
            line_count=len(lines),
            lines_total=total,
        ),
    )


def post_settlement(stack, instance_id: str, copies: int = 1) -> None:
    body = json.dumps({"tenant_id": TENANT, "instance_id": instance_id, "settlement_ids": [SETTLEMENT_ID]})
    result = stack.handler("accounting").handler(stack.sqs_event([body] * copies), stack.context())
    assert not (result or {}).get("batchItemFailures"), result


def settlement_view(api, instance_id: str) -> dict[str, Any]:
    response = api("GET", f"/api/walmart/{instance_id}/settlements/{SETTLEMENT_ID}")
    assert response["statusCode"] == 200, response["body"]
    return dict(response_json(response)["data"])


SALE_A, SALE_B, RETURNED_C = "1000000000801", "1000000000802", "1000000000803"


def settlement_rows() -> list[dict[str, str]]:
    """Sales of three orders, a partial refund of B (on the order), C refunded whole through a return, a WFS fee, an
    adjustment, a reserve held and the previous one released. Sum: A 20.00 + 1.60 - 1.60 + 5.00 + 0.40 - 0.40 - 3.00 =
    22.00; B 40.00 + 3.20 - 3.20 - 6.00 = 34.00; B's refund -10.00 - 0.80 + 0.80 + 1.50 = -8.50; C 15.00 + 1.20 - 1.20 -
    2.25 = 12.75; C's return -15.00 - 1.20 + 1.20 + 2.25 = -12.75; WFS -3.45; adjustment -2.50; reserve -3.00 + 1.00:
    deposit 39.55."""
    withheld = "Marketplace facilitator tax withheld"
    return [
        report_row("Sale", "Product Price", "20.00", SALE_A),
        report_row("Sale", "Product tax", "1.60", SALE_A),
        report_row("Sale", "Product tax withheld", "-1.60", SALE_A, withheld),
        report_row("Sale", "Shipping Price", "5.00", SALE_A),
        report_row("Sale", "Shipping tax", "0.40", SALE_A),
        report_row("Sale", "Shipping tax withheld", "-0.40", SALE_A, withheld),
        report_row("Sale", "Commission on Product", "-3.00", SALE_A, "Commission"),
        report_row("Sale", "Product Price", "40.00", SALE_B),
        report_row("Sale", "Product tax", "3.20", SALE_B),
        report_row("Sale", "Product tax withheld", "-3.20", SALE_B, withheld),
        report_row("Sale", "Commission on Product", "-6.00", SALE_B, "Commission"),
        report_row("Refund", "Product Price", "-10.00", SALE_B, "Refund"),
        report_row("Refund", "Product tax", "-0.80", SALE_B, "Refund"),
        report_row("Refund", "Product tax withheld", "0.80", SALE_B, withheld),
        report_row("Refund", "Commission on Product", "1.50", SALE_B, "Commission refund"),
        report_row("Sale", "Product Price", "15.00", RETURNED_C),
        report_row("Sale", "Product tax", "1.20", RETURNED_C),
        report_row("Sale", "Product tax withheld", "-1.20", RETURNED_C, withheld),
        report_row("Sale", "Commission on Product", "-2.25", RETURNED_C, "Commission"),
        report_row("Refund", "Product Price", "-15.00", RETURNED_C, "Return refund"),
        report_row("Refund", "Product tax", "-1.20", RETURNED_C, "Return refund"),
        report_row("Refund", "Product tax withheld", "1.20", RETURNED_C, withheld),
        report_row("Refund", "Commission on Product", "2.25", RETURNED_C, "Commission refund"),
        report_row("Adjustment", "WFS Fulfillment fee", "-3.45", SALE_A, "WFS Fulfillment fee"),
        report_row("Adjustment", "Fee/Reimbursement", "-2.50", "", "Return shipping label fee"),
        report_row("Reserve", "Reserve", "-3.00", "", "Reserve held for future refunds"),
        report_row("Release Reserve", "Reserve", "1.00", "", "Previous reserve released"),
    ]


def settled_orders(api, stack, instance_id: str) -> None:
    """A: 20.00 + 5.00 shipping, tax 1.60 + 0.40; B: 2 x 20.00, tax 3.20, refunded 10.00 + 0.80 on the order;
    C: 15.00, tax 1.20 (its return's refund comes through /v3/returns)."""
    for sku in ("SKU-SA", "SKU-SB", "SKU-SC"):
        add_product(api, sku, "5.00")
    sync(
        stack,
        instance_id,
        walmart_order(
            SALE_A,
            [
                order_line(
                    1,
                    "SKU-SA",
                    1,
                    [charge("PRODUCT", "20.00", "1.60"), charge("SHIPPING", "5.00", "0.40")],
                    "Shipped",
                    SHIPPED,
                )
            ],
        ),
    )
    sync(
        stack,
        instance_id,
        walmart_order(
            SALE_B,
            [
                order_line(
                    1,
                    "SKU-SB",
                    2,
                    [charge("PRODUCT", "40.00", "3.20")],
                    "Delivered",
                    SHIPPED,
                    refunds=[refund_charge("PRODUCT", "-10.00", "-0.80")],
                )
            ],
        ),
    )
    sync(
        stack,
        instance_id,
        walmart_order(
            RETURNED_C, [order_line(1, "SKU-SC", 1, [charge("PRODUCT", "15.00", "1.20")], "Delivered", SHIPPED)]
        ),
    )


def store_return(stack, instance_id: str, po: str, sku: str, price: str, tax: str, to_stock: bool = True) -> None:
    """A return of one unit of the order's line 1, refunded through Walmart's returns, stored as the returns sync
    stores it; its charge as Walmart's example has it (docs/walmart/examples/GET_v3_returns__200__example.json:
    chargeCategory PRODUCT, chargeName ItemPrice, per unit, with its tax)."""
    from walmart_integration.models.returns import ReturnCharge, ReturnLine, ReturnOrder
    from walmart_integration.store.settlements import ReturnRepository

    line = ReturnLine(
        return_order_line_number=1,
        purchase_order_id=po,
        purchase_order_line_number=1,
        sku=sku,
        quantity=Decimal(1),
        refunded_quantity=Decimal(1),
        refund_status="REFUND_COMPLETED",
        returned_to_stock=to_stock,
        charges=[
            ReturnCharge(
                category="PRODUCT",
                name="ItemPrice",
                amount_per_unit=Decimal(price),
                tax_per_unit=Decimal(tax),
                amount=Decimal(price),
                tax=Decimal(tax),
            )
        ],
    )
    record = ReturnOrder(return_order_id=f"R{po}", purchase_order_ids=[po], lines=[line], total_refund=Decimal(price))
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    ReturnRepository(stack.env["DATA_TABLE_NAME"], REGION).upsert_changed(TENANT, instance_id, [record], now)


def test_a_settlement_is_one_balanced_journal_that_ties_out_to_the_deposit(api, stack, codes):
    url = capture_events(stack)
    instance_id = create_instance(api, "settlement", **ALL_CODES, **PROFORMA)
    settled_orders(api, stack, instance_id)
    store_return(stack, instance_id, RETURNED_C, "SKU-SC", "15.00", "1.20")
    evaluate(stack, instance_id, RETURNED_C)  # what the returns sync queues
    [c_credit] = [d for d in documents(api, instance_id, type="credit") if d["purchase_order_ids"] == [RETURNED_C]]
    assert (c_credit["reason"], lines_of(c_credit)) == (
        "return",
        ordered(
            [
                dr("sales_returns_allowances", "15.00", RETURNED_C, "1"),
                dr("facilitator_tax", "1.20", RETURNED_C, "1"),
                cr("accounts_receivable", "16.20", RETURNED_C, "1"),
                cr("marketplace_fees", "2.25", RETURNED_C),
                dr("accrued_costs", "2.25", RETURNED_C),
                cr("payment_fees", "0.44", RETURNED_C),
                dr("accrued_costs", "0.44", RETURNED_C),
            ]
        ),
    )
    published(url)
    store_settlement(stack, instance_id, settlement_rows(), "39.55")
    post_settlement(stack, instance_id, copies=2)  # a duplicate delivery posts nothing twice
    post_settlement(stack, instance_id)
    [settlement] = documents(api, instance_id, type="settlement")
    assert (settlement["reason"], settlement["settlement_id"], settlement["purchase_order_ids"]) == (
        "settlement",
        SETTLEMENT_ID,
        [],
    )
    # Accruals (15% and 2.9% of the sales price): A 25.00 -> 3.75 and 0.725 -> 0.73; B 40.00 -> 6.00 and 1.16, less
    # its credit's 10.00 -> 1.50 and 0.29: 4.50 and 0.87; C 15.00 -> 2.25 and 0.435 -> 0.44, less its return's credit
    # note, the same: 0 and 0. Reversed: 3.75 + 0.73 + 4.50 + 0.87 = 9.85.
    # Commission: A 3.00 (estimate 3.75: -0.75), B 6.00 - 1.50 = 4.50 (estimate 4.50: 0), C 2.25 - 2.25 = 0 (estimate
    # 0: 0): marketplace fees -0.75; payment fees -(0.73 + 0.87) = -1.60.
    # Receivable: 27.00 + 43.20 - 10.80 + 16.20 - 16.20 = 59.40; tax withheld 1.60 + 0.40 + 3.20 - 0.80 + 1.20 - 1.20
    # = 4.40; reserve 3.00 - 1.00 = 2.00.
    assert lines_of(settlement) == ordered(
        [
            dr("bank", "39.55", None),
            cr("accounts_receivable", "59.40", None),
            dr("facilitator_tax", "4.40", None),
            dr("accrued_costs", "9.85", None),
            cr("marketplace_fees", "0.75", None),
            cr("payment_fees", "1.60", None),
            dr("wfs_fees", "3.45", None),
            dr("adjustments", "2.50", None),
            dr("reserves", "2.00", None),
        ]
    )
    # debit 39.55 + 4.40 + 9.85 + 3.45 + 2.50 + 2.00 = 61.75; credit 59.40 + 0.75 + 1.60 = 61.75
    assert (settlement["totals"]["debit"], settlement["totals"]["credit"]) == ("61.75", "61.75")
    assert settlement_view(api, instance_id)["unexplained"] == "0.00"
    journal = api(
        "GET", f"/api/walmart/{instance_id}/accounting-documents", query={"type": "settlement", "format": "csv"}
    )
    rows = journal["body"].split("\r\n")
    day = settlement["issued_at"][:10]
    assert len(rows) == 1 + 9 + 1  # the header, a row per posting line, the end
    assert f"{day},{settlement['id']},1000,Walmart deposit (Total Payable),39.55,0.00,USD,settlement,bank,,," in rows
    [event] = published(url)
    assert event["detail-type"] == "SettlementPosted" and event["detail"]["id"] == settlement["id"]
    assert holds(api, instance_id) == []

    # the receivable of every order it pays is cleared: per order, invoices - credit notes = what Walmart paid for it
    receivable: dict[str, Decimal] = {}
    for document in documents(api, instance_id):
        for line in document["lines"]:
            if line["account"] == "accounts_receivable" and line["purchase_order_id"]:
                po = line["purchase_order_id"]
                receivable[po] = receivable.get(po, Decimal(0)) + Decimal(line["debit"]) - Decimal(line["credit"])
    # A 27.00; B 43.20 - 10.80 = 32.40; C 16.20 - 16.20 = 0.00: together 59.40, the settlement's credit
    assert receivable == {SALE_A: Decimal("27.00"), SALE_B: Decimal("32.40"), RETURNED_C: Decimal("0.00")}
    # and the facilitator tax nets to nothing: invoiced 2.00 + 3.20 + 1.20, credited 0.80 + 1.20, withheld 4.40
    tax = sum(
        (Decimal(line["credit"]) - Decimal(line["debit"]))
        for document in documents(api, instance_id)
        for line in document["lines"]
        if line["account"] == "facilitator_tax"
    )
    assert tax == Decimal("0.00")


def test_a_settlement_line_that_cannot_be_classified_holds_it_and_unexplained_says_so(api, stack, codes):
    instance_id = create_instance(api, "settlement-held", **ALL_CODES)
    settled_orders(api, stack, instance_id)
    store_return(stack, instance_id, RETURNED_C, "SKU-SC", "15.00", "1.20")
    evaluate(stack, instance_id, RETURNED_C)
    rows = [*settlement_rows(), report_row("Deposit Interest", "Interest", "0.45", "", "Interest")]
    store_settlement(stack, instance_id, rows, "40.00")  # 39.55 + 0.45
    post_settlement(stack, instance_id)
    assert documents(api, instance_id, type="settlement") == []
    assert settlement_view(api, instance_id)["unexplained"] == "0.45"
    [hold] = [h for h in holds(api, instance_id) if h["type"] == "settlement"]
    assert hold["line_number"] == f"{SETTLEMENT_ID}#28"  # the PaymentSummary row is 0, the rows follow
    assert "'Deposit Interest'" in hold["reason"] and "no account" in hold["reason"]


def test_a_settlement_paying_a_refund_not_yet_credited_waits_for_the_credit_note(api, stack, codes):
    """Walmart refunded C through its returns, and the return has not reached us yet: the settlement waits for the
    credit note (whichever comes first, the journal is the same), then posts."""
    instance_id = create_instance(api, "refund-first", **ALL_CODES, **PROFORMA)
    settled_orders(api, stack, instance_id)
    store_settlement(stack, instance_id, settlement_rows(), "39.55")
    post_settlement(stack, instance_id)
    assert documents(api, instance_id, type="settlement") == []
    assert settlement_view(api, instance_id)["unexplained"] == "-16.20"  # C's refund (-15.00 and -1.20) held
    waiting = [h for h in holds(api, instance_id) if h["type"] == "settlement"]
    reason = f"Order {RETURNED_C}: Walmart refunded 16.20, credited so far 0"
    assert len(waiting) == 2 and all(reason in h["reason"] for h in waiting)

    store_return(stack, instance_id, RETURNED_C, "SKU-SC", "15.00", "1.20")
    evaluate(stack, instance_id, RETURNED_C)  # the credit note posts, and the settlement waiting on C with it
    [settlement] = documents(api, instance_id, type="settlement")
    assert settlement_view(api, instance_id)["unexplained"] == "0.00"
    assert settlement["totals"]["debit"] == settlement["totals"]["credit"]


def test_a_return_refunded_through_walmarts_returns_is_credited_once_and_restocked(api, stack, codes):
    instance_id = create_instance(api, "returns", **ALL_CODES)
    written_off = create_instance(api, "returns-written-off", **ALL_CODES, returned_goods="write_off")
    add_product(api, "SKU-RT", "4.00")
    po = "1000000000901"
    raw = walmart_order(po, [order_line(1, "SKU-RT", 2, [charge("PRODUCT", "30.00", "2.40")], "Delivered", SHIPPED)])
    for instance in (instance_id, written_off):
        sync(stack, instance, raw)
        store_return(stack, instance, po, "SKU-RT", "15.00", "1.20")
        evaluate(stack, instance, po, copies=2)
    credit_lines = [
        dr("sales_returns_allowances", "15.00", po, "1"),
        dr("facilitator_tax", "1.20", po, "1"),
        cr("accounts_receivable", "16.20", po, "1"),
    ]
    [credit] = documents(api, instance_id, type="credit")
    check_document(
        credit,
        instance_id,
        type="credit",
        reason="return",
        pos=[po],
        lines=credit_lines,
        totals=("16.20", "16.20", "15.00", "1.20", "16.20"),
        skus={(po, "1"): "SKU-RT"},
    )
    # restocked: one unit's cost (4.00 x 2 = 8.00 posted, 4.00 a unit) back to inventory
    shipped_cost, returned_cost = documents(api, instance_id, type="cogs")
    assert lines_of(shipped_cost) == ordered(cogs_lines(po, "1", "8.00"))
    check_document(
        returned_cost,
        instance_id,
        type="cogs",
        reason="return",
        pos=[po],
        lines=[dr("inventory", "4.00", po, "1"), cr("cogs", "4.00", po, "1")],
        totals=("4.00", "4.00", "0.00", "0.00", "0.00"),
        skus={(po, "1"): "SKU-RT"},
    )
    # written off: the credit note alone
    [kept] = documents(api, written_off, type="credit")
    assert lines_of(kept) == ordered(credit_lines)
    assert len(documents(api, written_off, type="cogs")) == 1
    # the same refund then shows on the order too: nothing is credited twice
    refunded = order_line(
        1,
        "SKU-RT",
        2,
        [charge("PRODUCT", "30.00", "2.40")],
        "Delivered",
        LATER,
        refunds=[refund_charge("PRODUCT", "-15.00", "-1.20")],
    )
    sync(stack, instance_id, walmart_order(po, [refunded]))
    assert len(documents(api, instance_id, type="credit")) == 1
    assert len(documents(api, instance_id)) == 4


def test_a_settlement_paying_an_order_not_yet_invoiced_waits_for_its_invoice(api, stack, codes):
    settings = {k: v for k, v in ALL_CODES.items() if k != "sales_nominal_code_id"}
    instance_id = create_instance(api, "settlement-waits", **settings, **PROFORMA)
    settled_orders(api, stack, instance_id)  # A's and C's invoices are held (no sales code); B's too
    rows = [row for row in settlement_rows() if row["Purchase Order #"] == SALE_A and row["Transaction Type"] == "Sale"]
    store_settlement(stack, instance_id, rows, "22.00")  # 20.00 + 1.60 - 1.60 + 5.00 + 0.40 - 0.40 - 3.00
    post_settlement(stack, instance_id)
    assert documents(api, instance_id, type="settlement") == []
    assert settlement_view(api, instance_id)["unexplained"] == "22.00"  # nothing of it can be explained yet
    waiting = [h for h in holds(api, instance_id) if h["type"] == "settlement"]
    assert len(waiting) == 7 and all(f"Order {SALE_A} has not been invoiced" in h["reason"] for h in waiting)

    patch_settings(api, instance_id, sales_nominal_code_id=1)  # the invoices post, then the settlement
    stack.pump(queues={"AccountingQueue": "accounting"})
    [settlement] = documents(api, instance_id, type="settlement")
    # accrual of A: 3.75 and 0.73 reversed (4.48); commission 3.00 - 3.75 = -0.75; payment -0.73
    assert lines_of(settlement) == ordered(
        [
            dr("bank", "22.00", None),
            cr("accounts_receivable", "27.00", None),
            dr("facilitator_tax", "2.00", None),
            dr("accrued_costs", "4.48", None),
            cr("marketplace_fees", "0.75", None),
            cr("payment_fees", "0.73", None),
        ]
    )
    assert settlement_view(api, instance_id)["unexplained"] == "0.00"
    assert [h for h in holds(api, instance_id) if h["type"] == "settlement"] == []


def test_every_settlement_of_the_emulators_seller_ties_out_to_its_deposit(api, stack, emulator, codes):
    """The whole path: the sync stores the orders, returns and reconciliation reports the emulator sold (docs: its
    rows are Walmart's report rows); accounting invoices the orders, credits the returns and posts one journal per
    final period, each with unexplained 0.00."""
    emulator.faults.update({"settlement_history_days": 180})  # every period of the orders' history
    instance_id = connect_emulated_seller(api, emulator, "900000913", "tie", 179, item_count=10, order_count=60)
    stack.pump(timeout=300)
    listed = response_json(api("GET", f"/api/walmart/{instance_id}/settlements", query={"limit": "100"}))["data"]
    final = [p for p in listed if p["status"] == "final"]
    assert final
    settlements = {d["settlement_id"]: d for d in documents(api, instance_id, type="settlement")}
    waiting = [h for h in holds(api, instance_id) if h["type"] == "settlement"]
    assert waiting == [], sorted({h["reason"][:60] for h in waiting})
    for period in final:
        assert period["unexplained"] == "0.00", period
        if period["deposit"] == "0.00" and period["line_count"] <= 1:
            assert period["settlement_id"] not in settlements  # nothing paid: no journal
            continue
        document = settlements[period["settlement_id"]]
        [bank] = [line for line in document["lines"] if line["account"] == "bank"]
        assert Decimal(bank["debit"]) - Decimal(bank["credit"]) == Decimal(period["deposit"])
        assert document["totals"]["debit"] == document["totals"]["credit"]

"""A settlement of 10,000 orders posted as one journal: seconds, DynamoDB writes per report line, unexplained.

In-process moto (the template's tables), the demo tenant with every nominal code, proforma fees set. The orders are
already invoiced (their posting states written directly, with the accruals an invoice leaves: 15 % and 2.9 % of the
sales price); the period's report is stored as the settlements sync stores it: per order a Sale's Product Price,
Product tax and its withholding, Shipping Price, Shipping tax and its withholding and the Commission (7 lines), a WFS
fee on every tenth order, then an adjustment, a reserve held and one released: about 71,000 lines. Then the accounting
worker's ``post_settlement`` runs once, timed, its DynamoDB writes counted at botocore's API-call level (an item
written counts one: a batch or a transaction counts its items).

The time is the local moto's, in this process: far slower per call than DynamoDB, so an upper bound for the Lambda.
Settings: BENCH_SETTLEMENT_ORDERS (10000). Run alone: ``.venv/bin/python -m bench.settlement_posting``.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

from bench import QUIET, in_process_environment

ORDERS = int(os.environ.get("BENCH_SETTLEMENT_ORDERS", "10000"))
SETTLEMENT_ID = "2026-11-29"
CENT = Decimal("0.01")


def _report(orders: int) -> tuple[list[dict[str, str]], Decimal]:
    rows: list[dict[str, str]] = []

    def row(kind: str, amount_type: str, amount: Decimal, po: str = "") -> None:
        rows.append(
            {
                "Transaction Type": kind,
                "Amount Type": amount_type,
                "Amount": f"{amount:.2f}",
                "Currency": "USD",
                "Purchase Order #": po,
                "Purchase Order line #": "1" if po else "",
                "Transaction Posted Timestamp": "11/27/2026",
            }
        )

    for n in range(orders):
        po = f"{2000000000000 + n}"
        price = Decimal(10 + n % 90) + Decimal(n % 100) / 100
        tax, shipping, shipping_tax = (price * Decimal("0.08")).quantize(CENT), Decimal("4.99"), Decimal("0.40")
        row("Sale", "Product Price", price, po)
        row("Sale", "Product tax", tax, po)
        row("Sale", "Product tax withheld", -tax, po)
        row("Sale", "Shipping Price", shipping, po)
        row("Sale", "Shipping tax", shipping_tax, po)
        row("Sale", "Shipping tax withheld", -shipping_tax, po)
        row("Sale", "Commission on Product", -((price + shipping) * Decimal("0.15")).quantize(CENT), po)
        if n % 10 == 0:
            row("Adjustment", "WFS Fulfillment fee", Decimal("-3.45"), po)
    row("Adjustment", "Fee/Reimbursement", Decimal("-2.50"))
    row("Reserve", "Reserve", Decimal("-100.00"))
    row("Release Reserve", "Reserve", Decimal("80.00"))
    return rows, sum((Decimal(r["Amount"]) for r in rows), Decimal(0))


def run() -> dict[str, Any]:
    in_process_environment()
    import boto3
    import botocore.client
    from moto import mock_aws

    from local.harness import LambdaContext, api_event, load_handler, new_container
    from local.inprocess import provision
    from local.seed import seed_demo

    with mock_aws():
        env = provision().function_env("ApiFunction")
        os.environ.update({**env, **QUIET})
        new_container()
        seed_demo({**env, "AWS_DEFAULT_REGION": "us-east-1"})
        from walmart_integration import composition
        from walmart_integration.models.instance import ACCOUNTS
        from walmart_integration.models.settlements import SettlementPeriod, settlement_line_from_row
        from walmart_integration.store import dynamo, keys

        codes = {f"{account}_nominal_code_id": n for n, account in enumerate(ACCOUNTS, start=1)}
        body = {
            "name": "bench settlement",
            "integration_id": 1,
            "integration_settings": {
                "start_date": "2026-06-01",
                "store_id": 1,
                "auto_link_products": False,
                "auto_create_products": False,
                "proforma_marketplace_cost_percentage": 15,
                "proforma_payment_cost_percentage": 2.9,
                **codes,
            },
        }
        response = load_handler("api").handler(api_event("POST", "/api/walmart", body), LambdaContext())
        assert response["statusCode"] == 201, response["body"]
        instance_id = json.loads(response["body"])["data"]["id"]
        wiring = composition.current()
        table: Any = boto3.client("dynamodb", region_name="us-east-1")

        rows, deposit = _report(ORDERS)
        states = []
        for n in range(ORDERS):
            po = f"{2000000000000 + n}"
            price = Decimal(10 + n % 90) + Decimal(n % 100) / 100
            sales_price = price + Decimal("4.99")
            states.append(
                {
                    "pk": keys.tenant_pk("demo"),
                    "sk": keys.posting_sk(instance_id, po),
                    "type": "accounting_posting",
                    "purchase_order_id": po,
                    "version": 1,
                    "invoice": {"1": {"product": str(price), "shipping": "4.99", "tax": "0", "cogs": "0"}},
                    "accrued_fees": {
                        "marketplace_fees": str((sales_price * Decimal("0.15")).quantize(CENT)),
                        "payment_fees": str((sales_price * Decimal("0.029")).quantize(CENT)),
                    },
                }
            )
        for start in range(0, len(states), 25):
            requests = [{"PutRequest": {"Item": dynamo.serialize(s)}} for s in states[start : start + 25]]
            table.batch_write_item(RequestItems={env["APP_TABLE_NAME"]: requests})
        summary = {
            "Transaction Type": "PaymentSummary",
            "Total Payable": f"{deposit:.2f}",
            "Currency": "USD",
            "Period Start Date": "11/16/2026",
            "Period End Date": "11/29/2026",
        }
        lines = [settlement_line_from_row(SETTLEMENT_ID, n, r) for n, r in enumerate([summary, *rows])]
        wiring.settlements.put_lines("demo", instance_id, lines)
        wiring.settlements.save_period(
            "demo",
            instance_id,
            SettlementPeriod(
                settlement_id=SETTLEMENT_ID,
                report_date="11292026",
                status="final",
                period_start=date(2026, 11, 16),
                period_end=date(2026, 11, 29),
                deposit=deposit,
                currency="USD",
                line_count=len(lines),
            ),
        )

        writes: Counter[str] = Counter()
        original = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]

        def counting(self: Any, operation: str, params: dict[str, Any]) -> Any:
            if operation in ("PutItem", "UpdateItem", "DeleteItem"):
                writes[operation] += 1
            elif operation == "TransactWriteItems":
                writes[operation] += len(params["TransactItems"])
            elif operation == "BatchWriteItem":
                writes[operation] += sum(len(v) for v in params["RequestItems"].values())
            return original(self, operation, params)

        accounting = wiring.accounting
        # The report's lines, read as the store reads them, before the clock starts: moto's Query over ~70,000 items
        # takes minutes in this process (DynamoDB: ~30 pages of 1 MB); what is timed is the posting.
        read_started = time.perf_counter()
        stored_lines = wiring.settlements.lines("demo", instance_id, SETTLEMENT_ID)
        read_seconds = time.perf_counter() - read_started
        wiring.settlements.lines = lambda *args: stored_lines  # type: ignore[method-assign]
        settings = wiring.instances.get("demo", instance_id).integration_settings
        account_codes = accounting._codes("demo", dict(settings))
        botocore.client.BaseClient._make_api_call = counting  # type: ignore[attr-defined,method-assign]
        started = time.perf_counter()
        try:
            issued = accounting.post_settlement("demo", instance_id, SETTLEMENT_ID, account_codes)
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[attr-defined,method-assign]
        seconds = time.perf_counter() - started
        period = wiring.settlements.period("demo", instance_id, SETTLEMENT_ID)
        report_lines = len(rows)
    total_writes = sum(writes.values())
    return {
        "orders": ORDERS,
        "report_lines": report_lines,
        "deposit": f"{deposit:.2f}",
        "issued": issued,
        "seconds_to_post": round(seconds, 2),
        "seconds_to_read_report_lines_moto": round(read_seconds, 2),
        "dynamodb_writes": total_writes,
        "writes_by_operation": dict(writes),
        "writes_per_report_line": round(total_writes / report_lines, 4),
        "unexplained": str(period.unexplained) if period and period.unexplained is not None else None,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))

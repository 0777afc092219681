"""Walmart's reconciliation report rows and return orders (its own spec examples) become our typed records."""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from walmart_integration.models.marketplace import MalformedRecord
from walmart_integration.models.returns import return_from_walmart
from walmart_integration.models.settlements import (
    SettlementLine,
    group_lines,
    is_final,
    settlement_id_of,
    settlement_line_from_row,
    summary_of,
)
from walmart_integration.walmart.errors import WalmartRateLimited
from walmart_integration.walmart.marketplace import MarketplaceClient

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "walmart" / "examples"  # Walmart's, from its specs


def example(name):
    return json.loads((EXAMPLES / name).read_text(), parse_float=Decimal)


def client_with(responses, seen):
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0)

    return MarketplaceClient(
        "https://sandbox.example", "Test Service", transport=httpx.MockTransport(handler), sleep=lambda _: None
    )


# -- the reconciliation report ---------------------------------------------------------------------------------------
def test_the_spec_examples_summary_row_gives_the_period_and_its_deposit():
    rows = example("GET_v3_report_reconreport_reconFileJson__200__example.json")["reportData"]
    summary_line = settlement_line_from_row("2025-12-19", 0, rows[0])
    assert summary_line.is_payment_summary
    summary = summary_of(summary_line)
    assert summary.period_start == date(2025, 12, 11)
    assert summary.period_end == date(2025, 12, 19)
    assert summary.deposit == Decimal("0.74")
    assert summary.currency == "USD"
    assert summary_line.description == "Deposited in  account"


def test_the_spec_examples_sale_row_keeps_every_field_accounting_needs():
    rows = example("GET_v3_report_reconreport_reconFileJson__200__example.json")["reportData"]
    line = settlement_line_from_row("2025-12-19", 1, rows[1])
    assert not line.is_payment_summary
    assert line.transaction_type == "Sale"
    assert line.amount_type == "Product Price"
    assert line.amount == Decimal("14.98")
    assert line.purchase_order_id == "1803550130406"
    assert line.purchase_order_line == "1"
    assert line.customer_order_id == "6222001976751"
    assert line.sku == "sku-123"
    assert line.gtin == "05705584961234"
    assert line.quantity == Decimal("1")
    assert line.transaction_date == date(2020, 12, 18)
    assert line.transaction_key == "2020_12_19_317"
    assert line.fulfillment_type == "Seller Fulfilled"
    assert line.columns["Period Start Date"] == '""'  # as sent
    assert len(line.columns) == 23  # every column of the row, none dropped


def test_a_row_of_an_unknown_type_with_an_unreadable_amount_is_kept_whole():
    line = settlement_line_from_row("2025-12-19", 7, {"Transaction Type": "Brand New Thing", "Amount": "n/a", "X": "y"})
    assert line.transaction_type == "Brand New Thing"
    assert line.amount is None
    assert line.columns == {"Transaction Type": "Brand New Thing", "Amount": "n/a", "X": "y"}


def test_negative_amounts_in_either_notation():
    assert settlement_line_from_row("s", 0, {"Amount": "-2.25"}).amount == Decimal("-2.25")
    assert settlement_line_from_row("s", 0, {"Amount": "(2.25)"}).amount == Decimal("-2.25")


def test_report_dates_become_iso_ids():
    assert settlement_id_of("07012018") == "2018-07-01"  # the spec's availableApReportDates example spelling
    assert settlement_id_of("2018-07-01") == "2018-07-01"


def test_a_report_is_final_once_it_carries_the_deposit_and_its_period_ended():
    row = {"Transaction Type": "PaymentSummary", "Period End Date": "12/19/2025", "Total Payable": "10.00"}
    summary = summary_of(settlement_line_from_row("s", 0, row))
    assert not is_final(summary, today=date(2025, 12, 19))  # the period's last day: Walmart may still regenerate it
    assert is_final(summary, today=date(2025, 12, 20))
    assert not is_final(None, today=date(2026, 1, 1))  # no PaymentSummary row yet
    no_deposit = summary_of(settlement_line_from_row("s", 0, {**row, "Total Payable": ""}))
    assert not is_final(no_deposit, today=date(2026, 1, 1))


def test_lines_are_grouped_by_type_with_totals_per_type_and_amount_type():
    lines = [
        SettlementLine(
            settlement_id="s", position=0, transaction_type="Sale", amount_type="Product Price", amount=Decimal("10.00")
        ),
        SettlementLine(
            settlement_id="s",
            position=1,
            transaction_type="Sale",
            amount_type="Commission on Product",
            amount=Decimal("-1.50"),
        ),
        SettlementLine(
            settlement_id="s",
            position=2,
            transaction_type="Refund",
            amount_type="Product Price",
            amount=Decimal("-4.00"),
        ),
        SettlementLine(
            settlement_id="s", position=3, transaction_type="Sale", amount_type="Product Price", amount=Decimal("5.00")
        ),
        SettlementLine(settlement_id="s", position=4, transaction_type=None, amount=None),
    ]
    groups = {group.transaction_type: group for group in group_lines(lines)}
    assert list(groups) == ["Sale", "Refund", "unknown"]
    assert groups["Sale"].total == Decimal("13.50")
    assert groups["Sale"].totals_by_amount_type == {
        "Product Price": Decimal("15.00"),
        "Commission on Product": Decimal("-1.50"),
    }
    assert [line.position for line in groups["Sale"].lines] == [0, 1, 3]
    assert groups["Refund"].total == Decimal("-4.00")
    assert groups["unknown"].total == Decimal("0")


# -- returns ---------------------------------------------------------------------------------------------------------
def test_the_spec_examples_return_order_parses_with_refunds_by_charge_type():
    raw = example("GET_v3_returns__200__example.json")["returnOrders"][0]
    parsed = return_from_walmart(raw)
    assert parsed.return_order_id == "103738048909818825"
    assert parsed.customer_order_id == "1234567891234"
    assert parsed.total_refund == Decimal("127.45")
    assert parsed.currency == "USD"
    assert parsed.purchase_order_ids == ["4790210558890"]
    line = parsed.lines[0]
    assert line.purchase_order_id == "4790210558890"
    assert line.purchase_order_line_number == 1
    assert line.sku == "ANTL_GDL-0700"
    assert line.quantity == Decimal("3")
    assert line.refunded_quantity == Decimal("1")
    # chargePerUnit 119.95 and taxPerUnit 7.5, for 3 units
    assert line.refund_by_charge_type == {"ItemPrice": Decimal("359.85"), "ItemPrice tax": Decimal("22.5")}
    assert line.totals["lineTotal"] == Decimal("127.45")
    assert line.refund_status == "REFUND_INITIATED"
    assert line.goods_expected_back is True  # returnExpectedFlag true, isKeepIt false
    assert line.returned_to_stock is None  # currentDeliveryStatus NOT_SHIPPED: not back yet


def test_a_keep_it_return_never_comes_back_to_stock_and_a_delivered_one_does():
    raw = example("GET_v3_returns__200__example.json")["returnOrders"][0]
    keep = dict(raw, returnOrderLines=[dict(raw["returnOrderLines"][0], isKeepIt=True)])
    assert return_from_walmart(keep).lines[0].returned_to_stock is False
    back = dict(raw, returnOrderLines=[dict(raw["returnOrderLines"][0], currentDeliveryStatus="DELIVERED")])
    assert return_from_walmart(back).lines[0].returned_to_stock is True


def test_a_return_without_an_id_is_reported_not_stored():
    with pytest.raises(MalformedRecord):
        return_from_walmart({"returnOrderLines": []})


# -- the client ------------------------------------------------------------------------------------------------------
def test_available_dates_are_read_from_the_spec_example():
    seen: list[httpx.Request] = []
    body = example("GET_v3_report_reconreport_availableReconFiles__200__example.json")
    client = client_with([httpx.Response(200, json=json.loads(json.dumps(body, default=str)))], seen)
    assert client.recon_report_dates("tok")[:2] == ["07012018", "07032018"]
    assert seen[0].url.path == "/v3/report/reconreport/availableReconFiles"
    assert seen[0].url.params["reportVersion"] == "v1"
    assert seen[0].headers["WM_SEC.ACCESS_TOKEN"] == "tok"


def test_a_recon_page_passes_walmarts_offset_back_and_ends_on_a_short_page():
    seen: list[httpx.Request] = []
    rows = [{"Transaction Type": "Sale", "Amount": "1.00"}] * 2
    client = client_with(
        [
            httpx.Response(200, json={"reportData": rows, "nextOffset": 973, "totalRecords": 2}),
            httpx.Response(200, json={"reportData": rows[:1], "nextOffset": 1400, "totalRecords": 1}),
        ],
        seen,
    )
    first = client.recon_report_page("tok", "12192025", 0, 2)
    assert first.next_offset == 973 and len(first.rows) == 2
    last = client.recon_report_page("tok", "12192025", 973, 2)
    assert last.next_offset is None  # fewer rows than asked for: the end
    assert dict(seen[1].url.params) == {"reportDate": "12192025", "offset": "973", "noOfRecords": "2"}


def test_a_recon_page_refused_for_the_rate_limit_says_when_to_come_back():
    seen: list[httpx.Request] = []
    client = client_with([httpx.Response(429, headers={"Retry-After": "30"}, json={"errors": []})], seen)
    with pytest.raises(WalmartRateLimited) as refused:
        client.recon_report_page("tok", "12192025", 0, 1000)
    assert refused.value.retry_after_seconds == 30


def test_returns_pages_follow_the_cursor_verbatim():
    seen: list[httpx.Request] = []
    body = json.loads(json.dumps(example("GET_v3_returns__200__example.json"), default=str))
    client = client_with([httpx.Response(200, json=body), httpx.Response(404, json={"errors": []})], seen)
    page = client.returns_page("tok", params={"limit": 200, "returnLastModifiedStartDate": "2026-01-01T00:00:00Z"})
    assert page.next_cursor == "?sellerId=151&limit=10&offset=10"
    assert page.total_count == 40 and len(page.returns) == 1
    assert client.returns_page("tok", cursor=page.next_cursor).returns == []  # 404: nothing more
    assert seen[1].url.raw_path == b"/v3/returns?sellerId=151&limit=10&offset=10"


def test_the_repositories_and_their_fakes_meet_the_ports():
    from tests.unit.fakes import FakeReturns, FakeSettlements
    from walmart_integration.services.ports import Returns, Settlements
    from walmart_integration.store.settlements import ReturnRepository, SettlementRepository

    adapters: list[Settlements] = [SettlementRepository("table", "us-east-1", client=object()), FakeSettlements()]
    returns: list[Returns] = [ReturnRepository("table", "us-east-1", client=object()), FakeReturns()]
    assert len(adapters) == len(returns) == 2  # mypy checks the protocols; this checks construction needs no AWS

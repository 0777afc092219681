"""Walmart sandbox emulator: reconciliation reports and returns that tie out with the orders it sold."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from decimal import Decimal

import pytest

from local.emulator import Emulator
from tests.unit.test_emulator_orders_items import Api, FakeClock

SELLER = {"client_id": "fin", "client_secret": "fin-secret", "seller_id": "7001"}


@pytest.fixture
def api() -> tuple[Emulator, Api]:
    em = Emulator(seed=5, clock=FakeClock())
    em.add_seller(SELLER["client_id"], SELLER["client_secret"], seller_id=SELLER["seller_id"], order_count=400)
    em.faults.update({"return_rate": 0.2})
    return em, Api(em.wsgi_app.test_client(), SELLER["client_id"], SELLER["client_secret"])


def all_rows(api: Api, report_date: str, page: int = 100) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    offset = 0
    while True:
        response = api.get(
            "/v3/report/reconreport/reconFileJson", reportDate=report_date, offset=offset, noOfRecords=page
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        rows += body["reportData"]
        assert body["totalRecords"] == len(body["reportData"])
        if len(body["reportData"]) < page:
            return rows
        offset = body["nextOffset"]


def test_every_final_period_ties_out_to_the_cent(api):
    em, client = api
    dates = client.get("/v3/report/reconreport/availableReconFiles", reportVersion="v1").get_json()
    dates = dates["availableApReportDates"]
    assert dates and all(len(day) == 8 for day in dates)  # MMddyyyy, as the spec's example
    kinds: Counter[tuple[str, str]] = Counter()
    em.faults.update({"settlement_final_after_days": 0})  # every period that ended is paid
    for report_date in dates[-4:]:
        rows = all_rows(client, report_date)
        summary, lines = rows[0], rows[1:]
        assert summary["Transaction Type"] == "PaymentSummary"
        assert summary["Period End Date"][:5].replace("/", "") == report_date[:4]
        total = sum((Decimal(row["Amount"]) for row in lines), Decimal("0"))
        assert Decimal(summary["Total Payable"]) == total  # the deposit is every line, to the cent
        kinds.update((row["Transaction Type"], row["Amount Type"]) for row in lines)
    for wanted in [
        ("Sale", "Product Price"),
        ("Sale", "Product tax"),
        ("Sale", "Product tax withheld"),
        ("Sale", "Shipping Price"),
        ("Sale", "Commission on Product"),
        ("Refund", "Product Price"),
        ("Adjustment", "WFS Fulfillment fee"),
        ("Adjustment", "Fee/Reimbursement"),
        ("Reserve", "Reserve"),
        ("Release Reserve", "Reserve"),
    ]:
        assert kinds[wanted] > 0, wanted


def test_a_report_is_pending_until_its_deposit_row_appears(api):
    em, client = api
    em.faults.update({"settlement_final_after_days": 400})
    last = client.get("/v3/report/reconreport/availableReconFiles").get_json()["availableApReportDates"][-1]
    pending = all_rows(client, last)
    assert pending and all(row["Transaction Type"] != "PaymentSummary" for row in pending)
    em.faults.update({"settlement_final_after_days": 0})
    final = all_rows(client, last)
    assert final[0]["Transaction Type"] == "PaymentSummary"
    assert final[1:] == pending  # the same lines, now with the deposit


def test_offsets_are_byte_positions_and_a_made_up_one_is_refused(api):
    _, client = api
    last = client.get("/v3/report/reconreport/availableReconFiles").get_json()["availableApReportDates"][-1]
    first = client.get("/v3/report/reconreport/reconFileJson", reportDate=last, offset=0, noOfRecords=2).get_json()
    assert first["nextOffset"] > 2  # bytes, not rows
    wrong = client.get(
        "/v3/report/reconreport/reconFileJson", reportDate=last, offset=first["nextOffset"] + 1, noOfRecords=2
    )
    assert wrong.status_code == 400
    too_many = client.get("/v3/report/reconreport/reconFileJson", reportDate=last, offset=0, noOfRecords=1001)
    assert too_many.status_code == 400
    assert (
        client.get("/v3/report/reconreport/reconFileJson", reportDate="01011999", offset=0, noOfRecords=5).status_code
        == 404
    )


def test_the_zipped_csv_holds_the_same_rows(api):
    _, client = api
    last = client.get("/v3/report/reconreport/availableReconFiles").get_json()["availableApReportDates"][-1]
    response = client.get("/v3/report/reconreport/reconFile", reportDate=last, reportVersion="v1")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith(f"attachment; filename={SELLER['seller_id']}_")
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        text = archive.read(archive.namelist()[0]).decode()
    csv_rows = list(csv.DictReader(io.StringIO(text)))
    json_rows = all_rows(client, last, page=1000)
    assert len(csv_rows) == len(json_rows)
    assert [r["Amount"] for r in csv_rows] == [r.get("Amount", "") for r in json_rows]


def test_returns_are_paged_by_cursor_and_their_refunds_are_in_the_settlements(api):
    _, client = api
    returns, cursor = [], None
    first = client.get("/v3/returns", limit=5)
    body = first.get_json()
    returns += body["returnOrders"]
    cursor = body["meta"].get("nextCursor")
    while cursor:
        body = client.raw("/v3/returns" + cursor).get_json()
        returns += body["returnOrders"]
        cursor = body["meta"].get("nextCursor")
    assert len(returns) == body["meta"]["totalCount"] > 5
    assert len({r["returnOrderId"] for r in returns}) == len(returns)
    dates = client.get("/v3/report/reconreport/availableReconFiles").get_json()["availableApReportDates"]
    refunds = {
        (row["Purchase Order #"], row["Purchase Order line #"]): Decimal(row["Amount"])
        for day in dates
        for row in all_rows(client, day, page=1000)
        if row.get("Transaction Description") == "Return refund" and row["Amount Type"] == "Product Price"
    }
    settled = [r for r in returns if r["returnOrderLines"][0]["currentRefundStatus"] == "REFUND_COMPLETED"]
    found = 0
    for returned in settled:
        line = returned["returnOrderLines"][0]
        key = (line["purchaseOrderId"], str(line["purchaseOrderLineNumber"]))
        if key in refunds:  # refunded within a period that has ended
            found += 1
            assert refunds[key] == -Decimal(str(line["chargeTotals"][0]["value"]["currencyAmount"]))
    assert found > 0


def test_returns_filters_and_limits(api):
    _, client = api
    assert client.get("/v3/returns", limit=201).status_code == 400
    none = client.get("/v3/returns", returnLastModifiedStartDate="2099-01-01").get_json()
    assert none["meta"]["totalCount"] == 0 and none["returnOrders"] == []

"""Settlements and returns, consistent with the orders the seller sold.

GET /v3/report/reconreport/availableReconFiles?reportVersion=v1   getAvailableV1ReconReportDates
GET /v3/report/reconreport/reconFileJson?reportDate=&offset=&noOfRecords=   getAvailableV1ReconReportAsJson
GET /v3/report/reconreport/reconFile?reportDate=&reportVersion=v1  getReconReportV1: a zip holding the CSV
GET /v3/returns                                                   getReturns

Sources: docs/walmart/specs/marketplace__reports.openapi.yml and marketplace__returns.openapi.yml (paths, parameters,
the example rows and return order whose field names are used here), docs/walmart/FACTS.md "Settlements". What the
documents do not say is a choice of ours, marked UNCONFIRMED there and made a knob here:
- payment periods are ``settlement_cycle_days`` (14) long, counted from ``CYCLE_EPOCH``; a period's report date is its
  last day (``MMddyyyy`` in ``availableApReportDates``, as the spec's example ``'07012018'``), listed once the period
  has ended, for the 180 days orders are served;
- a report carries its ``PaymentSummary`` row (``Total Payable``, "Deposited in account") from
  ``settlement_final_after_days`` (2) after its period ended; before that it is pending: the lines, no deposit;
- rows: a sale per shipped order line in the period its units shipped (Product Price, Product tax and its
  marketplace-facilitator withholding, Shipping Price and Shipping tax and theirs, Commission on Product at 15 % of
  item price plus shipping), a WFS fee per line of a WFS order, a refund per refunded line (the order's own refund)
  and per return of ``/v3/returns``, one adjustment, a reserve held and the previous period's reserve released;
  ``Total Payable`` is the sum of every ``Amount``, to the cent;
- ``offset`` is a byte offset into the report's CSV text (the spec: "starting number of the bytes"), ``nextOffset``
  the start of the next row; ``noOfRecords`` at most 1000.
Returns: ``return_rate`` of shipped order lines (decided per line, the same every time) have one unit returned a few
days after they shipped; its refund is the unit's price and tax (``chargeTotals``), and the settlement of the period
the return was refunded in carries it.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Response, request

from . import errors
from .datagen import DAY_MS, SHIPPED_STATUSES, JsonDict, OrderRecord, stable_fraction
from .marketplace import CallContext, bp, walmart_endpoint
from .records import SellerRecords, history_start
from .state import EmulatorState

CYCLE_EPOCH = date(2024, 1, 3)  # a Wednesday: periods start every settlement_cycle_days from it
MAX_RECORDS = 1000  # reconFileJson noOfRecords: "max limit 1000"
RETURNS_DEFAULT_LIMIT = 10  # GET /v3/returns limit: default '10', "Cannot be larger than 200"
RETURNS_MAX_LIMIT = 200
COMMISSION_RATE = Decimal("0.15")
RESERVE_RATE = Decimal("0.05")
WFS_FEE_PER_UNIT = Decimal("3.45")
CENT = Decimal("0.01")
REPORTS_API = "GMP_REPORTS_API"
RETURNS_API = "GMP_RETURNS_API"
RECON_BUCKET = "GET /v3/report/reconreport/*"

# The v1 report's columns, in the CSV's order (Walmart's guide "Generate a reconciliation report", "Recon file
# fields"; the names the spec's reconFileJson example uses).
COLUMNS = (
    "Period Start Date",
    "Period End Date",
    "Total Payable",
    "Currency",
    "Transaction Key",
    "Transaction Posted Timestamp",
    "Transaction Type",
    "Transaction Description",
    "Customer Order #",
    "Customer Order line #",
    "Purchase Order #",
    "Purchase Order line #",
    "Amount",
    "Amount Type",
    "Ship Qty",
    "Commission Rate",
    "Partner Item Id",
    "Partner GTIN",
    "Partner Item Name",
    "Product Tax Code",
    "Ship to State",
    "Ship to City",
    "Ship to Zipcode",
    "Contract Category",
    "Product Type",
    "Shipping Method",
    "Fulfillment Type",
)


def cents(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _day_of(epoch_ms: int) -> date:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).date()


def _us(day: date) -> str:
    return day.strftime("%m/%d/%Y")


def period_of(day: date, cycle_days: int) -> tuple[date, date]:
    """The payment period holding ``day``: (first day, last day)."""
    index = (day - CYCLE_EPOCH).days // cycle_days
    start = CYCLE_EPOCH + timedelta(days=index * cycle_days)
    return start, start + timedelta(days=cycle_days - 1)


def report_date_of(end: date) -> str:
    return end.strftime("%m%d%Y")


def available_periods(state: EmulatorState) -> list[tuple[date, date]]:
    """Periods that ended (before today), newest last, from the one holding the day ``settlement_history_days`` ago
    (default 180: as far back as orders are served)."""
    cycle = state.faults.settlement_cycle_days
    now_ms = state.now_ms()
    today = _day_of(now_ms)
    oldest = _day_of(history_start(now_ms, state.faults.settlement_history_days))
    periods = []
    start, end = period_of(oldest, cycle)
    while end < today:
        periods.append((start, end))
        start, end = start + timedelta(days=cycle), end + timedelta(days=cycle)
    return periods


def is_final(state: EmulatorState, end: date) -> bool:
    final_from = end + timedelta(days=1 + state.faults.settlement_final_after_days)
    return _day_of(state.now_ms()) >= final_from


# --- what the seller sold and what came back ---------------------------------------------------------------------
@dataclass(frozen=True)
class SoldLine:
    """One order line's money, from the order as GET /v3/orders serves it."""

    order: OrderRecord
    rendered: JsonDict
    line: JsonDict
    index: int


@dataclass(frozen=True)
class ReturnRecord:
    """One unit of an order line returned through /v3/returns, refunded at ``refunded_ms``."""

    return_order_id: str
    sold: SoldLine
    created_ms: int
    refunded_ms: int
    price: Decimal
    tax: Decimal
    keep_it: bool


def _charge(line: JsonDict, charge_type: str) -> tuple[Decimal, Decimal]:
    for charge in line["charges"]["charge"]:
        if charge["chargeType"] == charge_type:
            return cents(charge["chargeAmount"]["amount"]), cents(charge["tax"]["taxAmount"]["amount"])
    return Decimal("0.00"), Decimal("0.00")


def _units(order: OrderRecord, index: int) -> dict[str, int]:
    return dict(order.lines[index].unit_statuses())


def _share(amount: Decimal, units: int, quantity: int) -> Decimal:
    return amount if units == quantity else cents(amount * units / quantity)


def sold_lines(records: SellerRecords) -> list[SoldLine]:
    sold = []
    for order in records.orders:
        rendered = records.render(order)
        for index, line in enumerate(rendered["orderLines"]["orderLine"]):
            sold.append(SoldLine(order, rendered, line, index))
    return sold


def returns_of(state: EmulatorState, sold: list[SoldLine]) -> list[ReturnRecord]:
    """The returns made so far: ``return_rate`` of the shipped lines (not refunded on the order), one unit each."""
    now_ms = state.now_ms()
    found = []
    for entry in sold:
        record = entry.order.lines[entry.index]
        units = _units(entry.order, entry.index)
        kept = units.get("Shipped", 0) + units.get("Delivered", 0)
        if not record.ship_ms or kept < 1:
            continue
        key = (entry.order.purchase_order_id, record.number)
        if stable_fraction(*key, "return") >= state.faults.return_rate:
            continue
        created = record.ship_ms + int((3 + 6 * stable_fraction(*key, "return-day")) * DAY_MS)
        refunded = created + 2 * DAY_MS
        if created > now_ms:
            continue
        price, tax = _charge(entry.line, "PRODUCT")
        quantity = record.quantity
        found.append(
            ReturnRecord(
                return_order_id=f"9{entry.order.purchase_order_id}{int(record.number):02d}",
                sold=entry,
                created_ms=created,
                refunded_ms=min(refunded, now_ms),
                price=_share(price, 1, quantity),
                tax=_share(tax, 1, quantity),
                keep_it=stable_fraction(*key, "keep") < 0.2,
            )
        )
    return found


# --- the reconciliation report -------------------------------------------------------------------------------------
class _Rows:
    def __init__(self, end: date) -> None:
        self.end = end
        self.rows: list[dict[str, str]] = []

    def add(self, kind: str, amount_type: str, amount: Decimal, when_ms: int, description: str, **cells: str) -> None:
        if amount == 0:
            return
        self.rows.append(
            {
                "Transaction Key": f"{self.end:%Y_%m_%d}_{len(self.rows) + 1}",
                "Transaction Posted Timestamp": _us(_day_of(when_ms)),
                "Transaction Type": kind,
                "Transaction Description": description,
                "Amount": f"{amount:.2f}",
                "Amount Type": amount_type,
                "Currency": "USD",
                **cells,
            }
        )


def _order_cells(entry: SoldLine, records: SellerRecords, units: int) -> dict[str, str]:
    address = entry.rendered["shippingInfo"]["postalAddress"]
    sku = entry.line["item"]["sku"]
    item = records.items_by_sku.get(sku) or {}
    wfs = entry.order.ship_node_type == "WFSFulfilled"
    return {
        "Customer Order #": entry.order.customer_order_id,
        "Customer Order line #": entry.line["lineNumber"],
        "Purchase Order #": entry.order.purchase_order_id,
        "Purchase Order line #": entry.line["lineNumber"],
        "Ship Qty": str(units),
        "Partner Item Id": sku,
        "Partner GTIN": str(item.get("gtin") or ""),
        "Partner Item Name": entry.line["item"]["productName"],
        "Product Tax Code": "2038710",
        "Ship to State": address["state"],
        "Ship to City": address["city"],
        "Ship to Zipcode": address["postalCode"],
        "Contract Category": str(item.get("productType") or "General"),
        "Shipping Method": entry.rendered["shippingInfo"]["methodCode"],
        "Fulfillment Type": "Walmart Fulfilled" if wfs else "Seller Fulfilled",
    }


def _sale_rows(rows: _Rows, entry: SoldLine, records: SellerRecords, start: date, end: date) -> Decimal:
    """The sale of a line's shipped units (if they shipped in the period); returns the item price sold."""
    record = entry.order.lines[entry.index]
    units = _units(entry.order, entry.index)
    shipped = sum(count for status, count in units.items() if status in SHIPPED_STATUSES)
    if not record.ship_ms or not shipped or not start <= _day_of(record.ship_ms) <= end:
        return Decimal("0")
    price, tax = (_share(v, shipped, record.quantity) for v in _charge(entry.line, "PRODUCT"))
    shipping, shipping_tax = _charge(entry.line, "SHIPPING")
    cells = _order_cells(entry, records, shipped)
    when, rate = record.ship_ms, f"{COMMISSION_RATE * 100:.1f}"
    rows.add("Sale", "Product Price", price, when, "Purchase", **cells)
    rows.add("Sale", "Product tax", tax, when, "Purchase", **cells)
    rows.add("Sale", "Product tax withheld", -tax, when, "Marketplace facilitator tax withheld", **cells)
    rows.add("Sale", "Shipping Price", shipping, when, "Purchase", **cells)
    rows.add("Sale", "Shipping tax", shipping_tax, when, "Purchase", **cells)
    rows.add("Sale", "Shipping tax withheld", -shipping_tax, when, "Marketplace facilitator tax withheld", **cells)
    commission = -cents((price + shipping) * COMMISSION_RATE)
    rows.add("Sale", "Commission on Product", commission, when, "Commission", **cells, **{"Commission Rate": rate})
    if entry.order.ship_node_type == "WFSFulfilled":
        fee = -(WFS_FEE_PER_UNIT * shipped)
        rows.add("Adjustment", "WFS Fulfillment fee", fee, when, "WFS Fulfillment fee", **cells)
    return price


@dataclass(frozen=True)
class Refund:
    units: int
    price: Decimal
    tax: Decimal
    when_ms: int
    description: str


def _refund_rows(rows: _Rows, entry: SoldLine, records: SellerRecords, refund: Refund) -> None:
    price, tax, when_ms, description = refund.price, refund.tax, refund.when_ms, refund.description
    units = refund.units
    cells = _order_cells(entry, records, units)
    rows.add("Refund", "Product Price", -price, when_ms, description, **cells)
    rows.add("Refund", "Product tax", -tax, when_ms, description, **cells)
    rows.add("Refund", "Product tax withheld", tax, when_ms, "Marketplace facilitator tax withheld", **cells)
    commission = cents(price * COMMISSION_RATE)
    rows.add("Refund", "Commission on Product", commission, when_ms, "Commission refund", **cells)


def _period_rows(state: EmulatorState, records: SellerRecords, start: date, end: date) -> tuple[_Rows, Decimal]:
    rows = _Rows(end)
    sold = sold_lines(records)
    sales = Decimal("0")
    for entry in sold:
        sales += _sale_rows(rows, entry, records, start, end)
        record = entry.order.lines[entry.index]
        refunded = _units(entry.order, entry.index).get("Refund", 0)
        if refunded and start <= _day_of(record.status_ms) <= end:
            price, tax = (_share(v, refunded, record.quantity) for v in _charge(entry.line, "PRODUCT"))
            _refund_rows(rows, entry, records, Refund(refunded, price, tax, record.status_ms, "Refund"))
    for returned in returns_of(state, sold):
        if start <= _day_of(returned.refunded_ms) <= end:
            refund = Refund(1, returned.price, returned.tax, returned.refunded_ms, "Return refund")
            _refund_rows(rows, returned.sold, records, refund)
    return rows, sales


def report_rows(state: EmulatorState, seller_id: str, start: date, end: date) -> list[dict[str, str]]:
    """Every row of the period's report, as reconFileJson serves them (the summary first once final)."""
    cycle = state.faults.settlement_cycle_days
    with state.lock:
        records = state.records(seller_id)
        rows, sales = _period_rows(state, records, start, end)
        _, previous_sales = _period_rows(state, records, start - timedelta(days=cycle), start - timedelta(days=1))
    end_ms = int(datetime(end.year, end.month, end.day, 23, 59, tzinfo=UTC).timestamp() * 1000)
    if rows.rows:
        adjustment = -cents(Decimal("1.00") + Decimal(str(round(stable_fraction(seller_id, end, "adj") * 9, 2))))
        rows.add("Adjustment", "Fee/Reimbursement", adjustment, end_ms, "Return shipping label fee")
    rows.add("Release Reserve", "Reserve", cents(previous_sales * RESERVE_RATE), end_ms, "Previous reserve released")
    rows.add("Reserve", "Reserve", -cents(sales * RESERVE_RATE), end_ms, "Reserve held for future refunds")
    result = [{**row, "Period Start Date": '""'} for row in rows.rows]  # as the spec's example Sale row carries it
    if is_final(state, end):
        total = sum((Decimal(row["Amount"]) for row in rows.rows), Decimal("0"))
        paid = end + timedelta(days=state.faults.settlement_final_after_days)
        summary = {
            "Period Start Date": _us(start),
            "Period End Date": _us(end),
            "Currency": "USD",
            "Transaction Type": "PaymentSummary",
            "Total Payable": f"{total:.2f}",
            "Transaction Description": "Deposited in account",
            "Transaction Posted Timestamp": _us(paid),
        }
        result.insert(0, summary)
    return result


@dataclass(frozen=True)
class ReportText:
    """The report as its CSV text and where each row starts in it (bytes)."""

    text: bytes
    starts: list[int]  # starts[i]: byte offset of data row i; starts[-1] is the end of the text
    rows: list[dict[str, str]]


def report_text(rows: list[dict[str, str]]) -> ReportText:
    def line(values: list[str] | tuple[str, ...]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(values)
        return buffer.getvalue().encode()

    chunks = [line(COLUMNS)]
    starts = []
    size = len(chunks[0])
    for row in rows:
        starts.append(size)
        chunk = line([row.get(column, "") if row.get(column) != '""' else "" for column in COLUMNS])
        chunks.append(chunk)
        size += len(chunk)
    return ReportText(b"".join(chunks), [*starts, size], rows)


_CACHE: dict[tuple[Any, ...], ReportText] = {}


def _report(state: EmulatorState, seller_id: str, start: date, end: date) -> ReportText:
    """The report, built once per content (a page at a time would otherwise build it once per page)."""
    with state.lock:
        records = state.records(seller_id)
        records.ensure()
        version = (len(records.orders), sum(order.last_modified_ms for order in records.orders))
    faults = state.faults
    key = (id(state), seller_id, start, end, version, is_final(state, end), faults.return_rate, _day_of(state.now_ms()))
    if key not in _CACHE:
        if len(_CACHE) > 32:
            _CACHE.clear()
        _CACHE[key] = report_text(report_rows(state, seller_id, start, end))
    return _CACHE[key]


def _period_for(state: EmulatorState, report_date: str) -> tuple[date, date] | None:
    for start, end in available_periods(state):
        if report_date_of(end) == report_date.strip():
            return start, end
    return None


def _bad_request(ctx: CallContext, api: str, field: str, description: str) -> Response:
    entry = errors.api_invalid_param(api, field, description)
    return errors.error_response(400, entry, key=ctx.state.faults.error_key)


def _no_report(ctx: CallContext, report_date: str) -> Response:
    entry = errors.api_content_not_found(REPORTS_API, f"No reconciliation report for {report_date}.")
    return errors.error_response(404, entry, key=ctx.state.faults.error_key)


@bp.get("/v3/report/reconreport/availableReconFiles")
@walmart_endpoint("GET /v3/report/reconreport/availableReconFiles", rate_bucket=lambda: RECON_BUCKET)
def available_recon_files(ctx: CallContext) -> Response:
    dates = [report_date_of(end) for _, end in available_periods(ctx.state)]
    return errors.json_response({"availableApReportDates": dates})


@bp.get("/v3/report/reconreport/reconFileJson")
@walmart_endpoint("GET /v3/report/reconreport/reconFileJson", rate_bucket=lambda: RECON_BUCKET)
def recon_file_json(ctx: CallContext) -> Response:
    args = request.args
    report_date = (args.get("reportDate") or "").strip()
    if not report_date:
        return _bad_request(ctx, REPORTS_API, "reportDate", "reportDate is required")
    try:
        offset = int(args.get("offset", ""))
        wanted = int(args.get("noOfRecords", ""))
    except ValueError:
        return _bad_request(ctx, REPORTS_API, "offset", "offset and noOfRecords are required integers")
    if not 1 <= wanted <= MAX_RECORDS:
        return _bad_request(ctx, REPORTS_API, "noOfRecords", f"noOfRecords must be 1..{MAX_RECORDS}")
    period = _period_for(ctx.state, report_date)
    if period is None:
        return _no_report(ctx, report_date)
    report = _report(ctx.state, ctx.seller.seller_id, *period)
    if offset == 0:
        first = 0
    elif offset in report.starts:
        first = report.starts.index(offset)
    else:
        return _bad_request(ctx, REPORTS_API, "offset", "offset is not the start of a record")
    page = report.rows[first : first + wanted]
    following = report.starts[min(first + len(page), len(report.rows))]
    body = {
        "reportData": page,
        "nextOffset": following,
        "totalRecords": len(page),
        "description": f"Number of Lines in file {len(report.rows)}",
    }
    return errors.json_response(body)


@bp.get("/v3/report/reconreport/reconFile")
@walmart_endpoint("GET /v3/report/reconreport/reconFile", rate_bucket=lambda: RECON_BUCKET)
def recon_file(ctx: CallContext) -> Response:
    report_date = (request.args.get("reportDate") or "").strip()
    period = _period_for(ctx.state, report_date) if report_date else None
    if period is None:
        return _no_report(ctx, report_date)
    report = _report(ctx.state, ctx.seller.seller_id, *period)
    stamp = datetime.fromtimestamp(ctx.state.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    name = f"{ctx.seller.seller_id}_{stamp}"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr(f"{name}.csv", report.text)
    headers = {"Content-Disposition": f"attachment; filename={name}.zip"}
    return Response(archive.getvalue(), status=200, mimetype="application/octet-stream", headers=headers)


# --- returns -------------------------------------------------------------------------------------------------------
def _iso_ms(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _amount(value: Decimal) -> JsonDict:
    return {"currencyAmount": float(value), "currencyUnit": "USD"}


def render_return(returned: ReturnRecord, now_ms: int) -> JsonDict:
    """A return order shaped like the spec's example (getReturns 200)."""
    entry = returned.sold
    refunded = returned.refunded_ms <= now_ms
    delivered = refunded and not returned.keep_it
    status = "COMPLETED" if refunded else "INITIATED"
    unit_price = returned.price
    total = returned.price + returned.tax
    line = {
        "returnOrderLineNumber": 1,
        "salesOrderLineNumber": int(entry.line["lineNumber"]),
        "returnReason": "NO_LONGER_WANTED",
        "purchaseOrderId": entry.order.purchase_order_id,
        "purchaseOrderLineNumber": int(entry.line["lineNumber"]),
        "isReturnForException": False,
        "item": {
            "sku": entry.line["item"]["sku"],
            "condition": "New",
            "productName": entry.line["item"]["productName"],
        },
        "charges": [
            {
                "chargeCategory": "PRODUCT",
                "chargeName": "ItemPrice",
                "chargePerUnit": _amount(unit_price),
                "isDiscount": False,
                "isBillable": True,
                "tax": [{"taxName": "Tax1", "excessTax": _amount(Decimal("0")), "taxPerUnit": _amount(returned.tax)}],
                "excessCharge": _amount(Decimal("0")),
            }
        ],
        "unitPrice": _amount(unit_price),
        "chargeTotals": [
            {"name": "lineUnitPrice", "value": _amount(unit_price)},
            {"name": "lineProductTaxes", "value": _amount(returned.tax)},
            {"name": "lineTotalTaxes", "value": _amount(returned.tax)},
            {"name": "lineSubTotal", "value": _amount(unit_price)},
            {"name": "lineTotal", "value": _amount(total)},
        ],
        "currentDeliveryStatus": "DELIVERED" if delivered else "NOT_SHIPPED",
        "currentRefundStatus": "REFUND_COMPLETED" if refunded else "REFUND_INITIATED",
        "cancellableQty": 0,
        "quantity": {"unitOfMeasure": "EACH", "measurementValue": 1},
        "returnExpectedFlag": not returned.keep_it,
        "isFastReplacement": False,
        "isKeepIt": returned.keep_it,
        "lastItem": False,
        "refundedQty": 1 if refunded else 0,
        "rechargeableQty": 0,
        "refundChannel": "WALMART_SETTLED_REFUND",
        "status": status,
        "statusTime": _iso_ms(min(returned.refunded_ms, now_ms)),
    }
    return {
        "returnOrderId": returned.return_order_id,
        "customerEmailId": entry.rendered.get("customerEmailId"),
        "customerOrderId": entry.order.customer_order_id,
        "refundMode": "POST_DELIVERY",
        "returnOrderDate": _iso_ms(returned.created_ms),
        "returnByDate": _iso_ms(returned.created_ms + 30 * DAY_MS),
        "returnType": "REFUND",
        "totalRefundAmount": _amount(total),
        "returnOrderLines": [line],
    }


def _last_modified(returned: ReturnRecord, now_ms: int) -> int:
    return returned.refunded_ms if returned.refunded_ms <= now_ms else returned.created_ms


def _parse_ms(value: str, field: str) -> int:
    text = value.strip().replace(" ", "+")  # the spec: "encode '+' with %20"
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(field) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


RETURN_FILTERS = (
    "returnOrderId",
    "customerOrderId",
    "status",
    "returnType",
    "returnCreationStartDate",
    "returnCreationEndDate",
    "returnLastModifiedStartDate",
    "returnLastModifiedEndDate",
)


@bp.get("/v3/returns")
@walmart_endpoint("GET /v3/returns")
def get_returns(ctx: CallContext) -> Response:
    """Newest first; ``meta.nextCursor`` is a query string (the spec's example ``?sellerId=151&limit=10&offset=10``)
    carrying the filters, appended verbatim for the next page."""
    state = ctx.state
    args = dict(parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True))
    try:
        limit = int(args.get("limit") or RETURNS_DEFAULT_LIMIT)
        offset = int(args.get("offset") or 0)
    except ValueError:
        return _bad_request(ctx, RETURNS_API, "limit", "limit must be a number")
    if not 1 <= limit <= RETURNS_MAX_LIMIT or offset < 0:
        return _bad_request(ctx, RETURNS_API, "limit", f"limit cannot be larger than {RETURNS_MAX_LIMIT}")
    now_ms = state.now_ms()
    bounds: dict[str, int] = {}
    for name in RETURN_FILTERS:
        if name.endswith("Date") and args.get(name):
            try:
                bounds[name] = _parse_ms(args[name], name)
            except ValueError:
                return _bad_request(ctx, RETURNS_API, name, f"{name} must be an ISO 8601 date or timestamp")
    with state.lock:
        records = state.records(ctx.seller.seller_id)
        records.ensure()
        made = returns_of(state, sold_lines(records))
    matches = []
    for returned in made:
        modified = _last_modified(returned, now_ms)
        body = render_return(returned, now_ms)
        if args.get("returnOrderId") and body["returnOrderId"] != args["returnOrderId"]:
            continue
        if args.get("customerOrderId") and body["customerOrderId"] != args["customerOrderId"]:
            continue
        if args.get("status") and body["returnOrderLines"][0]["status"] != args["status"].upper():
            continue
        if args.get("returnType") and body["returnType"] != args["returnType"].upper():
            continue
        if (
            not bounds.get("returnCreationStartDate", 0)
            <= returned.created_ms
            <= bounds.get("returnCreationEndDate", now_ms)
        ):
            continue
        if (
            not bounds.get("returnLastModifiedStartDate", 0)
            <= modified
            <= bounds.get("returnLastModifiedEndDate", now_ms)
        ):
            continue
        matches.append((returned.created_ms, returned.return_order_id, body))
    matches.sort(key=lambda match: (match[0], match[1]), reverse=True)
    page = [body for _, _, body in matches[offset : offset + limit]]
    meta: JsonDict = {"totalCount": len(matches), "limit": limit}
    if offset + limit < len(matches):
        carried = {name: args[name] for name in RETURN_FILTERS if args.get(name)}
        query = {"sellerId": ctx.seller.seller_id, "limit": limit, "offset": offset + limit, **carried}
        meta["nextCursor"] = "?" + urlencode(query)
    return errors.json_response({"meta": meta, "returnOrders": page})

"""Walmart settlements: the payment periods of the reconciliation report and every line of each, as stored.

Walmart's reconciliation report (docs/walmart/specs/marketplace__reports.openapi.yml, ``GET
/v3/report/reconreport/reconFileJson``, operation getAvailableV1ReconReportAsJson) is a CSV file served as JSON pages:
``reportData`` is a list of rows, each a map from the CSV's column name to its text. The spec's example holds the two
kinds of row there are: the ``PaymentSummary`` row (``Period Start Date``, ``Period End Date``, ``Total Payable``,
``Currency``, ``Transaction Description`` "Deposited in account") and transaction rows (``Transaction Type`` Sale, with
``Amount Type`` "Product Price", ``Amount``, ``Purchase Order #``, ``Partner Item Id`` ...). Column meanings:
docs/walmart/FACTS.md, "Settlements". Every value arrives as text (amounts included: ``'14.98'``) and dates as
``MM/dd/yyyy``.

A line is never dropped: whatever its type, it is stored with every column Walmart sent (``columns``), and the fields
accounting needs are read out of it where they can be; an amount that cannot be read stays ``None`` with the row kept.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SettlementStatus = Literal["pending", "final"]

# The report's column names (docs/walmart/specs/marketplace__reports.openapi.yml, reconFileJson 200 example; Walmart's
# guide "Generate a reconciliation report", "Recon file fields").
PERIOD_START = "Period Start Date"
PERIOD_END = "Period End Date"
TOTAL_PAYABLE = "Total Payable"
CURRENCY = "Currency"
TRANSACTION_KEY = "Transaction Key"
POSTED = "Transaction Posted Timestamp"
TRANSACTION_TYPE = "Transaction Type"
TRANSACTION_DESCRIPTION = "Transaction Description"
CUSTOMER_ORDER = "Customer Order #"
CUSTOMER_ORDER_LINE = "Customer Order line #"
PURCHASE_ORDER = "Purchase Order #"
PURCHASE_ORDER_LINE = "Purchase Order line #"
AMOUNT = "Amount"
AMOUNT_TYPE = "Amount Type"
SHIP_QTY = "Ship Qty"
COMMISSION_RATE = "Commission Rate"
SKU = "Partner Item Id"
GTIN = "Partner GTIN"
ITEM_NAME = "Partner Item Name"
PRODUCT_TAX_CODE = "Product Tax Code"
SHIP_TO_STATE = "Ship to State"
SHIP_TO_CITY = "Ship to City"
SHIP_TO_ZIP = "Ship to Zipcode"
CONTRACT_CATEGORY = "Contract Category"
PRODUCT_TYPE = "Product Type"
FULFILLMENT_TYPE = "Fulfillment Type"
SHIPPING_METHOD = "Shipping Method"

# The deposit's row: ``Transaction Type`` PaymentSummary (spec example, reconFileJson).
PAYMENT_SUMMARY = "PaymentSummary"


class SettlementPeriod(BaseModel):
    """One payment period (one reconciliation report), as the period item stores it.

    ``settlement_id`` is Walmart's report date as ISO ``yyyy-mm-dd`` (ids sort by date); ``report_date`` is the same
    date as Walmart spells it in ``availableApReportDates`` and takes back as ``reportDate`` (``MMddyyyy``: spec example
    ``'07012018'``). ``status`` follows our rule (docs/walmart/FACTS.md, "Settlements: when a report is final"):
    ``final`` once the report carries its PaymentSummary row with a ``Total Payable`` and its period has ended;
    ``pending`` otherwise (fetched again by a later run). ``unexplained`` is written by accounting once it has posted
    the settlement (deposit minus everything posted); None until then.
    """

    model_config = ConfigDict(extra="ignore")

    settlement_id: str
    report_date: str
    status: SettlementStatus = "pending"
    period_start: date | None = None
    period_end: date | None = None
    deposit: Decimal | None = None
    currency: str | None = None
    line_count: int = 0
    lines_total: Decimal = Decimal("0")  # the sum of every transaction line's amount (the deposit when it ties out)
    fetched_at: str | None = None  # when the lines now stored were fetched whole
    finalised_at: str | None = None  # when the period was first stored as final (accounting was told then)
    unexplained: Decimal | None = None


class SettlementLine(BaseModel):
    """One row of a reconciliation report: its position in the report, the fields accounting reads, and every column
    as Walmart sent it (``columns``), whatever the row's type."""

    model_config = ConfigDict(extra="ignore")

    settlement_id: str
    position: int = Field(ge=0, description="0-based row position in the report (the line's key)")
    transaction_type: str | None = None  # Sale, Refund, Adjustment, Reserve, ..., PaymentSummary (as sent)
    amount_type: str | None = None  # Product Price, Product tax, Commission on Product, ... (as sent)
    amount: Decimal | None = None  # signed: credits to the seller positive, debits negative
    currency: str | None = None
    transaction_key: str | None = None
    transaction_date: date | None = None  # Transaction Posted Timestamp
    description: str | None = None
    purchase_order_id: str | None = None
    purchase_order_line: str | None = None
    customer_order_id: str | None = None
    customer_order_line: str | None = None
    sku: str | None = None
    gtin: str | None = None
    item_name: str | None = None
    quantity: Decimal | None = None
    commission_rate: str | None = None
    product_tax_code: str | None = None
    fulfillment_type: str | None = None
    contract_category: str | None = None
    ship_to_state: str | None = None
    total_payable: Decimal | None = None  # PaymentSummary rows only
    columns: dict[str, str] = Field(default_factory=dict, description="every column of the row, as Walmart sent it")

    @property
    def is_payment_summary(self) -> bool:
        return (self.transaction_type or "").replace(" ", "").casefold() == PAYMENT_SUMMARY.casefold()


def _text(value: Any) -> str | None:
    """A cell as text; Walmart writes an empty cell as ``""`` or as the two characters ``'""'`` (spec example,
    ``Period Start Date: '""'`` on a Sale row)."""
    if value is None:
        return None
    text = str(value).strip()
    return None if text in ("", '""') else text


def _decimal(value: Any) -> Decimal | None:
    text = _text(value)
    if text is None:
        return None
    text = text.replace(",", "").replace("$", "")
    if text.startswith("(") and text.endswith(")"):  # accounting notation for a negative amount
        text = "-" + text[1:-1]
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def report_day(value: Any) -> date | None:
    """A report date: ``MM/dd/yyyy`` (spec example), also ``MMddyyyy``, ``yyyy-MM-dd`` and ``yyyyMMdd`` (the date
    forms Walmart's pages use for ``reportDate``); None when empty or unreadable (never fails the row)."""
    text = _text(value)
    if text is None:
        return None
    text = text.split("T")[0].split(" ")[0]
    for form in ("%m/%d/%Y", "%m%d%Y", "%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    return None


def settlement_id_of(report_date: str) -> str:
    """Our id of a period: Walmart's report date (``MMddyyyy``) as ``yyyy-mm-dd``; an unreadable one is kept as is."""
    day = report_day(report_date)
    return day.isoformat() if day else report_date.strip()


def settlement_line_from_row(settlement_id: str, position: int, row: Any) -> SettlementLine:
    """A report row as a line. Never raises for a row's content: unknown columns and types are kept in ``columns``."""
    cells = row if isinstance(row, dict) else {"value": row}
    columns = {str(name): "" if value is None else str(value) for name, value in cells.items() if name != "empty"}
    quantity = _decimal(cells.get(SHIP_QTY))
    return SettlementLine(
        settlement_id=settlement_id,
        position=position,
        transaction_type=_text(cells.get(TRANSACTION_TYPE)),
        amount_type=_text(cells.get(AMOUNT_TYPE)),
        amount=_decimal(cells.get(AMOUNT)),
        currency=_text(cells.get(CURRENCY)),
        transaction_key=_text(cells.get(TRANSACTION_KEY)),
        transaction_date=report_day(cells.get(POSTED)),
        description=_text(cells.get(TRANSACTION_DESCRIPTION)),
        purchase_order_id=_text(cells.get(PURCHASE_ORDER)),
        purchase_order_line=_text(cells.get(PURCHASE_ORDER_LINE)),
        customer_order_id=_text(cells.get(CUSTOMER_ORDER)),
        customer_order_line=_text(cells.get(CUSTOMER_ORDER_LINE)),
        sku=_text(cells.get(SKU)),
        gtin=_text(cells.get(GTIN)),
        item_name=_text(cells.get(ITEM_NAME)),
        quantity=quantity,
        commission_rate=_text(cells.get(COMMISSION_RATE)),
        product_tax_code=_text(cells.get(PRODUCT_TAX_CODE)),
        fulfillment_type=_text(cells.get(FULFILLMENT_TYPE)),
        contract_category=_text(cells.get(CONTRACT_CATEGORY)),
        ship_to_state=_text(cells.get(SHIP_TO_STATE)),
        total_payable=_decimal(cells.get(TOTAL_PAYABLE)),
        columns=columns,
    )


class PeriodSummary(BaseModel):
    """What the PaymentSummary row says about the period (None when the report carries no such row yet)."""

    period_start: date | None = None
    period_end: date | None = None
    deposit: Decimal | None = None
    currency: str | None = None


def summary_of(line: SettlementLine) -> PeriodSummary:
    return PeriodSummary(
        period_start=report_day(line.columns.get(PERIOD_START)),
        period_end=report_day(line.columns.get(PERIOD_END)),
        deposit=line.total_payable,
        currency=line.currency,
    )


def is_final(summary: PeriodSummary | None, today: date) -> bool:
    """Our rule for a final report (docs/walmart/FACTS.md, "Settlements: when a report is final"): it carries the
    PaymentSummary row with its ``Total Payable`` (the deposit) and the period it pays has ended before today. Walmart
    regenerates a report periodically (spec, getReconReportV1: "The report is regenerated periodically"), so anything
    short of that is fetched again later."""
    if summary is None or summary.deposit is None:
        return False
    return summary.period_end is None or summary.period_end < today


class SettlementLineGroup(BaseModel):
    """The lines of one transaction type, with their total and the total per amount type (the API's grouping)."""

    transaction_type: str
    total: Decimal
    totals_by_amount_type: dict[str, Decimal]
    lines: list[SettlementLine]


def group_lines(lines: list[SettlementLine]) -> list[SettlementLineGroup]:
    """Lines grouped by transaction type (as sent; ``unknown`` for a row without one), in the order types first
    appear; amounts that could not be read count as zero in the totals (the line itself is listed)."""
    groups: dict[str, list[SettlementLine]] = {}
    for line in lines:
        groups.setdefault(line.transaction_type or "unknown", []).append(line)
    result = []
    for kind, members in groups.items():
        by_amount: dict[str, Decimal] = {}
        for line in members:
            name = line.amount_type or "unknown"
            by_amount[name] = by_amount.get(name, Decimal("0")) + (line.amount or Decimal("0"))
        total = sum((line.amount or Decimal("0") for line in members), Decimal("0"))
        result.append(
            SettlementLineGroup(transaction_type=kind, total=total, totals_by_amount_type=by_amount, lines=members)
        )
    return result


# -- API views ------------------------------------------------------------------------------------------------------
class SettlementPeriodView(BaseModel):
    """A payment period as the API lists it."""

    settlement_id: str = Field(description="Walmart's report date, yyyy-mm-dd")
    period_start: date | None = None
    period_end: date | None = None
    deposit: Decimal | None = Field(default=None, description="Walmart's Total Payable (null while pending)")
    currency: str | None = None
    status: SettlementStatus
    unexplained: Decimal | None = Field(
        default=None, description="Deposit minus everything accounting posted; null until accounting posted it"
    )
    line_count: int
    fetched_at: str | None = None

    @classmethod
    def of(cls, period: SettlementPeriod) -> SettlementPeriodView:
        return cls.model_validate(period.model_dump())


class SettlementDetailView(SettlementPeriodView):
    """A period with its lines grouped by transaction type (totals per type and per amount type)."""

    lines_total: Decimal = Field(description="The sum of every line's amount")
    groups: list[SettlementLineGroup]

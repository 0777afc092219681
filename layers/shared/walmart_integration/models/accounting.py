"""Accounting documents, their posting lines and the lines held back: as stored, as the API shows them and as the
events carry them (one shape: a stored document is shown as it is)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DocumentType = Literal["invoice", "credit", "cogs", "settlement"]
DocumentReason = Literal["sale", "refund", "return", "cancellation", "correction", "settlement"]
Period = Literal["immediate", "daily", "weekly", "monthly"]
DocumentStatus = Literal["open", "issued"]


class PostingLine(BaseModel):
    account: str = Field(
        description=(
            "sales, shipping_revenue, facilitator_tax, accounts_receivable, cogs, inventory, marketplace_fees, "
            "payment_fees, accrued_costs, ... (each with its instance setting <account>_nominal_code_id)"
        )
    )
    nominal_code_id: int | None = None
    nominal_code: str | None = None
    debit: str
    credit: str
    purchase_order_id: str | None = None  # None on a settlement's lines (they sum many orders)
    line_number: str | None = None
    sku: str | None = None
    description: str


class DocumentTotals(BaseModel):
    debit: str
    credit: str
    net: str
    tax: str
    gross: str


class AccountingDocument(BaseModel):
    id: str
    instance_id: str
    type: DocumentType = Field(
        description="invoice, credit (note), cogs (cost of goods sold, posted on its own) or settlement (a payment)"
    )
    reason: DocumentReason
    period: Period
    period_key: str | None = None
    status: DocumentStatus
    currency: str
    issued_at: str | None = None
    created_at: str
    purchase_order_ids: list[str]
    settlement_id: str | None = Field(default=None, description="The payment period a settlement document posts")
    lines: list[PostingLine]
    totals: DocumentTotals


class AccountingDocumentRecord(BaseModel):
    """A document as stored (``ACCTDOC#<instance>#<id>``): an issued one never changes; an open period batch gets
    lines appended until the scheduler issues it. None fields are not stored."""

    model_config = ConfigDict(extra="ignore")

    id: str
    tenant_id: str
    instance_id: str
    type: DocumentType
    reason: DocumentReason
    period: Period
    period_key: str | None = None
    period_end: str | None = None  # when an open batch's period ends
    currency: str
    purchase_order_ids: list[str]
    settlement_id: str | None = None
    lines: list[PostingLine]
    created_at: str
    status: DocumentStatus
    issued_at: str | None = None
    totals: DocumentTotals | None = None
    published: bool | None = None  # issued: False until the outbox published it

    def item(self) -> dict[str, Any]:
        return self.model_dump()


class AccountingHoldRecord(BaseModel):
    """A line held back from one document type, with why and since when (on the order's posting state)."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["accounting_hold"] = "accounting_hold"
    purchase_order_id: str
    line_number: str
    sku: str | None = None
    document_type: DocumentType
    reason: str
    held_at: str


class AccountingHold(BaseModel):
    purchase_order_id: str | None = None
    line_number: str = Field(description="The order's line; for a settlement: <settlement id>#<report row>")
    sku: str | None = None
    type: DocumentType
    reason: str
    held_at: str

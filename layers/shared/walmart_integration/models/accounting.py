"""Accounting documents as the API shows them (and as the events carry them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class PostingLine(BaseModel):
    account: str = Field(description="sales, shipping_revenue, tax, accounts_receivable, cogs, inventory, ...")
    nominal_code_id: int | None = None
    nominal_code: str | None = None
    debit: str
    credit: str
    purchase_order_id: str
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
    type: Literal["invoice", "credit"]
    reason: Literal["sale", "refund", "cancellation", "correction"]
    period: Literal["immediate", "daily", "weekly", "monthly"]
    period_key: str | None = None
    status: Literal["open", "issued"]
    currency: str
    issued_at: str | None = None
    created_at: str
    purchase_order_ids: list[str]
    lines: list[PostingLine]
    totals: DocumentTotals


class AccountingHold(BaseModel):
    purchase_order_id: str
    line_number: str
    sku: str | None = None
    type: Literal["invoice", "credit"]
    reason: str
    held_at: str

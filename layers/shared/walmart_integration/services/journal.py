"""Accounting documents as a journal an accounting package imports: CSV, one row per posting line.

The columns most packages map on import come first (date, reference, nominal code, description, debit, credit,
currency); what ties a row back to its source follows. Every page of a listing is a whole file (header included).
Text a spreadsheet would run as a formula (a cell starting with ``=``, ``+``, ``-`` or ``@``, e.g. from a seller's
sku) is prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io

from walmart_integration.models.accounting import AccountingDocument

JOURNAL_COLUMNS = (
    "date",
    "reference",
    "nominal_code",
    "description",
    "debit",
    "credit",
    "currency",
    "document_type",
    "account",
    "purchase_order_id",
    "line_number",
    "sku",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str | None) -> str:
    text = value or ""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def journal_csv(documents: list[AccountingDocument]) -> str:
    """The documents' posting lines, dated the day each document was issued (created, while a batch is open)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(JOURNAL_COLUMNS)
    for document in documents:
        date = (document.issued_at or document.created_at)[:10]
        for line in document.lines:
            writer.writerow(
                (
                    date,
                    document.id,
                    _text(line.nominal_code),
                    _text(line.description),
                    line.debit,
                    line.credit,
                    document.currency,
                    document.type,
                    line.account,
                    _text(line.purchase_order_id),
                    _text(line.line_number),
                    _text(line.sku),
                )
            )
    return out.getvalue()

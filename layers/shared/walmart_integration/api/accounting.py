"""Accounting: the invoices, credit notes and cost-of-goods-sold documents of an instance's orders (as JSON or as a
CSV journal), and the lines held back."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from walmart_integration.api.dependencies import Accounting, Tenant
from walmart_integration.api.errors import responses
from walmart_integration.api.parameters import Cursor, InstanceId, Limit
from walmart_integration.models.accounting import AccountingDocument, AccountingHold
from walmart_integration.models.common import ListResponse
from walmart_integration.services.journal import journal_csv

router = Router()

TAGS = ["Accounting"]
CSV = "text/csv; charset=utf-8"

_documents_responses = responses(404)
_documents_responses[200] = {
    "description": "OK: JSON, or with format=csv a journal (one row per posting line; Link rel=next, X-Next-Cursor)",
    "content": {
        "application/json": {"model": ListResponse[AccountingDocument]},
        "text/csv": {
            "schema": {
                "type": "string",
                "description": (
                    "date,reference,nominal_code,description,debit,credit,currency,document_type,account,"
                    "purchase_order_id,line_number,sku"
                ),
            }
        },
    },
}


@router.get(
    "/api/walmart/<instance_id>/accounting-documents",
    tags=TAGS,
    summary="Invoices, credit notes and cost-of-goods-sold documents of the instance's orders (and open batches)",
    description=(
        "Oldest first. Money as exact decimal strings; every document balances (debits = credits). A page is never "
        "empty while next_cursor is set. format=csv answers the page as a journal: the next page's address is in "
        'the Link header (rel="next") and its cursor in X-Next-Cursor (both absent on the last page).'
    ),
    responses=_documents_responses,
)
def list_accounting_documents(  # type: ignore[no-untyped-def]
    instance_id: InstanceId,
    tenant: Tenant,
    accounting: Accounting,
    limit: Limit = 50,
    cursor: Cursor = None,
    type: Annotated[Literal["invoice", "credit", "cogs", "settlement"] | None, Query()] = None,
    period: Annotated[Literal["immediate", "daily", "weekly", "monthly"] | None, Query()] = None,
    status: Annotated[Literal["open", "issued"] | None, Query()] = None,
    format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv (a journal)")] = "json",
):
    items, next_cursor = accounting.documents(tenant, instance_id, limit, cursor, type, period, status)
    if format == "json":
        return ListResponse(data=items, next_cursor=next_cursor)
    headers: dict[str, str] = {}
    if next_cursor:
        query = {"format": "csv", "limit": limit, "type": type, "period": period, "status": status}
        query_string = urlencode({**{k: v for k, v in query.items() if v is not None}, "cursor": next_cursor})
        headers["Link"] = f'</api/walmart/{instance_id}/accounting-documents?{query_string}>; rel="next"'
        headers["X-Next-Cursor"] = next_cursor
    return Response(status_code=200, content_type=CSV, body=journal_csv(items), headers=headers)


@router.get(
    "/api/walmart/<instance_id>/accounting-holds",
    tags=TAGS,
    summary="Order lines held from accounting, with the reason (released when the setting or the cost is fixed)",
    responses=responses(404),
)
def list_accounting_holds(
    instance_id: InstanceId, tenant: Tenant, accounting: Accounting
) -> ListResponse[AccountingHold]:
    return ListResponse(data=accounting.holds(tenant, instance_id), next_cursor=None)

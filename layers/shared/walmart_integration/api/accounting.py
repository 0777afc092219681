"""Accounting: the invoices and credit notes issued from an instance's orders, and the lines held back."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from walmart_integration.api.dependencies import Accounting, Tenant
from walmart_integration.api.errors import responses
from walmart_integration.api.parameters import Cursor, InstanceId, Limit
from walmart_integration.models.accounting import AccountingDocument, AccountingHold
from walmart_integration.models.common import ListResponse

router = Router()

TAGS = ["Accounting"]


@router.get(
    "/api/walmart/<instance_id>/accounting-documents",
    tags=TAGS,
    summary="Invoices and credit notes issued from the instance's orders (and open period batches)",
    description="Oldest first. Money as exact decimal strings; every document balances (debits = credits).",
    responses=responses(404),
)
def list_accounting_documents(
    instance_id: InstanceId,
    tenant: Tenant,
    accounting: Accounting,
    limit: Limit = 50,
    cursor: Cursor = None,
    type: Annotated[Literal["invoice", "credit"] | None, Query()] = None,
    period: Annotated[Literal["immediate", "daily", "weekly", "monthly"] | None, Query()] = None,
    status: Annotated[Literal["open", "issued"] | None, Query()] = None,
) -> ListResponse[AccountingDocument]:
    items, next_cursor = accounting.documents(tenant, instance_id, limit, cursor, type, period, status)
    return ListResponse(data=[AccountingDocument.model_validate(i) for i in items], next_cursor=next_cursor)


@router.get(
    "/api/walmart/<instance_id>/accounting-holds",
    tags=TAGS,
    summary="Order lines held from accounting, with the reason (released when the setting is fixed)",
    responses=responses(404),
)
def list_accounting_holds(
    instance_id: InstanceId, tenant: Tenant, accounting: Accounting
) -> ListResponse[AccountingHold]:
    holds = accounting.holds(tenant, instance_id)
    return ListResponse(data=[AccountingHold.model_validate(h) for h in holds], next_cursor=None)

"""Walmart settlements (payment periods of the reconciliation report, with their lines) and returns of an instance."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from walmart_integration.api.dependencies import SettlementsService, Tenant
from walmart_integration.api.errors import responses
from walmart_integration.api.parameters import Cursor, InstanceId, Limit, ResourceId
from walmart_integration.models.common import DataResponse, ListResponse
from walmart_integration.models.returns import ReturnOrder
from walmart_integration.models.settlements import SettlementDetailView, SettlementPeriodView

router = Router()

TAGS = ["Settlements and returns"]


@router.get(
    "/api/walmart/<instance_id>/settlements",
    tags=TAGS,
    summary="Walmart payment periods: dates, deposit, status and what accounting could not explain",
    description=(
        "One period per Walmart reconciliation report, in date order. `status` is `final` once Walmart's report "
        "carries the deposit and the period has ended, else `pending` (fetched again by later syncs). "
        "`unexplained` is null until accounting has posted the settlement."
    ),
    responses=responses(404),
)
def list_settlements(
    instance_id: InstanceId, tenant: Tenant, settlements: SettlementsService, limit: Limit = 50, cursor: Cursor = None
) -> ListResponse[SettlementPeriodView]:
    items, next_cursor = settlements.list_periods(tenant, instance_id, limit, cursor)
    return ListResponse(data=items, next_cursor=next_cursor)


@router.get(
    "/api/walmart/<instance_id>/settlements/<settlement_id>",
    tags=TAGS,
    summary="A payment period with every report line, grouped by transaction type with totals",
    responses=responses(404),
)
def get_settlement(
    instance_id: InstanceId, settlement_id: ResourceId, tenant: Tenant, settlements: SettlementsService
) -> DataResponse[SettlementDetailView]:
    return DataResponse(data=settlements.period(tenant, instance_id, settlement_id))


@router.get(
    "/api/walmart/<instance_id>/returns",
    tags=TAGS,
    summary="Walmart return orders with their lines and refunds, newest first",
    responses=responses(404),
)
def list_returns(
    instance_id: InstanceId, tenant: Tenant, settlements: SettlementsService, limit: Limit = 50, cursor: Cursor = None
) -> ListResponse[ReturnOrder]:
    items, next_cursor = settlements.list_returns(tenant, instance_id, limit, cursor)
    return ListResponse(data=items, next_cursor=next_cursor)

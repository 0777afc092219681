"""What the sync brought from Walmart for an instance (locations, products, orders), and starting a fresh sync."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from walmart_integration.api.dependencies import SyncedData, Tenant
from walmart_integration.api.errors import responses
from walmart_integration.api.parameters import Cursor, InstanceId, Limit
from walmart_integration.models.common import DataResponse, ListResponse
from walmart_integration.models.marketplace import LocationView, OrderView, ProductView, SyncRequest, SyncStarted

router = Router()

TAGS = ["Synced data"]


@router.post(
    "/api/walmart/<instance_id>/sync",
    tags=TAGS,
    summary="Start a fresh sync run",
    description=(
        "Queues a run of the given streams (default: locations, products, orders, settlements, returns). The instance "
        "must be connected."
    ),
    responses=responses(404, 409, body=True, accepted="202"),
)
def start_sync(
    instance_id: InstanceId, body: SyncRequest, tenant: Tenant, synced: SyncedData
) -> tuple[DataResponse[SyncStarted], int]:
    return DataResponse(data=synced.start_sync(tenant, instance_id, list(body.streams))), 202


@router.get(
    "/api/walmart/<instance_id>/locations",
    tags=TAGS,
    summary="The seller's locations (Walmart ship nodes)",
    responses=responses(404),
)
def list_locations(
    instance_id: InstanceId, tenant: Tenant, synced: SyncedData, limit: Limit = 50, cursor: Cursor = None
) -> ListResponse[LocationView]:
    items, next_cursor = synced.list_locations(tenant, instance_id, limit, cursor)
    return ListResponse(data=items, next_cursor=next_cursor)


@router.get(
    "/api/walmart/<instance_id>/products",
    tags=TAGS,
    summary="The seller's Walmart listings, with the linked internal product",
    responses=responses(404),
)
def list_products(
    instance_id: InstanceId, tenant: Tenant, synced: SyncedData, limit: Limit = 50, cursor: Cursor = None
) -> ListResponse[ProductView]:
    items, next_cursor = synced.list_products(tenant, instance_id, limit, cursor)
    return ListResponse(data=items, next_cursor=next_cursor)


@router.get(
    "/api/walmart/<instance_id>/orders",
    tags=TAGS,
    summary="The seller's orders with their lines, newest first",
    responses=responses(404),
)
def list_orders(
    instance_id: InstanceId,
    tenant: Tenant,
    synced: SyncedData,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: Annotated[str | None, Query(description="Order status, or the status of any line")] = None,
    updated_since: Annotated[str | None, Query(description="ISO 8601: orders our copy changed since")] = None,
) -> ListResponse[OrderView]:
    items, next_cursor = synced.list_orders(tenant, instance_id, limit, cursor, status, updated_since)
    return ListResponse(data=items, next_cursor=next_cursor)

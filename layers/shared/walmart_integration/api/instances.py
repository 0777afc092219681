"""Walmart integration instances: create, list, read, change, delete."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header

from walmart_integration.api.dependencies import Instances, Tenant
from walmart_integration.api.errors import responses
from walmart_integration.api.parameters import Cursor, InstanceId, Limit
from walmart_integration.models.common import DataResponse, ListResponse
from walmart_integration.models.instance import InstanceCreate, InstanceUpdate, InstanceView

router = Router()

TAGS = ["Walmart instances"]

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Retrying a POST with the same key returns the first response and creates nothing new.",
    ),
]


@router.post(
    "/api/walmart",
    tags=TAGS,
    summary="Create a Walmart integration instance",
    description="Creates the instance, then fetches an access token and starts the sync jobs.",
    responses=responses(409, body=True, created="201"),
)
def create_instance(
    body: InstanceCreate, tenant: Tenant, instances: Instances, idempotency_key: IdempotencyKey = None
) -> tuple[DataResponse[InstanceView], int]:
    view = instances.create(tenant, body, idempotency_key, router.lambda_context)
    return DataResponse(data=view), 201


@router.get("/api/walmart", tags=TAGS, summary="The tenant's instances", responses=responses())
def list_instances(
    tenant: Tenant, instances: Instances, limit: Limit = 50, cursor: Cursor = None
) -> ListResponse[InstanceView]:
    views, next_cursor = instances.page(tenant, limit, cursor)
    return ListResponse(data=views, next_cursor=next_cursor)


@router.get(
    "/api/walmart/<instance_id>",
    tags=TAGS,
    summary="One instance with its status and jobs",
    responses=responses(404),
)
def get_instance(instance_id: InstanceId, tenant: Tenant, instances: Instances) -> DataResponse[InstanceView]:
    return DataResponse(data=instances.get(tenant, instance_id))


@router.patch(
    "/api/walmart/<instance_id>",
    tags=TAGS,
    summary="Change an instance",
    description="Same validation as create. New credentials reconnect. The environment is immutable.",
    responses=responses(404, 409, body=True),
)
def update_instance(
    instance_id: InstanceId, body: InstanceUpdate, tenant: Tenant, instances: Instances
) -> DataResponse[InstanceView]:
    return DataResponse(data=instances.update(tenant, instance_id, body))


@router.delete(
    "/api/walmart/<instance_id>",
    tags=TAGS,
    summary="Delete an instance, its secrets and its pending work",
    responses=responses(404, 409, deleted="204"),
)
def delete_instance(instance_id: InstanceId, tenant: Tenant, instances: Instances):  # type: ignore[no-untyped-def]
    instances.delete(tenant, instance_id)
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")

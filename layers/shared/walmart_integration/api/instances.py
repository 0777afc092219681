"""Walmart integration instances: create, list, read, change, delete; connect one through the seller's authorization
of our Walmart app (an authorization URL, and the public callback Walmart sends the seller's browser to)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from walmart_integration.api import pages
from walmart_integration.api.dependencies import Authorizations, Instances, Tenant
from walmart_integration.api.errors import responses
from walmart_integration.api.parameters import Cursor, InstanceId, Limit
from walmart_integration.models.common import DataResponse, ListResponse
from walmart_integration.models.instance import AuthorizationView, InstanceCreate, InstanceUpdate, InstanceView

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import (
        OpenAPIResponseContentModel,
        OpenAPIResponseContentSchema,
    )

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


@router.post(
    "/api/walmart/<instance_id>/authorization",
    tags=TAGS,
    summary="Start connecting the instance through the seller's authorization on Walmart (OAuth 2.0)",
    description=(
        "Answers Walmart's authorize URL for our app, with a single-use state bound to this instance that expires "
        "in minutes. Open it in the seller's browser: after the seller's Authorize, Walmart sends the browser to "
        "GET /api/walmart/oauth/callback, which connects the instance (status connecting, then connected). The "
        "seller's authorization replaces client credentials; a later PATCH with clientId/clientSecret replaces it."
    ),
    responses=responses(404, 409, created="201"),
)
def start_authorization(
    instance_id: InstanceId, tenant: Tenant, authorizations: Authorizations
) -> tuple[DataResponse[AuthorizationView], int]:
    view = authorizations.start(tenant, instance_id, api_base_url(router.current_event.raw_event) + pages.CALLBACK_PATH)
    return DataResponse(data=view), 201


CallbackParameter = Annotated[str | None, Query(description="As Walmart appends it to the redirect URI")]
_HTML_PAGE: dict[str, OpenAPIResponseContentSchema | OpenAPIResponseContentModel] = {
    "text/html": {"schema": {"type": "string", "description": "A short page for the person (no script)"}}
}


@router.get(
    pages.CALLBACK_PATH,
    tags=TAGS,
    summary="Walmart's redirect after the seller's decision (public: no bearer token)",
    description=(
        "Walmart redirects the seller's browser here with code, type=auth, clientId, sellerId and state (or an "
        "OAuth error such as error=access_denied). The state is checked, the code exchanged for the seller's access "
        "and refresh tokens (stored encrypted, never shown) and the instance connects. The answer is a small HTML "
        "page saying what happened; every refusal says nothing about the instance."
    ),
    responses={
        200: {"description": "Connected: the page says so", "content": _HTML_PAGE},
        400: {
            "description": "Declined; an invalid, used, expired or foreign state; a refused code: nothing changed",
            "content": _HTML_PAGE,
        },
        429: responses()[429],
        500: {"description": "An error on our side (logged)", "content": _HTML_PAGE},
        502: {"description": "Walmart did not answer the code exchange: nothing changed", "content": _HTML_PAGE},
    },
    openapi_extensions={"security": []},  # (Powertools omits an empty ``security``: this route has no authorizer)
)
def authorization_callback(  # type: ignore[no-untyped-def]
    authorizations: Authorizations,
    code: CallbackParameter = None,
    state: CallbackParameter = None,
    type: CallbackParameter = None,  # (Walmart's parameter name)
    client_id: Annotated[str | None, Query(alias="clientId", description="Our app's client id")] = None,
    seller_id: Annotated[str | None, Query(alias="sellerId", description="The Walmart seller who authorized")] = None,
    error: CallbackParameter = None,
    error_description: CallbackParameter = None,
):
    from walmart_integration.services.authorization import Callback

    callback = Callback(code, state, type, client_id, seller_id, error, error_description)
    result = authorizations.complete(callback)
    return pages.page(result.outcome, result.seller_id)


def api_base_url(event: dict[str, object]) -> str:
    """The API's base URL as the caller reached it: scheme and host, and the stage on an execute-api host (whose
    URLs carry it; a custom domain's do not)."""
    context = event.get("requestContext") or {}
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}  # type: ignore[attr-defined]
    host = str(context.get("domainName") or headers.get("host") or "localhost")  # type: ignore[attr-defined]
    scheme = headers.get("x-forwarded-proto", "https").split(",")[0].strip() or "https"
    stage = str(context.get("stage") or "")  # type: ignore[attr-defined]
    prefix = f"/{stage}" if stage and ".execute-api." in host else ""
    return f"{scheme}://{host}{prefix}"

"""The REST API: routes, validation and the mapping of domain errors to HTTP statuses (in one place).

The api function's handler is a thin shell around ``app``; ``openapi.json`` is generated from it.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from walmart_integration.config import get_settings
from walmart_integration.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_errors
from walmart_integration.models.accounting import AccountingDocument, AccountingHold
from walmart_integration.models.advertising import (
    AccountCreate,
    AccountView,
    CampaignChange,
    ChangeView,
    ClaimCreate,
    ClaimView,
    Company,
    CompanyCreate,
    GroupBy,
    KeywordChange,
    LinkRequest,
    PerformanceRow,
    ProfileView,
    RefreshView,
)
from walmart_integration.models.common import DataResponse, ErrorResponse, ListResponse, ValidationErrorResponse
from walmart_integration.models.instance import InstanceCreate, InstanceUpdate, InstanceView
from walmart_integration.models.marketplace import (
    InternalProduct,
    InternalProductCreate,
    LocationView,
    OrderView,
    ProductView,
    SyncRequest,
    SyncStarted,
)
from walmart_integration.models.reference import Integration, NominalCode, NominalCodeCreate, Store, StoreCreate
from walmart_integration.observability import logger
from walmart_integration.services.dependencies import Dependencies
from walmart_integration.services.instances import InstanceService
from walmart_integration.services.reference import ReferenceService
from walmart_integration.services.synced_data import SyncedDataService

if TYPE_CHECKING:
    from walmart_integration.services.advertising import AdvertisingService

TITLE = "Walmart Integration Service API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Connect Walmart Marketplace sellers (integration instances) and keep their data in sync. "
    "Link Walmart Connect advertising profiles to accounts and read their performance. "
    "Every route needs `Authorization: Bearer <token>`; another tenant's resource answers 404."
)


class _JsonRequestValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, reading request bodies as JSON only.

    Powertools would also parse form and multipart bodies (and fail with an unhandled error on a multipart type
    without a boundary): the API takes JSON, so a body of any other declared type is refused with 415.
    """

    def _get_body(self, app: Any) -> dict[str, Any]:
        declared = app.current_event.headers.get("content-type", "")
        media_type = declared.partition(";")[0].strip().lower()
        if media_type and media_type != "application/json" and not media_type.endswith("+json"):
            raise RequestUnsupportedContentType(
                "Unsupported content type", errors=[{"loc": ("body",), "msg": declared, "type": "content_type"}]
            )
        return super()._get_body(app)


app = APIGatewayRestResolver(enable_validation=True)
app._request_validation_middleware = _JsonRequestValidation()
app.configure_openapi(
    title=TITLE,
    version=VERSION,
    description=DESCRIPTION,
    security_schemes={"bearerAuth": HTTPBearer(description="Opaque bearer token of a tenant")},
    security=[{"bearerAuth": []}],
)
app.enable_swagger(path="/api/docs", title=TITLE, version=VERSION, description=DESCRIPTION)

Limit = Annotated[int, Query(ge=1, le=100, description="Page size")]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]
InstanceId = Annotated[str, Path(min_length=1, max_length=64)]
ResourceId = Annotated[str, Path(min_length=1, max_length=64)]
WalmartEntityId = Annotated[str, Path(pattern=r"^[0-9]{1,20}$", description="Walmart's numeric id")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Retrying a POST with the same key returns the first response and creates nothing new.",
    ),
]


_ERRORS: dict[int, tuple[str, type]] = {
    401: ("Missing, malformed, unknown or revoked bearer token", ErrorResponse),
    403: ("Not allowed, e.g. a change to an advertiser that granted read-only access", ErrorResponse),
    404: ("Not found (another tenant's resource is not found either)", ErrorResponse),
    409: ("Conflict: changed concurrently, or an Idempotency-Key reused with another body", ErrorResponse),
    413: ("The request body is larger than API Gateway's limit (10 MB)", ErrorResponse),
    415: ("The request body is not JSON: send Content-Type: application/json", ErrorResponse),
    422: ("Validation failed: errors by dotted field path", ValidationErrorResponse),
    429: ("Too many requests: throttled by API Gateway; retry later", ErrorResponse),
}


def responses(*codes: int, body: bool = False, **success: str) -> dict[int, OpenAPIResponse]:
    """OpenAPI responses of a route: its success status (e.g. created="201") and the error shapes it answers.

    Every route documents 401, 422 (a malformed path or query parameter; Powertools would otherwise document a 422
    shape this API never sends) and 429 (API Gateway's throttling); a route with a request ``body`` also documents
    413 and 415.
    """
    documented: dict[int, OpenAPIResponse] = {
        int(status): {"description": name.capitalize()} for name, status in (success or {"ok": "200"}).items()
    }
    for code in sorted({401, 422, 429, *codes, *((413, 415) if body else ())}):
        description, model = _ERRORS[code]
        documented[code] = {"description": description, "content": {"application/json": {"model": model}}}
    return documented


class _Services:
    @cached_property
    def deps(self) -> Dependencies:
        return Dependencies(get_settings())

    @cached_property
    def instances(self) -> InstanceService:
        d = self.deps
        return InstanceService(d.settings, d.instances, d.reference, d.vault, d.queues)

    @cached_property
    def reference(self) -> ReferenceService:
        return ReferenceService(self.deps.reference)

    @cached_property
    def advertising(self) -> AdvertisingService:
        return self.deps.advertising

    @cached_property
    def synced(self) -> SyncedDataService:
        d = self.deps
        return SyncedDataService(d.settings, d.instances, d.locations, d.synced, d.catalog, d.queues)


services = _Services()


def tenant_id() -> str:
    """The tenant the authorizer established for this request."""
    authorizer = (app.current_event.raw_event.get("requestContext") or {}).get("authorizer") or {}
    tenant = authorizer.get("tenant_id")
    if not tenant:
        raise Unauthorized()
    return str(tenant)


class Unauthorized(Exception):
    pass


def _json(status: int, body: Any) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


# -- errors: one mapping for the whole API --------------------------------------------------------
@app.exception_handler(RequestValidationError)
def _request_invalid(error: RequestValidationError) -> Response:
    errors = field_errors(list(error.errors()), drop_prefix=())
    errors = {_strip_source(path): messages for path, messages in errors.items()}
    return _json(422, {"message": next(iter(errors.values()))[0], "errors": errors})


def _strip_source(path: str) -> str:
    for source in ("body.", "query.", "path."):
        if path.startswith(source):
            return path[len(source) :]
    return path


@app.exception_handler(RequestUnsupportedContentType)
def _unsupported_content_type(_: RequestUnsupportedContentType) -> Response:
    return _json(415, {"message": "The request body must be JSON (Content-Type: application/json)."})


@app.exception_handler(ValidationFailed)
def _invalid(error: ValidationFailed) -> Response:
    return _json(422, {"message": str(error), "errors": error.errors})


@app.exception_handler(NotFound)
def _not_found(error: NotFound) -> Response:
    return _json(404, {"message": str(error)})


@app.exception_handler(Conflict)
def _conflict(error: Conflict) -> Response:
    return _json(409, {"message": str(error)})


@app.exception_handler(Forbidden)
def _forbidden(error: Forbidden) -> Response:
    return _json(403, {"message": str(error)})


@app.exception_handler(Unauthorized)
def _unauthorized(_: Unauthorized) -> Response:
    return _json(401, {"message": "Unauthorized"})


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response:
    name = type(error).__name__
    if name == "IdempotencyValidationError":
        return _json(409, {"message": "This Idempotency-Key was already used with a different request body."})
    if name == "IdempotencyAlreadyInProgressError":
        return _json(409, {"message": "A request with this Idempotency-Key is still in progress; retry shortly."})
    logger.exception("Unhandled error")
    return _json(500, {"message": "Internal server error"})


@app.not_found
def _no_route(_: Exception) -> Response:
    return _json(404, {"message": "Not found"})


def _no_control_characters(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """A path with a control character names no resource. (Powertools matches routes with ``$``, which also matches
    before a final newline: ``/api/companies/%0A`` would otherwise answer as ``/api/companies``.)"""
    if any(ord(character) < 32 or ord(character) == 127 for character in app.current_event.path):
        return _json(404, {"message": "Not found"})
    return next_middleware(app)


app.use(middlewares=[_no_control_characters])


# -- schema -----------------------------------------------------------------------------------
@app.get("/api/openapi.json", include_in_schema=False)
def openapi_document():  # type: ignore[no-untyped-def]
    return Response(200, content_types.APPLICATION_JSON, openapi_json())


def openapi_json() -> str:
    return app.get_openapi_json_schema(title=TITLE, version=VERSION, description=DESCRIPTION)


# -- reference data ---------------------------------------------------------------------------
@app.get("/api/integrations", tags=["Reference data"], summary="The Walmart integration types", responses=responses())
def list_integrations() -> ListResponse[Integration]:
    tenant_id()
    return ListResponse(data=services.reference.integrations(), next_cursor=None)


@app.get("/api/stores", tags=["Reference data"], summary="The tenant's stores", responses=responses())
def list_stores(limit: Limit = 50, cursor: Cursor = None) -> ListResponse[Store]:
    stores, next_cursor = services.reference.list_stores(tenant_id(), limit, cursor)
    return ListResponse(data=stores, next_cursor=next_cursor)


@app.post(
    "/api/stores", tags=["Reference data"], summary="Create a store", responses=responses(body=True, created="201")
)
def create_store(body: StoreCreate) -> tuple[DataResponse[Store], int]:
    return DataResponse(data=services.reference.create_store(tenant_id(), body)), 201


@app.get("/api/nominal-codes", tags=["Reference data"], summary="The tenant's nominal codes", responses=responses())
def list_nominal_codes(limit: Limit = 50, cursor: Cursor = None) -> ListResponse[NominalCode]:
    codes, next_cursor = services.reference.list_nominal_codes(tenant_id(), limit, cursor)
    return ListResponse(data=codes, next_cursor=next_cursor)


@app.post(
    "/api/nominal-codes",
    tags=["Reference data"],
    summary="Create a nominal code",
    responses=responses(body=True, created="201"),
)
def create_nominal_code(body: NominalCodeCreate) -> tuple[DataResponse[NominalCode], int]:
    return DataResponse(data=services.reference.create_nominal_code(tenant_id(), body)), 201


# -- integration instances ----------------------------------------------------------------------
@app.post(
    "/api/walmart",
    tags=["Walmart instances"],
    summary="Create a Walmart integration instance",
    description="Creates the instance, then fetches an access token and starts the sync jobs.",
    responses=responses(409, body=True, created="201"),
)
def create_instance(
    body: InstanceCreate, idempotency_key: IdempotencyKey = None
) -> tuple[DataResponse[InstanceView], int]:
    tenant = tenant_id()
    if idempotency_key is None:
        view = services.instances.create(tenant, body).model_dump(mode="json")
    else:
        from walmart_integration.store.idempotency import run_once

        settings = services.deps.settings
        view = run_once(
            table_name=settings.idempotency_table_name,
            region=settings.region,
            key={"operation": "create_instance", "tenant_id": tenant, "idempotency_key": idempotency_key},
            payload=body.model_dump(mode="json"),
            work=lambda: services.instances.create(tenant, body).model_dump(mode="json"),
            lambda_context=app.lambda_context,
        )
    return DataResponse(data=InstanceView.model_validate(view)), 201


@app.get("/api/walmart", tags=["Walmart instances"], summary="The tenant's instances", responses=responses())
def list_instances(limit: Limit = 50, cursor: Cursor = None) -> ListResponse[InstanceView]:
    views, next_cursor = services.instances.page(tenant_id(), limit, cursor)
    return ListResponse(data=views, next_cursor=next_cursor)


@app.get(
    "/api/walmart/<instance_id>",
    tags=["Walmart instances"],
    summary="One instance with its status and jobs",
    responses=responses(404),
)
def get_instance(instance_id: InstanceId) -> DataResponse[InstanceView]:
    return DataResponse(data=services.instances.get(tenant_id(), instance_id))


@app.patch(
    "/api/walmart/<instance_id>",
    tags=["Walmart instances"],
    summary="Change an instance",
    description="Same validation as create. New credentials reconnect. The environment is immutable.",
    responses=responses(404, 409, body=True),
)
def update_instance(instance_id: InstanceId, body: InstanceUpdate) -> DataResponse[InstanceView]:
    return DataResponse(data=services.instances.update(tenant_id(), instance_id, body))


@app.delete(
    "/api/walmart/<instance_id>",
    tags=["Walmart instances"],
    summary="Delete an instance, its secrets and its pending work",
    responses=responses(404, 409, deleted="204"),
)
def delete_instance(instance_id: InstanceId):  # type: ignore[no-untyped-def]
    services.instances.delete(tenant_id(), instance_id)
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")


# -- synced data ----------------------------------------------------------------------------------
@app.post(
    "/api/walmart/<instance_id>/sync",
    tags=["Synced data"],
    summary="Start a fresh sync run",
    description=(
        "Queues a run of the given streams (default: locations, products, orders). The instance must be connected."
    ),
    responses=responses(404, 409, body=True, accepted="202"),
)
def start_sync(instance_id: InstanceId, body: SyncRequest) -> tuple[DataResponse[SyncStarted], int]:
    return DataResponse(data=services.synced.start_sync(tenant_id(), instance_id, list(body.streams))), 202


@app.get(
    "/api/walmart/<instance_id>/locations",
    tags=["Synced data"],
    summary="The seller's locations (Walmart ship nodes)",
    responses=responses(404),
)
def list_locations(instance_id: InstanceId, limit: Limit = 50, cursor: Cursor = None) -> ListResponse[LocationView]:
    items, next_cursor = services.synced.list_locations(tenant_id(), instance_id, limit, cursor)
    return ListResponse(data=items, next_cursor=next_cursor)


@app.get(
    "/api/walmart/<instance_id>/products",
    tags=["Synced data"],
    summary="The seller's Walmart listings, with the linked internal product",
    responses=responses(404),
)
def list_products(instance_id: InstanceId, limit: Limit = 50, cursor: Cursor = None) -> ListResponse[ProductView]:
    items, next_cursor = services.synced.list_products(tenant_id(), instance_id, limit, cursor)
    return ListResponse(data=items, next_cursor=next_cursor)


@app.get(
    "/api/walmart/<instance_id>/orders",
    tags=["Synced data"],
    summary="The seller's orders with their lines, newest first",
    responses=responses(404),
)
def list_orders(
    instance_id: InstanceId,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: Annotated[str | None, Query(description="Order status, or the status of any line")] = None,
    updated_since: Annotated[str | None, Query(description="ISO 8601: orders our copy changed since")] = None,
) -> ListResponse[OrderView]:
    items, next_cursor = services.synced.list_orders(tenant_id(), instance_id, limit, cursor, status, updated_since)
    return ListResponse(data=items, next_cursor=next_cursor)


@app.get(
    "/api/products", tags=["Reference data"], summary="The tenant's internal (SKU) products", responses=responses()
)
def list_internal_products(limit: Limit = 50, cursor: Cursor = None) -> ListResponse[InternalProduct]:
    items, next_cursor = services.synced.list_internal_products(tenant_id(), limit, cursor)
    return ListResponse(data=items, next_cursor=next_cursor)


@app.post(
    "/api/products",
    tags=["Reference data"],
    summary="Create an internal (SKU) product",
    responses=responses(body=True, created="201"),
)
def create_internal_product(body: InternalProductCreate) -> tuple[DataResponse[InternalProduct], int]:
    return DataResponse(data=services.synced.create_product(tenant_id(), body)), 201


# -- Walmart Connect advertising -------------------------------------------------------------------
ADS = "Advertising"


@app.post("/api/companies", tags=[ADS], summary="Create a company", responses=responses(body=True, created="201"))
def create_company(body: CompanyCreate) -> tuple[DataResponse[Company], int]:
    return DataResponse(data=services.advertising.create_company(tenant_id(), body)), 201


@app.get("/api/companies", tags=[ADS], summary="The tenant's companies", responses=responses())
def list_companies(limit: Limit = 50, cursor: Cursor = None) -> ListResponse[Company]:
    items, next_cursor = services.advertising.list_companies(tenant_id(), limit, cursor)
    return ListResponse(data=items, next_cursor=next_cursor)


@app.get("/api/companies/<company_id>", tags=[ADS], summary="One company", responses=responses(404))
def get_company(company_id: ResourceId) -> DataResponse[Company]:
    return DataResponse(data=services.advertising.get_company(tenant_id(), company_id))


@app.post(
    "/api/companies/<company_id>/accounts",
    tags=[ADS],
    summary="Create an account of a company (channel walmart-1p or walmart-3p)",
    responses=responses(404, body=True, created="201"),
)
def create_account(company_id: ResourceId, body: AccountCreate) -> tuple[DataResponse[AccountView], int]:
    return DataResponse(data=services.advertising.create_account(tenant_id(), company_id, body)), 201


@app.get("/api/companies/<company_id>/accounts", tags=[ADS], summary="The company's accounts", responses=responses(404))
def list_accounts(company_id: ResourceId) -> ListResponse[AccountView]:
    return ListResponse(data=services.advertising.list_accounts(tenant_id(), company_id), next_cursor=None)


@app.get(
    "/api/accounts/<account_id>",
    tags=[ADS],
    summary="One account: its linked profile and the progress of its backfill and daily refresh",
    responses=responses(404),
)
def get_account(account_id: ResourceId) -> DataResponse[AccountView]:
    return DataResponse(data=services.advertising.get_account(tenant_id(), account_id))


@app.put(
    "/api/accounts/<account_id>/advertising-profile",
    tags=[ADS],
    summary="Link an advertising profile to the account; starts the backfill",
    description=(
        "A profile links to one account at most (409 names the account holding it). The account's channel must "
        "match the profile's type (1p: walmart-1p, 3p: walmart-3p), else 422. A profile not assigned to the "
        "tenant is 404."
    ),
    responses=responses(404, 409, body=True),
)
def link_profile(account_id: ResourceId, body: LinkRequest) -> DataResponse[AccountView]:
    return DataResponse(data=services.advertising.link(tenant_id(), account_id, body.profile_id))


@app.delete(
    "/api/accounts/<account_id>/advertising-profile",
    tags=[ADS],
    summary="Unlink the account's advertising profile (its stored data stays)",
    responses=responses(404, 409),
)
def unlink_profile(account_id: ResourceId) -> DataResponse[AccountView]:
    return DataResponse(data=services.advertising.unlink(tenant_id(), account_id))


@app.get(
    "/api/accounts/<account_id>/performance",
    tags=[ADS],
    summary="Daily spend, impressions, clicks and attributed sales (14-day attribution)",
    description="`from`/`to` (yyyy-mm-dd) default to the backfill window; grouped by date, campaign or ad group.",
    responses=responses(404, 409),
)
def account_performance(
    account_id: ResourceId,
    from_: Annotated[str | None, Query(alias="from", description="First day, yyyy-mm-dd")] = None,
    to: Annotated[str | None, Query(description="Last day, yyyy-mm-dd")] = None,
    group_by: Annotated[GroupBy, Query()] = "date",
) -> ListResponse[PerformanceRow]:
    rows = services.advertising.performance(tenant_id(), account_id, from_, to, group_by)
    return ListResponse(data=rows, next_cursor=None)


@app.patch(
    "/api/accounts/<account_id>/campaigns/<campaign_id>",
    tags=[ADS],
    summary="Change a campaign's daily budget or status (queued, sent to Walmart)",
    responses=responses(403, 404, 409, body=True, accepted="202"),
)
def change_campaign(
    account_id: ResourceId, campaign_id: WalmartEntityId, body: CampaignChange
) -> tuple[DataResponse[ChangeView], int]:
    change = services.advertising.change(tenant_id(), account_id, "campaign", campaign_id, body)
    return DataResponse(data=change), 202


@app.patch(
    "/api/accounts/<account_id>/keywords/<keyword_id>",
    tags=[ADS],
    summary="Change a keyword's bid or state (queued, sent to Walmart)",
    responses=responses(403, 404, 409, body=True, accepted="202"),
)
def change_keyword(
    account_id: ResourceId, keyword_id: WalmartEntityId, body: KeywordChange
) -> tuple[DataResponse[ChangeView], int]:
    change = services.advertising.change(tenant_id(), account_id, "keyword", keyword_id, body)
    return DataResponse(data=change), 202


@app.get(
    "/api/accounts/<account_id>/changes",
    tags=[ADS],
    summary="The account's changes sent to Walmart, with their results (oldest first)",
    responses=responses(404),
)
def list_changes(account_id: ResourceId, limit: Limit = 50, cursor: Cursor = None) -> ListResponse[ChangeView]:
    items, next_cursor = services.advertising.list_changes(tenant_id(), account_id, limit, cursor)
    return ListResponse(data=items, next_cursor=next_cursor)


@app.get(
    "/api/advertising/profiles",
    tags=[ADS],
    summary="The advertising profiles assigned to the tenant, with their linked account",
    responses=responses(),
)
def list_profiles(limit: Limit = 50, cursor: Cursor = None) -> ListResponse[ProfileView]:
    items, next_cursor = services.advertising.list_profiles(tenant_id(), limit, cursor)
    return ListResponse(data=items, next_cursor=next_cursor)


@app.post(
    "/api/advertising/claims",
    tags=[ADS],
    summary="Claim an advertiser (id and name as shown in Walmart's console)",
    description=(
        "Honoured automatically when this tenant alone claims the advertiser and the name matches Walmart's; "
        "otherwise the claim waits for an operator. Claiming again updates the name."
    ),
    responses=responses(body=True, created="201"),
)
def create_claim(body: ClaimCreate) -> tuple[DataResponse[ClaimView], int]:
    return DataResponse(data=services.advertising.claim(tenant_id(), body)), 201


@app.get("/api/advertising/claims", tags=[ADS], summary="The tenant's claims", responses=responses())
def list_claims(limit: Limit = 50, cursor: Cursor = None) -> ListResponse[ClaimView]:
    items, next_cursor = services.advertising.list_claims(tenant_id(), limit, cursor)
    return ListResponse(data=items, next_cursor=next_cursor)


@app.post(
    "/api/advertising/refresh",
    tags=[ADS],
    summary="Discover advertising profiles now (joins a run in progress)",
    responses=responses(accepted="202"),
)
def refresh_profiles() -> tuple[DataResponse[RefreshView], int]:
    tenant_id()
    return DataResponse(data=services.advertising.refresh()), 202


# -- accounting documents ---------------------------------------------------------------------------------
@app.get(
    "/api/walmart/<instance_id>/accounting-documents",
    tags=["Accounting"],
    summary="Invoices and credit notes issued from the instance's orders (and open period batches)",
    description="Oldest first. Money as exact decimal strings; every document balances (debits = credits).",
    responses=responses(404),
)
def list_accounting_documents(
    instance_id: InstanceId,
    limit: Limit = 50,
    cursor: Cursor = None,
    type: Annotated[Literal["invoice", "credit"] | None, Query()] = None,
    period: Annotated[Literal["immediate", "daily", "weekly", "monthly"] | None, Query()] = None,
    status: Annotated[Literal["open", "issued"] | None, Query()] = None,
) -> ListResponse[AccountingDocument]:
    items, next_cursor = services.deps.accounting.documents(
        tenant_id(), instance_id, limit, cursor, type, period, status
    )
    return ListResponse(data=[AccountingDocument.model_validate(i) for i in items], next_cursor=next_cursor)


@app.get(
    "/api/walmart/<instance_id>/accounting-holds",
    tags=["Accounting"],
    summary="Order lines held from accounting, with the reason (released when the setting is fixed)",
    responses=responses(404),
)
def list_accounting_holds(instance_id: InstanceId) -> ListResponse[AccountingHold]:
    holds = services.deps.accounting.holds(tenant_id(), instance_id)
    return ListResponse(data=[AccountingHold.model_validate(h) for h in holds], next_cursor=None)

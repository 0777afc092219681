"""Reference data: the Walmart integration types, and the tenant's stores, nominal codes and internal products."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from walmart_integration.api.dependencies import Products, Reference, SyncedData, Tenant
from walmart_integration.api.errors import responses
from walmart_integration.api.parameters import Cursor, Limit
from walmart_integration.models.catalog import InternalProductUpdate
from walmart_integration.models.common import DataResponse, ListResponse
from walmart_integration.models.marketplace import InternalProduct, InternalProductCreate
from walmart_integration.models.reference import Integration, NominalCode, NominalCodeCreate, Store, StoreCreate

router = Router()

TAGS = ["Reference data"]


@router.get("/api/integrations", tags=TAGS, summary="The Walmart integration types", responses=responses())
def list_integrations(tenant: Tenant, reference: Reference) -> ListResponse[Integration]:
    return ListResponse(data=reference.integrations(), next_cursor=None)


@router.get("/api/stores", tags=TAGS, summary="The tenant's stores", responses=responses())
def list_stores(tenant: Tenant, reference: Reference, limit: Limit = 50, cursor: Cursor = None) -> ListResponse[Store]:
    stores, next_cursor = reference.list_stores(tenant, limit, cursor)
    return ListResponse(data=stores, next_cursor=next_cursor)


@router.post("/api/stores", tags=TAGS, summary="Create a store", responses=responses(body=True, created="201"))
def create_store(body: StoreCreate, tenant: Tenant, reference: Reference) -> tuple[DataResponse[Store], int]:
    return DataResponse(data=reference.create_store(tenant, body)), 201


@router.get("/api/nominal-codes", tags=TAGS, summary="The tenant's nominal codes", responses=responses())
def list_nominal_codes(
    tenant: Tenant, reference: Reference, limit: Limit = 50, cursor: Cursor = None
) -> ListResponse[NominalCode]:
    codes, next_cursor = reference.list_nominal_codes(tenant, limit, cursor)
    return ListResponse(data=codes, next_cursor=next_cursor)


@router.post(
    "/api/nominal-codes", tags=TAGS, summary="Create a nominal code", responses=responses(body=True, created="201")
)
def create_nominal_code(
    body: NominalCodeCreate, tenant: Tenant, reference: Reference
) -> tuple[DataResponse[NominalCode], int]:
    return DataResponse(data=reference.create_nominal_code(tenant, body)), 201


@router.get("/api/products", tags=TAGS, summary="The tenant's internal (SKU) products", responses=responses())
def list_internal_products(
    tenant: Tenant, synced: SyncedData, limit: Limit = 50, cursor: Cursor = None
) -> ListResponse[InternalProduct]:
    items, next_cursor = synced.list_internal_products(tenant, limit, cursor)
    return ListResponse(data=items, next_cursor=next_cursor)


@router.post(
    "/api/products",
    tags=TAGS,
    summary="Create an internal (SKU) product",
    responses=responses(body=True, created="201"),
)
def create_internal_product(
    body: InternalProductCreate, tenant: Tenant, synced: SyncedData
) -> tuple[DataResponse[InternalProduct], int]:
    return DataResponse(data=synced.create_product(tenant, body)), 201


@router.patch(
    "/api/products/<product_id>",
    tags=TAGS,
    summary="Change an internal (SKU) product: name or unit cost",
    description=(
        "Only the fields sent change; the sku never does. A new cost posts at once the cost of goods sold that was "
        "held for want of it (GET .../accounting-holds shows what is still held)."
    ),
    responses=responses(404, body=True),
)
def update_internal_product(
    product_id: Annotated[int, Path(ge=1)], body: InternalProductUpdate, tenant: Tenant, products: Products
) -> DataResponse[InternalProduct]:
    return DataResponse(data=InternalProduct.model_validate(products.update(tenant, product_id, body).model_dump()))

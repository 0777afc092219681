"""What a route receives through Powertools' ``Depends``: the tenant of the request and the services it calls.

A route that needs a tenant declares ``tenant: Tenant`` (401 when the authorizer established none); a public route
simply does not. Services come from the container's composition. Tests swap any provider for a fake:
``app.dependency_overrides[dependencies.instance_service] = lambda: FakeInstances()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Depends, Request

from walmart_integration import composition
from walmart_integration.api.errors import Unauthorized

if TYPE_CHECKING:
    from walmart_integration.services.accounting import AccountingService
    from walmart_integration.services.advertising import AdvertisingService
    from walmart_integration.services.authorization import AuthorizationService
    from walmart_integration.services.instances import InstanceService
    from walmart_integration.services.products import ProductService
    from walmart_integration.services.reference import ReferenceService
    from walmart_integration.services.settlements import SettlementService
    from walmart_integration.services.synced_data import SyncedDataService


def current_tenant(request: Request) -> str:
    """The tenant the authorizer established for this request (its context's ``tenant_id``)."""
    authorizer = (request.resolved_event.raw_event.get("requestContext") or {}).get("authorizer") or {}
    tenant = authorizer.get("tenant_id")
    if not tenant:
        raise Unauthorized()
    return str(tenant)


def instance_service() -> InstanceService:
    return composition.current().instance_service


def authorization_service() -> AuthorizationService:
    return composition.current().authorization


def reference_service() -> ReferenceService:
    return composition.current().reference_service


def synced_data_service() -> SyncedDataService:
    return composition.current().synced_data_service


def settlement_service() -> SettlementService:
    return composition.current().settlement_service


def advertising_service() -> AdvertisingService:
    return composition.current().advertising


def accounting_service() -> AccountingService:
    return composition.current().accounting


def product_service() -> ProductService:
    return composition.current().product_service


Tenant = Annotated[str, Depends(current_tenant)]

if TYPE_CHECKING:
    Instances = Annotated[InstanceService, Depends(instance_service)]
    Authorizations = Annotated[AuthorizationService, Depends(authorization_service)]
    Reference = Annotated[ReferenceService, Depends(reference_service)]
    SyncedData = Annotated[SyncedDataService, Depends(synced_data_service)]
    SettlementsService = Annotated[SettlementService, Depends(settlement_service)]
    Advertising = Annotated[AdvertisingService, Depends(advertising_service)]
    Accounting = Annotated[AccountingService, Depends(accounting_service)]
    Products = Annotated[ProductService, Depends(product_service)]
else:
    # Powertools reads these annotations at run time, where the service classes stay unimported: their modules (and
    # the repositories and clients they import) load with the first request that uses them, not at the cold start.
    Instances = Annotated[Any, Depends(instance_service)]
    Authorizations = Annotated[Any, Depends(authorization_service)]
    Reference = Annotated[Any, Depends(reference_service)]
    SyncedData = Annotated[Any, Depends(synced_data_service)]
    SettlementsService = Annotated[Any, Depends(settlement_service)]
    Advertising = Annotated[Any, Depends(advertising_service)]
    Accounting = Annotated[Any, Depends(accounting_service)]
    Products = Annotated[Any, Depends(product_service)]

"""Composition: the one place that builds repositories, clients and services from ``Settings``.

Every function gets its services here: the API through its ``Depends`` providers (``api/dependencies.py``), the
workers and the authorizer from ``current()`` in their ``functions/<name>/app.py``. Nothing is built before it is
first used, and nothing touches the network until then: a handler's import stays off the cold start, and the first
invocation creates the boto3 clients it needs.

Idempotency is wired once, ``Composition.run_once`` (Powertools idempotency on the IdempotencyTable): the API's
``Idempotency-Key`` (``InstanceService``), the token job (``ConnectionService``) and the sync and backfill pages
(``MarketplaceSync``) all receive it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from walmart_integration.config import Settings, get_settings
from walmart_integration.store.idempotency import DEFAULT_EXPIRY_SECONDS

if TYPE_CHECKING:
    from walmart_integration.models.returns import ReturnOrder
    from walmart_integration.services.accounting import AccountingService
    from walmart_integration.services.ads_changes import AdsChanges
    from walmart_integration.services.ads_reports import AdsReports
    from walmart_integration.services.advertising import AdvertisingService
    from walmart_integration.services.auth import AuthService
    from walmart_integration.services.authorization import AuthorizationService
    from walmart_integration.services.connect_gateway import ConnectGateway
    from walmart_integration.services.connection import ConnectionService
    from walmart_integration.services.instances import InstanceService
    from walmart_integration.services.locations import LocationsService
    from walmart_integration.services.marketplace_sync import MarketplaceSync
    from walmart_integration.services.products import ProductService
    from walmart_integration.services.profile_discovery import ProfileDiscovery
    from walmart_integration.services.reference import ReferenceService
    from walmart_integration.services.scheduler import AutomaticSyncScheduler
    from walmart_integration.services.settlements import SettlementService
    from walmart_integration.services.synced_data import SyncedDataService
    from walmart_integration.store.advertising import AdvertisingRepository, PerformanceRepository
    from walmart_integration.store.catalog import CatalogRepository
    from walmart_integration.store.instances import InstanceRepository
    from walmart_integration.store.locations import LocationRepository
    from walmart_integration.store.queues import Queues
    from walmart_integration.store.rate_limits import RateLimiter
    from walmart_integration.store.reference import ReferenceRepository
    from walmart_integration.store.runs import RunRepository
    from walmart_integration.store.settlements import ReturnRepository, SettlementRepository
    from walmart_integration.store.synced import SyncedDataRepository
    from walmart_integration.store.tenants import TenantRepository
    from walmart_integration.store.vault import Vault
    from walmart_integration.walmart.connect import ConnectClient
    from walmart_integration.walmart.marketplace import AppCredentials, MarketplaceClient

T = TypeVar("T")


@lru_cache(maxsize=1)
def current() -> Composition:
    """This container's composition, from the environment's settings (``current.cache_clear()``: a new container)."""
    return Composition(get_settings())


@dataclass
class Composition:
    """Repositories and adapters (named after what they hold), then the use cases built on them."""

    settings: Settings
    _marketplace_clients: dict[str, MarketplaceClient] = field(default_factory=dict)

    # -- idempotency: one wiring for every caller --------------------------------------------------------
    def run_once(
        self,
        key: dict[str, Any],
        work: Callable[[], T],
        lambda_context: Any = None,
        *,
        payload: Any = None,
        expires_after_seconds: int = DEFAULT_EXPIRY_SECONDS,
    ) -> T:
        """``work`` once per ``key``; a repeat returns the first result (``store.idempotency.run_once``)."""
        from walmart_integration.store.idempotency import run_once

        return run_once(
            table_name=self.settings.idempotency_table_name,
            region=self.settings.region,
            key=key,
            work=work,
            payload=payload,
            expires_after_seconds=expires_after_seconds,
            lambda_context=lambda_context,
        )

    # -- DynamoDB, KMS, SQS ----------------------------------------------------------------------------
    @cached_property
    def instances(self) -> InstanceRepository:
        from walmart_integration.store.instances import InstanceRepository

        return InstanceRepository(self.settings.app_table_name, self.settings.region)

    @cached_property
    def reference(self) -> ReferenceRepository:
        from walmart_integration.store.reference import ReferenceRepository

        return ReferenceRepository(self.settings.app_table_name, self.settings.region)

    @cached_property
    def tenants(self) -> TenantRepository:
        from walmart_integration.store.tenants import TenantRepository

        return TenantRepository(self.settings.app_table_name, self.settings.region)

    @cached_property
    def locations(self) -> LocationRepository:
        from walmart_integration.store.locations import LocationRepository

        return LocationRepository(self.settings.data_table_name, self.settings.region)

    @cached_property
    def runs(self) -> RunRepository:
        from walmart_integration.store.runs import RunRepository

        return RunRepository(self.settings.app_table_name, self.settings.region)

    @cached_property
    def synced(self) -> SyncedDataRepository:
        from walmart_integration.store.synced import SyncedDataRepository

        return SyncedDataRepository(self.settings.data_table_name, self.settings.region)

    @cached_property
    def catalog(self) -> CatalogRepository:
        from walmart_integration.store.catalog import CatalogRepository

        return CatalogRepository(self.settings.app_table_name, self.settings.region)

    @cached_property
    def vault(self) -> Vault:
        from walmart_integration.store.vault import Vault

        return Vault(self.settings.secrets_key_id, self.settings.region)

    @cached_property
    def queues(self) -> Queues:
        from walmart_integration.store.queues import Queues

        return Queues(self.settings.region)

    @cached_property
    def limiter(self) -> RateLimiter:
        """Walmart's call budgets (Marketplace per seller, Connect per partner), shared in DynamoDB."""
        from walmart_integration.services.connect_gateway import OPERATIONS, operations_bucket
        from walmart_integration.store.rate_limits import (
            DEFAULT_LIMITS,
            BucketSpec,
            RateLimiter,
            scaled,
            with_arrival_slack,
        )

        overrides = {
            name: BucketSpec.per_minute(per_minute) for name, per_minute in self.settings.rate_limit_overrides().items()
        }
        limits = with_arrival_slack(scaled({**DEFAULT_LIMITS, **overrides}, self.settings.walmart_rate_limit_scale))
        limits[OPERATIONS] = operations_bucket(self.settings.walmart_ads_hourly_operations)
        return RateLimiter(self.settings.app_table_name, self.settings.region, limits=limits)

    # -- Walmart Marketplace ---------------------------------------------------------------------------
    def marketplace(self, environment: str) -> MarketplaceClient:
        """The Marketplace client of an environment (sandbox or production base URL), one per container."""
        if environment not in self._marketplace_clients:
            from walmart_integration.walmart.marketplace import MarketplaceClient

            self._marketplace_clients[environment] = MarketplaceClient(
                self.settings.marketplace_url(environment),
                service_name=self.settings.walmart_service_name,
                timeout_seconds=self.settings.walmart_http_timeout_seconds,
                attempts=self.settings.walmart_http_attempts,
            )
        return self._marketplace_clients[environment]

    @cached_property
    def _app_secret(self) -> Any:
        from walmart_integration.store.app_secret import AppSecret

        return AppSecret(self.settings.walmart_app_secret_name, self.settings.region)

    def app_credentials(self) -> AppCredentials:
        """Our Walmart app's client id and secret (Secrets Manager, cached): the OAuth grants' Basic auth."""
        from walmart_integration.walmart.marketplace import AppCredentials

        return AppCredentials(*self._app_secret.client_credentials())

    # -- use cases: tenants, instances, reference data ---------------------------------------------------
    @cached_property
    def auth(self) -> AuthService:
        from walmart_integration.services.auth import AuthService

        return AuthService(self.tenants)

    @cached_property
    def instance_service(self) -> InstanceService:
        from walmart_integration.services.instances import InstanceService

        return InstanceService(
            self.settings, self.instances, self.reference, self.vault, self.queues, run_once=self.run_once
        )

    @cached_property
    def authorization(self) -> AuthorizationService:
        from walmart_integration.services.authorization import AuthorizationService
        from walmart_integration.store.authorizations import AuthorizationRepository

        return AuthorizationService(
            self.settings,
            self.instances,
            AuthorizationRepository(self.settings.app_table_name, self.settings.region),
            self.vault,
            self.queues,
            self.marketplace,
            self.app_credentials,
        )

    @cached_property
    def reference_service(self) -> ReferenceService:
        from walmart_integration.services.reference import ReferenceService

        return ReferenceService(self.reference)

    # -- use cases: connection and the Marketplace sync -----------------------------------------------------
    @cached_property
    def connection(self) -> ConnectionService:
        from walmart_integration.services.connection import ConnectionService

        return ConnectionService(
            self.settings,
            self.instances,
            self.vault,
            self.queues,
            self.marketplace,
            self.limiter,
            run_once=self.run_once,
            app_credentials=self.app_credentials,
        )

    @cached_property
    def locations_service(self) -> LocationsService:
        from walmart_integration.services.locations import LocationsService

        return LocationsService(self.instances, self.locations, self.connection)

    @cached_property
    def settlements(self) -> SettlementRepository:
        from walmart_integration.store.settlements import SettlementRepository

        return SettlementRepository(self.settings.data_table_name, self.settings.region)

    @cached_property
    def returns(self) -> ReturnRepository:
        from walmart_integration.store.settlements import ReturnRepository

        return ReturnRepository(self.settings.data_table_name, self.settings.region)

    @cached_property
    def marketplace_sync(self) -> MarketplaceSync:
        """Every stream of the sync and backfill queues: products, orders, settlements, returns, the backfill."""
        from walmart_integration.services.settlements_sync import SettlementsSync

        return SettlementsSync(
            self.settings,
            self.instances,
            self.runs,
            self.synced,
            self.catalog,
            self.connection,
            self.queues,
            self.run_once,
            self.settlements,
            self.returns,
            orders_stored=lambda *args: self.accounting.orders_stored(*args),  # noqa: PLW0108 (wired on first use)
            returns_stored=self._returns_stored,
        )

    def _returns_stored(self, tenant_id: str, instance_id: str, returns: list[ReturnOrder]) -> None:
        """Accounting evaluates the sales orders a page of returns refers to (a refund made through Walmart's returns
        may owe a credit note)."""
        from walmart_integration.models.messages import AccountingJob

        orders = sorted({po for order in returns for po in order.purchase_order_ids})
        for start in range(0, len(orders), 100):
            job = AccountingJob(
                tenant_id=tenant_id, instance_id=instance_id, purchase_order_ids=orders[start : start + 100]
            )
            self.queues.send(self.settings.accounting_queue_url, job)

    @cached_property
    def synced_data_service(self) -> SyncedDataService:
        from walmart_integration.services.synced_data import SyncedDataService

        return SyncedDataService(self.settings, self.instances, self.locations, self.synced, self.catalog, self.queues)

    @cached_property
    def settlement_service(self) -> SettlementService:
        from walmart_integration.services.settlements import SettlementService

        return SettlementService(self.instances, self.settlements, self.returns)

    @cached_property
    def automatic_sync(self) -> AutomaticSyncScheduler:
        from walmart_integration.services.scheduler import AutomaticSyncScheduler

        return AutomaticSyncScheduler(self.settings, self.instances, self.queues)

    # -- Walmart Connect (advertising) -------------------------------------------------------------------
    @cached_property
    def advertising_repo(self) -> AdvertisingRepository:
        from walmart_integration.store.advertising import AdvertisingRepository

        return AdvertisingRepository(self.settings.app_table_name, self.settings.region)

    @cached_property
    def performance(self) -> PerformanceRepository:
        from walmart_integration.store.advertising import PerformanceRepository

        return PerformanceRepository(self.settings.data_table_name, self.settings.region)

    @cached_property
    def connect_client(self) -> ConnectClient:
        """The Connect client of this container; partner credentials come from Secrets Manager (cached)."""
        from walmart_integration.store.partner_secret import PartnerSecret
        from walmart_integration.walmart.connect import ConnectClient, PartnerCredentials

        secret = PartnerSecret(self.settings.walmart_ads_secret_name, self.settings.region)
        return ConnectClient(
            self.settings.walmart_ads_url,
            lambda: PartnerCredentials.from_mapping(secret.values()),
            timeout_seconds=self.settings.walmart_http_timeout_seconds,
            attempts=self.settings.walmart_http_attempts,
        )

    @cached_property
    def connect(self) -> ConnectGateway:
        from walmart_integration.services.connect_gateway import ConnectGateway

        return ConnectGateway(self.settings, lambda: self.connect_client, self.limiter)

    @cached_property
    def profile_discovery(self) -> ProfileDiscovery:
        from walmart_integration.services.profile_discovery import ProfileAssignment, ProfileDiscovery

        repo = self.advertising_repo
        return ProfileDiscovery(self.settings, repo, self.connect, self.queues, ProfileAssignment(repo))

    @cached_property
    def ads_reports(self) -> AdsReports:
        from walmart_integration.services.ads_reports import AdsReports

        return AdsReports(self.settings, self.advertising_repo, self.performance, self.connect, self.queues)

    @cached_property
    def ads_changes(self) -> AdsChanges:
        from walmart_integration.services.ads_changes import AdsChanges

        return AdsChanges(self.advertising_repo, self.connect)

    @cached_property
    def advertising(self) -> AdvertisingService:
        from walmart_integration.services.advertising import AdvertisingService

        return AdvertisingService(
            self.settings,
            self.advertising_repo,
            self.performance,
            self.queues,
            self.ads_reports,
            lambda: self.profile_discovery,
        )

    # -- accounting ---------------------------------------------------------------------------------------
    @cached_property
    def product_service(self) -> ProductService:
        from walmart_integration.services.products import ProductService

        return ProductService(self.catalog, self.accounting.product_changed)

    @cached_property
    def accounting(self) -> AccountingService:
        from walmart_integration.services.accounting import AccountingService
        from walmart_integration.store.accounting import AccountingRepository
        from walmart_integration.store.events import EventPublisher

        s = self.settings
        return AccountingService(
            s,
            self.instances,
            self.synced,
            self.catalog,
            self.reference,
            AccountingRepository(s.app_table_name, s.region),
            self.queues,
            EventPublisher(s.accounting_event_bus_name, s.region),
            settlements=self.settlements,
            returns=self.returns,
        )

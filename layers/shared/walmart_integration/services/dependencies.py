"""Wires repositories and clients from settings. Nothing here touches the network until used."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from walmart_integration.config import Settings
from walmart_integration.store.instances import InstanceRepository
from walmart_integration.store.queues import Queues
from walmart_integration.store.reference import ReferenceRepository
from walmart_integration.store.tenants import TenantRepository
from walmart_integration.store.vault import Vault

if TYPE_CHECKING:
    from walmart_integration.services.connection import ConnectionService
    from walmart_integration.services.marketplace_sync import MarketplaceSync
    from walmart_integration.store.catalog import CatalogRepository
    from walmart_integration.store.locations import LocationRepository
    from walmart_integration.store.rate_limits import RateLimiter
    from walmart_integration.store.runs import RunRepository
    from walmart_integration.store.synced import SyncedDataRepository
    from walmart_integration.walmart.marketplace import MarketplaceClient


BURST_HEADROOM = 0.97


@dataclass
class Dependencies:
    settings: Settings
    _clients: dict[str, MarketplaceClient] = field(default_factory=dict)

    @cached_property
    def instances(self) -> InstanceRepository:
        return InstanceRepository(self.settings.app_table_name, self.settings.region)

    @cached_property
    def reference(self) -> ReferenceRepository:
        return ReferenceRepository(self.settings.app_table_name, self.settings.region)

    @cached_property
    def tenants(self) -> TenantRepository:
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
    def limiter(self) -> RateLimiter:
        from walmart_integration.store.rate_limits import DEFAULT_LIMITS, BucketSpec, RateLimiter, scaled

        overrides = {
            name: BucketSpec.per_minute(per_minute) for name, per_minute in self.settings.rate_limit_overrides().items()
        }
        limits = scaled({**DEFAULT_LIMITS, **overrides}, self.settings.walmart_rate_limit_scale)
        # The same refill rate as Walmart's bucket, a slightly smaller burst: calls reach Walmart a moment after
        # their token was taken, and that jitter must not add up to a 429 when the bucket runs near empty.
        limits = {
            name: BucketSpec(max(1.0, spec.capacity * BURST_HEADROOM), spec.refill_per_second)
            for name, spec in limits.items()
        }
        return RateLimiter(self.settings.app_table_name, self.settings.region, limits=limits)

    @cached_property
    def connection(self) -> ConnectionService:
        from walmart_integration.services.connection import ConnectionService

        return ConnectionService(self.settings, self.instances, self.vault, self.queues, self.marketplace, self.limiter)

    @cached_property
    def marketplace_sync(self) -> MarketplaceSync:
        from walmart_integration.services.marketplace_sync import MarketplaceSync
        from walmart_integration.store.idempotency import run_once

        def once(key: dict[str, object], work: Callable[[], object], lambda_context: object) -> object:
            return run_once(
                table_name=self.settings.idempotency_table_name,
                region=self.settings.region,
                key=key,
                work=work,
                lambda_context=lambda_context,
            )

        return MarketplaceSync(
            self.settings,
            self.instances,
            self.runs,
            self.synced,
            self.catalog,
            self.connection,
            self.queues,
            once,
        )

    @cached_property
    def vault(self) -> Vault:
        return Vault(self.settings.secrets_key_id, self.settings.region)

    @cached_property
    def queues(self) -> Queues:
        return Queues(self.settings.region)

    def marketplace(self, environment: str) -> MarketplaceClient:
        """The Marketplace client of an environment (sandbox or production base URL), one per container."""
        if environment not in self._clients:
            from walmart_integration.walmart.marketplace import MarketplaceClient

            self._clients[environment] = MarketplaceClient(
                self.settings.marketplace_url(environment),
                service_name=self.settings.walmart_service_name,
                timeout_seconds=self.settings.walmart_http_timeout_seconds,
                attempts=self.settings.walmart_http_attempts,
            )
        return self._clients[environment]

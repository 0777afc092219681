"""Wires repositories and clients from settings. Nothing here touches the network until used."""

from __future__ import annotations

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
    from walmart_integration.store.locations import LocationRepository
    from walmart_integration.walmart.marketplace import MarketplaceClient


@dataclass
class Dependencies:
    settings: Settings
    overrides: dict[str, object] = field(default_factory=dict)

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
    def vault(self) -> Vault:
        return Vault(self.settings.secrets_key_id, self.settings.region)

    @cached_property
    def queues(self) -> Queues:
        return Queues(self.settings.region)

    def marketplace(self, environment: str) -> MarketplaceClient:
        """A Marketplace client for an instance's environment (sandbox or production base URL)."""
        factory = self.overrides.get("marketplace")
        if callable(factory):
            return factory(environment)  # type: ignore[no-any-return]
        from walmart_integration.walmart.marketplace import MarketplaceClient

        return MarketplaceClient(
            self.settings.marketplace_url(environment),
            service_name=self.settings.walmart_service_name,
            timeout_seconds=self.settings.walmart_http_timeout_seconds,
            attempts=self.settings.walmart_http_attempts,
        )

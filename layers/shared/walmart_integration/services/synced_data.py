"""Reading what was synced (locations, products, orders), starting runs, and internal products."""

from __future__ import annotations

from datetime import datetime

from walmart_integration.config import Settings
from walmart_integration.errors import Conflict, ValidationFailed
from walmart_integration.models.common import new_id
from walmart_integration.models.instance import Job
from walmart_integration.models.marketplace import (
    InternalProduct,
    InternalProductCreate,
    LocationView,
    OrderView,
    ProductView,
    SyncStarted,
)
from walmart_integration.models.messages import SYNC_STREAMS, BackfillJob, LocationsJob, SyncJob
from walmart_integration.store.catalog import CatalogRepository
from walmart_integration.store.instances import InstanceRepository
from walmart_integration.store.locations import LocationRepository
from walmart_integration.store.queues import Queues
from walmart_integration.store.synced import SyncedDataRepository


class SyncedDataService:
    def __init__(
        self,
        settings: Settings,
        instances: InstanceRepository,
        locations: LocationRepository,
        synced: SyncedDataRepository,
        catalog: CatalogRepository,
        queues: Queues,
    ) -> None:
        self.settings = settings
        self.instances = instances
        self.locations = locations
        self.synced = synced
        self.catalog = catalog
        self.queues = queues

    def list_locations(
        self, tenant_id: str, instance_id: str, limit: int, cursor: str | None
    ) -> tuple[list[LocationView], str | None]:
        self.instances.get(tenant_id, instance_id)  # 404 for an unknown or another tenant's instance
        items, next_cursor = self.locations.page(tenant_id, instance_id, limit, cursor)
        return [LocationView.model_validate(item.model_dump()) for item in items], next_cursor

    def list_products(
        self, tenant_id: str, instance_id: str, limit: int, cursor: str | None
    ) -> tuple[list[ProductView], str | None]:
        self.instances.get(tenant_id, instance_id)
        items, next_cursor = self.synced.page_products(tenant_id, instance_id, limit, cursor)
        return [ProductView.model_validate(item.model_dump()) for item in items], next_cursor

    def list_orders(
        self,
        tenant_id: str,
        instance_id: str,
        limit: int,
        cursor: str | None,
        status: str | None,
        updated_since: str | None,
    ) -> tuple[list[OrderView], str | None]:
        self.instances.get(tenant_id, instance_id)
        if updated_since is not None:
            updated_since = _iso_utc(updated_since)
        items, next_cursor = self.synced.page_orders(tenant_id, instance_id, limit, cursor, status, updated_since)
        return [OrderView.model_validate(item.model_dump()) for item in items], next_cursor

    def start_sync(self, tenant_id: str, instance_id: str, streams: list[str]) -> SyncStarted:
        """A fresh run of the given streams (202); the instance must be connected."""
        record = self.instances.get(tenant_id, instance_id)
        if record.status != "connected":
            raise Conflict(f"The instance is {record.status}, not connected: it cannot sync yet.")
        run_id = new_id()
        base = {
            "tenant_id": tenant_id,
            "instance_id": instance_id,
            "run_id": run_id,
            "credentials_version": record.credentials_version,
        }
        wanted = list(dict.fromkeys(streams))
        queued = {stream: Job(status="queued", run_id=run_id) for stream in wanted}
        if not self.instances.save_progress(tenant_id, instance_id, record.credentials_version, queued):
            raise Conflict("The instance changed meanwhile; read it again and retry.")
        if "locations" in wanted:
            self.queues.send(self.settings.locations_queue_url, LocationsJob.model_validate(base))
        sync_jobs = [SyncJob.model_validate({**base, "stream": s}) for s in wanted if s in SYNC_STREAMS]
        if sync_jobs:
            self.queues.send_many(self.settings.sync_queue_url, list(sync_jobs))
        if "backfill" in wanted:
            self.queues.send(self.settings.backfill_queue_url, BackfillJob.model_validate(base))
        return SyncStarted(run_id=run_id, streams=wanted)

    def create_product(self, tenant_id: str, body: InternalProductCreate) -> InternalProduct:
        return InternalProduct.model_validate(
            self.catalog.create(tenant_id, body.sku, body.name, body.cost).model_dump()
        )

    def list_internal_products(
        self, tenant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[InternalProduct], str | None]:
        items, next_cursor = self.catalog.page(tenant_id, limit, cursor)
        return [InternalProduct.model_validate(item.model_dump()) for item in items], next_cursor


def _iso_utc(value: str) -> str:
    """``updated_since`` as the ISO 8601 UTC form our records carry (a date means its midnight UTC)."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            {"updated_since": ["Use an ISO 8601 date or date-time, e.g. 2026-06-01T00:00:00Z."]}
        ) from None
    if moment.tzinfo is not None:
        from datetime import UTC

        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

"""The locations job: the seller's ship nodes, upserted; nodes that disappeared marked inactive."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from walmart_integration.errors import RetryLater
from walmart_integration.models.common import iso, utcnow
from walmart_integration.models.instance import Job
from walmart_integration.models.locations import LocationAddress, LocationRecord
from walmart_integration.models.messages import LocationsJob
from walmart_integration.observability import MetricUnit, logger, metrics
from walmart_integration.services.connection import ConnectionService
from walmart_integration.store.instances import InstanceRepository
from walmart_integration.store.locations import LocationRepository
from walmart_integration.walmart.errors import WalmartAuthError, WalmartError, WalmartRateLimited, WalmartUnavailable
from walmart_integration.worker import Delivery

# What Walmart says about a ship node; the rest of a location record is ours.
NODE_FIELDS = {"id", "name", "type", "status", "time_zone", "address"}


def location_from_ship_node(node: dict[str, Any]) -> LocationRecord | None:
    """Our location record from a Walmart ship node; None when it has no id."""
    node_id = node.get("shipNode")
    if not node_id:
        return None
    address = node.get("postalAddress") or {}
    return LocationRecord(
        id=str(node_id),
        name=node.get("shipNodeName"),
        type=node.get("nodeType"),
        status=(node.get("status") or "ACTIVE").upper(),
        time_zone=node.get("timeZone"),
        address=LocationAddress(
            line1=address.get("addressLine1"),
            line2=address.get("addressLine2"),
            city=address.get("city"),
            state=address.get("state"),
            postal_code=address.get("postalCode"),
            country=address.get("country"),
        ),
    )


def _walmart_side(location: LocationRecord) -> dict[str, Any]:
    return location.model_dump(include=NODE_FIELDS)


class LocationsService:
    def __init__(
        self,
        instances: InstanceRepository,
        locations: LocationRepository,
        connection: ConnectionService,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.instances = instances
        self.locations = locations
        self.connection = connection
        self.clock = clock

    def sync(self, job: LocationsJob, delivery: Delivery) -> None:
        record = self.instances.find(job.tenant_id, job.instance_id)
        if record is None or record.credentials_version != job.credentials_version:
            logger.info("Locations job dropped: the instance is gone or its credentials changed")
            return
        started = iso(self.clock())

        def save(state: Job, status: str | None = None) -> None:
            self.instances.save_progress(
                job.tenant_id, job.instance_id, job.credentials_version, {"locations": state}, status=status
            )

        save(Job(status="running", started_at=started))
        try:
            nodes = self._ship_nodes(record)
        except WalmartAuthError as error:
            save(
                Job(status="failed", started_at=started, finished_at=iso(self.clock()), error=error.message),
                status="credentials_invalid",
            )
            return
        except (WalmartUnavailable, WalmartRateLimited) as error:
            if delivery.is_last_attempt:
                save(Job(status="failed", started_at=started, finished_at=iso(self.clock()), error=error.message))
                raise RuntimeError(f"Locations job failed after {delivery.receive_count} attempts") from error
            save(Job(status="queued", started_at=started, error=f"Retrying: {error.message}"))
            delay = error.retry_after_seconds if isinstance(error, WalmartRateLimited) else None
            raise RetryLater(error.message, delay, throttled=isinstance(error, WalmartRateLimited)) from error
        except WalmartError as error:
            save(Job(status="failed", started_at=started, finished_at=iso(self.clock()), error=error.message))
            return
        written = self._store(job.tenant_id, job.instance_id, nodes)
        metrics.add_metric(name="LocationsWritten", unit=MetricUnit.Count, value=written)
        save(Job(status="succeeded", records=len(nodes), started_at=started, finished_at=iso(self.clock())))

    def _ship_nodes(self, record: Any) -> list[LocationRecord]:
        raw = self.connection.call(record, "shipnodes", lambda client, token: client.ship_nodes(token))
        nodes = [loc for loc in (location_from_ship_node(node) for node in raw) if loc is not None]
        return list({loc.id: loc for loc in nodes}.values())

    def _store(self, tenant_id: str, instance_id: str, nodes: list[LocationRecord]) -> int:
        """Write only what changed: new or changed nodes, and vanished nodes turned INACTIVE."""
        existing = self.locations.all(tenant_id, instance_id)
        now = iso(self.clock())
        seen = {node.id for node in nodes}
        writes = []
        for node in nodes:
            old = existing.get(node.id)
            if old is None or _walmart_side(old) != _walmart_side(node) or old.removed_at:
                writes.append(node.model_copy(update={"removed_at": None, "synced_at": now}))
        for node_id, old in existing.items():
            if node_id not in seen and old.status != "INACTIVE":
                writes.append(old.model_copy(update={"status": "INACTIVE", "removed_at": now, "synced_at": now}))
        self.locations.put_many(tenant_id, instance_id, writes)
        return len(writes)

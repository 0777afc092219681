"""Automatic sync: every 15 minutes, an incremental run for instances with ``is_automatic_sync_enabled``."""

from __future__ import annotations

from walmart_integration.config import Settings
from walmart_integration.models.common import new_id
from walmart_integration.models.messages import SYNC_STREAMS, SyncJob
from walmart_integration.observability import logger
from walmart_integration.store.instances import InstanceRepository
from walmart_integration.store.queues import Queues


class AutomaticSyncScheduler:
    def __init__(self, settings: Settings, instances: InstanceRepository, queues: Queues) -> None:
        self.settings = settings
        self.instances = instances
        self.queues = queues

    def run(self) -> int:
        """Enqueue a run of every sync stream (``SYNC_STREAMS``) for each connected auto-sync instance (sparse index,
        no scan)."""
        jobs: list[SyncJob] = []
        for record in self.instances.automatic_sync_instances():
            if record.status != "connected":
                continue
            run_id = new_id()
            for stream in SYNC_STREAMS:
                jobs.append(
                    SyncJob(
                        tenant_id=record.tenant_id,
                        instance_id=record.id,
                        run_id=run_id,
                        credentials_version=record.credentials_version,
                        stream=stream,
                    )
                )
        self.queues.send_many(self.settings.sync_queue_url, list(jobs))
        logger.info("Automatic sync scheduled", extra={"jobs": len(jobs)})
        return len(jobs)

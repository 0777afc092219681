"""Products and orders sync (incremental) and the historical backfill.

Not built yet (issue #3): a job for them is acknowledged on the instance as ``skipped`` with the
reason, so a user sees exactly what happened and nothing waits forever in a queue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from walmart_integration.models.common import iso, utcnow
from walmart_integration.models.instance import Job
from walmart_integration.models.messages import BackfillJob, SyncJob
from walmart_integration.observability import logger
from walmart_integration.store.instances import InstanceRepository
from walmart_integration.worker import Delivery

NOT_AVAILABLE = "{stream} sync is not available in this release yet; the job will run once it ships."


class SyncService:
    def __init__(self, instances: InstanceRepository, clock: Callable[[], datetime] = utcnow) -> None:
        self.instances = instances
        self.clock = clock

    def sync(self, job: SyncJob, delivery: Delivery) -> None:
        self._skip(job.tenant_id, job.instance_id, job.credentials_version, job.stream)

    def backfill(self, job: BackfillJob, delivery: Delivery) -> None:
        self._skip(job.tenant_id, job.instance_id, job.credentials_version, "backfill")

    def _skip(self, tenant_id: str, instance_id: str, credentials_version: int, stream: str) -> None:
        now = iso(self.clock())
        message = NOT_AVAILABLE.format(stream=stream.capitalize())
        state = Job(status="skipped", started_at=now, finished_at=now, error=message)
        if not self.instances.save_progress(tenant_id, instance_id, credentials_version, {stream: state}):
            logger.info("Job dropped: the instance is gone or its credentials changed")

"""Connecting an instance to Walmart: the token job, and access tokens for the other workers."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from walmart_integration.config import Settings
from walmart_integration.errors import RetryLater
from walmart_integration.models.common import iso, new_id, utcnow
from walmart_integration.models.instance import InstanceRecord, Job
from walmart_integration.models.messages import BackfillJob, LocationsJob, SyncJob, TokenJob
from walmart_integration.observability import MetricUnit, logger, metrics
from walmart_integration.services.instances import open_credentials
from walmart_integration.services.ports import Instances, MarketplaceApi, MessageQueues, Secrets
from walmart_integration.walmart.errors import WalmartAuthError, WalmartError, WalmartRateLimited, WalmartUnavailable
from walmart_integration.walmart.marketplace import AccessToken
from walmart_integration.worker import Delivery

TOKEN_MARGIN_SECONDS = 60


class Limiter(Protocol):
    """The seller's shared budget of Walmart calls (store.rate_limits.RateLimiter)."""

    def acquire(self, seller_key: str, endpoint: str, cost: float = 1.0) -> float: ...

    def penalize(self, seller_key: str, endpoint: str, retry_after_seconds: float) -> None: ...


def seller_key(record: InstanceRecord) -> str:
    """Whose rate budget a call spends: Walmart limits per seller (its credentials) and environment."""
    return f"{record.environment}:{record.client_id}"


def token_context(tenant_id: str, instance_id: str) -> dict[str, str]:
    return {"tenant_id": tenant_id, "instance_id": instance_id, "purpose": "walmart-access-token"}


class ConnectionService:
    def __init__(
        self,
        settings: Settings,
        instances: Instances,
        vault: Secrets,
        queues: MessageQueues,
        marketplace: Callable[[str], MarketplaceApi],
        limiter: Limiter | None = None,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.sleep = sleep
        self.limiter = limiter
        self.settings = settings
        self.instances = instances
        self.vault = vault
        self.queues = queues
        self.marketplace = marketplace
        self.clock = clock

    def connect(self, job: TokenJob, delivery: Delivery) -> None:
        """Fetch a token for the instance's current credentials, then start its sync jobs."""
        record = self.instances.find(job.tenant_id, job.instance_id)
        if record is None or record.credentials_version != job.credentials_version or not record.has_credentials:
            logger.info("Token job dropped: the instance is gone or its credentials changed")
            return
        started = iso(self.clock())
        self._save(record, {"token": Job(status="running", started_at=started)}, status="connecting")
        try:
            token = self._fetch(record)
        except WalmartAuthError as error:
            metrics.add_metric(name="CredentialsRejected", unit=MetricUnit.Count, value=1)
            failed = Job(status="failed", started_at=started, finished_at=iso(self.clock()), error=error.message)
            self._save(record, {"token": failed}, status="credentials_invalid")
            return
        except (WalmartUnavailable, WalmartRateLimited) as error:
            self._transient_failure(record, started, error, delivery)
            return
        except WalmartError as error:
            failed = Job(status="failed", started_at=started, finished_at=iso(self.clock()), error=error.message)
            self._save(record, {"token": failed}, status="error")
            return
        run_id = new_id()
        queued = {name: Job(status="queued") for name in ("locations", "products", "orders", "backfill")}
        done = Job(status="succeeded", records=1, started_at=started, finished_at=iso(self.clock()))
        if not self._save(
            record, {"token": done, **queued}, status="connected", extra=self._token_attributes(record, token)
        ):
            return
        self._enqueue_sync_jobs(record, run_id)
        metrics.add_metric(name="InstancesConnected", unit=MetricUnit.Count, value=1)

    def access_token(self, record: InstanceRecord, force_new: bool = False) -> str:
        """A usable access token for the instance: the cached one, or a new one (stored encrypted)."""
        now = self.clock()
        if not force_new and record.access_token and record.access_token_expires_at:
            cached = AccessToken("", record.access_token_expires_at.astimezone(UTC))
            if cached.usable(now, TOKEN_MARGIN_SECONDS):
                return self.vault.decrypt(record.access_token, token_context(record.tenant_id, record.id)).decode()
        token = self._fetch(record)
        self.instances.save_progress(
            record.tenant_id, record.id, record.credentials_version, {}, extra=self._token_attributes(record, token)
        )
        return token.value

    def call(self, record: InstanceRecord, endpoint: str, call: Callable[[Any, str], Any]) -> Any:
        """One Walmart call within the seller's budget, with one token refresh if the token is refused.

        Our budget being spent is a ``RetryLater`` for the wait; a Walmart 429 empties our budget
        until Walmart's replenishment time, then surfaces as ``WalmartRateLimited``.
        """
        if self.limiter is not None:
            wait = self.limiter.acquire(seller_key(record), endpoint)
            if 0 < wait <= self.settings.pacing_wait_seconds:
                # A token due within a second is cheaper to wait for here than through SQS, whose delays
                # are whole seconds; anything longer is deferred. (Walmart's own 429s are never slept through.)
                self.sleep(wait)
                wait = self.limiter.acquire(seller_key(record), endpoint)
            if wait > 0:
                metrics.add_metric(name="RateLimitDeferrals", unit=MetricUnit.Count, value=1)
                raise RetryLater(
                    f"Walmart budget for {endpoint} spent; next call in {wait:.1f} s", wait, throttled=True
                )
        client = self.marketplace(record.environment)
        try:
            try:
                return call(client, self.access_token(record))
            except WalmartAuthError:
                return call(client, self.access_token(record, force_new=True))
        except WalmartRateLimited as error:
            metrics.add_metric(name="WalmartThrottled", unit=MetricUnit.Count, value=1)
            if self.limiter is not None:
                self.limiter.penalize(seller_key(record), endpoint, error.retry_after_seconds)
            raise

    # -- helpers -----------------------------------------------------------------------------
    def _fetch(self, record: InstanceRecord) -> AccessToken:
        client_id, client_secret = open_credentials(self.vault, record)
        client = self.marketplace(record.environment)
        return client.fetch_token(client_id, client_secret, now=self.clock())

    def _token_attributes(self, record: InstanceRecord, token: AccessToken) -> dict[str, object]:
        sealed = self.vault.encrypt(token.value.encode(), token_context(record.tenant_id, record.id))
        return {"access_token": sealed, "access_token_expires_at": token.expires_at}

    def _save(
        self, record: InstanceRecord, jobs: dict[str, Job], status: str, extra: dict[str, object] | None = None
    ) -> bool:
        return self.instances.save_progress(
            record.tenant_id, record.id, record.credentials_version, jobs, status=status, extra=extra
        )

    def _transient_failure(
        self, record: InstanceRecord, started: str | None, error: WalmartError, delivery: Delivery
    ) -> None:
        metrics.add_metric(name="WalmartTransientErrors", unit=MetricUnit.Count, value=1)
        if delivery.is_last_attempt:
            failed = Job(status="failed", started_at=started, finished_at=iso(self.clock()), error=error.message)
            self._save(record, {"token": failed}, status="error")
            # Failing this last delivery hands the message to the dead-letter queue.
            raise RuntimeError(f"Token job failed after {delivery.receive_count} attempts: {error.message}")
        retrying = Job(status="queued", started_at=started, error=f"Retrying: {error.message}")
        self._save(record, {"token": retrying}, status="connecting")
        delay = error.retry_after_seconds if isinstance(error, WalmartRateLimited) else None
        raise RetryLater(error.message, delay, throttled=isinstance(error, WalmartRateLimited))

    def _enqueue_sync_jobs(self, record: InstanceRecord, run_id: str) -> None:
        ids = {
            "tenant_id": record.tenant_id,
            "instance_id": record.id,
            "run_id": run_id,
            "credentials_version": record.credentials_version,
        }
        self.queues.send(self.settings.locations_queue_url, LocationsJob.model_validate(ids))
        self.queues.send_many(
            self.settings.sync_queue_url,
            [SyncJob.model_validate({**ids, "stream": stream}) for stream in ("products", "orders")],
        )
        self.queues.send(self.settings.backfill_queue_url, BackfillJob.model_validate(ids))

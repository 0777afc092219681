"""Connecting an instance to Walmart: the token job, and access tokens for the other workers.

An instance connects with the seller's own API keys (client credentials) or with the seller's OAuth 2.0 authorization
of our app (a refresh token; ``services/authorization.py`` obtains it). Either way an access token lives 15 minutes
(docs/walmart/specs/marketplace__authentication.openapi.json, ``tokenAPI``: "Token Lifetimes") and every worker of the
connection shares it: the one that finds it expiring takes a lease on the instance and renews it, the others wait a
moment (``RetryLater``, no sleeping) and use the new one. One token call per token, whatever the number of workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from walmart_integration.config import Settings
from walmart_integration.errors import RetryLater
from walmart_integration.models.common import iso, new_id, utcnow
from walmart_integration.models.instance import InstanceRecord, Job
from walmart_integration.models.messages import SYNC_STREAMS, BackfillJob, LocationsJob, SyncJob, TokenJob
from walmart_integration.observability import MetricUnit, logger, metrics
from walmart_integration.services.instances import open_credentials
from walmart_integration.services.ports import Instances, MarketplaceApi, MessageQueues, Secrets
from walmart_integration.walmart.errors import (
    WalmartAuthError,
    WalmartError,
    WalmartGrantRefused,
    WalmartRateLimited,
    WalmartUnavailable,
)
from walmart_integration.walmart.marketplace import AccessToken, AppCredentials
from walmart_integration.worker import Delivery

if TYPE_CHECKING:
    from walmart_integration.store.idempotency import RunOnce

TOKEN_JOB_ONCE_SECONDS = 3600  # a duplicate delivery of a finished token job within this time does nothing
# How long the worker renewing a connection's token holds it for: longer than a token call with its retries (HTTP
# timeout x attempts, plus backoff), so two workers never renew at once; a worker that died frees it after this long.
TOKEN_LEASE_SECONDS = 45.0
TOKEN_WAIT_SECONDS = 2.0  # a worker finding the token being renewed looks again this much later (through SQS)
TOKEN_REFUSALS_RETRIED = 2  # a call refused for its token is repeated with a renewed one this many times


class Limiter(Protocol):
    """The seller's shared budget of Walmart calls (store.rate_limits.RateLimiter)."""

    def acquire(self, seller_key: str, endpoint: str, cost: float = 1.0) -> float: ...

    def penalize(self, seller_key: str, endpoint: str, retry_after_seconds: float) -> None: ...


def seller_key(record: InstanceRecord) -> str:
    """Whose rate budget a call spends: Walmart limits per seller and environment (docs/walmart/FACTS.md, "Rate
    limits"). With OAuth that is Walmart's seller id (``sellerId``, sent as ``WM_PARTNER.ID``): our app's client id is
    the same for every seller. With the seller's own API keys, the client id stands for the seller."""
    if record.auth_method == "oauth" and record.seller_id:
        return f"{record.environment}:seller:{record.seller_id}"
    return f"{record.environment}:{record.client_id}"


def token_context(tenant_id: str, instance_id: str) -> dict[str, str]:
    return {"tenant_id": tenant_id, "instance_id": instance_id, "purpose": "walmart-access-token"}


def refresh_token_context(tenant_id: str, instance_id: str) -> dict[str, str]:
    """KMS encryption context of an instance's OAuth refresh token."""
    return {"tenant_id": tenant_id, "instance_id": instance_id, "purpose": "walmart-refresh-token"}


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
        run_once: RunOnce | None = None,
        app_credentials: Callable[[], AppCredentials] | None = None,
    ) -> None:
        self.app_credentials = app_credentials
        # The access token this container last used per connection (tenant, instance, credentials version): a warm
        # worker neither reads nor decrypts it again until it expires or Walmart refuses it.
        self._tokens: dict[tuple[str, str, int], AccessToken] = {}
        self.sleep = sleep
        self.run_once = run_once
        self.limiter = limiter
        self.settings = settings
        self.instances = instances
        self.vault = vault
        self.queues = queues
        self.marketplace = marketplace
        self.clock = clock

    def connect(self, job: TokenJob, delivery: Delivery) -> None:
        """The token job: once per credentials version (Powertools idempotency), a duplicate delivery of a finished
        job does nothing."""
        if self.run_once is None:
            self._connect(job, delivery)
            return
        self.run_once(
            {"operation": "token", **job.model_dump()},
            lambda: self._connect(job, delivery),
            delivery.lambda_context,
            expires_after_seconds=TOKEN_JOB_ONCE_SECONDS,
        )

    def _connect(self, job: TokenJob, delivery: Delivery) -> None:
        """Fetch a token for the instance's current credentials, then start its sync jobs."""
        record = self.instances.find(job.tenant_id, job.instance_id)
        if record is None or record.credentials_version != job.credentials_version or not record.has_credentials:
            logger.info("Token job dropped: the instance is gone or its credentials changed")
            return
        started = iso(self.clock())
        self._save(record, {"token": Job(status="running", started_at=started)}, status="connecting")
        try:
            # OAuth: the access token the authorization's callback stored; client credentials: a new one.
            self.access_token(record)
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
        queued = {name: Job(status="queued") for name in ("locations", *SYNC_STREAMS, "backfill")}
        done = Job(status="succeeded", records=1, started_at=started, finished_at=iso(self.clock()))
        if not self._save(record, {"token": done, **queued}, status="connected"):
            return
        self._enqueue_sync_jobs(record, run_id)
        metrics.add_metric(name="InstancesConnected", unit=MetricUnit.Count, value=1)

    def access_token(self, record: InstanceRecord, refused: str | None = None) -> str:
        """A usable access token for the connection: this container's, the stored one (KMS), or a renewed one that
        every worker then shares. ``refused``: the token Walmart just refused, renewed unless someone already did."""
        key = (record.tenant_id, record.id, record.credentials_version)
        now = self.clock()
        margin = self.settings.token_refresh_margin_seconds
        cached = self._tokens.get(key)
        if cached is not None and cached.value != refused and cached.usable(now, margin):
            return cached.value
        stored = record.access_token_expires_at.astimezone(UTC) if record.access_token_expires_at else None
        if record.access_token and stored and (cached is None or stored > cached.expires_at):
            token = AccessToken(self._open(record.access_token, record), stored)
            if token.value != refused and token.usable(now, margin):
                self._tokens[key] = token
                return token.value
            cached = token
        return self._renew(record, cached.expires_at if cached else None)

    def _renew(self, record: InstanceRecord, seen_expiry: datetime | None) -> str:
        """Renew the connection's token under a lease on the instance, or use the one another worker just renewed."""
        key = (record.tenant_id, record.id, record.credentials_version)
        for _ in range(2):  # (a second time when the token another worker stored has expired as well)
            owner = new_id()
            now = self.clock()
            current = self.instances.acquire_token_lease(
                record.tenant_id,
                record.id,
                record.credentials_version,
                seen_expiry,
                owner,
                now.timestamp(),
                now.timestamp() + TOKEN_LEASE_SECONDS,
            )
            if current is not None:
                token = self._renew_under_lease(current, owner)
                self._tokens[key] = token
                return token.value
            fresh = self.instances.find(record.tenant_id, record.id)
            if fresh is None or fresh.credentials_version != record.credentials_version:
                raise RetryLater("The instance was deleted or reconnected meanwhile", 1.0, throttled=True)
            if fresh.status == "credentials_invalid":
                # Walmart refused this connection's credentials or refresh token: no call until it is reconnected.
                reason = (fresh.jobs.get("token") or Job()).error or "Walmart refused the connection's credentials."
                raise WalmartGrantRefused(reason)
            expiry = fresh.access_token_expires_at.astimezone(UTC) if fresh.access_token_expires_at else None
            if not (fresh.access_token and expiry and expiry != seen_expiry):
                break  # the token we saw is being renewed by another worker
            token = AccessToken(self._open(fresh.access_token, fresh), expiry)
            if token.usable(self.clock(), self.settings.token_refresh_margin_seconds):
                self._tokens[key] = token
                return token.value
            seen_expiry = expiry
        metrics.add_metric(name="TokenRenewalWaits", unit=MetricUnit.Count, value=1)
        raise RetryLater("Another worker is renewing the Walmart access token", TOKEN_WAIT_SECONDS, throttled=True)

    def _renew_under_lease(self, current: InstanceRecord, owner: str) -> AccessToken:
        """Walmart's new token, stored for every worker (KMS), the lease released; a refusal is recorded."""
        tenant_id, instance_id = current.tenant_id, current.id
        try:
            token, rotated = self._walmart_token(current)
        except WalmartAuthError as error:
            self._refused(current, error)
            self.instances.release_token_lease(tenant_id, instance_id, owner)
            raise
        except BaseException:
            self.instances.release_token_lease(tenant_id, instance_id, owner)
            raise
        sealed_refresh = (
            self.vault.encrypt(rotated.encode(), refresh_token_context(tenant_id, instance_id)) if rotated else None
        )
        sealed = self.vault.encrypt(token.value.encode(), token_context(tenant_id, instance_id))
        self.instances.store_token(
            tenant_id, instance_id, current.credentials_version, owner, sealed, token.expires_at, sealed_refresh
        )
        return token

    def _walmart_token(self, record: InstanceRecord) -> tuple[AccessToken, str | None]:
        """A new access token from Walmart (and a refresh token, if Walmart rotated it)."""
        metrics.add_metric(name="WalmartTokenCalls", unit=MetricUnit.Count, value=1)
        client = self.marketplace(record.environment)
        if record.auth_method == "oauth" and record.refresh_token is not None and record.seller_id:
            if self.app_credentials is None:
                raise RuntimeError("ConnectionService was built without the app's credentials: OAuth cannot refresh")
            refresh_token = self.vault.decrypt(
                record.refresh_token, refresh_token_context(record.tenant_id, record.id)
            ).decode()
            tokens = client.refresh(self.app_credentials(), record.seller_id, refresh_token, now=self.clock())
            rotated = tokens.refresh_token if tokens.refresh_token not in (None, refresh_token) else None
            return tokens.access, rotated
        client_id, client_secret = open_credentials(self.vault, record)
        return client.fetch_token(client_id, client_secret, now=self.clock()), None

    def _refused(self, record: InstanceRecord, error: WalmartAuthError) -> None:
        """Walmart refused the credentials or the refresh token (the seller disconnected our app): the instance is
        ``credentials_invalid`` with Walmart's reason on ``jobs.token.error``; its work stops until it reconnects."""
        metrics.add_metric(name="CredentialsRejected", unit=MetricUnit.Count, value=1)
        token_job = record.jobs.get("token") or Job()
        failed = Job(
            status="failed", started_at=token_job.started_at, finished_at=iso(self.clock()), error=error.message
        )
        self._save(record, {"token": failed}, status="credentials_invalid")

    def _open(self, sealed: bytes, record: InstanceRecord) -> str:
        return self.vault.decrypt(sealed, token_context(record.tenant_id, record.id)).decode()

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
        token = self.access_token(record)
        try:
            for _ in range(TOKEN_REFUSALS_RETRIED):
                try:
                    return call(client, token)
                except WalmartAuthError:
                    # Renewed, unless another worker already did; the token it stored may be refused in turn by the
                    # time we use it (many workers share one token), so a refusal is retried with a newer token a
                    # few times. Credentials Walmart refuses fail at the renewal itself (POST /v3/token).
                    token = self.access_token(record, refused=token)
            return call(client, token)
        except WalmartRateLimited as error:
            metrics.add_metric(name="WalmartThrottled", unit=MetricUnit.Count, value=1)
            if self.limiter is not None:
                self.limiter.penalize(seller_key(record), endpoint, error.retry_after_seconds)
            raise

    # -- helpers -----------------------------------------------------------------------------
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
            [SyncJob.model_validate({**ids, "stream": stream}) for stream in SYNC_STREAMS],
        )
        self.queues.send(self.settings.backfill_queue_url, BackfillJob.model_validate(ids))

"""ConnectionService on in-memory stores and a fake Walmart: the token job, cached and refreshed access tokens, and
calls within the seller's budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.unit.fakes import Clock, FakeInstances, FakeMarketplace, FakeQueues, FakeVault
from walmart_integration.config import Settings
from walmart_integration.errors import RetryLater
from walmart_integration.models.common import new_id
from walmart_integration.models.instance import InstanceRecord, Job
from walmart_integration.models.messages import TokenJob
from walmart_integration.services.connection import ConnectionService, seller_key, token_context
from walmart_integration.services.instances import credentials_context, fresh_jobs
from walmart_integration.walmart.errors import WalmartAuthError, WalmartRateLimited, WalmartUnavailable
from walmart_integration.worker import Delivery

QUEUES = {
    "token_queue_url": "q/token",
    "locations_queue_url": "q/locations",
    "sync_queue_url": "q/sync",
    "backfill_queue_url": "q/backfill",
}
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TENANT = "t1"


class Limiter:
    """The seller's budget: ``waits`` answers the acquires in turn (then 0: a token is there)."""

    def __init__(self, *waits: float) -> None:
        self.waits = list(waits)
        self.acquired: list[tuple[str, str]] = []
        self.penalties: list[tuple[str, str, float]] = []

    def acquire(self, seller_key: str, endpoint: str, cost: float = 1.0) -> float:
        self.acquired.append((seller_key, endpoint))
        return self.waits.pop(0) if self.waits else 0.0

    def penalize(self, seller_key: str, endpoint: str, retry_after_seconds: float) -> None:
        self.penalties.append((seller_key, endpoint, retry_after_seconds))


class World:
    def __init__(self, limiter: Limiter | None = None) -> None:
        self.instances = FakeInstances()
        self.vault = FakeVault()
        self.queues = FakeQueues()
        self.walmart = FakeMarketplace({"client-1": "secret-1"})
        self.clock = Clock(NOW)
        self.slept: list[float] = []
        self.service = ConnectionService(
            Settings.model_validate(QUEUES),
            self.instances,
            self.vault,
            self.queues,
            self.walmart.for_environment,
            limiter,
            clock=self.clock,
            sleep=self.slept.append,
        )

    def instance(self, secret: str = "secret-1", version: int = 1) -> InstanceRecord:
        instance_id = new_id()
        sealed = self.vault.encrypt(
            f'{{"clientId": "client-1", "clientSecret": "{secret}"}}'.encode(), credentials_context(TENANT, instance_id)
        )
        record = InstanceRecord(
            tenant_id=TENANT,
            id=instance_id,
            name=f"instance {instance_id}",
            integration_id=1,
            environment="sandbox",
            client_id="client-1",
            has_client_secret=True,
            credentials=sealed,
            credentials_version=version,
            integration_settings={"start_date": "2026-01-01", "store_id": 1},
            jobs=fresh_jobs(True),
            created_at=NOW,
            updated_at=NOW,
        )
        self.instances.create(record)
        return record

    def connect(self, record: InstanceRecord, receive_count: int = 1, version: int | None = None) -> None:
        job = TokenJob(
            tenant_id=TENANT, instance_id=record.id, credentials_version=version or record.credentials_version
        )
        self.service.connect(job, Delivery(receive_count, 5))

    def stored(self, record: InstanceRecord) -> InstanceRecord:
        return self.instances.get(TENANT, record.id)


def test_a_token_connects_the_instance_and_starts_every_job_of_one_run() -> None:
    world = World()
    record = world.instance()
    world.connect(record)
    stored = world.stored(record)
    assert stored.status == "connected"
    assert stored.jobs["token"] == Job(
        status="succeeded", records=1, started_at="2026-03-01T12:00:00Z", finished_at="2026-03-01T12:00:00Z"
    )
    assert {
        name: stored.jobs[name].status for name in ("locations", "products", "orders", "backfill")
    } == dict.fromkeys(("locations", "products", "orders", "backfill"), "queued")
    token = world.walmart.issued[0]
    assert stored.access_token is not None and token.value.encode() not in stored.access_token
    assert world.vault.decrypt(stored.access_token, token_context(TENANT, record.id)).decode() == token.value
    assert stored.access_token_expires_at == token.expires_at
    sent = {url: world.queues.bodies(url) for url in ("q/locations", "q/sync", "q/backfill")}
    run_ids = {body["run_id"] for bodies in sent.values() for body in bodies}
    assert len(run_ids) == 1
    assert [b.get("stream") for b in sent["q/sync"]] == ["products", "orders", "settlements", "returns"]
    assert all(b["credentials_version"] == 1 for bodies in sent.values() for b in bodies)
    assert len(sent["q/locations"]) == len(sent["q/backfill"]) == 1


def test_refused_credentials_mark_the_instance_with_walmarts_message_and_nothing_is_retried() -> None:
    world = World()
    record = world.instance(secret="wrong")
    world.connect(record)  # no exception: the message is done, not retried
    stored = world.stored(record)
    assert stored.status == "credentials_invalid"
    assert stored.jobs["token"].status == "failed"
    assert stored.jobs["token"].error == "Invalid client credentials (UNAUTHORIZED.GMP_GATEWAY_API)"
    assert world.queues.sent == [] and stored.access_token is None


def test_walmart_5xx_is_retried_and_the_last_attempt_shows_the_error() -> None:
    world = World()
    record = world.instance()
    world.walmart.failures = [WalmartUnavailable("Internal System Error", 500)] * 2
    with pytest.raises(RetryLater) as retry:
        world.connect(record, receive_count=1)
    assert retry.value.delay_seconds is None and not retry.value.throttled  # the worker's backoff applies
    stored = world.stored(record)
    assert (stored.status, stored.jobs["token"].status) == ("connecting", "queued")
    assert stored.jobs["token"].error == "Retrying: Internal System Error"
    with pytest.raises(RuntimeError, match="after 5 attempts"):  # failing the last delivery: to the DLQ
        world.connect(record, receive_count=5)
    stored = world.stored(record)
    assert (stored.status, stored.jobs["token"].status) == ("error", "failed")
    assert world.queues.sent == []


def test_walmart_429_waits_for_walmarts_replenishment_without_failing() -> None:
    world = World()
    record = world.instance()
    world.walmart.failures = [WalmartRateLimited("Too many requests", retry_after_seconds=42)]
    with pytest.raises(RetryLater) as retry:
        world.connect(record)
    assert (retry.value.delay_seconds, retry.value.throttled) == (42, True)


def test_a_job_for_other_credentials_or_a_deleted_instance_is_dropped() -> None:
    world = World()
    record = world.instance(version=2)
    world.connect(record, version=1)
    assert world.stored(record).jobs["token"].status == "queued"
    world.instances.delete(record)
    world.connect(record)
    assert world.walmart.issued == [] and world.queues.sent == []


def test_a_cached_token_is_used_until_a_minute_before_it_expires_then_replaced() -> None:
    world = World()
    record = world.instance()
    world.connect(record)
    first = world.walmart.issued[0].value
    world.clock.advance(minutes=13)
    assert world.service.access_token(world.stored(record)) == first
    world.clock.advance(minutes=1, seconds=1)  # 59 s left: not usable
    second = world.service.access_token(world.stored(record))
    assert second != first and len(world.walmart.issued) == 2
    stored = world.stored(record)
    assert stored.access_token is not None
    assert world.vault.decrypt(stored.access_token, token_context(TENANT, record.id)).decode() == second
    assert world.service.access_token(stored, refused=second) not in (first, second)


def test_a_refused_token_is_replaced_once_and_the_call_repeated() -> None:
    world = World()
    record = world.instance()
    world.connect(record)
    tokens: list[str] = []

    def call(client: Any, token: str) -> str:
        tokens.append(token)
        if len(tokens) == 1:
            raise WalmartAuthError("INVALID_TOKEN", 401)
        return "page"

    assert world.service.call(world.stored(record), "orders", call) == "page"
    assert tokens[0] == world.walmart.issued[0].value and tokens[1] == world.walmart.issued[1].value


def test_a_renewed_token_refused_in_turn_is_renewed_again_then_the_refusal_stands() -> None:
    """Many workers share one token: the one another worker renewed may be refused by the time we use it."""
    world = World()
    record = world.instance()
    world.connect(record)
    tokens: list[str] = []

    def refused_twice(client: Any, token: str) -> str:
        tokens.append(token)
        if len(tokens) <= 2:
            raise WalmartAuthError("INVALID_TOKEN", 401)
        return "page"

    assert world.service.call(world.stored(record), "orders", refused_twice) == "page"
    assert tokens == [token.value for token in world.walmart.issued[:3]]

    def always_refused(client: Any, token: str) -> str:
        raise WalmartAuthError("UNAUTHORIZED", 401)

    with pytest.raises(WalmartAuthError):
        world.service.call(world.stored(record), "orders", always_refused)


def test_calls_spend_the_sellers_budget_short_waits_are_slept_long_ones_deferred() -> None:
    limiter = Limiter(0.4, 0.0, 7.5)
    world = World(limiter)
    record = world.instance()
    world.connect(record)
    stored = world.stored(record)
    assert world.service.call(stored, "orders", lambda client, token: "first") == "first"
    assert world.slept == [0.4]
    with pytest.raises(RetryLater) as retry:
        world.service.call(stored, "orders", lambda client, token: "never")
    assert (retry.value.delay_seconds, retry.value.throttled) == (7.5, True)
    assert limiter.acquired[-1] == (seller_key(stored), "orders") == ("sandbox:client-1", "orders")


def test_walmarts_429_empties_our_budget_until_its_replenishment() -> None:
    limiter = Limiter()
    world = World(limiter)
    record = world.instance()
    world.connect(record)

    def throttled(client: Any, token: str) -> Any:
        raise WalmartRateLimited("Too many requests", retry_after_seconds=30)

    with pytest.raises(WalmartRateLimited):
        world.service.call(world.stored(record), "items", throttled)
    assert limiter.penalties == [("sandbox:client-1", "items", 30)]
    assert world.clock() - NOW < timedelta(seconds=1) and world.slept == []

"""Every Walmart call draws from the seller's budget: short waits are paced, longer ones deferred."""

from datetime import UTC, datetime
from typing import Any

import pytest

from walmart_integration.config import Settings
from walmart_integration.errors import RetryLater
from walmart_integration.models.instance import InstanceRecord
from walmart_integration.services.connection import ConnectionService, seller_key
from walmart_integration.walmart.errors import WalmartAuthError, WalmartRateLimited


class FakeLimiter:
    def __init__(self, waits):
        self.waits = list(waits)
        self.acquired: list[tuple[str, str]] = []
        self.penalties: list[tuple[str, str, float]] = []

    def acquire(self, key, endpoint, cost=1.0):
        self.acquired.append((key, endpoint))
        return self.waits.pop(0) if self.waits else 0.0

    def penalize(self, key, endpoint, retry_after_seconds):
        self.penalties.append((key, endpoint, retry_after_seconds))


def record() -> InstanceRecord:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return InstanceRecord(
        tenant_id="t",
        id="i",
        name="n",
        integration_id=1,
        environment="sandbox",
        client_id="cid",
        integration_settings={},
        created_at=now,
        updated_at=now,
    )


def service(limiter, monkeypatch, tokens=("tok", "fresh")):
    slept: list[float] = []
    unused: Any = None  # repositories this path never touches
    factory: Any = lambda env: "client"  # noqa: E731
    connection = ConnectionService(Settings(), unused, unused, unused, factory, limiter=limiter, sleep=slept.append)
    issued = iter(tokens)
    # (token, issued by Walmart just now): the connection's shared tokens, never one issued for the call
    monkeypatch.setattr(connection, "_access_token", lambda rec, refused=None: (next(issued), False))
    return connection, slept


def test_a_token_due_within_a_second_is_waited_for(monkeypatch):
    limiter = FakeLimiter([0.4, 0.0])
    connection, slept = service(limiter, monkeypatch)
    assert connection.call(record(), "orders", lambda client, token: (client, token)) == ("client", "tok")
    assert slept == [0.4]
    assert limiter.acquired == [("sandbox:cid", "orders")] * 2


def test_a_longer_wait_defers_the_job_without_failing_it(monkeypatch):
    connection, slept = service(FakeLimiter([12.0]), monkeypatch)
    with pytest.raises(RetryLater) as caught:
        connection.call(record(), "orders", lambda client, token: pytest.fail("called Walmart"))
    assert caught.value.throttled and caught.value.delay_seconds == 12.0
    assert slept == []


def test_a_walmart_429_empties_the_budget_until_replenishment(monkeypatch):
    limiter = FakeLimiter([])
    connection, _ = service(limiter, monkeypatch)

    def throttled(client, token):
        raise WalmartRateLimited("slow down", retry_after_seconds=42)

    with pytest.raises(WalmartRateLimited):
        connection.call(record(), "items", throttled)
    assert limiter.penalties == [("sandbox:cid", "items", 42)]


def test_a_refused_token_is_replaced_once(monkeypatch):
    connection, _ = service(FakeLimiter([]), monkeypatch)
    seen = []

    def call(client, token):
        seen.append(token)
        if token == "tok":
            raise WalmartAuthError("expired", 401)
        return "ok"

    assert connection.call(record(), "orders", call) == "ok"
    assert seen == ["tok", "fresh"]


def test_the_budget_is_the_sellers_across_tenants():
    assert seller_key(record()) == seller_key(record().model_copy(update={"tenant_id": "other", "id": "x"}))


@pytest.mark.parametrize("per_minute", [8, 60, 5000])
@pytest.mark.parametrize("slack_seconds", [0.0, 5.0])
def test_calls_granted_at_our_pace_never_empty_walmarts_bucket_despite_arrival_jitter(
    per_minute: int, slack_seconds: float
) -> None:
    """A greedy seller takes every token our bucket grants; each call reaches Walmart up to 5 s after its grant, in
    any order. Walmart's bucket (the emulator's) refuses none only because our burst keeps 5 s of refill back."""
    import random

    from local.emulator.ratelimit import TokenBucket
    from walmart_integration.store.rate_limits import ARRIVAL_JITTER_SECONDS, BucketSpec, with_arrival_slack

    walmart = BucketSpec.per_minute(per_minute)
    ours = with_arrival_slack({"orders": walmart}, slack_seconds)["orders"]
    rng = random.Random(per_minute)
    tokens, granted_at, grants = ours.capacity, 0.0, []
    while granted_at < 120:  # our bucket, as RateLimiter.acquire keeps it: take a token when one is there
        if tokens < 1:
            granted_at += (1 - tokens) / ours.refill_per_second
            tokens = 1.0
        tokens -= 1
        grants.append(granted_at)
    # The first calls arrive late and the later ones early: the worst order for Walmart's bucket.
    arrivals = sorted(
        t + ARRIVAL_JITTER_SECONDS * (1 - n / len(grants)) * rng.uniform(0.9, 1) for n, t in enumerate(grants)
    )
    bucket = TokenBucket(walmart.capacity, 0.0)
    refused = sum(not bucket.take(t, walmart.capacity, walmart.refill_per_second).allowed for t in arrivals)
    if slack_seconds >= ARRIVAL_JITTER_SECONDS:
        assert refused == 0
    else:
        assert refused > 0  # without the slack the same jitter does run into 429s


def test_with_oauth_the_budget_is_walmarts_seller_id_not_our_apps_client_id():
    """Our app's client id is the same for every seller who authorized it; Walmart limits per seller."""
    authorized = record().model_copy(update={"client_id": None, "seller_id": "43423324", "refresh_token": b"sealed"})
    assert seller_key(authorized) == "sandbox:seller:43423324"
    other_tenant = authorized.model_copy(update={"tenant_id": "other", "id": "x"})
    assert seller_key(other_tenant) == seller_key(authorized)
    assert seller_key(authorized.model_copy(update={"seller_id": "555"})) != seller_key(authorized)

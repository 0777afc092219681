"""The shared token buckets (store.rate_limits) against the template's AppTable in moto."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from local.aws import FAKE_CREDENTIALS, LocalAws
from local.inprocess import ROOT, provision
from local.template import load_template
from walmart_integration.store import dynamo, keys
from walmart_integration.store.rate_limits import (
    CONTENTION_WAIT_SECONDS,
    DEFAULT_LIMITS,
    IDLE_TTL_SECONDS,
    MAX_ATTEMPTS,
    BucketSpec,
    RateLimiter,
    scaled,
)

REGION = "us-east-1"
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z, injected time


class CountingClient:
    """A DynamoDB client that counts the calls (and lost conditional writes) going through it.

    ``before_update`` runs before each UpdateItem: a rival worker's write in between our read and our write.
    """

    def __init__(self, client: Any, before_update: Callable[[int], None] | None = None) -> None:
        self._client = client
        self._before_update = before_update
        self.calls: Counter[str] = Counter()
        self.conflicts = 0

    def get_item(self, **kwargs: Any) -> Any:
        self.calls["get_item"] += 1
        return self._client.get_item(**kwargs)

    def update_item(self, **kwargs: Any) -> Any:
        self.calls["update_item"] += 1
        if self._before_update is not None:
            self._before_update(self.calls["update_item"])
        try:
            return self._client.update_item(**kwargs)
        except Exception as error:
            if dynamo.is_conditional_failure(error):
                self.conflicts += 1
            raise


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    dynamo.client.cache_clear()
    with mock_aws():
        yield provision().ref("AppTable")
    dynamo.client.cache_clear()


def limiter(table: str, **kwargs: Any) -> RateLimiter:
    return RateLimiter(table, REGION, **kwargs)


def raw_item(table: str, seller: str, endpoint: str) -> dict[str, Any]:
    key = {"pk": {"S": keys.rate_limit_pk(seller)}, "sk": {"S": keys.bucket_sk(endpoint)}}
    return dynamo.deserialize(dynamo.client("dynamodb", REGION).get_item(TableName=table, Key=key)["Item"])


# -- limits ----------------------------------------------------------------------------------------------


def test_default_limits_follow_walmart_per_minute_limits() -> None:
    assert DEFAULT_LIMITS["orders"] == BucketSpec(5000, 5000 / 60)
    assert DEFAULT_LIMITS["items"] == BucketSpec(60, 1.0)  # we always send query parameters
    assert DEFAULT_LIMITS["shipnodes"] == BucketSpec(50, 50 / 60)
    assert DEFAULT_LIMITS["token"] == BucketSpec(60, 1.0)
    small = scaled(DEFAULT_LIMITS, 0.1)
    assert small["orders"] == pytest.approx(BucketSpec(500, 500 / 60))
    assert small["items"].capacity == pytest.approx(6) and small["items"].refill_per_second == pytest.approx(0.1)
    assert scaled(DEFAULT_LIMITS, 0.001)["items"].capacity == 1.0  # at least one call fits
    with pytest.raises(ValueError):
        scaled(DEFAULT_LIMITS, 0)
    with pytest.raises(ValueError):
        BucketSpec(0, 1)


def test_unknown_endpoint_and_impossible_cost_are_errors(table: str) -> None:
    rate = limiter(table)
    with pytest.raises(ValueError):
        rate.acquire("seller-1", "inventories", now=T0)
    with pytest.raises(ValueError):
        rate.penalize("seller-1", "inventories", 5, now=T0)
    with pytest.raises(ValueError):
        rate.acquire("seller-1", "shipnodes", cost=51, now=T0)
    with pytest.raises(ValueError):
        rate.acquire("seller-1", "shipnodes", cost=0, now=T0)
    with pytest.raises(ValueError):
        rate.acquire("", "shipnodes", now=T0)


# -- one worker ------------------------------------------------------------------------------------------


def test_fresh_bucket_grants_its_capacity_then_tells_how_long_to_wait(table: str) -> None:
    rate = limiter(table)
    spec = DEFAULT_LIMITS["shipnodes"]
    for _ in range(49):
        assert rate.acquire("seller-1", "shipnodes", now=T0) == 0.0
    # One token left: two cost one more token's refill time.
    assert rate.acquire("seller-1", "shipnodes", cost=2, now=T0) == pytest.approx(1 / spec.refill_per_second)
    assert rate.acquire("seller-1", "shipnodes", now=T0) == 0.0
    wait = rate.acquire("seller-1", "shipnodes", now=T0)
    assert wait == pytest.approx(1.2)  # (cost - 0 tokens) / (50/60 per second)
    assert rate.acquire("seller-1", "shipnodes", cost=3, now=T0) == pytest.approx(3.6)
    assert rate.peek("seller-1", "shipnodes", now=T0) == 0.0  # denials took nothing


def test_item_layout_and_ttl(table: str) -> None:
    rate = limiter(table)
    rate.acquire("seller-1", "orders", cost=10, now=T0)
    item = raw_item(table, "seller-1", "orders")
    assert item == {
        "pk": "RATELIMIT#seller-1",
        "sk": "BUCKET#orders",
        "type": "rate_limit",
        "tokens": 4990,
        "updated_at": int(T0),
        "expires_at": int(T0) + IDLE_TTL_SECONDS,
    }
    rate.acquire("seller-1", "orders", now=T0 + 0.25)
    item = raw_item(table, "seller-1", "orders")
    assert item["updated_at"] == pytest.approx(T0 + 0.25)
    assert item["tokens"] == pytest.approx(5000 - 1)  # refilled to the top (capped), one taken
    assert item["expires_at"] == int(T0) + 1 + IDLE_TTL_SECONDS


def test_bucket_refills_gradually_up_to_capacity(table: str) -> None:
    rate = limiter(table)
    spec = DEFAULT_LIMITS["items"]  # 60 tokens, one per second
    for _ in range(60):
        assert rate.acquire("seller-1", "items", now=T0) == 0.0
    assert rate.acquire("seller-1", "items", now=T0) == pytest.approx(1.0)
    assert rate.acquire("seller-1", "items", now=T0 + 0.4) == pytest.approx(0.6)
    assert rate.acquire("seller-1", "items", now=T0 + 1.0) == 0.0
    assert rate.acquire("seller-1", "items", now=T0 + 1.0) == pytest.approx(1.0)
    assert rate.acquire("seller-1", "items", now=T0 + 5.5) == 0.0  # 4.5 tokens had come back
    assert rate.peek("seller-1", "items", now=T0 + 5.5) == pytest.approx(3.5)
    # A long idle time fills the bucket to its capacity, not beyond.
    later = T0 + 3 * spec.seconds_to_full
    granted = sum(rate.acquire("seller-1", "items", now=later) == 0.0 for _ in range(61))
    assert granted == 60


def test_sellers_and_endpoints_do_not_share_buckets(table: str) -> None:
    rate = limiter(table)
    for _ in range(50):
        assert rate.acquire("seller-1", "shipnodes", now=T0) == 0.0
    assert rate.acquire("seller-1", "shipnodes", now=T0) > 0
    assert rate.acquire("seller-2", "shipnodes", now=T0) == 0.0
    assert rate.acquire("seller-1", "items", now=T0) == 0.0
    assert rate.peek("seller-2", "shipnodes", now=T0) == 49
    assert rate.peek("seller-1", "items", now=T0) == 59


def test_penalize_blocks_every_worker_until_walmarts_replenishment(table: str) -> None:
    rate = limiter(table)
    spec = DEFAULT_LIMITS["items"]
    assert rate.acquire("seller-1", "items", now=T0) == 0.0  # 59 tokens left: Walmart still says 429
    rate.penalize("seller-1", "items", 30, now=T0)
    assert rate.acquire("seller-1", "items", now=T0) == pytest.approx(30)
    assert rate.acquire("seller-1", "items", now=T0 + 10) == pytest.approx(20)
    assert rate.acquire("seller-1", "items", cost=3, now=T0 + 10) == pytest.approx(20 + 2 / spec.refill_per_second)
    assert rate.acquire("seller-1", "items", now=T0 + 29.99) > 0
    assert rate.acquire("seller-1", "items", now=T0 + 30) == 0.0  # one token is back at replenishment
    assert rate.acquire("seller-1", "items", now=T0 + 30) == pytest.approx(1.0)  # then the normal rate

    # A shorter penalty does not cut a longer one short.
    rate.penalize("seller-2", "items", 60, now=T0)
    rate.penalize("seller-2", "items", 5, now=T0 + 1)
    assert rate.acquire("seller-2", "items", now=T0 + 10) == pytest.approx(50)
    # A penalty on a bucket nobody used yet, and one shorter than a token's refill.
    rate.penalize("seller-3", "orders", 2, now=T0)
    assert rate.acquire("seller-3", "orders", now=T0 + 1) == pytest.approx(1)
    rate.penalize("seller-4", "items", 0.25, now=T0)
    assert rate.acquire("seller-4", "items", now=T0) == pytest.approx(0.25)
    # The item outlives the penalty and the refill after it (an expired bucket comes back full).
    assert raw_item(table, "seller-2", "items")["expires_at"] >= T0 + 59 + IDLE_TTL_SECONDS


def test_wait_never_exceeds_what_the_spec_implies_and_is_enough(table: str) -> None:
    rate = limiter(table, limits=scaled(DEFAULT_LIMITS, 0.2))  # items: 12 tokens, 0.2 per second
    spec = rate.spec("items")
    rng = random.Random(7)
    now = T0
    for _ in range(100):
        cost = rng.choice([1, 1, 1, 2, 5, 12])
        wait = rate.acquire("seller-1", "items", cost=cost, now=now)
        assert 0.0 <= wait <= cost / spec.refill_per_second + 1e-9
        if wait > 0:
            # A worker that defers its work by exactly that long gets its tokens (nobody else drew meanwhile).
            assert rate.acquire("seller-1", "items", cost=cost, now=now + wait) == 0.0
            now += wait
        now += rng.choice([0.0, 0.0, 0.3, 1.7, 9.0])


# -- races -----------------------------------------------------------------------------------------------


def test_lost_race_retries_from_the_winners_item_without_another_read(table: str) -> None:
    rival = limiter(table)

    def rival_takes_first(update_number: int) -> None:
        if update_number == 1:
            assert rival.acquire("seller-1", "shipnodes", cost=10, now=T0) == 0.0

    client = CountingClient(dynamo.client("dynamodb", REGION), before_update=rival_takes_first)
    rate = limiter(table, client=client)
    assert rate.acquire("seller-1", "shipnodes", cost=5, now=T0) == 0.0
    assert client.conflicts == 1
    assert client.calls == {"get_item": 1, "update_item": 2}  # the failed write handed back the current item
    assert rate.peek("seller-1", "shipnodes", now=T0) == 35


def test_endless_contention_gives_a_short_wait(table: str) -> None:
    rival = limiter(table)

    def rival_always_wins(_: int) -> None:
        assert rival.acquire("seller-1", "items", now=T0) == 0.0

    client = CountingClient(dynamo.client("dynamodb", REGION), before_update=rival_always_wins)
    rate = limiter(table, client=client)
    wait = rate.acquire("seller-1", "items", cost=2, now=T0)
    assert 0 < wait <= min(CONTENTION_WAIT_SECONDS, 2 / rate.spec("items").refill_per_second)
    assert client.conflicts == MAX_ATTEMPTS
    assert rate.peek("seller-1", "items", now=T0) == 60 - MAX_ATTEMPTS  # only the rival's tokens went


def test_dynamodb_calls_per_acquire(table: str) -> None:
    client = CountingClient(dynamo.client("dynamodb", REGION))
    rate = limiter(table, client=client, limits={"items": BucketSpec(1, 1)})
    assert rate.acquire("seller-1", "items", now=T0) == 0.0
    assert client.calls == {"get_item": 1, "update_item": 1}
    assert rate.acquire("seller-1", "items", now=T0) > 0
    assert client.calls == {"get_item": 2, "update_item": 1}  # a denial writes nothing


@pytest.fixture(scope="module")
def server() -> Iterator[LocalAws]:
    """A moto server (one request at a time, atomic like DynamoDB) with the template's AppTable."""
    template = load_template(ROOT / "template.yaml")
    aws = LocalAws(template, stack_name="rate-limits")
    aws.start()
    try:
        aws.create_resources(template.parameter_values({"Stage": "local"}))
        yield aws
    finally:
        aws.stop()


def test_concurrent_workers_never_spend_a_token_twice(server: LocalAws) -> None:
    table = server.lookup("AppTable", None)
    spec = BucketSpec(capacity=40, refill_per_second=40 / 60)
    limits = {"orders": spec}
    workers, calls_each = 8, 12
    barrier = threading.Barrier(workers)
    granted = [0] * workers
    waits: list[list[float]] = [[] for _ in range(workers)]
    clients: list[CountingClient] = []
    errors: list[BaseException] = []

    for _ in range(workers):  # one client per worker, like separate Lambdas
        session = boto3.session.Session(
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=REGION,
        )
        config = Config(retries={"max_attempts": 2, "mode": "standard"})
        clients.append(CountingClient(session.client("dynamodb", endpoint_url=server.endpoint_url, config=config)))

    def work(index: int) -> None:
        try:
            rate = RateLimiter(table, REGION, client=clients[index], limits=limits)
            barrier.wait()
            for _ in range(calls_each):
                wait = rate.acquire("seller-hot", "orders", now=T0)  # time frozen: no refill at all
                if wait == 0.0:
                    granted[index] += 1
                else:
                    waits[index].append(wait)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(index,)) for index in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors

    total = sum(granted)
    assert 0 < total <= spec.capacity
    checker = RateLimiter(table, REGION, client=server.client("dynamodb"), limits=limits)
    left = checker.peek("seller-hot", "orders", now=T0)
    assert left + total == spec.capacity  # every token taken is accounted for exactly once
    drained = sum(checker.acquire("seller-hot", "orders", now=T0) == 0.0 for _ in range(int(left) + 1))
    assert total + drained == spec.capacity
    assert all(0 < wait <= 1 / spec.refill_per_second for found in waits for wait in found)
    conflicts = sum(client.conflicts for client in clients)
    assert conflicts > 0  # the workers did race

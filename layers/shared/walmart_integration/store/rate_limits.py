"""Token buckets in DynamoDB that every Lambda working for one Walmart seller draws from.

Walmart limits each seller per endpoint with a token bucket that refills gradually (docs/walmart/FACTS.md, "Rate
limits"). Concurrent workers of one seller share our copy of that bucket, so that a sync on its own
never runs into a 429: a worker calls ``acquire`` before each Walmart call and, when it is told to
wait, defers its work (an SQS delay, a later page) instead of sleeping.

One item per seller and endpoint (AppTable, see ``keys``)::

    pk          RATELIMIT#<seller_key>
    sk          BUCKET#<endpoint>
    type        "rate_limit"
    tokens      tokens left at ``updated_at`` (N, never negative)
    updated_at  epoch seconds (N) from which the bucket refills; never moves backwards, and lies in
                the future while a 429 penalty is running
    expires_at  epoch seconds (N): TTL, an hour after the last write (and never before the bucket is
                full again, so a deleted bucket comes back full, as it would have been)

A bucket that does not exist is full. ``acquire`` reads the item (consistent read), refills it to
``now`` and takes the tokens with a conditional write that succeeds only if ``tokens``/``updated_at``
are still what it read (optimistic concurrency; no lock, no double spending). A lost race hands back
the winner's item (``ReturnValuesOnConditionCheckFailure``), so a retry needs no second read.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from walmart_integration.models.rate_limits import RateLimitBucket
from walmart_integration.store import dynamo, keys
from walmart_integration.store.base import Repository
from walmart_integration.store.expressions import Update

# Conditional writes lost to other workers before ``acquire`` gives up and reports a short wait.
MAX_ATTEMPTS = 5
# Upper bound of the wait reported after MAX_ATTEMPTS lost races (the bucket had tokens: come back soon).
CONTENTION_WAIT_SECONDS = 1.0
# Tokens due within this time count as there: epoch floats carry about 0.2 µs, and a worker that waited exactly
# the time it was told must get its tokens, not another wait of a microsecond.
SLACK_SECONDS = 1e-6
# A bucket item lives this long after its last write (TTL attribute ``expires_at``).
IDLE_TTL_SECONDS = 3600


@dataclass(frozen=True)
class BucketSpec:
    """A token bucket: at most ``capacity`` tokens, refilled continuously at ``refill_per_second``."""

    capacity: float
    refill_per_second: float

    def __post_init__(self) -> None:
        if not (self.capacity > 0 and self.refill_per_second > 0):
            raise ValueError(f"A bucket needs a positive capacity and refill rate: {self}")

    @classmethod
    def per_minute(cls, limit: float) -> BucketSpec:
        """Walmart's "N / min", refilled gradually: N tokens at most, N/60 back per second."""
        return cls(capacity=float(limit), refill_per_second=limit / 60.0)

    @property
    def seconds_to_full(self) -> float:
        return self.capacity / self.refill_per_second


# Production limits per seller (docs/walmart/FACTS.md). ``items``: 300/min without query parameters, 60/min with any; we
# always send some. ``token``: not published (UNCONFIRMED), 60/min is our conservative guess.
DEFAULT_LIMITS: dict[str, BucketSpec] = {
    "orders": BucketSpec.per_minute(5000),  # GET /v3/orders, GET /v3/orders/{id}
    "items": BucketSpec.per_minute(60),  # GET /v3/items (with query parameters)
    "shipnodes": BucketSpec.per_minute(50),  # GET /v3/settings/shipping/shipnodes
    "token": BucketSpec.per_minute(60),  # POST /v3/token
    "reports": BucketSpec.per_minute(30),  # /v3/reports/* (on-request reports): not published, a conservative guess
    # Not published (UNCONFIRMED, docs/walmart/FACTS.md "Settlements and returns: rate limits"): conservative guesses.
    "recon": BucketSpec.per_minute(30),  # /v3/report/reconreport/* (availableReconFiles, reconFileJson, reconFile)
    "returns": BucketSpec.per_minute(60),  # GET /v3/returns
}


def scaled(limits: Mapping[str, BucketSpec], factor: float) -> dict[str, BucketSpec]:
    """``limits`` multiplied by ``factor`` (benchmarks scale them down so that they bind).

    The capacity stays at least one token: a bucket that can never hold one call would block forever.
    """
    if not factor > 0:
        raise ValueError("The scale factor must be positive.")
    return {
        name: BucketSpec(max(1.0, spec.capacity * factor), spec.refill_per_second * factor)
        for name, spec in limits.items()
    }


# Calls reach Walmart a moment after their token was taken here, some later than others. Our burst is smaller than
# Walmart's by the tokens refilled in this time (the refill rate stays Walmart's): any window of arrivals then comes
# from grants within that window plus this much before it, which never exceed Walmart's bucket (no 429 from jitter).
ARRIVAL_JITTER_SECONDS = 5.0


def with_arrival_slack(
    limits: Mapping[str, BucketSpec], seconds: float = ARRIVAL_JITTER_SECONDS
) -> dict[str, BucketSpec]:
    """``limits`` (Walmart's buckets) as our share of them: the burst reduced by ``seconds`` of refill, never below one
    call."""
    return {
        name: BucketSpec(max(1.0, spec.capacity - spec.refill_per_second * seconds), spec.refill_per_second)
        for name, spec in limits.items()
    }


@dataclass(frozen=True)
class _Bucket:
    """A bucket as read, brought forward to ``now``."""

    tokens: float  # available at ``start``
    start: float  # max(now, stored updated_at): where the refill goes on from
    read: RateLimitBucket  # as stored: a write must find it unchanged


def _number(value: float) -> str:
    """A float as a DynamoDB number, exactly (it reads back as the same float) and never in exponent notation."""
    return format(Decimal(repr(value)), "f")


class RateLimiter(Repository):
    """Shared token buckets of Walmart sellers (one per seller and endpoint) in the app table."""

    def __init__(
        self,
        table_name: str,
        region: str,
        client: Any | None = None,
        limits: Mapping[str, BucketSpec] = DEFAULT_LIMITS,
    ) -> None:
        super().__init__(table_name, region, client)
        self.limits = dict(limits)

    def spec(self, endpoint: str) -> BucketSpec:
        try:
            return self.limits[endpoint]
        except KeyError:
            raise ValueError(f"No rate limit is configured for endpoint {endpoint!r}.") from None

    def acquire(self, seller_key: str, endpoint: str, cost: float = 1.0, now: float | None = None) -> float:
        """Take ``cost`` tokens: 0.0 when taken, else the seconds until they will be there (nothing taken).

        The caller defers its work by the returned time; it must not sleep in the Lambda. After
        ``MAX_ATTEMPTS`` races lost to other workers, a short wait (at most ``CONTENTION_WAIT_SECONDS``
        and at most what one empty bucket would imply) is returned instead.
        """
        spec = self.spec(endpoint)
        if not 0 < cost <= spec.capacity:
            raise ValueError(f"cost must be in (0, {spec.capacity}] for {endpoint!r}, not {cost}.")
        now = time.time() if now is None else float(now)
        key = self._key(seller_key, endpoint)
        read = self._read(key)
        for _ in range(MAX_ATTEMPTS):
            bucket = self._bucket(read, spec, now)
            if bucket.tokens + SLACK_SECONDS * spec.refill_per_second < cost:
                return (bucket.start - now) + (cost - bucket.tokens) / spec.refill_per_second
            update = (
                Update()
                .set_typed("tokens", {"N": _number(max(0.0, bucket.tokens - cost))})
                .set_typed("updated_at", {"N": _number(bucket.start)})
                .set("expires_at", self._expires_at(spec, bucket.start))
                .set("type", "rate_limit")
            )
            try:
                self.client.update_item(
                    TableName=self.table,
                    Key=key,
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                    **update.params(self._unchanged(update, bucket.read)),
                )
            except dynamo.ClientError as error:
                if not dynamo.is_conditional_failure(error):
                    raise
                # Another worker wrote first: go on from its item (returned with the failure).
                winner = cast("dict[str, Any] | None", error.response.get("Item"))
                read = self._record(winner) if winner else self._read(key)
                continue
            return 0.0
        return min(CONTENTION_WAIT_SECONDS, cost / spec.refill_per_second) * random.uniform(0.5, 1.0)

    def penalize(self, seller_key: str, endpoint: str, retry_after_seconds: float, now: float | None = None) -> None:
        """Walmart answered 429 anyway (its bucket is shared with the seller's other tools): empty ours.

        No worker gets a token before ``now + retry_after_seconds`` (Walmart's next replenishment);
        from then on the bucket refills at its normal rate, one token being back at that moment. A
        penalty already running longer is kept.
        """
        spec = self.spec(endpoint)
        now = time.time() if now is None else float(now)
        retry = max(0.0, float(retry_after_seconds))
        # Empty at this moment, so that exactly one token is back at now + retry.
        empty_at = now + retry - 1.0 / spec.refill_per_second
        key = self._key(seller_key, endpoint)
        update = (
            Update()
            .set("tokens", 0)
            .set_typed("updated_at", {"N": _number(empty_at)})
            .set("expires_at", self._expires_at(spec, max(now, empty_at)))
            .set("type", "rate_limit")
        )
        later = update.typed({"N": _number(empty_at)})
        condition = f"{update.not_exists('updated_at')} OR {update.name('updated_at')} <= {later}"
        try:
            self.client.update_item(TableName=self.table, Key=key, **update.params(condition))
        except dynamo.ClientError as error:
            if not dynamo.is_conditional_failure(error):
                raise
            # The bucket already refills from later on (a longer penalty): empty it from there.
            self.client.update_item(TableName=self.table, Key=key, **Update().set("tokens", 0).params())

    def peek(self, seller_key: str, endpoint: str, now: float | None = None) -> float:
        """Tokens available at ``now`` (or at the end of a running penalty), without taking any."""
        spec = self.spec(endpoint)
        now = time.time() if now is None else float(now)
        return self._bucket(self._read(self._key(seller_key, endpoint)), spec, now).tokens

    # -- internals ---------------------------------------------------------------------------------------

    @staticmethod
    def _key(seller_key: str, endpoint: str) -> dict[str, Any]:
        if not seller_key:
            raise ValueError("A seller key is required.")
        return {"pk": {"S": keys.rate_limit_pk(seller_key)}, "sk": {"S": keys.bucket_sk(endpoint)}}

    def _read(self, key: dict[str, Any]) -> RateLimitBucket:
        return self._record(self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item"))

    @staticmethod
    def _record(item: dict[str, Any] | None) -> RateLimitBucket:
        return RateLimitBucket.model_validate(dynamo.deserialize(item, exact=True) if item else {})

    @staticmethod
    def _unchanged(update: Update, read: RateLimitBucket) -> str:
        """The condition that the bucket's ``tokens`` and ``updated_at`` are still as read (or still missing)."""
        clauses = [
            update.not_exists(name) if value is None else update.compare(name, "=", value)
            for name, value in (("tokens", read.tokens), ("updated_at", read.updated_at))
        ]
        return " AND ".join(clauses)

    @staticmethod
    def _bucket(read: RateLimitBucket, spec: BucketSpec, now: float) -> _Bucket:
        if read.tokens is None or read.updated_at is None:
            return _Bucket(spec.capacity, now, read)  # a new (or expired) bucket is full
        tokens = max(0.0, float(read.tokens))
        updated = float(read.updated_at)
        if now > updated:
            tokens += (now - updated) * spec.refill_per_second
        return _Bucket(min(spec.capacity, tokens), max(now, updated), read)

    @staticmethod
    def _expires_at(spec: BucketSpec, start: float) -> int:
        return math.ceil(start + max(IDLE_TTL_SECONDS, spec.seconds_to_full))

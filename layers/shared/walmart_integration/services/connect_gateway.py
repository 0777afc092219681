"""Every Walmart Connect call of every tenant and function goes through here: one hourly operations budget.

Walmart counts partner operations per hour (docs/walmart/FACTS.md): snapshot requests, polls, downloads, each changed
entity. The budget is a token bucket in DynamoDB shared by all workers (``store.rate_limits``), sized so that no
rolling hour can spend more than Walmart allows: half of it as burst, half refilled over the hour. A spent budget,
or a 429 from Walmart, defers the work through SQS (ten minutes after a 429); no Lambda sleeps for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from aws_lambda_powertools.metrics import MetricUnit

from walmart_integration.config import Settings
from walmart_integration.errors import RetryLater
from walmart_integration.observability import metrics
from walmart_integration.walmart.errors import WalmartRateLimited

if TYPE_CHECKING:
    from walmart_integration.store.rate_limits import BucketSpec, RateLimiter
    from walmart_integration.walmart.connect import ConnectClient

T = TypeVar("T")

PARTNER_KEY = "connect-partner"  # one partner (our platform) per deployment
OPERATIONS = "connect_operations"


def operations_bucket(hourly_operations: int) -> BucketSpec:
    """At most ``hourly_operations`` in any rolling hour: burst + refill over an hour = the hourly budget."""
    from walmart_integration.store.rate_limits import BucketSpec

    half = hourly_operations / 2.0
    return BucketSpec(capacity=max(1.0, half), refill_per_second=half / 3600.0)


def poll_delay(settings: Settings, polls: int) -> float:
    """Seconds before the next poll of a snapshot: growing by half each time, capped (polls cost operations)."""
    return min(settings.ads_poll_max_seconds, settings.ads_poll_initial_seconds * 1.5**polls)


class ConnectGateway:
    def __init__(
        self,
        settings: Settings,
        client: Callable[[], ConnectClient],
        limiter: RateLimiter,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._client = client
        self.limiter = limiter
        self.sleep = sleep

    def call(self, work: Callable[[ConnectClient], T], operations: int = 1, what: str = "call") -> T:
        wait = self.limiter.acquire(PARTNER_KEY, OPERATIONS, operations)
        if 0 < wait <= self.settings.pacing_wait_seconds:
            self.sleep(wait)
            wait = self.limiter.acquire(PARTNER_KEY, OPERATIONS, operations)
        if wait > 0:
            metrics.add_metric(name="ConnectBudgetDeferrals", unit=MetricUnit.Count, value=1)
            raise RetryLater(f"Walmart Connect operations budget spent; {what} in {wait:.0f} s", wait, throttled=True)
        metrics.add_metric(name="ConnectOperations", unit=MetricUnit.Count, value=operations)
        try:
            return work(self._client())
        except WalmartRateLimited as error:
            metrics.add_metric(name="ConnectThrottled", unit=MetricUnit.Count, value=1)
            delay = self.settings.ads_throttle_seconds
            self.limiter.penalize(PARTNER_KEY, OPERATIONS, delay)
            raise RetryLater(
                f"Walmart Connect answered 429 ({error.message}); {what} deferred", delay, throttled=True
            ) from error

"""EventBridge schedules of template.yaml (``Schedule`` events): fire once at start, then every interval.

Locally every rate/cron rule fires every ``LOCAL_SCHEDULE_SECONDS`` (default 60) instead of its own
expression, with the payload EventBridge sends ("Scheduled Event"), or the event's ``Input`` when it has one.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from local.runtime import InvocationResult
from local.template import ACCOUNT_ID, REGION

log = logging.getLogger("local.schedules")

Invoke = Callable[[str, dict[str, Any]], InvocationResult]


def scheduled_event(rule_arn: str, region: str = REGION, account_id: str = ACCOUNT_ID) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


class Schedule:
    """One Schedule event: a thread that invokes the function at start and then every ``interval`` seconds."""

    def __init__(
        self,
        function: str,
        rule_name: str,
        expression: str,
        invoke: Invoke,
        *,
        interval: float = 60.0,
        input_json: str | None = None,
        region: str = REGION,
        account_id: str = ACCOUNT_ID,
    ) -> None:
        self.function = function
        self.rule_name = rule_name
        self.expression = expression
        self.invoke = invoke
        self.interval = interval
        self.input_json = input_json
        self.region = region
        self.account_id = account_id
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def rule_arn(self) -> str:
        return f"arn:aws:events:{self.region}:{self.account_id}:rule/{self.rule_name}"

    def start(self, *, fire_now: bool = True) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(fire_now,), name=f"schedule:{self.rule_name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def fire(self) -> InvocationResult:
        event: Any = (
            json.loads(self.input_json)
            if self.input_json
            else scheduled_event(self.rule_arn, self.region, self.account_id)
        )
        result = self.invoke(self.function, event)
        if not result.ok:
            error = result.error or {}
            log.warning(
                "%s (%s) failed: %s: %s",
                self.rule_name,
                self.expression,
                error.get("errorType"),
                error.get("errorMessage"),
            )
        else:
            log.info("%s (%s) -> %s in %.0f ms", self.rule_name, self.expression, self.function, result.duration_ms)
        return result

    def _run(self, fire_now: bool) -> None:
        next_at = time.monotonic() + (0 if fire_now else self.interval)
        while not self._stop.wait(max(0.0, next_at - time.monotonic())):
            try:
                self.fire()
            except Exception:
                log.exception("%s: schedule failed", self.rule_name)
            next_at += self.interval
            now = time.monotonic()
            if next_at < now:  # a run took longer than the interval: skip the missed ticks
                next_at = now + self.interval - ((now - next_at) % self.interval)

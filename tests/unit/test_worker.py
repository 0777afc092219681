"""worker.process_queue: how a record's outcome becomes a batch item failure, a delayed copy or a delayed retry."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from walmart_integration.config import Settings
from walmart_integration.models.messages import TokenJob
from walmart_integration.worker import Delivery, process_queue

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/token"
BODY = json.dumps({"tenant_id": "t1", "instance_id": "i1", "credentials_version": 1})


class FakeQueues:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, float]] = []
        self.delayed: list[tuple[str, float]] = []

    def send_body(self, queue_url: str, body: str, delay_seconds: float = 0) -> None:
        self.sent.append((queue_url, body, delay_seconds))

    def delay_redelivery(self, queue_url: str, receipt_handle: str, seconds: float) -> None:
        self.delayed.append((receipt_handle, seconds))


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def event(receive_count: int = 1) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": "m1",
                "receiptHandle": "r1",
                "body": BODY,
                "attributes": {"ApproximateReceiveCount": str(receive_count)},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:token",
                "awsRegion": "us-east-1",
                "md5OfBody": "",
            }
        ]
    }


def run(error: Exception, remaining_ms: int = 28_000, receive_count: int = 1) -> tuple[dict[str, Any], FakeQueues]:
    queues = FakeQueues()

    def handle(message: TokenJob, delivery: Delivery) -> None:
        raise error

    result = process_queue(
        event(receive_count),
        Context(remaining_ms),
        settings=Settings(retry_base_seconds=1, retry_max_seconds=60),
        queues=queues,  # type: ignore[arg-type]
        queue_url=QUEUE,
        message_type=TokenJob,
        handle=handle,
    )
    return result, queues


@pytest.mark.parametrize("receive_count", [1, 5])
def test_work_claimed_by_another_invocation_waits_without_failing(receive_count: int):
    """A duplicate delivery while the first runs, or a redelivery after a worker died holding the claim: the
    message comes again later and this delivery succeeds, so it never counts toward the DLQ."""
    result, queues = run(IdempotencyAlreadyInProgressError("in progress"), receive_count=receive_count)
    assert result == {"batchItemFailures": []}
    assert len(queues.sent) == 1 and queues.delayed == []
    queue_url, body, delay = queues.sent[0]
    assert (queue_url, body) == (QUEUE, BODY)
    assert 1 <= delay <= 28  # within the time the holder's claim can still last (ours at most)
    assert delay == pytest.approx(7)  # a quarter of it: a live holder is waited for briefly


def test_a_claim_about_to_lapse_is_looked_at_again_after_the_backoff_base():
    _, queues = run(IdempotencyAlreadyInProgressError("in progress"), remaining_ms=400)
    assert queues.sent[0][2] == 1


def test_any_other_error_fails_the_record_and_backs_off():
    result, queues = run(RuntimeError("boom"))
    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert queues.sent == [] and len(queues.delayed) == 1
    assert 0.5 <= queues.delayed[0][1] <= 1

"""How every SQS worker processes a batch: Powertools partial failures, typed messages, backoff.

A record handler raises ``RetryLater`` for transient trouble: the message is made visible again after
an exponential, jittered delay (or Walmart's replenishment time) and reported as a batch item failure.
Other exceptions fail the record too (SQS retries it, then the DLQ takes it), except finding the same work
claimed by another invocation (Powertools idempotency in progress): that message waits, as for a rate budget.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import BaseModel

from walmart_integration.config import Settings
from walmart_integration.errors import RetryLater
from walmart_integration.observability import logger
from walmart_integration.store import dynamo
from walmart_integration.store.queues import Queues

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Delivery:
    """What a record handler knows about the delivery of its message."""

    receive_count: int
    max_receive_count: int
    lambda_context: Any = None

    @property
    def is_last_attempt(self) -> bool:
        return self.receive_count >= self.max_receive_count


def backoff_seconds(settings: Settings, receive_count: int) -> float:
    """Capped exponential backoff with full jitter for the n-th redelivery."""
    ceiling = min(settings.retry_max_seconds, settings.retry_base_seconds * 2 ** max(receive_count - 1, 0))
    return random.uniform(ceiling / 2, ceiling)


def process_queue(
    event: dict[str, Any],
    context: Any,
    *,
    settings: Settings,
    queues: Queues,
    queue_url: str,
    message_type: type[M],
    handle: Callable[[M, Delivery], None],
) -> dict[str, Any]:
    # A batch whose every record failed is still answered with batchItemFailures (not an exception),
    # so the per-message redelivery delays set below stay in force.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def record_handler(record: SQSRecord) -> None:
        receive_count = int(record.attributes.approximate_receive_count or 1)
        message = message_type.model_validate_json(record.body)
        logger.append_keys(message_id=record.message_id, **_identity(message))
        try:
            handle(message, Delivery(receive_count, settings.max_receive_count, context))
        except RetryLater as retry:
            delay = retry.delay_seconds if retry.delay_seconds is not None else backoff_seconds(settings, receive_count)
            if retry.throttled:
                # Waiting for a rate budget is not a failure: the same message again, later (spread a little so
                # deferred workers do not all come back at once); this delivery succeeds.
                delay = delay + random.uniform(0, min(1.0, delay / 4) + 0.05)
                logger.info("Job waits for a rate budget", extra={"delay_seconds": round(delay, 2)})
                queues.send_body(queue_url, record.body, delay)
                return
            logger.warning("Job deferred", extra={"delay_seconds": round(delay, 1), "reason": str(retry)})
            queues.delay_redelivery(queue_url, record.receipt_handle, delay)
            raise
        except Exception as error:
            # The batch's failure path, and the one place that catches everything: whatever one record's handler
            # raises (an AWS error after botocore's retries, a Walmart failure, a bug) fails that record only.
            # Powertools reports it in batchItemFailures, SQS redelivers it, and after maxReceiveCount the DLQ keeps
            # it; the other records of the batch are not affected. Nothing is swallowed here: after logging and
            # backing the redelivery off, the error is raised again for the BatchProcessor to record.
            from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

            if isinstance(error, IdempotencyAlreadyInProgressError):
                # Another invocation holds this work: a duplicate delivery while it runs, or a worker that died
                # mid-way, whose claim lapses at that invocation's deadline. Waiting for it is not a failure (a few
                # such redeliveries must not send the message to the DLQ and leave its run unfinished): the same
                # message comes again a little later, until the holder has finished or its claim has lapsed.
                delay = _claim_wait(context, settings)
                logger.info("Job waits for the same work in progress", extra={"delay_seconds": round(delay, 1)})
                queues.send_body(queue_url, record.body, delay)
                return
            logger.exception("Job failed")
            # Unexpected failures back off too, rather than waiting out the queue's visibility timeout.
            _delay_quietly(queues, queue_url, record.receipt_handle, backoff_seconds(settings, receive_count))
            raise
        finally:
            logger.remove_keys(["message_id", "tenant_id", "instance_id"])

    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)


def sqs_handler(
    *,
    settings: Settings,
    queues: Queues,
    queue_url: str,
    message_type: type[M],
    handle: Callable[[M, Delivery], None],
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler of a worker fed by one queue: logging context and metrics around ``process_queue``."""
    from walmart_integration.observability import metrics

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return process_queue(
            event,
            context,
            settings=settings,
            queues=queues,
            queue_url=queue_url,
            message_type=message_type,
            handle=handle,
        )

    return handler


def _claim_wait(context: Any, settings: Settings) -> float:
    """When to look again at work claimed by another invocation of this function: a quarter of the time its claim
    can still last (at most our own remaining time, as its invocation started before ours), at least the backoff
    base; so a live holder is waited for briefly and a dead one's claim lapses within a few looks."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    seconds = remaining() / 1000.0 if callable(remaining) else settings.retry_base_seconds
    return max(1.0, min(seconds, max(settings.retry_base_seconds, seconds / 4)))


def _delay_quietly(queues: Queues, queue_url: str, receipt_handle: str, seconds: float) -> None:
    try:
        queues.delay_redelivery(queue_url, receipt_handle, seconds)
    except (dynamo.ClientError, dynamo.BotoCoreError):
        # SQS refused (e.g. the receipt handle expired) or could not be reached: the original failure matters more,
        # and SQS redelivers after the visibility timeout anyway.
        logger.warning("Could not delay the redelivery", exc_info=True)


def _identity(message: BaseModel) -> dict[str, str]:
    return {k: str(v) for k, v in message.model_dump().items() if k in ("tenant_id", "instance_id")}

"""SQS event source mappings: poll a queue, invoke the function with batches, delete what succeeded.

Like Lambda's SQS event source mapping: up to ``MaximumConcurrency`` batches in flight per source, batches of
up to ``BatchSize`` records shaped like Lambda's, successful messages deleted, ``batchItemFailures`` (with
``ReportBatchItemFailures``) left on the queue for redelivery after their visibility timeout. A failed or
crashed invocation leaves the whole batch; locally its visibility is then cut to ``LOCAL_RETRY_SECONDS``
(the template's timeouts are minutes long). Redrive to the dead-letter queue after ``maxReceiveCount``
receives is moto's own: it moves such a message on the next ReceiveMessage, as SQS does.

With chaos on (``local.chaos``, LOCAL_CHAOS_DUPLICATE_RATE), a message whose invocation succeeded may be left on
the queue and made visible at once instead of being deleted: SQS's at-least-once delivery, on purpose.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local.chaos import Chaos
from local.runtime import InvocationResult

log = logging.getLogger("local.pollers")

Invoke = Callable[[str, dict[str, Any]], InvocationResult]

RECEIVE_WAIT_SECONDS = 1  # short long-poll: quick to pick up work, quick to stop


@dataclass
class SqsPoller:
    """One event source mapping (one SQS event of one function)."""

    function: str
    queue_url: str
    queue_arn: str
    sqs: Any  # boto3 SQS client (thread-safe)
    invoke: Invoke
    batch_size: int = 10
    maximum_concurrency: int = 2
    report_batch_item_failures: bool = False
    batching_window_seconds: int = 0
    retry_seconds: int = 2
    region: str = "us-east-1"
    chaos: Chaos | None = None

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._slots = threading.Semaphore(max(1, self.maximum_concurrency))
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._receiver: threading.Thread | None = None

    @property
    def name(self) -> str:
        return f"{self.function}<-{self.queue_arn.rsplit(':', 1)[-1]}"

    def start(self) -> None:
        self._receiver = threading.Thread(target=self._run, name=f"poller:{self.name}", daemon=True)
        self._receiver.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        deadline = time.monotonic() + timeout
        threads = [self._receiver] if self._receiver else []
        with self._lock:
            threads += self._threads
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    # -- loop ------------------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=0.5):
                continue
            try:
                messages = self._receive()
            except Exception as error:
                self._slots.release()
                if self._stop.is_set():
                    return
                log.warning("%s: receive failed: %s", self.name, error)
                self._stop.wait(1.0)
                continue
            if not messages:
                self._slots.release()
                continue
            thread = threading.Thread(target=self._process, args=(messages,), name=f"batch:{self.name}", daemon=True)
            with self._lock:
                self._threads = [t for t in self._threads if t.is_alive()]
                self._threads.append(thread)
            thread.start()

    def _receive(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        window_end = time.monotonic() + self.batching_window_seconds
        while len(messages) < self.batch_size and not self._stop.is_set():
            wait = RECEIVE_WAIT_SECONDS if not messages else 0
            if messages and self.batching_window_seconds:
                wait = max(0, min(RECEIVE_WAIT_SECONDS, int(window_end - time.monotonic())))
            response = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, self.batch_size - len(messages)),
                WaitTimeSeconds=wait,
                AttributeNames=["All"],
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            batch = response.get("Messages") or []
            messages.extend(batch)
            if not batch and (not self.batching_window_seconds or time.monotonic() >= window_end):
                break
        return messages

    def _process(self, messages: list[dict[str, Any]]) -> None:
        try:
            self._deliver(messages)
        except Exception:
            log.exception("%s: batch handling failed", self.name)
        finally:
            self._slots.release()

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        records = [self._record(message) for message in messages]
        result = self.invoke(self.function, {"Records": records})
        by_id = {m["MessageId"]: m for m in messages}
        if not result.ok:
            error = result.error or {}
            log.log(
                logging.DEBUG if self._stop.is_set() else logging.WARNING,
                "%s: invocation failed (%s: %s); %d message(s) back on the queue in %ss",
                self.name,
                error.get("errorType"),
                error.get("errorMessage"),
                len(messages),
                self.retry_seconds,
            )
            self._make_visible(messages)
            return
        failed_ids: set[str] = set()
        if self.report_batch_item_failures:
            parsed = _batch_item_failures(result.payload, set(by_id))
            if parsed is None:
                log.warning("%s: invalid batchItemFailures %.200r: the whole batch fails", self.name, result.payload)
                failed_ids = set(by_id)
            else:
                failed_ids = parsed
        succeeded = [m for m in messages if m["MessageId"] not in failed_ids]
        again = [m for m in succeeded if self.chaos is not None and self.chaos.duplicate(self.name, m)]
        self._delete([m for m in succeeded if m not in again])
        self._make_visible(again, 0)
        if failed_ids:
            log.info("%s: %d of %d record(s) failed and stay on the queue", self.name, len(failed_ids), len(messages))

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = dict(message.get("Attributes") or {})
        record: dict[str, Any] = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message.get("Body", ""),
            "attributes": attributes,
            "messageAttributes": {
                name: _message_attribute(value) for name, value in (message.get("MessageAttributes") or {}).items()
            },
            "md5OfBody": message.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }
        if message.get("MD5OfMessageAttributes"):
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        return record

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            response = self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
            for failure in response.get("Failed") or []:
                log.warning("%s: delete failed: %s", self.name, failure)

    def _make_visible(self, messages: list[dict[str, Any]], seconds: int | None = None) -> None:
        seconds = self.retry_seconds if seconds is None else seconds
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            with contextlib.suppress(Exception):
                self.sqs.change_message_visibility_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": seconds}
                        for i, m in enumerate(chunk)
                    ],
                )


def _batch_item_failures(payload: Any, message_ids: set[str]) -> set[str] | None:
    """The failed message ids of a ``{"batchItemFailures": [...]}`` response; None when it is malformed."""
    if payload is None or payload in ({}, ""):
        return set()
    if not isinstance(payload, dict):
        return set()  # Lambda treats an unrelated response as "all succeeded"
    failures = payload.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in message_ids:
            return None
        failed.add(identifier)
    return failed


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    binary = value.get("BinaryValue")
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": base64.b64encode(binary).decode() if isinstance(binary, bytes | bytearray) else binary,
        "stringListValues": list(value.get("StringListValues") or []),
        "binaryListValues": [
            base64.b64encode(v).decode() if isinstance(v, bytes | bytearray) else v
            for v in value.get("BinaryListValues") or []
        ],
        "dataType": value.get("DataType"),
    }

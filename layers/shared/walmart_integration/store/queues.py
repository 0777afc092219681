"""SQS adapter: enqueue jobs, delay redelivery."""

from __future__ import annotations

import math

from pydantic import BaseModel

from walmart_integration.store.base import AwsAdapter

MAX_DELAY_SECONDS = 900  # SQS DelaySeconds limit
MAX_VISIBILITY_SECONDS = 43_200  # SQS visibility timeout limit


class Queues(AwsAdapter):
    service = "sqs"

    def send(self, queue_url: str, message: BaseModel, delay_seconds: float = 0) -> None:
        self.client.send_message(
            QueueUrl=queue_url,
            MessageBody=message.model_dump_json(),
            DelaySeconds=int(min(max(delay_seconds, 0), MAX_DELAY_SECONDS)),
        )

    def send_body(self, queue_url: str, body: str, delay_seconds: float = 0) -> None:
        """Send a message body as it is (a deferred copy of a received message)."""
        self.client.send_message(
            QueueUrl=queue_url,
            MessageBody=body,
            DelaySeconds=int(min(max(math.ceil(delay_seconds), 0), MAX_DELAY_SECONDS)),
        )

    def send_many(self, queue_url: str, messages: list[BaseModel]) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            response = self.client.send_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(index), "MessageBody": m.model_dump_json()} for index, m in enumerate(chunk)],
            )
            if response.get("Failed"):
                raise RuntimeError(f"SQS refused {len(response['Failed'])} message(s): {response['Failed'][0]}")

    def delay_redelivery(self, queue_url: str, receipt_handle: str, seconds: float) -> None:
        """Make a received message visible again only after ``seconds`` (backoff without a sleeping Lambda)."""
        self.client.change_message_visibility(
            QueueUrl=queue_url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=int(min(max(seconds, 0), MAX_VISIBILITY_SECONDS)),
        )

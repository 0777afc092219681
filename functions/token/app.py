"""Token function: fetch a Walmart access token for an instance, then start its sync jobs."""

from walmart_integration.config import get_settings
from walmart_integration.models.messages import TokenJob
from walmart_integration.services.dependencies import Dependencies
from walmart_integration.store.idempotency import run_once
from walmart_integration.worker import Delivery, sqs_handler

deps = Dependencies(get_settings())
connection = deps.connection


def connect_once(job: TokenJob, delivery: Delivery) -> None:
    """A duplicate delivery of a finished token job does nothing (Powertools idempotency)."""
    run_once(
        table_name=deps.settings.idempotency_table_name,
        region=deps.settings.region,
        key={"operation": "token", **job.model_dump()},
        work=lambda: connection.connect(job, delivery),
        expires_after_seconds=3600,
        lambda_context=delivery.lambda_context,
    )


handler = sqs_handler(
    settings=deps.settings,
    queues=deps.queues,
    queue_url=deps.settings.token_queue_url,
    message_type=TokenJob,
    handle=connect_once,
)

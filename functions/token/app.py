"""Token function: fetch a Walmart access token for an instance, then start its sync jobs."""

from typing import Any

from walmart_integration.config import get_settings
from walmart_integration.models.messages import TokenJob
from walmart_integration.observability import logger, metrics
from walmart_integration.services.dependencies import Dependencies
from walmart_integration.store.idempotency import run_once
from walmart_integration.worker import Delivery, process_queue

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


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_queue(
        event,
        context,
        settings=deps.settings,
        queues=deps.queues,
        queue_url=deps.settings.token_queue_url,
        message_type=TokenJob,
        handle=connect_once,
    )

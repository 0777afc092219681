"""Backfill function: historical windows of orders (and, later, advertising reports)."""

from typing import Any

from walmart_integration.config import get_settings
from walmart_integration.models.messages import BackfillJob
from walmart_integration.observability import logger, metrics
from walmart_integration.services.dependencies import Dependencies
from walmart_integration.worker import process_queue

deps = Dependencies(get_settings())
sync = deps.marketplace_sync


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_queue(
        event,
        context,
        settings=deps.settings,
        queues=deps.queues,
        queue_url=deps.settings.backfill_queue_url,
        message_type=BackfillJob,
        handle=sync.backfill,
    )

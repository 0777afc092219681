"""Advertising write-back function: sends one queued campaign/keyword change to Walmart Connect per message."""

from typing import Any

from walmart_integration.config import get_settings
from walmart_integration.models.messages import AdsChangeJob
from walmart_integration.observability import logger, metrics
from walmart_integration.services.dependencies import Dependencies
from walmart_integration.worker import process_queue

deps = Dependencies(get_settings())


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_queue(
        event,
        context,
        settings=deps.settings,
        queues=deps.queues,
        queue_url=deps.settings.ads_writeback_queue_url,
        message_type=AdsChangeJob,
        handle=deps.ads_changes.send,
    )

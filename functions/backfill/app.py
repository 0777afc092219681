"""Backfill function: historical windows of orders, a page per message (advertising reports: ads_reports)."""

from walmart_integration.config import get_settings
from walmart_integration.models.messages import BackfillJob
from walmart_integration.services.dependencies import Dependencies
from walmart_integration.worker import sqs_handler

deps = Dependencies(get_settings())
handler = sqs_handler(
    settings=deps.settings,
    queues=deps.queues,
    queue_url=deps.settings.backfill_queue_url,
    message_type=BackfillJob,
    handle=deps.marketplace_sync.backfill,
)

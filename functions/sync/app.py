"""Sync function: products and orders, page by page."""

from walmart_integration.config import get_settings
from walmart_integration.models.messages import SyncJob
from walmart_integration.services.dependencies import Dependencies
from walmart_integration.worker import sqs_handler

deps = Dependencies(get_settings())
handler = sqs_handler(
    settings=deps.settings,
    queues=deps.queues,
    queue_url=deps.settings.sync_queue_url,
    message_type=SyncJob,
    handle=deps.marketplace_sync.sync,
)

"""Sync function: products and orders, page by page."""

from walmart_integration import composition
from walmart_integration.models.messages import SyncJob
from walmart_integration.worker import sqs_handler

wiring = composition.current()
handler = sqs_handler(
    settings=wiring.settings,
    queues=wiring.queues,
    queue_url=wiring.settings.sync_queue_url,
    message_type=SyncJob,
    handle=wiring.marketplace_sync.sync,
)

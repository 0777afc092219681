"""Backfill function: historical windows of orders, a page per message (advertising reports: ads_reports)."""

from walmart_integration import composition
from walmart_integration.models.messages import BackfillJob
from walmart_integration.worker import sqs_handler

wiring = composition.current()
handler = sqs_handler(
    settings=wiring.settings,
    queues=wiring.queues,
    queue_url=wiring.settings.backfill_queue_url,
    message_type=BackfillJob,
    handle=wiring.marketplace_sync.backfill,
)

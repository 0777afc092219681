"""Advertising write-back function: sends one queued campaign/keyword change to Walmart Connect per message."""

from walmart_integration.config import get_settings
from walmart_integration.models.messages import AdsChangeJob
from walmart_integration.services.dependencies import Dependencies
from walmart_integration.worker import sqs_handler

deps = Dependencies(get_settings())
handler = sqs_handler(
    settings=deps.settings,
    queues=deps.queues,
    queue_url=deps.settings.ads_writeback_queue_url,
    message_type=AdsChangeJob,
    handle=deps.ads_changes.send,
)

"""Advertising write-back function: sends one queued campaign/keyword change to Walmart Connect per message."""

from walmart_integration import composition
from walmart_integration.models.messages import AdsChangeJob
from walmart_integration.worker import sqs_handler

wiring = composition.current()
handler = sqs_handler(
    settings=wiring.settings,
    queues=wiring.queues,
    queue_url=wiring.settings.ads_writeback_queue_url,
    message_type=AdsChangeJob,
    handle=wiring.ads_changes.send,
)

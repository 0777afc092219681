"""Locations function: download the seller's ship nodes."""

from walmart_integration import composition
from walmart_integration.models.messages import LocationsJob
from walmart_integration.worker import sqs_handler

wiring = composition.current()
handler = sqs_handler(
    settings=wiring.settings,
    queues=wiring.queues,
    queue_url=wiring.settings.locations_queue_url,
    message_type=LocationsJob,
    handle=wiring.locations_service.sync,
)

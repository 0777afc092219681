"""Locations function: download the seller's ship nodes."""

from walmart_integration.config import get_settings
from walmart_integration.models.messages import LocationsJob
from walmart_integration.services.dependencies import Dependencies
from walmart_integration.services.locations import LocationsService
from walmart_integration.worker import sqs_handler

deps = Dependencies(get_settings())
locations = LocationsService(deps.instances, deps.locations, deps.connection)
handler = sqs_handler(
    settings=deps.settings,
    queues=deps.queues,
    queue_url=deps.settings.locations_queue_url,
    message_type=LocationsJob,
    handle=locations.sync,
)

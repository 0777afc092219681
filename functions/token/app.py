"""Token function: fetch a Walmart access token for an instance (once per credentials version), then start its
sync jobs."""

from walmart_integration import composition
from walmart_integration.models.messages import TokenJob
from walmart_integration.worker import sqs_handler

wiring = composition.current()
handler = sqs_handler(
    settings=wiring.settings,
    queues=wiring.queues,
    queue_url=wiring.settings.token_queue_url,
    message_type=TokenJob,
    handle=wiring.connection.connect,
)

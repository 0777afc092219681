"""Accounting function: invoices and credit notes for the orders named in each message (and released holds)."""

from walmart_integration.config import get_settings
from walmart_integration.models.messages import AccountingJob
from walmart_integration.services.dependencies import Dependencies
from walmart_integration.worker import sqs_handler

deps = Dependencies(get_settings())
handler = sqs_handler(
    settings=deps.settings,
    queues=deps.queues,
    queue_url=deps.settings.accounting_queue_url,
    message_type=AccountingJob,
    handle=deps.accounting.evaluate,
)

"""Accounting function: invoices and credit notes for the orders named in each message (and released holds)."""

from walmart_integration import composition
from walmart_integration.models.messages import AccountingJob
from walmart_integration.worker import sqs_handler

wiring = composition.current()
handler = sqs_handler(
    settings=wiring.settings,
    queues=wiring.queues,
    queue_url=wiring.settings.accounting_queue_url,
    message_type=AccountingJob,
    handle=wiring.accounting.evaluate,
)

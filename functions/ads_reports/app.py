"""Advertising reports function: one step of one report snapshot per message (request, poll, or download)."""

from walmart_integration import composition
from walmart_integration.models.messages import AdsReportJob
from walmart_integration.worker import sqs_handler

wiring = composition.current()
handler = sqs_handler(
    settings=wiring.settings,
    queues=wiring.queues,
    queue_url=wiring.settings.ads_report_queue_url,
    message_type=AdsReportJob,
    handle=wiring.ads_reports.step,
)

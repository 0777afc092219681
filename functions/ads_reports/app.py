"""Advertising reports function: one step of one report snapshot per message (request, poll, or download)."""

from walmart_integration.config import get_settings
from walmart_integration.models.messages import AdsReportJob
from walmart_integration.services.dependencies import Dependencies
from walmart_integration.worker import sqs_handler

deps = Dependencies(get_settings())
handler = sqs_handler(
    settings=deps.settings,
    queues=deps.queues,
    queue_url=deps.settings.ads_report_queue_url,
    message_type=AdsReportJob,
    handle=deps.ads_reports.step,
)

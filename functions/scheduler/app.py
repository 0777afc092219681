"""Scheduler function (EventBridge, every 15 minutes): incremental sync of auto-sync instances, and the daily
trailing refresh of linked advertising profiles that are due, and accounting batch documents whose period ended."""

from typing import Any

from walmart_integration.config import get_settings
from walmart_integration.observability import logger
from walmart_integration.services.dependencies import Dependencies
from walmart_integration.services.scheduler import AutomaticSyncScheduler

deps = Dependencies(get_settings())
scheduler = AutomaticSyncScheduler(deps.settings, deps.instances, deps.queues)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "scheduled_jobs": scheduler.run(),
        "advertising_refreshes": deps.ads_reports.schedule_refreshes(),
        "accounting_batches_closed": deps.accounting.close_batches(),
    }

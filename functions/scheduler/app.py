"""Scheduler function (EventBridge, every 15 minutes): incremental sync of auto-sync instances, and the daily
trailing refresh of linked advertising profiles that are due, and accounting batch documents whose period ended."""

from typing import Any

from walmart_integration import composition
from walmart_integration.observability import logger

wiring = composition.current()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "scheduled_jobs": wiring.automatic_sync.run(),
        "advertising_refreshes": wiring.ads_reports.schedule_refreshes(),
        "accounting_batches_closed": wiring.accounting.close_batches(),
    }

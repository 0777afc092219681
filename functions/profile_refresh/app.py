"""Profile refresh function: Walmart Connect profile discovery.

EventBridge (every 15 minutes) starts a discovery run; SQS carries its steps (the insight snapshot request, then
deferred polls until the file is ready, then profiles upserted, revocations detected and claims applied).
"""

from typing import Any

from walmart_integration import composition
from walmart_integration.models.messages import ProfileRefreshJob
from walmart_integration.observability import logger, metrics
from walmart_integration.worker import process_queue

wiring = composition.current()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "Records" not in event:
        run = wiring.profile_discovery.start("schedule")
        return {"refresh_id": run.refresh_id, "status": run.status}
    return process_queue(
        event,
        context,
        settings=wiring.settings,
        queues=wiring.queues,
        queue_url=wiring.settings.profile_refresh_queue_url,
        message_type=ProfileRefreshJob,
        handle=wiring.profile_discovery.step,
    )

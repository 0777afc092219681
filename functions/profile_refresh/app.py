"""Profile refresh function (EventBridge, every 15 minutes; SQS for deferred polls).

Walmart Connect profile discovery is issue #4. Until partner credentials and the discovery service
exist, a run reports that there is nothing it can discover, and queued polls are acknowledged.
"""

from typing import Any

from walmart_integration.observability import logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records") or []
    logger.info(
        "Walmart Connect profile discovery is not configured in this release",
        extra={"trigger": "sqs" if records else "schedule", "records": len(records)},
    )
    return {"batchItemFailures": []} if records else {"discovered_profiles": 0}

"""API function: every /api route (the routes live in walmart_integration.api)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from walmart_integration.api import app
from walmart_integration.observability import logger, metrics


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)

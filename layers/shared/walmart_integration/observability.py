"""Logger, Metrics and (lazily) Tracer shared by every function.

The X-Ray SDK is only imported when tracing is switched on, so it stays off the cold-start path.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

# The service name comes from POWERTOOLS_SERVICE_NAME (one per function, set in template.yaml).
logger = Logger(use_rfc3339=True)
metrics = Metrics(namespace="WalmartIntegration")

# An invocation that had nothing to count is normal here, not worth a warning on every call.
warnings.filterwarnings("ignore", message="No application metrics to publish")

__all__ = ["MetricUnit", "get_tracer", "logger", "metrics"]


@lru_cache(maxsize=1)
def get_tracer() -> Any:
    """Powertools Tracer, created on first use (only when tracing is enabled)."""
    from aws_lambda_powertools import Tracer

    return Tracer()

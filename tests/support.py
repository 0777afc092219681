"""Helpers shared by the tests (they live in local.harness, which the benchmarks use too)."""

from local.harness import (
    FUNCTIONS,
    ROOT,
    Harness,
    LambdaContext,
    api_event,
    load_handler,
    response_json,
    sqs_event,
)

__all__ = ["FUNCTIONS", "ROOT", "Harness", "LambdaContext", "api_event", "load_handler", "response_json", "sqs_event"]

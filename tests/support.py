"""Helpers shared by the tests (they live in local.harness, which the benchmarks use too), and the suites' sizes."""

import os

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

SOAK = os.environ.get("SOAK", "") not in ("", "0")  # `make soak`: the reliability suite at full size
# How far back the emulator's sellers list reconciliation reports in the tests (Walmart, and the emulator by default:
# 180 days; `make soak` keeps that): one or two periods, so every connect still syncs and posts settlements at a
# tenth of the work. A test about the whole history sets 180 itself.
SETTLEMENT_HISTORY_DAYS = 180 if SOAK else 14

__all__ = [
    "FUNCTIONS",
    "ROOT",
    "SETTLEMENT_HISTORY_DAYS",
    "SOAK",
    "Harness",
    "LambdaContext",
    "api_event",
    "load_handler",
    "response_json",
    "sqs_event",
]

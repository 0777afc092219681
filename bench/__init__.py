"""Benchmarks: `make bench` prints their figures as JSON."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Handlers log at WARNING and publish no metrics during a benchmark: stdout carries the figures only.
QUIET = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}


def in_process_environment() -> None:
    """Make this interpreter a place to run the handlers under an in-process moto mock."""
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "shared")]
    os.environ.update(
        {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update(QUIET)

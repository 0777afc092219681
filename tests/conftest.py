"""Every test process: the emulated AWS without the CPU it spends on work whose result is known (local/speedups.py).

moto's DynamoDB answers and botocore's service models took most of the integration tests' time; the shortcuts
change no answer (``tests/unit/test_speedups.py``)."""

import pytest

from local import speedups

speedups.speed_up_moto()
speedups.share_botocore_loader()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """e2e and reliability tests drive the local stack, whose code runs in other processes: coverage cannot see it
    there, and tracing the test process would only slow it (pytest-cov's ``no_cover``)."""
    for item in items:
        if {"e2e", "reliability"} & set(item.path.parts):
            item.add_marker(pytest.mark.no_cover)

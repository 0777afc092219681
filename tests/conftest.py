"""Every test process: the emulated AWS without the CPU it spends on work whose result is known (local/speedups.py).

moto's DynamoDB answers and botocore's service models took most of the integration tests' time; the shortcuts
change no answer (``tests/unit/test_speedups.py``)."""

import pytest

from local import speedups

speedups.speed_up_moto()
speedups.share_botocore_loader()


@pytest.fixture(scope="session", autouse=True)
def _aws_calls_untraced_under_coverage() -> None:
    """While pytest-cov measures (``make test``), AWS calls run where its tracer does not follow them."""
    import coverage

    if coverage.Coverage.current() is not None:
        speedups.aws_calls_untraced()


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """e2e and reliability tests run against local stacks that their module or the session starts: each file's tests
    stay on one pytest-xdist worker (``--dist loadgroup``), while unit and integration tests, each on the worker's
    own moto stack, are spread one by one.

    Coverage (pytest-cov, ``make test``) measures the shared layer; tests that cannot reach it are not traced
    (``no_cover``), since tracing would only slow them: e2e and reliability tests drive the local stack, whose code
    runs in other processes, and the emulator's own tests exercise local/emulator (one of them times itself)."""
    for item in items:
        stack_driven = bool({"e2e", "reliability"} & set(item.path.parts))
        if stack_driven:
            item.add_marker(pytest.mark.xdist_group(str(item.path.relative_to(item.config.rootpath))))
        if stack_driven or item.path.name.startswith("test_emulator"):
            item.add_marker(pytest.mark.no_cover)

"""Every test process: the emulated AWS without the CPU it spends on work whose result is known (local/speedups.py).

moto's DynamoDB answers and botocore's service models took most of the integration tests' time; the shortcuts
change no answer (``tests/unit/test_speedups.py``)."""

from typing import Any

import pytest

from local import speedups

speedups.speed_up_moto()
speedups.share_botocore_loader()


def _dynamodb_calls_atomic() -> None:
    """DynamoDB checks a write's condition and makes the write as one step (``ConditionExpression``: "the write
    succeeds only if the condition is met", DynamoDB developer guide); the in-process moto does both in the calling
    thread without a lock, so two threads racing for one item (the token lease, a posting's version) could both
    pass. The tests' interpreter makes its DynamoDB calls one at a time, as DynamoDB would order them. (Calls to the
    local stack's moto server are made atomic by the server in the same way.)"""
    import threading

    import botocore.client

    client_class: Any = botocore.client.BaseClient
    if getattr(client_class._make_api_call, "dynamodb_atomic", False):
        return
    original = client_class._make_api_call
    lock = threading.RLock()

    def make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name != "dynamodb":
            return original(self, operation_name, api_params)
        with lock:
            return original(self, operation_name, api_params)

    make_api_call.dynamodb_atomic = True  # type: ignore[attr-defined]
    client_class._make_api_call = make_api_call


_dynamodb_calls_atomic()


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

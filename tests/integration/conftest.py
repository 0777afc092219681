"""Integration fixtures: moto with the resources of template.yaml, handlers loaded with the template's env."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.emulator import Emulator
from local.inprocess import provision
from local.seed import seed_demo
from tests.support import LambdaContext, api_event, load_handler, sqs_event

REGION = "us-east-1"
QUEUES = ("TokenQueue", "LocationsQueue", "SyncQueue", "BackfillQueue", "ProfileRefreshQueue")
WORKERS = {"TokenQueue": "token", "LocationsQueue": "locations", "SyncQueue": "sync", "BackfillQueue": "backfill"}


@dataclass
class Stack:
    env: dict[str, str]
    handlers: dict[str, Any] = field(default_factory=dict)
    timeout_ms: int = 30_000  # what get_remaining_time_in_millis answers (bounds in-progress idempotency claims)

    def handler(self, name: str) -> Any:
        if name not in self.handlers:
            self.handlers[name] = load_handler(name)
        return self.handlers[name]

    def context(self) -> LambdaContext:
        return LambdaContext(timeout_ms=self.timeout_ms)

    @staticmethod
    def sqs_event(bodies: list[Any], receive_count: int = 1) -> dict[str, Any]:
        return sqs_event(bodies, receive_count)

    def messages(self, queue: str, keep: bool = False) -> list[str]:
        """Bodies waiting in a queue (received and deleted unless ``keep``)."""
        sqs = boto3.client("sqs", region_name=REGION)
        url = self.env[f"queue:{queue}"]
        bodies: list[str] = []
        while True:
            received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0 if keep else 30)
            batch = received.get("Messages", [])
            if not batch:
                return bodies
            for message in batch:
                bodies.append(message["Body"])
                if not keep:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            if keep:
                return bodies

    def drain(self, queue: str, function: str) -> list[dict[str, Any]]:
        """Deliver what waits in ``queue`` to ``function``, like an event source mapping would."""
        results = []
        bodies = self.messages(queue)
        if bodies:
            results.append(self.handler(function).handler(sqs_event(bodies), self.context()))
        return results

    def pump(self, timeout: float = 60.0, queues: dict[str, str] | None = None) -> int:
        """Run the workers like event source mappings until every queue is empty; returns invocations.

        Real receipt handles and receive counts: a failed record stays in its queue (with the delay its
        worker gave it) and is delivered again; succeeded ones are deleted.
        """
        import time

        sqs = boto3.client("sqs", region_name=REGION)
        routes = queues or WORKERS
        deadline = time.monotonic() + timeout
        invocations = 0
        while time.monotonic() < deadline:
            busy = False
            for queue, function in routes.items():
                url = self.env[f"queue:{queue}"]
                received = sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60, AttributeNames=["All"]
                ).get("Messages", [])
                if not received:
                    continue
                busy = True
                event = sqs_event([m["Body"] for m in received])
                for record, message in zip(event["Records"], received, strict=True):
                    record["messageId"] = message["MessageId"]
                    record["receiptHandle"] = message["ReceiptHandle"]
                    record["attributes"]["ApproximateReceiveCount"] = message["Attributes"]["ApproximateReceiveCount"]
                result = self.handler(function).handler(event, self.context())
                invocations += 1
                failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
                for message in received:
                    if message["MessageId"] not in failed:
                        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            if busy:
                continue
            waiting = 0
            for queue in routes:
                attributes = sqs.get_queue_attributes(
                    QueueUrl=self.env[f"queue:{queue}"],
                    AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
                )["Attributes"]
                waiting += int(attributes["ApproximateNumberOfMessages"]) + int(
                    attributes["ApproximateNumberOfMessagesNotVisible"]
                )
            if waiting == 0:
                return invocations
            time.sleep(0.2)
        raise AssertionError(f"queues did not drain within {timeout} s")

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> dict[str, Any]:
        """The api function's answer to an API Gateway request (after the authorizer)."""
        response = self.handler("api").handler(api_event(method, path, body, **kwargs), LambdaContext())
        json.dumps(response)  # what API Gateway receives must be plain JSON
        return response

    def raw_instance(self, tenant: str, instance_id: str) -> dict[str, Any] | None:
        item = boto3.client("dynamodb", region_name=REGION).get_item(
            TableName=self.env["APP_TABLE_NAME"],
            Key={"pk": {"S": f"TENANT#{tenant}"}, "sk": {"S": f"INSTANCE#{instance_id}"}},
        )
        return item.get("Item")

    def locations(self, tenant: str, instance_id: str) -> dict[str, dict[str, Any]]:
        from walmart_integration.store.locations import LocationRepository

        return LocationRepository(self.env["DATA_TABLE_NAME"], REGION).all(tenant, instance_id)


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    emulator = Emulator(seed=7)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def emulator(emulator_server: Emulator) -> Emulator:
    emulator_server.reset()
    return emulator_server


def _reset_caches() -> None:
    from walmart_integration.config import get_settings
    from walmart_integration.store import dynamo, idempotency

    get_settings.cache_clear()
    dynamo.client.cache_clear()
    idempotency._persistence.cache_clear()
    api = sys.modules.get("walmart_integration.api")
    if api is not None:
        api.services.__dict__.clear()  # a cold start: services are wired again from the new settings


@pytest.fixture
def stack_factory(emulator_server: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Stack]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():

        def make(**overrides: str) -> Stack:
            url = str(emulator_server.url)
            provisioned = provision({"WalmartSandboxUrl": url, "WalmartProductionUrl": url, "RetryBaseSeconds": "1"})
            env = {**provisioned.function_env("ApiFunction"), "WALMART_HTTP_ATTEMPTS": "2", **overrides}
            env.pop("POWERTOOLS_SERVICE_NAME", None)
            for name, value in env.items():
                monkeypatch.setenv(name, value)
            env.update({f"queue:{queue}": provisioned.ref(queue) for queue in QUEUES})
            _reset_caches()
            seed_demo({**env, "AWS_DEFAULT_REGION": REGION})
            return Stack(env)

        yield make
    _reset_caches()


@pytest.fixture
def stack(stack_factory: Callable[..., Stack]) -> Stack:
    return stack_factory()


@pytest.fixture
def api_factory(stack_factory: Callable[..., Stack]) -> Callable[..., Callable[..., dict[str, Any]]]:
    """An API on a stack whose functions get extra environment variables."""
    return lambda **overrides: stack_factory(**overrides).call


@pytest.fixture
def api(stack: Stack) -> Callable[..., dict[str, Any]]:
    return stack.call

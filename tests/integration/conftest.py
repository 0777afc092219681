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
from local.seed import seed_demo
from tests.support import LambdaContext, api_event, load_handler, sqs_event

REGION = "us-east-1"
QUEUE_ENV = {
    "TokenQueue": "TOKEN_QUEUE_URL",
    "LocationsQueue": "LOCATIONS_QUEUE_URL",
    "SyncQueue": "SYNC_QUEUE_URL",
    "BackfillQueue": "BACKFILL_QUEUE_URL",
    "ProfileRefreshQueue": "PROFILE_REFRESH_QUEUE_URL",
}


def _create_resources(template: dict[str, Any]) -> dict[str, str]:
    """The template's tables, queues and KMS key, created in moto; returns the env the functions get."""
    resources = template["Resources"]
    env: dict[str, str] = {}
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    for logical_id, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::DynamoDB::Table":
            name = f"test-{logical_id}"
            params: dict[str, Any] = {
                "TableName": name,
                "AttributeDefinitions": props["AttributeDefinitions"],
                "KeySchema": props["KeySchema"],
                "BillingMode": "PAY_PER_REQUEST",
            }
            if props.get("GlobalSecondaryIndexes"):
                params["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
            dynamodb.create_table(**params)
            env[_table_env(logical_id)] = name
        elif resource["Type"] == "AWS::SQS::Queue":
            env[f"queue:{logical_id}"] = sqs.create_queue(QueueName=f"test-{logical_id}")["QueueUrl"]
        elif resource["Type"] == "AWS::KMS::Key":
            env["SECRETS_KEY_ID"] = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["KeyId"]
    for logical_id, name in QUEUE_ENV.items():
        env[name] = env[f"queue:{logical_id}"]
    return env


def _table_env(logical_id: str) -> str:
    return {"AppTable": "APP_TABLE_NAME", "DataTable": "DATA_TABLE_NAME", "IdempotencyTable": "IDEMPOTENCY_TABLE_NAME"}[
        logical_id
    ]


@dataclass
class Stack:
    env: dict[str, str]
    handlers: dict[str, Any] = field(default_factory=dict)

    def handler(self, name: str) -> Any:
        if name not in self.handlers:
            self.handlers[name] = load_handler(name)
        return self.handlers[name]

    @staticmethod
    def context() -> LambdaContext:
        return LambdaContext()

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
def template() -> dict[str, Any]:
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    with open("template.yaml") as handle:
        return yaml.load(handle, Loader=Loader)


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
def stack_factory(
    template: dict[str, Any], emulator_server: Emulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Stack]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():

        def make(**overrides: str) -> Stack:
            env = {
                **_create_resources(template),
                "APP_ENV": "test",
                "POWERTOOLS_METRICS_NAMESPACE": "WalmartIntegration",
                "WALMART_SANDBOX_URL": str(emulator_server.url),
                "WALMART_PRODUCTION_URL": str(emulator_server.url),
                "RETRY_BASE_SECONDS": "1",
                "MAX_RECEIVE_COUNT": "5",
                "WALMART_HTTP_ATTEMPTS": "2",
                **overrides,
            }
            for name, value in env.items():
                if not name.startswith("queue:"):
                    monkeypatch.setenv(name, value)
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
    def make(**overrides: str) -> Callable[..., dict[str, Any]]:
        created = stack_factory(**overrides)
        module = created.handler("api")

        def call(method: str, path: str, body: Any = None, **kwargs: Any) -> dict[str, Any]:
            response = module.handler(api_event(method, path, body, **kwargs), LambdaContext())
            json.dumps(response)  # what API Gateway receives must be plain JSON
            return response

        return call

    return make


@pytest.fixture
def api(stack: Stack) -> Callable[..., dict[str, Any]]:
    module = stack.handler("api")

    def call(method: str, path: str, body: Any = None, **kwargs: Any) -> dict[str, Any]:
        return module.handler(api_event(method, path, body, **kwargs), LambdaContext())

    return call

"""Integration fixtures: moto with the resources of template.yaml, handlers loaded with the template's env."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.emulator import Emulator
from local.harness import QUEUE_ENVIRONMENT, REGION, Harness, new_container
from local.inprocess import provision
from local.partner import install_partner
from local.seed import seed_demo


class Stack(Harness):
    """The harness plus what tests look at directly in the tables."""

    def raw_instance(self, tenant: str, instance_id: str) -> dict[str, Any] | None:
        item = boto3.client("dynamodb", region_name=REGION).get_item(
            TableName=self.env["APP_TABLE_NAME"],
            Key={"pk": {"S": f"TENANT#{tenant}"}, "sk": {"S": f"INSTANCE#{instance_id}"}},
        )
        return item.get("Item")

    def locations(self, tenant: str, instance_id: str) -> dict[str, dict[str, Any]]:
        from walmart_integration.store.locations import LocationRepository

        stored = LocationRepository(self.env["DATA_TABLE_NAME"], REGION).all(tenant, instance_id)
        return {node_id: location.model_dump() for node_id, location in stored.items()}


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
            provisioned = provision(
                {"WalmartSandboxUrl": url, "WalmartProductionUrl": url, "WalmartAdsUrl": url, "RetryBaseSeconds": "1"}
            )
            env = {**provisioned.function_env("ApiFunction"), "WALMART_HTTP_ATTEMPTS": "2", **overrides}
            env.pop("POWERTOOLS_SERVICE_NAME", None)
            for name, value in env.items():
                monkeypatch.setenv(name, value)
            env.update({f"queue:{queue}": provisioned.ref(queue) for queue in QUEUE_ENVIRONMENT})
            new_container()
            secretsmanager = boto3.client("secretsmanager", region_name=REGION)
            install_partner(secretsmanager, env["WALMART_ADS_SECRET_NAME"], emulator_server)
            seed_demo({**env, "AWS_DEFAULT_REGION": REGION})
            return Stack(env)

        yield make
    new_container()


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

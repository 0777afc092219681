"""Integration fixtures: moto with the resources of template.yaml, handlers loaded with the template's env.

One moto stack per test session (per pytest-xdist worker): the template's resources are provisioned once
(``local.inprocess.provision``), the Walmart Connect partner secret written and the demo tenant seeded (store 1,
nominal codes 1-15, its claims of the emulator's demo advertisers), and that state is recorded. Every test then
starts from exactly that state: what an earlier test wrote is gone from every table (the seed's items are put back
as they were), every queue is empty, test-made queues and EventBridge rules are deleted, the emulator is new. So
the fixtures mean what they meant when each test provisioned a stack of its own (``stack``: the demo tenant's
world; ``stack_factory(**env)``: the same resources, the functions with other environment variables, handlers
loaded afresh in a new container), and a test may count whatever is in a table, an index or a queue.

Provisioning costs a second or more, a per-test reset tens of milliseconds. moto's state is process-wide: a test
with a ``mock_aws()`` of its own resets it, and the next test that needs the stack provisions it again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.emulator import Emulator, PartnerKeyPair, generate_partner
from local.harness import QUEUE_ENVIRONMENT, REGION, Harness, new_container
from local.inprocess import InProcessStack, provision
from local.partner import secret_value
from local.seed import seed_demo
from tests.support import SETTLEMENT_HISTORY_DAYS

AWS_ENV = {"AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


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


@dataclass
class SessionAws:
    """The session's moto: the template's resources, provisioned once, and the state every test starts from."""

    emulator_url: str
    partner: PartnerKeyPair
    mock: Any = field(default_factory=mock_aws)
    env: dict[str, str] = field(default_factory=dict)  # the functions' environment (ApiFunction's, as before)
    queues: dict[str, str] = field(default_factory=dict)  # "queue:<logical id>" -> URL
    template_queues: set[str] = field(default_factory=set)  # every queue URL of the template
    tables: dict[str, list[str]] = field(default_factory=dict)  # table name -> key attributes
    seed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # table name -> items after seeding

    def provision(self) -> None:
        url = self.emulator_url
        provisioned = provision(
            {"WalmartSandboxUrl": url, "WalmartProductionUrl": url, "WalmartAdsUrl": url, "RetryBaseSeconds": "1"}
        )
        env = {**provisioned.function_env("ApiFunction"), "WALMART_HTTP_ATTEMPTS": "2"}
        env.pop("POWERTOOLS_SERVICE_NAME", None)
        self.env = env
        self.queues = {f"queue:{queue}": provisioned.ref(queue) for queue in QUEUE_ENVIRONMENT}
        secrets = boto3.client("secretsmanager", region_name=REGION)
        secrets.create_secret(Name=env["WALMART_ADS_SECRET_NAME"], SecretString=json.dumps(secret_value(self.partner)))
        seed_demo({**env, **AWS_ENV})
        self.tables = _tables(provisioned)
        self.template_queues = set(boto3.client("sqs", region_name=REGION).list_queues().get("QueueUrls", []))
        self.seed = {table: _scan(table, None) for table in self.tables}

    def ready(self) -> bool:
        """The provisioned resources still exist (no other ``mock_aws()`` reset moto since)."""
        if not self.tables:
            return False
        try:
            boto3.client("dynamodb", region_name=REGION).describe_table(TableName=next(iter(self.tables)))
        except Exception:
            return False
        return True

    def restore(self) -> None:
        """Back to the state right after provisioning."""
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        for table, key in self.tables.items():
            stale = [{name: item[name] for name in key} for item in _scan(table, key)]
            _batch_write(dynamodb, table, [{"DeleteRequest": {"Key": k}} for k in stale])
            _batch_write(dynamodb, table, [{"PutRequest": {"Item": item}} for item in self.seed[table]])
        sqs = boto3.client("sqs", region_name=REGION)
        for url in sqs.list_queues(MaxResults=1000).get("QueueUrls", []):
            if url in self.template_queues:
                sqs.purge_queue(QueueUrl=url)
            else:
                sqs.delete_queue(QueueUrl=url)  # made by a test
        events = boto3.client("events", region_name=REGION)
        for bus in events.list_event_buses()["EventBuses"]:
            for rule in events.list_rules(EventBusName=bus["Name"]).get("Rules", []):
                targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus["Name"])["Targets"]
                if targets:
                    ids = [target["Id"] for target in targets]
                    events.remove_targets(Rule=rule["Name"], EventBusName=bus["Name"], Ids=ids)
                events.delete_rule(Name=rule["Name"], EventBusName=bus["Name"])


def _tables(provisioned: InProcessStack) -> dict[str, list[str]]:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    tables = {}
    for logical_id, spec in provisioned.template.resources.items():
        if spec.get("Type") == "AWS::DynamoDB::Table":
            name = provisioned.ref(logical_id)
            schema = dynamodb.describe_table(TableName=name)["Table"]["KeySchema"]
            tables[name] = [part["AttributeName"] for part in schema]
    return tables


def _scan(table: str, key: list[str] | None) -> list[dict[str, Any]]:
    """Every item of ``table`` (only its ``key`` attributes when given)."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    params: dict[str, Any] = {"TableName": table}
    if key:
        params["ProjectionExpression"] = ", ".join(f"#k{n}" for n in range(len(key)))
        params["ExpressionAttributeNames"] = {f"#k{n}": name for n, name in enumerate(key)}
    items: list[dict[str, Any]] = []
    while True:
        page = dynamodb.scan(**params)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _batch_write(dynamodb: Any, table: str, requests: list[dict[str, Any]]) -> None:
    for start in range(0, len(requests), 25):
        pending: dict[str, Any] = {table: requests[start : start + 25]}
        while pending:
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    emulator = Emulator(seed=7)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def connect_partner() -> PartnerKeyPair:
    """The Walmart Connect API partner of the session (its secret in Secrets Manager, its public key at Walmart)."""
    return generate_partner()


@pytest.fixture
def emulator(emulator_server: Emulator, connect_partner: PartnerKeyPair) -> Emulator:
    """The emulator as new, knowing the session's Connect partner.

    Its sellers list the reconciliation reports of ``SETTLEMENT_HISTORY_DAYS`` rather than Walmart's 180 (see
    tests/support.py)."""
    emulator_server.reset()
    emulator_server.faults.update({"settlement_history_days": SETTLEMENT_HISTORY_DAYS})
    pair = connect_partner
    emulator_server.configure_partner(pair.consumer_id, pair.key_version, pair.public_key_pem, pair.auth_token)
    return emulator_server


@pytest.fixture(scope="session")
def session_aws(emulator_server: Emulator, connect_partner: PartnerKeyPair) -> Iterator[SessionAws]:
    aws = SessionAws(str(emulator_server.url), connect_partner)
    yield aws
    if aws.tables:
        aws.mock.start(reset=False)
        aws.mock.stop()  # (removes the data)


@pytest.fixture
def stack_factory(
    session_aws: SessionAws, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Stack]]:
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    # Emptying a queue more than once a minute: SQS refuses that; the reset is not a use of the service.
    monkeypatch.setenv("MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR", "false")
    # Active only while a test runs: other tests of this worker (e2e, unit) must reach their own AWS.
    session_aws.mock.start(reset=False)
    try:
        if session_aws.ready():
            session_aws.restore()
        else:
            session_aws.provision()

        def make(**overrides: str) -> Stack:
            env = {**session_aws.env, **overrides}
            for name, value in env.items():
                monkeypatch.setenv(name, value)
            new_container()
            return Stack({**env, **session_aws.queues})

        yield make
    finally:
        new_container()
        session_aws.mock.stop(remove_data=False)


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

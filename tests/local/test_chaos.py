"""The local stack's chaos knobs (local/chaos.py): settings, the DynamoDB write hook, duplicate deliveries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from moto import mock_aws

from local import chaos
from local.pollers import SqsPoller
from local.runtime import FunctionConfig, InvocationResult, worker_environment
from walmart_integration.store import dynamo

REGION = "us-east-1"


def sqs_event(receive_count: int = 1) -> dict[str, Any]:
    record = {
        "messageId": "m-1",
        "eventSource": "aws:sqs",
        "attributes": {"ApproximateReceiveCount": str(receive_count)},
    }
    return {"Records": [record]}


class Exited(Exception):
    pass


def test_knobs_come_from_the_environment_then_the_file_reread_when_it_changes(tmp_path: Path):
    file = tmp_path / "chaos.json"
    state = chaos.Chaos(
        {"LOCAL_CHAOS_KILL_RATE": "0.25", "LOCAL_CHAOS_SEED": "7", "LOCAL_CHAOS_FILE": str(file)}, role="t"
    )
    assert state.knobs() == chaos.Knobs(kill_rate=0.25, seed="7")
    assert state.log_path == Path(f"{file}.log")
    chaos.configure(file, kill_rate=0, duplicate_rate=0.5)
    assert state.knobs() == chaos.Knobs(kill_rate=0.0, duplicate_rate=0.5, seed="7")
    chaos.configure(file, kill_rate=1, kill_max_receives=4)
    assert state.knobs() == chaos.Knobs(kill_rate=1.0, kill_max_receives=4, seed="7")
    file.write_text("{not json")
    assert state.knobs() == chaos.Knobs(kill_rate=0.25, seed="7")  # a broken file: the environment's values
    file.unlink()
    assert state.knobs() == chaos.Knobs(kill_rate=0.25, seed="7")
    with pytest.raises(ValueError):
        chaos.Chaos({"LOCAL_CHAOS_DUPLICATE_RATE": "1.5"})


def test_chaos_is_off_without_settings_and_workers_inherit_them(monkeypatch: pytest.MonkeyPatch):
    assert not chaos.enabled({"PATH": "/bin"}) and not chaos.enabled({"LOCAL_CHAOS_FILE": ""})
    assert chaos.enabled({"LOCAL_CHAOS_FILE": "/tmp/x.json"})
    assert not chaos.Chaos({}).knobs().active
    config = FunctionConfig("F", "f", "app.handler", "/code", (), {"A": "1"}, 3.0)
    monkeypatch.setenv("LOCAL_CHAOS_KILL_RATE", "0.1")
    assert worker_environment(config)["LOCAL_CHAOS_KILL_RATE"] == "0.1"
    monkeypatch.delenv("LOCAL_CHAOS_KILL_RATE")
    assert not any(name.startswith("LOCAL_CHAOS_") for name in worker_environment(config))


@mock_aws
def test_a_worker_dies_after_a_successful_write_of_the_layers_own_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    # install() patches botocore's Session for the rest of the process: undone when the test ends
    monkeypatch.setattr(botocore.session.Session, "create_client", botocore.session.Session.create_client)
    log = tmp_path / "faults.log"
    exits: list[int] = []

    def exit_(status: int) -> None:
        exits.append(status)
        raise Exited

    state = chaos.Chaos({"LOCAL_CHAOS_KILL_RATE": "1", "LOCAL_CHAOS_LOG": str(log)}, role="sync")
    worker = chaos.WorkerChaos("SyncFunction", state, exit=exit_)
    worker.install()
    worker.install()  # once only
    client = dynamo.client.__wrapped__("dynamodb", REGION)  # type: ignore[attr-defined]  # as the layer makes it
    client.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    item = {"pk": {"S": "a"}}

    client.put_item(TableName="t", Item=item)  # outside an SQS batch (API, schedules): never killed
    worker.begin({"httpMethod": "GET"})
    client.put_item(TableName="t", Item=item)
    worker.begin(sqs_event(receive_count=3))  # past kill_max_receives (2): not killed
    client.put_item(TableName="t", Item=item)
    assert exits == []

    worker.begin(sqs_event(receive_count=2))
    client.get_item(TableName="t", Key=item)  # reads never
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):  # a refused write is no write
        client.put_item(TableName="t", Item=item, ConditionExpression="attribute_not_exists(pk)")
    assert exits == []
    with pytest.raises(Exited):
        client.update_item(
            TableName="t", Key=item, UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"N": "1"}}
        )
    assert exits == [chaos.KILL_EXIT_STATUS]
    assert client.get_item(TableName="t", Key=item)["Item"]["v"] == {"N": "1"}  # the write landed before the kill
    with pytest.raises(Exited):  # a resource's client (and any new session's) is hooked too
        boto3.session.Session().resource("dynamodb", region_name=REGION).Table("t").delete_item(Key={"pk": "a"})
    worker.end()
    client.put_item(TableName="t", Item=item)
    assert chaos.counts(log) == {"kills": 2, "duplicates": 0}
    entry = json.loads(log.read_text().splitlines()[0])
    assert (entry["fault"], entry["function"], entry["operation"], entry["message_id"]) == (
        "kill",
        "SyncFunction",
        "UpdateItem",
        "m-1",
    )


class FakeSqs:
    def __init__(self) -> None:
        self.deleted: list[str] = []
        self.visible: list[tuple[str, int]] = []

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.deleted += [e["ReceiptHandle"] for e in Entries]
        return {}

    def change_message_visibility_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.visible += [(e["ReceiptHandle"], e["VisibilityTimeout"]) for e in Entries]
        return {}


def message(n: int, receives: int = 1) -> dict[str, Any]:
    return {
        "MessageId": f"id-{n}",
        "ReceiptHandle": f"rh-{n}",
        "Body": "{}",
        "Attributes": {"ApproximateReceiveCount": str(receives)},
    }


def poller(sqs: FakeSqs, rate: str, log: Path) -> SqsPoller:
    state = chaos.Chaos({"LOCAL_CHAOS_DUPLICATE_RATE": rate, "LOCAL_CHAOS_LOG": str(log)}, role="stack")
    return SqsPoller(
        function="F",
        queue_url="url",
        queue_arn="arn:aws:sqs:us-east-1:1:q",
        sqs=sqs,
        invoke=lambda name, event: InvocationResult("r", payload={"batchItemFailures": []}),
        report_batch_item_failures=True,
        chaos=state,
    )


def test_a_poller_delivers_a_processed_message_again_instead_of_deleting_it(tmp_path: Path):
    sqs = FakeSqs()
    poller(sqs, "1", tmp_path / "a.log")._deliver([message(1), message(2, receives=3)])
    assert sqs.visible == [("rh-1", 0)] and sqs.deleted == ["rh-2"]  # visible at once; a 3rd delivery is not
    assert chaos.counts(tmp_path / "a.log") == {"kills": 0, "duplicates": 1}

    sqs = FakeSqs()
    poller(sqs, "0", tmp_path / "b.log")._deliver([message(1), message(2)])
    assert sqs.visible == [] and sqs.deleted == ["rh-1", "rh-2"]
    assert chaos.counts(tmp_path / "b.log") == {"kills": 0, "duplicates": 0}

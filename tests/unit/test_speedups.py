"""local/speedups.py changes no answer: every DynamoDB operation answers the same with and without it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError
from moto import mock_aws

from local import speedups

TABLE = "speedups"
ITEMS: list[dict[str, Any]] = [
    {
        "pk": "TENANT#a",
        "sk": "ORDER#1",
        "text": "ünïcode ✓",
        "empty": "",
        "number": Decimal("10.80"),
        "big": Decimal("123456789012345678901234567890"),
        "negative": Decimal("-0.000001"),
        "flag": True,
        "off": False,
        "nothing": None,
        "blob": Binary(b"\x00\xffciphertext"),
        "strings": {"a", "b"},
        "numbers": {Decimal(1), Decimal("2.5")},
        "blobs": {Binary(b"x"), Binary(b"\x01")},
        "lines": [
            {"sku": "S1", "charges": [{"amount": Decimal("1.10"), "tax": {"amount": Decimal("0.09")}}], "qty": 2},
            {"sku": "S2", "charges": [], "refund": None, "blob": Binary(b"r")},
            [Decimal(1), "two", [True, None]],
        ],
        "nested": {"deep": {"deeper": {"deepest": ["x", {"y": Decimal(0)}]}}, "empty_map": {}, "empty_list": []},
    },
    {"pk": "TENANT#a", "sk": "ORDER#2", "number": Decimal(2), "lines": [{"sku": "S1"}]},
    {"pk": "TENANT#b", "sk": "ORDER#1", "strings": {"only"}},
]


def _operations(resource: Any, table: Any, client: Any) -> dict[str, Any]:
    """What each operation answers (responses without metadata; an error's code, message and item)."""
    answers: dict[str, Any] = {}

    def record(name: str, call: Callable[[], Any]) -> None:
        try:
            answer = call()
            answer.pop("ResponseMetadata", None)
        except ClientError as error:
            response = error.response
            answer = {k: response.get(k) for k in ("Error", "Item", "CancellationReasons")}  # type: ignore[misc]
        answers[name] = answer

    key = {"pk": "TENANT#a", "sk": "ORDER#1"}
    record("get", lambda: table.get_item(Key=key))
    record(
        "query", lambda: table.query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": "TENANT#a"})
    )
    record(
        "page",
        lambda: table.query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": "TENANT#a"}, Limit=1),
    )
    record("scan", table.scan)
    record("projection", lambda: table.scan(ProjectionExpression="pk, lines[0].charges, nested.deep"))
    record(
        "batch",
        lambda: resource.batch_get_item(RequestItems={TABLE: {"Keys": [key, {"pk": "TENANT#b", "sk": "ORDER#1"}]}}),
    )

    def update(name: str, expression: str, values: dict[str, Any], **params: Any) -> None:
        """An UpdateItem of the first item (``params``: any other of its parameters, ``Key`` included)."""
        call = {"Key": key, "UpdateExpression": expression, "ExpressionAttributeValues": values, **params}
        record(name, lambda: table.update_item(**call))

    update(
        "update",
        "SET #n = #n + :one, #l[0].qty = :q, added = list_append(if_not_exists(added, :e), :l) "
        "REMOVE gone ADD strings :s",
        {":one": 1, ":q": 3, ":e": [], ":l": ["x"], ":s": {"z"}},
        Key={"pk": "TENANT#a", "sk": "ORDER#2"},
        ExpressionAttributeNames={"#n": "number", "#l": "lines"},
        ReturnValues="ALL_NEW",
    )
    update(
        "conditional",
        "SET flag = :f",
        {":f": False},
        ConditionExpression="attribute_not_exists(pk)",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    update("invalid", "SET a = :a, a = :b", {":a": 1, ":b": 2})
    update("overlap", "SET #l = :a REMOVE #l[0]", {":a": []}, ExpressionAttributeNames={"#l": "lines"})
    update("clauses", "SET a = :a SET b = :b", {":a": 1, ":b": 2})
    update(
        "duplicate", "SET #a = :a, #b = :b", {":a": 1, ":b": 2}, ExpressionAttributeNames={"#a": "same", "#b": "same"}
    )
    update("overlapping", "SET nested = :a REMOVE nested.deep", {":a": {}})
    record("oversize", lambda: table.put_item(Item={**key, "a": "x" * 200_000, "b": "y" * 205_000}))
    update("grows_too_large", "SET big_text = :t", {":t": "z" * 405_000})
    update("key", "SET sk = :a", {":a": "x"})
    record(
        "transaction",
        lambda: client.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "TENANT#a"}, "sk": {"S": "ORDER#1"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            ]
        ),
    )
    record("after", lambda: table.scan(ConsistentRead=True))
    return answers


def _answers() -> dict[str, Any]:
    with mock_aws():
        resource = boto3.resource("dynamodb", region_name="us-east-1")
        client = boto3.client("dynamodb", region_name="us-east-1")
        table = resource.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for item in ITEMS:
            table.put_item(Item=item)
        return _operations(resource, table, client)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    yield
    speedups.speed_up_moto()
    speedups.share_botocore_loader()


def test_dynamodb_answers_are_the_same_with_and_without_the_shortcuts(aws_env: None) -> None:
    speedups.restore("moto")
    without = _answers()
    speedups.speed_up_moto()
    with_them = _answers()
    assert with_them == without
    assert without["get"]["Item"]["blob"] == Binary(b"\x00\xffciphertext")
    assert without["update"]["Attributes"]["number"] == 3
    assert without["conditional"]["Error"]["Code"] == "ConditionalCheckFailedException"
    assert without["invalid"]["Error"]["Code"] == "ValidationException"
    for refused in ("clauses", "duplicate", "overlapping", "oversize", "grows_too_large"):
        assert without[refused].get("Error", {}).get("Code") == "ValidationException", (refused, without[refused])
    assert without["transaction"]["Error"]["Code"] == "TransactionCanceledException"
    assert without["transaction"]["CancellationReasons"][0]["Item"]["pk"] == {"S": "TENANT#a"}


def test_every_session_shares_one_loader_and_boto3_adds_its_path_once(aws_env: None) -> None:
    speedups.restore("loader")
    speedups.share_botocore_loader()
    first, second = boto3.session.Session(), boto3.session.Session()
    loader = first._session.get_component("data_loader")  # type: ignore[attr-defined]
    assert second._session.get_component("data_loader") is loader  # type: ignore[attr-defined]
    assert len(loader.search_paths) == len(set(loader.search_paths))
    assert first.client("sqs", region_name="us-east-1").meta.service_model.service_name == "sqs"
    assert second.client("dynamodb", region_name="us-east-1").meta.service_model.service_name == "dynamodb"


def test_aws_calls_of_the_main_thread_run_in_the_helper_and_answer_and_fail_as_before(aws_env: None) -> None:
    speedups.aws_calls_untraced()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        threads: list[int] = []
        sqs.meta.events.register("before-call.sqs", lambda **_: threads.append(threading.get_ident()))
        url = sqs.create_queue(QueueName="speedups")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="body")
        assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["body"]
        with pytest.raises(ClientError) as caught:
            sqs.get_queue_url(QueueName="missing")
        assert caught.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert len(threads) == 4 and threading.get_ident() not in threads

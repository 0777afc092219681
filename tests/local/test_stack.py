"""The Docker-free local stack (local/) on a tiny fake service: environments, gateway, pollers, runtime, schedules.

The fake service (tests/local/support.py) is written to a temporary directory; its functions record what they
receive in JSON-lines files, so the tests assert what a function saw, what a client got and what is left on the
queues.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.stack import LocalStack
from tests.local.support import write_service


def records(stack: LocalStack, name: str) -> list[dict[str, Any]]:
    path = Path(stack.parameters["OutDir"]) / f"{name}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    root = tmp_path_factory.mktemp("fake-service")
    template = write_service(root)
    with LocalStack(
        template_path=template,
        api_port=0,
        app_env="local",
        marketplace_url="http://127.0.0.1:9",  # no emulator needed here
        ads_url="http://127.0.0.1:9",
        parameters={"OutDir": str(root / "out")},
        schedule_seconds=0.5,
        retry_seconds=1,
        seed=lambda env: "token-for-" + env["STAGE"],
        environ={},
    ) as running:
        yield running


@pytest.fixture
def http(stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.api_url, timeout=20) as client:
        yield client


def send(stack: LocalStack, *actions: str) -> list[str]:
    ids = [f"{action}-{uuid.uuid4().hex[:8]}" for action in actions]
    stack.client("sqs").send_message_batch(
        QueueUrl=stack.physical_id("WorkQueue"),
        Entries=[
            {
                "Id": str(index),
                "MessageBody": json.dumps({"id": message_id, "action": action}),
                "MessageAttributes": {"kind": {"DataType": "String", "StringValue": action}},
            }
            for index, (message_id, action) in enumerate(zip(ids, actions, strict=True))
        ],
    )
    return ids


def deliveries(stack: LocalStack, message_id: str) -> list[dict[str, Any]]:
    return [r for r in records(stack, "worker") if r["id"] == message_id]


def dead_letters(stack: LocalStack) -> dict[str, dict[str, Any]]:
    """Bodies (by id) of what is in the dead-letter queue (left there: receive with visibility 0)."""
    response = stack.client("sqs").receive_message(
        QueueUrl=stack.physical_id("WorkDeadLetterQueue"),
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,
        AttributeNames=["All"],
    )
    return {json.loads(m["Body"])["id"]: m for m in response.get("Messages", [])}


def queue_depth(stack: LocalStack, logical_id: str) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.physical_id(logical_id),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


# ------------------------------------------------------------------------------------------ environments


def test_function_environment_comes_from_the_created_resources(stack: LocalStack) -> None:
    env = stack.function_env("WorkerFunction")
    sqs, dynamodb, kms = stack.client("sqs"), stack.client("dynamodb"), stack.client("kms")
    queue = sqs.get_queue_attributes(QueueUrl=env["QUEUE_URL"], AttributeNames=["All"])["Attributes"]
    assert env["QUEUE_URL"].startswith(stack.aws_endpoint_url)
    assert env["QUEUE_ARN"] == queue["QueueArn"]
    assert json.loads(queue["RedrivePolicy"])["maxReceiveCount"] == 2
    assert dynamodb.describe_table(TableName=env["TABLE_NAME"])["Table"]["TableStatus"] == "ACTIVE"
    assert kms.describe_key(KeyId=env["KEY_ID"])["KeyMetadata"]["KeyId"] == env["KEY_ID"]
    queue_name = env["QUEUE_URL"].rsplit("/", 1)[-1]
    assert env["SUBBED"] == f"us-east-1:{queue_name}:local:${{Literal}}"
    assert (env["STAGE"], env["MAX_RECEIVE_COUNT"]) == ("local", "2")
    assert "ROLE" not in env  # another function's variable
    assert env["AWS_ENDPOINT_URL"] == stack.aws_endpoint_url and env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_LAMBDA_FUNCTION_NAME"].endswith("WorkerFunction")
    assert stack.token == "token-for-local"


# ------------------------------------------------------------------------------------------ gateway


def test_public_route_gets_a_rest_proxy_event(stack: LocalStack, http: httpx.Client) -> None:
    before = len(records(stack, "authorizer"))
    response = http.get("/public", params=[("q", "1"), ("q", "2"), ("x", "y")], headers={"X-Custom_Header": "v"})
    assert response.status_code == 200
    assert response.headers["X-Role"] == "api"
    assert response.headers.get_list("X-Multi") == ["a", "b"]
    assert response.headers["x-amzn-RequestId"]
    body = response.json()
    event = body["event"]
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/public", "/public", "GET")
    assert event["queryStringParameters"] == {"q": "2", "x": "y"}
    assert event["multiValueQueryStringParameters"] == {"q": ["1", "2"], "x": ["y"]}
    assert event["pathParameters"] is None and event["stageVariables"] is None
    assert event["headers"]["X-Custom_Header"] == "v"
    assert event["multiValueHeaders"]["X-Custom_Header"] == ["v"]
    assert event["body"] is None and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert (context["stage"], context["resourcePath"], context["httpMethod"]) == ("local", "/public", "GET")
    assert context["path"] == "/local/public" and context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["requestId"] == response.headers["x-amzn-RequestId"]
    assert "authorizer" not in context
    assert body["function"].endswith("ApiFunction") and 0 < body["remaining"] <= 5000
    assert len(records(stack, "authorizer")) == before  # Auth NONE: no authorizer call


def test_authorizer_allow_deny_unauthorized(stack: LocalStack, http: httpx.Client) -> None:
    before = len(records(stack, "authorizer"))
    missing = http.get("/hello/bob")
    assert missing.status_code == 401 and missing.json() == {"message": "Unauthorized"}
    assert missing.headers["WWW-Authenticate"] == "Bearer"  # GatewayResponses
    assert len(records(stack, "authorizer")) == before  # no identity source: the authorizer is not called

    unknown = http.get("/hello/bob", headers={"Authorization": "Bearer nope"})
    assert unknown.status_code == 401 and unknown.json() == {"message": "Unauthorized"}

    denied = http.get("/hello/bob", headers={"Authorization": "Bearer deny"})
    assert denied.status_code == 403
    assert denied.json() == {"message": "User is not authorized to access this resource"}

    allowed = http.get("/hello/bob", headers={"Authorization": "Bearer allow"})
    assert allowed.status_code == 200
    event = allowed.json()["event"]
    assert event["resource"] == "/hello/{proxy+}" and event["pathParameters"] == {"proxy": "bob"}
    authorizer = event["requestContext"]["authorizer"]
    assert (authorizer["principalId"], authorizer["tenant_id"], authorizer["level"]) == ("tenant-1", "tenant-1", 3)
    calls = records(stack, "authorizer")[before:]
    assert len(calls) == 3 and {c["type"] for c in calls} == {"REQUEST"}
    assert calls[-1]["methodArn"].endswith("/local/GET/hello/bob")


def test_proxy_routes_bodies_and_errors(stack: LocalStack, http: httpx.Client) -> None:
    auth = {"Authorization": "Bearer allow"}
    posted = http.post("/items/a/b", json={"x": 1}, headers=auth)
    assert posted.status_code == 200
    event = posted.json()["event"]
    assert event["pathParameters"] == {"proxy": "a/b"} and event["httpMethod"] == "POST"
    assert json.loads(event["body"]) == {"x": 1}

    binary = http.get("/items/binary", headers=auth)
    assert binary.status_code == 200 and binary.content == b"\x00\x01"

    for path in ("/items/error", "/items/malformed"):
        failed = http.get(path, headers=auth)
        assert failed.status_code == 502 and failed.json() == {"message": "Internal server error"}

    for method, path in (("GET", "/nothing"), ("DELETE", "/public"), ("GET", "/items")):
        missing = http.request(method, path, headers=auth)
        assert missing.status_code == 403 and missing.json() == {"message": "Missing Authentication Token"}


# ------------------------------------------------------------------------------------------ SQS


def test_poller_delivers_a_batch_and_deletes_it(stack: LocalStack) -> None:
    ids = send(stack, "ok", "ok", "ok")
    wait_for(lambda: all(deliveries(stack, i) for i in ids))
    wait_for(lambda: queue_depth(stack, "WorkQueue") == 0, timeout=5)
    record = deliveries(stack, ids[0])[0]["record"]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == stack.physical_id("WorkQueue", "Arn")
    assert record["awsRegion"] == "us-east-1"
    assert json.loads(record["body"])["id"] == ids[0]
    assert record["messageId"] and record["receiptHandle"] and record["md5OfBody"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "ok",
        "binaryValue": None,
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    time.sleep(1.5)
    assert all(len(deliveries(stack, i)) == 1 for i in ids)  # deleted: never delivered again


def test_partial_batch_failure_leaves_only_the_failed_record_then_dead_letters_it(stack: LocalStack) -> None:
    ok, failed = send(stack, "ok", "fail")
    # Redelivered after the handler's own 1 s visibility, failing again; the receive after the 2nd
    # (maxReceiveCount) moves it to the dead-letter queue.
    wait_for(lambda: failed in dead_letters(stack), timeout=20)
    assert len(deliveries(stack, ok)) == 1
    attempts = deliveries(stack, failed)
    assert [a["record"]["attributes"]["ApproximateReceiveCount"] for a in attempts] == ["1", "2"]
    assert json.loads(dead_letters(stack)[failed]["Body"])["action"] == "fail"


def test_failed_invocation_returns_the_whole_batch_quickly(stack: LocalStack) -> None:
    # The queue's visibility timeout is 120 s; after a failed invocation the stack makes the batch
    # visible again after LOCAL_RETRY_SECONDS (1 s here), so the retries happen within seconds.
    (raised,) = send(stack, "raise")
    wait_for(lambda: raised in dead_letters(stack), timeout=20)
    assert len(deliveries(stack, raised)) == 2


def test_crashing_process_is_replaced(stack: LocalStack) -> None:
    first = stack.invoke("WorkerFunction", {})
    assert first.ok and first.payload["function"].endswith("WorkerFunction")
    crash = stack.invoke("WorkerFunction", {"crash": True})
    assert not crash.ok and crash.crashed and crash.error["errorType"] == "Runtime.ExitError"  # type: ignore[index]
    assert "exit status 7" in crash.error["errorMessage"]  # type: ignore[index]
    after = stack.invoke("WorkerFunction", {})
    assert after.ok and after.init_ms is not None  # a cold start in a new process

    timed_out = stack.invoke("WorkerFunction", {"sleep": 5})  # Timeout: 2
    assert timed_out.crashed and timed_out.error["errorType"] == "Sandbox.Timedout"  # type: ignore[index]
    assert stack.invoke("WorkerFunction", {}).ok

    # Through the poller: the crash fails the batch, which comes back (quickly) until the DLQ takes it.
    (crashing,) = send(stack, "crash")
    wait_for(lambda: crashing in dead_letters(stack), timeout=20)
    attempts = deliveries(stack, crashing)
    assert len(attempts) == 2 and attempts[0]["pid"] != attempts[1]["pid"]


# ------------------------------------------------------------------------------------------ schedules


def test_schedule_fires_at_start_and_then_every_interval(stack: LocalStack) -> None:
    ticks = wait_for(lambda: (t := records(stack, "tick")) and len(t) >= 2 and t, timeout=10)
    event = ticks[0]
    assert (event["source"], event["detail-type"], event["detail"]) == ("aws.events", "Scheduled Event", {})
    assert event["resources"][0].startswith("arn:aws:events:us-east-1:123456789012:rule/")
    assert event["account"] == "123456789012" and event["region"] == "us-east-1"

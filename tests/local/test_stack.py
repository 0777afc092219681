"""The Docker-free local stack (local/) on a tiny fake service: template, gateway, pollers, schedules.

A fake template.yaml and fake functions are written to a temporary directory; the functions record what they
receive in JSON-lines files, so the tests assert what a function saw, what a client got and what is left on
the queues.
"""

from __future__ import annotations

import json
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.gateway import match_resource, policy_allows
from local.stack import LocalStack
from local.template import Resolver, load_template, load_yaml, pseudo_parameters

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev, AllowedValues: [local, dev]}
  OutDir: {Type: String, Default: /nonexistent}
  MaxReceiveCount: {Type: Number, Default: 2}
Conditions:
  IsLocal: !Equals [!Ref Stage, local]
Globals:
  Function:
    Runtime: python3.11
    Handler: app.handler
    Timeout: 5
    MemorySize: 256
    Layers: [!Ref SharedLayer]
    Environment:
      Variables:
        STAGE: !Ref Stage
        OUT_DIR: !Ref OutDir
        TABLE_NAME: !Ref Table
        QUEUE_URL: !Ref WorkQueue
        QUEUE_ARN: !GetAtt WorkQueue.Arn
        SUBBED: !Sub "${AWS::Region}:${WorkQueue.QueueName}:${Stage}:${!Literal}"
        JOINED: !Join ["-", [a, !Ref Stage, !Select [1, [x, y]]]]
        CONDITIONAL: !If [IsLocal, "yes", "no"]
        DROPPED: !If [IsLocal, !Ref "AWS::NoValue", kept]
        KEY_ID: !Ref Key
        MAX_RECEIVE_COUNT: !Ref MaxReceiveCount
Resources:
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: layer/}
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: !Ref Stage
      Auth:
        DefaultAuthorizer: Bearer
        Authorizers:
          Bearer:
            FunctionPayloadType: REQUEST
            FunctionArn: !GetAtt AuthorizerFunction.Arn
            Identity: {Headers: [Authorization], ReauthorizeEvery: 0}
      GatewayResponses:
        UNAUTHORIZED:
          StatusCode: 401
          ResponseParameters: {Headers: {WWW-Authenticate: "'Bearer'"}}
          ResponseTemplates: {application/json: '{"message": $context.error.messageString}'}
  ApiFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/api/
      Environment: {Variables: {ROLE: api}}
      Events:
        Public: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /public, Method: GET, Auth: {Authorizer: NONE}}}
        Hello: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/hello/{name}", Method: GET}}
        Items: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/items/{proxy+}", Method: ANY}}
  AuthorizerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/authorizer/
      Timeout: 3
  WorkerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/worker/
      Timeout: 2
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt WorkQueue.Arn
            BatchSize: 10
            FunctionResponseTypes: [ReportBatchItemFailures]
            ScalingConfig: {MaximumConcurrency: 2}
  TickFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/tick/
      Events:
        Tick: {Type: Schedule, Properties: {Schedule: rate(5 minutes)}}
  WorkQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 120
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt WorkDeadLetterQueue.Arn
        maxReceiveCount: !Ref MaxReceiveCount
  WorkDeadLetterQueue:
    Type: AWS::SQS::Queue
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
            Action: kms:*
            Resource: "*"
  DeadLetterAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/SQS
      MetricName: ApproximateNumberOfMessagesVisible
      Dimensions: [{Name: QueueName, Value: !GetAtt WorkDeadLetterQueue.QueueName}]
      Statistic: Maximum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
Outputs:
  ApiUrl:
    Value: !Sub "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}"
"""

FAKELIB = """
import json, os

def record(name, data):
    with open(os.path.join(os.environ["OUT_DIR"], name + ".jsonl"), "a") as f:
        f.write(json.dumps(data) + "\\n")
"""

API = """
import base64, json, os
from fakelib import record

def handler(event, context):
    record("api", {"path": event["path"]})
    if event["path"] == "/items/error":
        raise RuntimeError("boom")
    if event["path"] == "/items/malformed":
        return {"status": 200}
    if event["path"] == "/items/binary":
        return {"statusCode": 200, "headers": {"Content-Type": "application/octet-stream"},
                "body": base64.b64encode(b"\\x00\\x01").decode(), "isBase64Encoded": True}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "X-Role": os.environ["ROLE"]},
        "multiValueHeaders": {"X-Multi": ["a", "b"]},
        "body": json.dumps({"event": event, "function": context.function_name,
                            "remaining": context.get_remaining_time_in_millis()}),
    }
"""

AUTHORIZER = """
from fakelib import record

def handler(event, context):
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    record("authorizer", {"methodArn": event["methodArn"], "type": event["type"]})
    token = headers.get("authorization")
    if token == "Bearer allow":
        effect = "Allow"
    elif token == "Bearer deny":
        effect = "Deny"
    else:
        raise Exception("Unauthorized")
    arn = event["methodArn"].split("/", 1)[0]
    return {
        "principalId": "tenant-1",
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": effect, "Resource": arn + "/*"}]},
        "context": {"tenant_id": "tenant-1", "level": 3},
    }
"""

WORKER = """
import json, os, time
from fakelib import record

def handler(event, context):
    if "Records" not in event:  # direct invocations
        if event.get("crash"):
            os._exit(7)
        time.sleep(event.get("sleep", 0))
        return {"pid": os.getpid(), "function": os.environ["AWS_LAMBDA_FUNCTION_NAME"]}
    failures = []
    for r in event["Records"]:
        body = json.loads(r["body"])
        record("worker", {"id": body["id"], "action": body["action"], "pid": os.getpid(), "record": r})
        if body["action"] == "crash":
            os._exit(1)
        if body["action"] == "raise":
            raise RuntimeError("boom")
        if body["action"] == "fail":  # backoff chosen by the handler, as the real workers do
            import boto3
            boto3.client("sqs").change_message_visibility(
                QueueUrl=os.environ["QUEUE_URL"], ReceiptHandle=r["receiptHandle"], VisibilityTimeout=1)
            failures.append({"itemIdentifier": r["messageId"]})
    return {"batchItemFailures": failures}
"""

TICK = """
from fakelib import record

def handler(event, context):
    record("tick", event)
"""


def write_service(root: Path) -> Path:
    files = {
        "template.yaml": TEMPLATE,
        "layer/fakelib.py": FAKELIB,
        "functions/api/app.py": API,
        "functions/authorizer/app.py": AUTHORIZER,
        "functions/worker/app.py": WORKER,
        "functions/tick/app.py": TICK,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    (root / "out").mkdir()
    return root / "template.yaml"


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


# ------------------------------------------------------------------------------------------ template


def test_short_tags_and_globals(tmp_path: Path) -> None:
    template = load_template(write_service(tmp_path))
    worker = template.functions()["WorkerFunction"]
    api = template.functions()["ApiFunction"]
    assert worker.timeout == 2 and api.timeout == 5  # function value over the Global one
    assert api.memory_size == 256 and api.handler == "app.handler"
    assert api.environment["ROLE"] == "api" and api.environment["TABLE_NAME"] == {"Ref": "Table"}  # maps merge
    assert api.environment["QUEUE_ARN"] == {"Fn::GetAtt": ["WorkQueue", "Arn"]}
    assert template.layer_dirs(api) == [(tmp_path / "layer").resolve()]
    assert [(r.path, r.method, r.auth) for r in template.api_routes()] == [
        ("/public", "GET", None),
        ("/hello/{name}", "GET", "Bearer"),
        ("/items/{proxy+}", "ANY", "Bearer"),
    ]
    (source,) = template.sqs_sources()
    assert (source.batch_size, source.maximum_concurrency, source.report_batch_item_failures) == (10, 2, True)
    assert [s.schedule for s in template.schedule_sources()] == ["rate(5 minutes)"]


def test_intrinsics_resolve() -> None:
    data = load_yaml(
        textwrap.dedent(
            """
            Conditions:
              IsProd: !Equals [!Ref Stage, production]
              NotProd: !Not [!Condition IsProd]
              Both: !And [!Condition NotProd, !Or [!Equals [a, a], !Equals [a, b]]]
            Mappings:
              Sizes: {local: {Memory: 128}}
            Value:
              ref: !Ref Stage
              number: !Ref Count
              region: !Ref AWS::Region
              arn: !GetAtt Queue.Arn
              getatt_list: !GetAtt [Queue, QueueName]
              sub: !Sub "${AWS::StackName}/${Queue}/${Queue.QueueName}/${!Literal}"
              sub_list: !Sub ["${Greeting} ${Stage}", {Greeting: !Join [" ", [hello, dear]]}]
              join: !Join [",", [!Ref Stage, !Select [0, !Split ["|", "x|y"]]]]
              if: !If [IsProd, prod, !If [Both, notprod, never]]
              novalue: !If [NotProd, !Ref AWS::NoValue, kept]
              list: [a, !Ref AWS::NoValue, b]
              map: !FindInMap [Sizes, !Ref Stage, Memory]
              base64: !Base64 hi
            """
        )
    )
    lookup = {("Queue", None): "https://queue/url", ("Queue", "Arn"): "arn:q", ("Queue", "QueueName"): "q"}
    resolver = Resolver(
        parameters={"Stage": "local", "Count": 5},
        pseudo=pseudo_parameters("my-stack"),
        lookup=lambda target, attribute: lookup[(target, attribute)],
        conditions=data["Conditions"],
        mappings=data["Mappings"],
    )
    assert resolver.resolve(data["Value"]) == {
        "ref": "local",
        "number": 5,
        "region": "us-east-1",
        "arn": "arn:q",
        "getatt_list": "q",
        "sub": "my-stack/https://queue/url/q/${Literal}",
        "sub_list": "hello dear local",
        "join": "local,x",
        "if": "notprod",
        "list": ["a", "b"],
        "map": 128,
        "base64": "aGk=",
    }
    assert resolver.resolve_env(
        {"N": {"Ref": "Count"}, "B": True, "X": {"Fn::If": ["NotProd", {"Ref": "AWS::NoValue"}, 1]}}
    ) == {
        "N": "5",
        "B": "true",
    }


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
    assert (env["STAGE"], env["JOINED"], env["CONDITIONAL"], env["MAX_RECEIVE_COUNT"]) == (
        "local",
        "a-local-y",
        "yes",
        "2",
    )
    assert "DROPPED" not in env and "ROLE" not in env  # AWS::NoValue; another function's variable
    assert env["AWS_ENDPOINT_URL"] == stack.aws_endpoint_url and env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_LAMBDA_FUNCTION_NAME"].endswith("WorkerFunction")
    assert stack.token == "token-for-local"


# ------------------------------------------------------------------------------------------ gateway


def test_resource_matching_prefers_literals_then_params_then_greedy() -> None:
    resources = ["/api/{proxy+}", "/api/docs", "/api/{id}", "/api"]
    assert match_resource(resources, "/api/docs").resource == "/api/docs"  # type: ignore[union-attr]
    match = match_resource(resources, "/api/42")
    assert match is not None and (match.resource, match.path_parameters) == ("/api/{id}", {"id": "42"})
    match = match_resource(resources, "/api/a/b")
    assert match is not None and (match.resource, match.path_parameters) == ("/api/{proxy+}", {"proxy": "a/b"})
    assert match_resource(resources, "/api").resource == "/api"  # type: ignore[union-attr]
    assert match_resource(resources, "/other") is None


def test_policy_evaluation() -> None:
    arn = "arn:aws:execute-api:us-east-1:123456789012:abc/local/GET/api/x"
    allow = {"Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:*:abc/local/*"}]}
    deny = {"Statement": [*allow["Statement"], {"Effect": "Deny", "Action": "*", "Resource": [arn]}]}
    assert policy_allows(allow, arn)
    assert not policy_allows(deny, arn)
    assert not policy_allows(allow, arn.replace("/local/", "/prod/"))


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
    assert event["resource"] == "/hello/{name}" and event["pathParameters"] == {"name": "bob"}
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

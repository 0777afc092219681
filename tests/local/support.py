"""What the local stack's tests share: a tiny fake service, and a resolver for reading a template without a stack.

``write_service(root)`` writes the service (a template.yaml and functions); its functions append what they saw to
JSON-lines files in ``OutDir``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from local.template import Resolver, pseudo_parameters


def resolver_for(parameters: dict[str, Any]) -> Resolver:
    """Resources answer with ``<logical id>-id`` / ``<logical id>.<attribute>``."""
    return Resolver(
        parameters=parameters,
        pseudo=pseudo_parameters("my-stack"),
        lookup=lambda target, attribute: f"{target}.{attribute}" if attribute else f"{target}-id",
    )


TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev, AllowedValues: [local, dev]}
  OutDir: {Type: String, Default: /nonexistent}
  MaxReceiveCount: {Type: Number, Default: 2}
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
        Hello: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/hello/{proxy+}", Method: GET}}
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

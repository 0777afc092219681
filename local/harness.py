"""Invoke the functions in this interpreter like Lambda would (tests and benchmarks).

API Gateway-shaped events, Lambda contexts, handlers loaded afresh from functions/<name>/app.py,
and ``Harness.pump``: the workers fed from the real SQS queues (under an in-process moto mock) like
event source mappings, until every queue is empty.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

REGION = "us-east-1"
WORKERS = {
    "TokenQueue": "token",
    "LocationsQueue": "locations",
    "SyncQueue": "sync",
    "BackfillQueue": "backfill",
    "AccountingQueue": "accounting",
}
ADS_WORKERS = {
    "ProfileRefreshQueue": "profile_refresh",
    "AdsReportQueue": "ads_reports",
    "AdsWriteBackQueue": "ads_writeback",
}
PENDING_ATTRIBUTES = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)
QUEUE_ENVIRONMENT = (
    "TokenQueue",
    "LocationsQueue",
    "SyncQueue",
    "BackfillQueue",
    "ProfileRefreshQueue",
    "AdsReportQueue",
    "AdsWriteBackQueue",
    "AccountingQueue",
)

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"


@dataclass
class LambdaContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = ""
    timeout_ms: int = 30_000

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms


def load_handler(function_dir: str) -> ModuleType:
    """Import functions/<dir>/app.py afresh, as a cold Lambda would."""
    path = FUNCTIONS / function_dir / "app.py"
    name = f"function_{function_dir}_app"
    sys.modules.pop(name, None)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def api_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    tenant: str | None = "demo",
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A REST API (v1) proxy event for /api/{proxy+}, as API Gateway sends it after the authorizer."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    raw_body = body if isinstance(body, str) or body is None else json.dumps(body)
    authorizer = {"principalId": tenant, "tenant_id": tenant} if tenant else None
    return {
        "resource": "/api/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": path.removeprefix("/api/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/api/{proxy+}",
            "httpMethod": method,
            "path": f"/local{path}",
            "stage": "local",
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": authorizer,
        },
        "body": raw_body,
        "isBase64Encoded": False,
    }


def sqs_event(
    bodies: list[Any], receive_count: int = 1, queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:q"
) -> dict:
    records = []
    for index, body in enumerate(bodies):
        records.append(
            {
                "messageId": f"m-{index}-{uuid.uuid4()}",
                "receiptHandle": f"rh-{index}",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {
                    "ApproximateReceiveCount": str(receive_count),
                    "SentTimestamp": "1700000000000",
                    "SenderId": "AIDA",
                    "ApproximateFirstReceiveTimestamp": "1700000000000",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def received_event(received: list[dict[str, Any]]) -> dict:
    """The SQS event a Lambda event source mapping delivers for messages ReceiveMessage returned (with ``All``
    attributes): their real ids, receipt handles and receive counts."""
    event = sqs_event([m["Body"] for m in received])
    for record, message in zip(event["Records"], received, strict=True):
        record["messageId"] = message["MessageId"]
        record["receiptHandle"] = message["ReceiptHandle"]
        record["attributes"]["ApproximateReceiveCount"] = message["Attributes"]["ApproximateReceiveCount"]
    return event


def response_json(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


def instance_body(name: str, client_id: str, client_secret: str, **settings: Any) -> dict[str, Any]:
    """A ``POST /api/walmart`` body: an instance connected with these API keys, history from 2025-01-01, products
    neither linked nor created (``settings`` add or replace integration settings)."""
    return {
        "name": name,
        "integration_id": 1,
        "connection_settings": {"clientId": client_id, "clientSecret": client_secret},
        "integration_settings": {
            "start_date": "2025-01-01",
            "store_id": 1,
            "auto_link_products": False,
            "auto_create_products": False,
            **settings,
        },
    }


@dataclass
class Harness:
    """Handlers invoked in this interpreter against an in-process moto mock, fed from the real queues."""

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
        import boto3

        sqs: Any = boto3.client("sqs", region_name=REGION)
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

        ``timeout`` bounds the seconds spent waiting for delayed or in-flight messages plus the CPU seconds this
        process spends working (handlers, the in-process AWS, the emulator's threads): on a machine busy with other
        work, a slow but progressing pump is not cut short, while a pump that keeps working or waiting is.
        """
        import boto3

        sqs: Any = boto3.client("sqs", region_name=REGION)
        routes = queues or WORKERS
        waited, started_cpu = 0.0, time.process_time()
        invocations = 0
        while waited + time.process_time() - started_cpu < timeout:
            busy = False
            for queue, function in routes.items():
                url = self.env[f"queue:{queue}"]
                received = sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60, AttributeNames=["All"]
                ).get("Messages", [])
                if not received:
                    continue
                busy = True
                event = received_event(received)
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
                attributes: dict[str, Any] = sqs.get_queue_attributes(
                    QueueUrl=self.env[f"queue:{queue}"], AttributeNames=list(PENDING_ATTRIBUTES)
                )["Attributes"]
                waiting += sum(int(attributes.get(name, 0)) for name in PENDING_ATTRIBUTES)
            if waiting == 0:
                return invocations
            began = time.monotonic()
            time.sleep(0.2)
            waited += time.monotonic() - began
        raise AssertionError(f"queues did not drain within {timeout} s")

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> dict[str, Any]:
        """The api function's answer to an API Gateway request (after the authorizer)."""
        response = self.handler("api").handler(api_event(method, path, body, **kwargs), LambdaContext())
        json.dumps(response)  # what API Gateway receives must be plain JSON
        return response


def new_container() -> None:
    """Forget what this process cached from an earlier environment, as a new Lambda container would:
    settings, boto3 clients, the idempotency store and the services composed from them."""
    from walmart_integration import composition
    from walmart_integration.config import get_settings
    from walmart_integration.store import dynamo, idempotency

    get_settings.cache_clear()
    dynamo.client.cache_clear()
    idempotency._persistence.cache_clear()
    composition.current.cache_clear()

"""AWS errors are caught by name: only the codes a write can expect, everything else propagates (no sockets, no moto).

The repositories are given a fake DynamoDB client that raises what botocore raises.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from walmart_integration.errors import ValidationFailed
from walmart_integration.store import dynamo
from walmart_integration.store.catalog import CatalogRepository
from walmart_integration.store.instances import InstanceRepository
from walmart_integration.store.runs import RunRepository
from walmart_integration.store.tenants import TenantRepository


def aws_error(code: str, operation: str = "PutItem", **extra: Any) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": code}, **extra}
    return ClientError(response, operation)


CONDITION_FAILED = aws_error("ConditionalCheckFailedException")
THROTTLED = aws_error("ProvisionedThroughputExceededException")


class FakeDynamo:
    """Answers UpdateItem (the id counter) and raises ``error`` from every other write."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.writes = 0

    def update_item(self, **params: Any) -> dict[str, Any]:
        if params.get("UpdateExpression", "").startswith("ADD"):
            return {"Attributes": {"last_id": {"N": "1"}}}
        self.writes += 1
        raise self.error

    def put_item(self, **params: Any) -> dict[str, Any]:
        self.writes += 1
        raise self.error


# -- the helper ---------------------------------------------------------------------------------------------------
def test_is_error_matches_the_code_of_a_client_error_only():
    assert dynamo.is_error(CONDITION_FAILED, dynamo.CONDITIONAL_CHECK_FAILED)
    assert dynamo.is_error(THROTTLED, "ThrottlingException", "ProvisionedThroughputExceededException")
    assert not dynamo.is_error(THROTTLED, dynamo.CONDITIONAL_CHECK_FAILED)
    assert dynamo.is_conditional_failure(CONDITION_FAILED) and not dynamo.is_conditional_failure(THROTTLED)


def test_something_that_only_looks_like_an_aws_error_is_not_one():
    class Lookalike(Exception):
        response = {"Error": {"Code": "ConditionalCheckFailedException"}}

    assert not dynamo.is_error(Lookalike(), dynamo.CONDITIONAL_CHECK_FAILED)
    assert not dynamo.is_error(EndpointConnectionError(endpoint_url="https://x"), dynamo.CONDITIONAL_CHECK_FAILED)
    assert dynamo.transaction_reasons(Lookalike()) == []


def test_transaction_reasons_one_per_action_and_none_for_other_errors():
    cancelled = aws_error(
        "TransactionCanceledException",
        "TransactWriteItems",
        CancellationReasons=[{"Code": "None"}, {"Code": "ConditionalCheckFailed"}, {}],
    )
    assert dynamo.transaction_reasons(cancelled) == ["None", "ConditionalCheckFailed", "None"]
    assert dynamo.transaction_reasons(CONDITION_FAILED) == []


def test_client_error_is_botocores_and_is_caught_by_name():
    assert dynamo.ClientError is ClientError
    with pytest.raises(AttributeError):
        _ = dynamo.NoSuchThing  # type: ignore[attr-defined]
    try:
        raise THROTTLED
    except dynamo.ClientError as error:
        assert dynamo.is_error(error, "ProvisionedThroughputExceededException")


# -- repositories: the expected refusal is handled, anything else propagates ------------------------------------
def test_an_existing_tenant_is_kept_but_a_throttled_write_propagates():
    TenantRepository("app", "us-east-1", FakeDynamo(CONDITION_FAILED)).ensure_tenant("acme")  # already there: fine
    with pytest.raises(ClientError) as raised:
        TenantRepository("app", "us-east-1", FakeDynamo(THROTTLED)).ensure_tenant("acme")
    assert raised.value is THROTTLED
    with pytest.raises(EndpointConnectionError):
        TenantRepository("app", "us-east-1", FakeDynamo(EndpointConnectionError(endpoint_url="x"))).ensure_tenant("a")


def test_a_taken_sku_is_a_field_error_and_other_failures_are_not_disguised_as_one():
    with pytest.raises(ValidationFailed) as refused:
        CatalogRepository("app", "us-east-1", FakeDynamo(CONDITION_FAILED)).create("t1", "SKU-1", "Mug", Decimal("2"))
    assert refused.value.errors == {"sku": ["A product with sku SKU-1 already exists."]}
    with pytest.raises(ClientError):
        CatalogRepository("app", "us-east-1", FakeDynamo(THROTTLED)).create("t1", "SKU-1", "Mug", None)


def test_stale_progress_is_reported_as_stale_and_an_outage_as_an_outage():
    assert (
        InstanceRepository("app", "us-east-1", FakeDynamo(CONDITION_FAILED)).save_progress("t1", "i1", 1, {}) is False
    )
    with pytest.raises(ClientError):
        InstanceRepository("app", "us-east-1", FakeDynamo(THROTTLED)).save_progress("t1", "i1", 1, {})
    with pytest.raises(RuntimeError):
        InstanceRepository("app", "us-east-1", FakeDynamo(RuntimeError("bug"))).save_progress("t1", "i1", 1, {})


class WatermarkDynamo(FakeDynamo):
    def update_item(self, **params: Any) -> dict[str, Any]:
        if "ConditionExpression" not in params:  # the map of watermarks, created if missing
            return {}
        return super().update_item(**params)


def test_an_older_watermark_is_ignored_but_a_failed_write_is_not():
    RunRepository("app", "us-east-1", WatermarkDynamo(CONDITION_FAILED)).advance_watermark("t1", "i1", "orders", "x")
    with pytest.raises(ClientError):
        RunRepository("app", "us-east-1", WatermarkDynamo(THROTTLED)).advance_watermark("t1", "i1", "orders", "x")


# -- a compensation catches nothing -------------------------------------------------------------------------------
class FakeInstances:
    def __init__(self) -> None:
        self.stored: dict[str, Any] = {}

    def create(self, record: Any) -> None:
        self.stored[record.id] = record

    def delete(self, record: Any) -> None:
        del self.stored[record.id]


class FakeReference:
    def existing(self, tenant_id: str, wanted: dict[str, set[int]]) -> dict[str, set[int]]:
        return wanted


class FakeVault:
    def encrypt(self, plaintext: bytes, context: dict[str, str]) -> bytes:
        return b"sealed"


class FakeQueues:
    def __init__(self, error: BaseException | None) -> None:
        self.error = error
        self.sent: list[Any] = []

    def send(self, queue_url: str, message: Any, delay_seconds: float = 0) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append(message)


def instance_service(queues: FakeQueues) -> tuple[Any, FakeInstances]:
    from walmart_integration.config import Settings
    from walmart_integration.services.instances import InstanceService

    instances = FakeInstances()
    service = InstanceService(Settings(), instances, FakeReference(), FakeVault(), queues)  # type: ignore[arg-type]
    return service, instances


def create_body() -> Any:
    from walmart_integration.models.instance import InstanceCreate

    return InstanceCreate.model_validate(
        {
            "name": "My Walmart",
            "integration_id": 1,
            "connection_settings": {"clientId": "id", "clientSecret": "secret"},
            "integration_settings": {
                "start_date": "2026-01-01",
                "store_id": 1,
                "auto_link_products": True,
                "auto_create_products": False,
            },
        }
    )


@pytest.mark.parametrize(
    "failure",
    [aws_error("AWS.SimpleQueueService.NonExistentQueue", "SendMessage"), EndpointConnectionError(endpoint_url="x")],
)
def test_an_instance_whose_token_job_cannot_be_queued_is_undone_and_the_failure_propagates(failure):
    service, instances = instance_service(FakeQueues(failure))
    with pytest.raises(type(failure)) as raised:
        service.create("t1", create_body())
    assert raised.value is failure
    assert instances.stored == {}  # no instance left waiting for a job nobody will run


def test_a_queued_token_job_keeps_the_instance():
    queues = FakeQueues(None)
    service, instances = instance_service(queues)
    view = service.create("t1", create_body())
    assert list(instances.stored) == [view.id] and len(queues.sent) == 1


# -- the worker's failure path ----------------------------------------------------------------------------------------
class RefusingQueues:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def delay_redelivery(self, queue_url: str, receipt_handle: str, seconds: float) -> None:
        raise self.error


@pytest.mark.parametrize(
    "refusal",
    [aws_error("ReceiptHandleIsInvalid", "ChangeMessageVisibility"), EndpointConnectionError(endpoint_url="x")],
)
def test_sqs_refusing_to_delay_a_failed_record_does_not_hide_the_records_own_failure(refusal):
    from walmart_integration.worker import _delay_quietly

    _delay_quietly(RefusingQueues(refusal), "https://sqs/queue", "r1", 5)  # type: ignore[arg-type]  # logged, not raised


def test_a_bug_while_delaying_a_redelivery_is_not_swallowed():
    from walmart_integration.worker import _delay_quietly

    with pytest.raises(TypeError):
        _delay_quietly(RefusingQueues(TypeError("bug")), "https://sqs/queue", "r1", 5)  # type: ignore[arg-type]

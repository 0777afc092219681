"""boto3 plumbing: clients created on first use (off the cold-start path), item (de)serialisation, cursors, errors.

AWS errors are caught by name, and only those that can happen where they are caught::

    try:
        client.put_item(..., **guard.params(guard.not_exists("pk")))  # guard = expressions.Expression()
    except dynamo.ClientError as error:
        if not dynamo.is_error(error, dynamo.CONDITIONAL_CHECK_FAILED):
            raise  # anything else propagates: the worker's retry and dead-letter path, or the API's 500

``dynamo.ClientError`` (and ``dynamo.BotoCoreError``) are botocore's, imported when first looked up (an ``except``
clause looks it up only while an exception propagates, when boto3 is loaded anyway): importing a handler stays as fast
as before.
"""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, TypeGuard

from walmart_integration.errors import ValidationFailed

if TYPE_CHECKING:
    # For the type checker; at run time ``__getattr__`` provides them when first used.
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: F401

# Error codes of DynamoDB that our conditional writes expect (the write was refused; nothing changed).
CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailedException"  # PutItem/UpdateItem/DeleteItem condition
TRANSACTION_CANCELED = "TransactionCanceledException"  # TransactWriteItems: a condition failed, or a conflict

# botocore's standard retry mode retries throttling and 5xx of AWS calls with backoff; we do not hand-write that.
_RETRIES = {"mode": "standard", "max_attempts": 5}


@cache
def client(service: str, region: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(retries=_RETRIES, connect_timeout=3, read_timeout=10)  # type: ignore[arg-type]
    return boto3.session.Session().client(service, region_name=region, config=config)  # type: ignore[call-overload]


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any, exact: bool = False) -> Any:
    """Plain Python values; numbers with a fraction become floats, or stay ``Decimal`` when ``exact``."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and value.as_tuple().exponent >= 0:  # type: ignore[operator]
            return int(value)
        return value if exact else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v, exact) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v, exact) for v in value]
    if hasattr(value, "value") and type(value).__name__ == "Binary":
        return bytes(value.value)
    return value


@lru_cache(maxsize=1)
def _codecs() -> tuple[Any, Any]:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    serializer, _ = _codecs()
    return {k: serializer.serialize(_to_dynamo(v)) for k, v in item.items() if v is not None}


def value(v: Any) -> Any:
    serializer, _ = _codecs()
    return serializer.serialize(_to_dynamo(v))


def deserialize(item: dict[str, Any], exact: bool = False) -> dict[str, Any]:
    """An item as plain Python; ``exact`` keeps fractional numbers (money) as ``Decimal``."""
    _, deserializer = _codecs()
    return {k: _from_dynamo(deserializer.deserialize(v), exact) for k, v in item.items()}


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    """An opaque page cursor from a LastEvaluatedKey (only its sort key: the partition is the caller's)."""
    if not last_key:
        return None
    raw = json.dumps({"sk": last_key["sk"]["S"]}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, pk: str, prefix: str) -> dict[str, Any] | None:
    """The ExclusiveStartKey for a cursor; a cursor from another listing is a 422, never another tenant's page."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sk = json.loads(base64.urlsafe_b64decode(padded.encode()))["sk"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        sk = None
    if not isinstance(sk, str) or not sk.startswith(prefix):
        raise ValidationFailed({"cursor": ["The cursor is invalid."]})
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def __getattr__(name: str) -> Any:
    """botocore's ``ClientError`` (an AWS service answered with an error) and ``BotoCoreError`` (no answer: a
    connection error or timeout after botocore's retries), on first use (see the module's docstring)."""
    if name in ("ClientError", "BotoCoreError"):
        from botocore import exceptions

        return getattr(exceptions, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_error(error: BaseException, *codes: str) -> TypeGuard[ClientError]:
    """Whether ``error`` is an AWS error (botocore ``ClientError``) with one of these error codes."""
    from botocore.exceptions import ClientError  # loaded already: boto3 raised ``error`` or is in use

    return isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") in codes


def is_conditional_failure(error: BaseException) -> TypeGuard[ClientError]:
    """A conditional PutItem/UpdateItem/DeleteItem was refused (nothing was written)."""
    return is_error(error, CONDITIONAL_CHECK_FAILED)


def transaction_reasons(error: BaseException) -> list[str]:
    """Cancellation reason codes of a TransactWriteItems call, one per action ('None' where it passed); [] when
    ``error`` is not a cancelled transaction."""
    if not is_error(error, TRANSACTION_CANCELED):
        return []
    return [reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])]


def encode_index_cursor(last_key: dict[str, Any] | None) -> str | None:
    """A page cursor over the ``gsi1`` index: its position (index sort key and the item's keys)."""
    if not last_key:
        return None
    position = {name: last_key[name]["S"] for name in ("sk", "gsi1sk", "pk") if name in last_key}
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_index_cursor(cursor: str | None, index_pk: str, table_pk: str) -> dict[str, Any] | None:
    """The ExclusiveStartKey of an index cursor; one from another listing is a 422."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
        key = {
            "pk": {"S": str(position["pk"])},
            "sk": {"S": str(position["sk"])},
            "gsi1pk": {"S": index_pk},
            "gsi1sk": {"S": str(position["gsi1sk"])},
        }
    except (ValueError, KeyError, TypeError, binascii.Error):
        key = {}
    if not key or not key["pk"]["S"].startswith(table_pk):
        raise ValidationFailed({"cursor": ["The cursor is invalid."]})
    return key

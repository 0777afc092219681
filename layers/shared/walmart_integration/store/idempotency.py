"""Powertools idempotency on the IdempotencyTable: run a piece of work once per business key."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

DEFAULT_EXPIRY_SECONDS = 24 * 3600


class RunOnce(Protocol):
    """``run_once`` bound to the deployment's table, as services receive it (``composition.Composition.run_once``)."""

    def __call__(
        self,
        key: dict[str, Any],
        work: Callable[[], T],
        lambda_context: Any = None,
        *,
        payload: Any = None,
        expires_after_seconds: int = DEFAULT_EXPIRY_SECONDS,
    ) -> T: ...


@lru_cache(maxsize=4)
def _persistence(table_name: str, region: str) -> Any:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from walmart_integration.store import dynamo

    return DynamoDBPersistenceLayer(table_name=table_name, boto3_client=dynamo.client("dynamodb", region))


def run_once(
    *,
    table_name: str,
    region: str,
    key: dict[str, Any],
    work: Callable[[], T],
    payload: Any = None,
    expires_after_seconds: int = DEFAULT_EXPIRY_SECONDS,
    lambda_context: Any = None,
) -> T:
    """Run ``work`` once per ``key``; a repeat returns the first result (JSON-serialisable).

    With ``payload``, a repeat of the key with a different payload raises Powertools'
    ``IdempotencyValidationError``; a repeat while the first is still running raises
    ``IdempotencyAlreadyInProgressError``. A failed first run leaves no record, so a retry runs again.
    """
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="payload" if payload is not None else "",
        expires_after_seconds=expires_after_seconds,
        raise_on_no_idempotency_key=True,
    )
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)

    @idempotent_function(
        data_keyword_argument="data", persistence_store=_persistence(table_name, region), config=config
    )
    def _run(data: dict[str, Any]) -> Any:
        return work()

    return _run(data={"key": key, "payload": payload})  # type: ignore[no-any-return]

"""Common base of the DynamoDB repositories: a table and a lazily created client."""

from __future__ import annotations

from typing import Any

from walmart_integration.store import dynamo


class Repository:
    def __init__(self, table_name: str, region: str, client: Any | None = None) -> None:
        self.table = table_name
        self._region = region
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = dynamo.client("dynamodb", self._region)
        return self._client

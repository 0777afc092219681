"""Common bases of the AWS adapters: a client created on first use; DynamoDB repositories' paging."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from walmart_integration.store import dynamo


class AwsAdapter:
    """An adapter of one AWS service; its boto3 client is created on first use (off the cold start)."""

    service = ""

    def __init__(self, region: str, client: Any | None = None) -> None:
        self._region = region
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = dynamo.client(self.service, self._region)
        return self._client


class Repository(AwsAdapter):
    """A DynamoDB table; paging over one partition's sort-key prefix."""

    service = "dynamodb"

    def __init__(self, table_name: str, region: str, client: Any | None = None) -> None:
        super().__init__(region, client)
        self.table = table_name

    def query_page(
        self, pk: str, prefix: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the items of partition ``pk`` whose sort key starts with ``prefix``, in key order.

        The cursor is opaque to clients and only ever continues this listing (422 otherwise).
        """
        params: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": prefix}},
            "Limit": limit,
        }
        start = dynamo.decode_cursor(cursor, pk, prefix)
        if start:
            params["ExclusiveStartKey"] = start
        response = self.client.query(**params)
        return list(response.get("Items", [])), dynamo.encode_cursor(response.get("LastEvaluatedKey"))

    def query_all(self, exact: bool = False, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item a query matches, page after page, deserialised (``exact``: money stays ``Decimal``)."""
        params = {"TableName": self.table, **params}
        while True:
            response = self.client.query(**params)
            for item in response.get("Items", []):
                yield dynamo.deserialize(item, exact=exact)
            if not response.get("LastEvaluatedKey"):
                return
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

"""Common bases of the AWS adapters: a client created on first use; DynamoDB repositories' paging."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from walmart_integration.store import dynamo
from walmart_integration.store.expressions import Expression


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

    def filtered_page(
        self, pk: str, prefix: str, limit: int, cursor: str | None, where: Mapping[str, Any]
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to ``limit`` items of ``query_page``'s listing whose attributes equal ``where``'s values: DynamoDB filters
        after its own Limit, so this reads on until the page is full or the listing ends. A cursor is only returned
        when more items may follow (never with an empty page), and continues right after the last item returned."""
        guard = Expression()
        key_condition = f"pk = {guard.value(pk)} AND begins_with(sk, {guard.value(prefix)})"
        params: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": key_condition,
            "Limit": max(limit, 100),
        }
        if where:
            params["FilterExpression"] = " AND ".join(guard.compare(name, "=", value) for name, value in where.items())
        params.update(guard.attributes())
        start = dynamo.decode_cursor(cursor, pk, prefix)
        if start:
            params["ExclusiveStartKey"] = start
        found: list[dict[str, Any]] = []
        while True:
            response = self.client.query(**params)
            items = list(response.get("Items", []))
            last_key = response.get("LastEvaluatedKey")
            if len(found) + len(items) > limit or (len(found) + len(items) == limit and last_key):
                found += items[: limit - len(found)]
                return found, dynamo.encode_cursor({"sk": found[-1]["sk"]})
            found += items
            if not last_key:
                return found, None
            params["ExclusiveStartKey"] = last_key

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

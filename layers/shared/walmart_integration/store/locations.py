"""Repository of an instance's locations (Walmart ship nodes) in the data table."""

from __future__ import annotations

from typing import Any

from walmart_integration.store import dynamo, keys
from walmart_integration.store.base import Repository


class LocationRepository(Repository):
    def all(self, tenant_id: str, instance_id: str) -> dict[str, dict[str, Any]]:
        """Every stored location of the instance, by ship node id."""
        pk = keys.instance_data_pk(tenant_id, instance_id)
        params: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": keys.LOCATION_PREFIX}},
        }
        found: dict[str, dict[str, Any]] = {}
        while True:
            response = self.client.query(**params)
            for item in response.get("Items", []):
                record = _public(item)
                found[record["id"]] = record
            if "LastEvaluatedKey" not in response:
                return found
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def put_many(self, tenant_id: str, instance_id: str, locations: list[dict[str, Any]]) -> None:
        pk = keys.instance_data_pk(tenant_id, instance_id)
        requests = [
            {"PutRequest": {"Item": dynamo.serialize({"pk": pk, "sk": keys.location_sk(loc["id"]), **loc})}}
            for loc in locations
        ]
        for start in range(0, len(requests), 25):
            pending: dict[str, Any] = {self.table: requests[start : start + 25]}
            while pending:
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}

    def page(
        self, tenant_id: str, instance_id: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        pk = keys.instance_data_pk(tenant_id, instance_id)
        items, next_cursor = self.query_page(pk, keys.LOCATION_PREFIX, limit, cursor)
        return [_public(item) for item in items], next_cursor


def _public(item: dict[str, Any]) -> dict[str, Any]:
    record = dynamo.deserialize(item)
    record.pop("pk", None)
    record.pop("sk", None)
    return record

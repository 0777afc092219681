"""Repository of an instance's locations (Walmart ship nodes) in the data table."""

from __future__ import annotations

from typing import Any

from walmart_integration.models.locations import LocationRecord
from walmart_integration.store import dynamo, keys
from walmart_integration.store.base import Repository


class LocationRepository(Repository):
    def all(self, tenant_id: str, instance_id: str) -> dict[str, LocationRecord]:
        """Every stored location of the instance, by ship node id."""
        pk = keys.instance_data_pk(tenant_id, instance_id)
        items = self.query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": pk}, ":prefix": {"S": keys.LOCATION_PREFIX}},
        )
        return {record.id: record for record in map(LocationRecord.model_validate, items)}

    def put_many(self, tenant_id: str, instance_id: str, locations: list[LocationRecord]) -> None:
        pk = keys.instance_data_pk(tenant_id, instance_id)
        requests = [
            {"PutRequest": {"Item": dynamo.serialize({"pk": pk, "sk": keys.location_sk(loc.id), **loc.model_dump()})}}
            for loc in locations
        ]
        for start in range(0, len(requests), 25):
            pending: dict[str, Any] = {self.table: requests[start : start + 25]}
            while pending:
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}

    def page(
        self, tenant_id: str, instance_id: str, limit: int, cursor: str | None
    ) -> tuple[list[LocationRecord], str | None]:
        pk = keys.instance_data_pk(tenant_id, instance_id)
        items, next_cursor = self.query_page(pk, keys.LOCATION_PREFIX, limit, cursor)
        return [LocationRecord.model_validate(dynamo.deserialize(item)) for item in items], next_cursor

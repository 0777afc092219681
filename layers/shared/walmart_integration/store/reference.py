"""Repository of a tenant's reference data with integer ids: stores and nominal codes."""

from __future__ import annotations

from typing import Any

from walmart_integration.models.common import utcnow
from walmart_integration.store import dynamo, keys
from walmart_integration.store.base import Repository

KINDS = {"store": keys.STORE_PREFIX, "nominalcode": keys.NOMINAL_CODE_PREFIX}


class ReferenceRepository(Repository):
    def create(self, tenant_id: str, kind: str, attributes: dict[str, Any]) -> dict[str, Any]:
        """Create a record with the tenant's next integer id for ``kind``."""
        pk = keys.tenant_pk(tenant_id)
        counter = self.client.update_item(
            TableName=self.table,
            Key={"pk": {"S": pk}, "sk": {"S": keys.counter_sk(kind)}},
            UpdateExpression="ADD last_id :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
        number = int(counter["Attributes"]["last_id"]["N"])
        record = {"id": number, **attributes, "created_at": utcnow().isoformat()}
        self.client.put_item(
            TableName=self.table,
            Item=dynamo.serialize({"pk": pk, "sk": keys.numbered_sk(KINDS[kind], number), "type": kind, **record}),
        )
        return record

    def page(
        self, tenant_id: str, kind: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        items, next_cursor = self.query_page(keys.tenant_pk(tenant_id), KINDS[kind], limit, cursor)
        return [_public(item) for item in items], next_cursor

    def existing(self, tenant_id: str, wanted: dict[str, set[int]]) -> dict[str, set[int]]:
        """Which of the wanted ids exist for the tenant, per kind, in one BatchGetItem."""
        pk = keys.tenant_pk(tenant_id)
        request = [
            {"pk": {"S": pk}, "sk": {"S": keys.numbered_sk(KINDS[kind], number)}}
            for kind, numbers in wanted.items()
            for number in sorted(numbers)
        ]
        found: dict[str, set[int]] = {kind: set() for kind in wanted}
        pending: dict[str, Any] = (
            {
                self.table: {
                    "Keys": request,
                    "ProjectionExpression": "#t, id",
                    "ExpressionAttributeNames": {"#t": "type"},
                }
            }
            if request
            else {}
        )
        while pending:
            response = self.client.batch_get_item(RequestItems=pending)
            for item in response.get("Responses", {}).get(self.table, []):
                record = dynamo.deserialize(item)
                found.setdefault(record["type"], set()).add(int(record["id"]))
            pending = response.get("UnprocessedKeys") or {}
        return found

    def nominal_codes(self, tenant_id: str, ids: set[int]) -> dict[int, str]:
        """The codes (e.g. "4000") of the tenant's nominal codes with these ids (missing ones are left out)."""
        if not ids:
            return {}
        pk = keys.tenant_pk(tenant_id)
        pending: dict[str, Any] = {
            self.table: {
                "Keys": [{"pk": {"S": pk}, "sk": {"S": keys.numbered_sk(keys.NOMINAL_CODE_PREFIX, n)}} for n in ids],
                "ConsistentRead": True,
            }
        }
        found: dict[int, str] = {}
        while pending:
            response = self.client.batch_get_item(RequestItems=pending)
            for item in response.get("Responses", {}).get(self.table, []):
                record = dynamo.deserialize(item)
                found[int(record["id"])] = str(record.get("code"))
            pending = response.get("UnprocessedKeys") or {}
        return found


def _public(item: dict[str, Any]) -> dict[str, Any]:
    record = dynamo.deserialize(item)
    for name in ("pk", "sk", "type"):
        record.pop(name, None)
    return record

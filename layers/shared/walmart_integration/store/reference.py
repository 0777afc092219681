"""Repository of a tenant's reference data with integer ids: stores and nominal codes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from walmart_integration.models.common import utcnow
from walmart_integration.models.reference import NominalCodeRecord, StoreRecord
from walmart_integration.store import dynamo, keys
from walmart_integration.store.base import Repository
from walmart_integration.store.expressions import Expression, Update

KINDS = {StoreRecord.kind: keys.STORE_PREFIX, NominalCodeRecord.kind: keys.NOMINAL_CODE_PREFIX}
R = TypeVar("R", StoreRecord, NominalCodeRecord)


class ReferenceRepository(Repository):
    def create(self, tenant_id: str, record_type: type[R], attributes: Mapping[str, Any]) -> R:
        """Create a record with the tenant's next integer id of its kind."""
        pk = keys.tenant_pk(tenant_id)
        counter = self.client.update_item(
            TableName=self.table,
            Key={"pk": {"S": pk}, "sk": {"S": keys.counter_sk(record_type.kind)}},
            ReturnValues="UPDATED_NEW",
            **Update().add("last_id", 1).params(),
        )
        number = int(counter["Attributes"]["last_id"]["N"])
        record = record_type.model_validate({"id": number, **attributes, "created_at": utcnow().isoformat()})
        item = {"pk": pk, "sk": keys.numbered_sk(KINDS[record_type.kind], number), "type": record_type.kind}
        self.client.put_item(TableName=self.table, Item=dynamo.serialize({**item, **record.model_dump()}))
        return record

    def page(self, tenant_id: str, record_type: type[R], limit: int, cursor: str | None) -> tuple[list[R], str | None]:
        items, next_cursor = self.query_page(keys.tenant_pk(tenant_id), KINDS[record_type.kind], limit, cursor)
        return [record_type.model_validate(dynamo.deserialize(item)) for item in items], next_cursor

    def existing(self, tenant_id: str, wanted: dict[str, set[int]]) -> dict[str, set[int]]:
        """Which of the wanted ids exist for the tenant, per kind ("store", "nominalcode"), in one BatchGetItem."""
        pk = keys.tenant_pk(tenant_id)
        request = [
            {"pk": {"S": pk}, "sk": {"S": keys.numbered_sk(KINDS[kind], number)}}
            for kind, numbers in wanted.items()
            for number in sorted(numbers)
        ]
        found: dict[str, set[int]] = {kind: set() for kind in wanted}
        projection = Expression()
        pending: dict[str, Any] = (
            {
                self.table: {
                    "Keys": request,
                    "ProjectionExpression": f"{projection.name('type')}, {projection.name('id')}",
                    **projection.attributes(),
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
                record = NominalCodeRecord.model_validate(dynamo.deserialize(item))
                found[record.id] = record.code
            pending = response.get("UnprocessedKeys") or {}
        return found

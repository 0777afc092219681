"""Repository of an instance's synced Marketplace records (products, orders) in the data table.

An item is its record's content (``models.marketplace``: ``ProductRecord``, ``OrderRecord``, lines included) with the
keys, the content hash and ``updated_at``. Writes are skipped for records whose content hash is unchanged (one
BatchGetItem per 100 keys), so an unchanged re-sync writes nothing and a changed record is one write.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from walmart_integration.models.marketplace import OrderRecord, ProductRecord, SyncedRecord
from walmart_integration.store import dynamo, keys
from walmart_integration.store.base import Repository

KINDS = {
    "product": (keys.product_sk, keys.PRODUCT_PREFIX),
    "order": (keys.order_sk, keys.ORDER_PREFIX),
}


class SyncedDataRepository(Repository):
    def upsert_changed(
        self, tenant_id: str, instance_id: str, kind: str, records: Iterable[SyncedRecord], now: str
    ) -> int:
        """Write the records whose content changed (or are new); returns how many were written."""
        sort_key, _ = KINDS[kind]
        pk = keys.instance_data_pk(tenant_id, instance_id)
        unique = {record.key: record for record in records}
        if not unique:
            return 0
        stored = self._hashes(pk, [sort_key(key) for key in unique])
        writes = []
        for key, record in unique.items():
            digest = record.content_hash()
            if stored.get(sort_key(key)) == digest:
                continue
            item = {**record.content(), "pk": pk, "sk": sort_key(key), "content_hash": digest, "updated_at": now}
            if isinstance(record, OrderRecord):
                item["gsi1pk"] = keys.orders_index_pk(tenant_id, instance_id)
                item["gsi1sk"] = keys.orders_index_sk(record.order_date, key)
            writes.append({"PutRequest": {"Item": dynamo.serialize(item)}})
        for start in range(0, len(writes), 25):
            pending: dict[str, Any] = {self.table: writes[start : start + 25]}
            while pending:
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
        return len(writes)

    def _hashes(self, pk: str, sort_keys: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(sort_keys), 100):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for sk in sort_keys[start : start + 100]],
                    "ProjectionExpression": "sk, content_hash",
                    "ConsistentRead": True,
                }
            }
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table, []):
                    found[item["sk"]["S"]] = item.get("content_hash", {}).get("S", "")
                request = response.get("UnprocessedKeys") or {}
        return found

    def count(self, tenant_id: str, instance_id: str, kind: str) -> int:
        _, prefix = KINDS[kind]
        params: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": keys.instance_data_pk(tenant_id, instance_id)},
                ":prefix": {"S": prefix},
            },
            "Select": "COUNT",
        }
        total = 0
        while True:
            response = self.client.query(**params)
            total += int(response.get("Count", 0))
            if "LastEvaluatedKey" not in response:
                return total
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def order(self, tenant_id: str, instance_id: str, purchase_order_id: str) -> OrderRecord | None:
        """One stored order with its lines (money as ``Decimal``), or None."""
        item = self.client.get_item(
            TableName=self.table,
            Key={
                "pk": {"S": keys.instance_data_pk(tenant_id, instance_id)},
                "sk": {"S": keys.order_sk(purchase_order_id)},
            },
            ConsistentRead=True,
        ).get("Item")
        return OrderRecord.model_validate(_public(item)) if item else None

    def orders(self, tenant_id: str, instance_id: str, purchase_order_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Stored orders by purchaseOrderId (BatchGetItem, 100 keys a call); missing ones are left out.

        Accounting's read: the items as stored, older shapes included (lines without ``statuses``, Walmart's raw
        ``refund``), which ``services/accounting_rules`` still reads; it moves to ``OrderRecord`` when it drops them.
        """
        pk = keys.instance_data_pk(tenant_id, instance_id)
        found: dict[str, dict[str, Any]] = {}
        unique = sorted(set(purchase_order_ids))
        for start in range(0, len(unique), 100):
            keys_ = [{"pk": {"S": pk}, "sk": {"S": keys.order_sk(po)}} for po in unique[start : start + 100]]
            request: dict[str, Any] = {self.table: {"Keys": keys_, "ConsistentRead": True}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table, []):
                    record = _public(item)
                    found[str(record["purchase_order_id"])] = record
                request = response.get("UnprocessedKeys") or {}
        return found

    def page_products(
        self, tenant_id: str, instance_id: str, limit: int, cursor: str | None
    ) -> tuple[list[ProductRecord], str | None]:
        pk = keys.instance_data_pk(tenant_id, instance_id)
        items, next_cursor = self.query_page(pk, keys.PRODUCT_PREFIX, limit, cursor)
        return [ProductRecord.model_validate(_public(item)) for item in items], next_cursor

    def page_orders(
        self,
        tenant_id: str,
        instance_id: str,
        limit: int,
        cursor: str | None,
        status: str | None = None,
        updated_since: str | None = None,
    ) -> tuple[list[OrderRecord], str | None]:
        """Orders newest first (by order date), optionally by status (of the order or any line) and
        by the time our copy last changed."""
        index_pk = keys.orders_index_pk(tenant_id, instance_id)
        values: dict[str, Any] = {":pk": {"S": index_pk}}
        filters = []
        names: dict[str, str] = {}
        if status:
            values[":status"] = {"S": status}
            names["#status"] = "status"
            filters.append("(#status = :status OR contains(line_statuses, :status))")
        if updated_since:
            values[":since"] = {"S": updated_since}
            filters.append("updated_at >= :since")
        params: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if filters:
            params["FilterExpression"] = " AND ".join(filters)
        if names:
            params["ExpressionAttributeNames"] = names
        start = dynamo.decode_index_cursor(cursor, index_pk, keys.instance_data_pk(tenant_id, instance_id))
        if start:
            params["ExclusiveStartKey"] = start
        items: list[OrderRecord] = []
        while True:  # a filter can empty a page: keep reading until the page is full or the index ends
            response = self.client.query(**params)
            items.extend(OrderRecord.model_validate(_public(i)) for i in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last or len(items) >= limit:
                break
            params["ExclusiveStartKey"] = last
            params["Limit"] = limit - len(items)
        return items, dynamo.encode_index_cursor(last)


def _public(item: dict[str, Any]) -> dict[str, Any]:
    record = dynamo.deserialize(item, exact=True)
    for name in ("pk", "sk", "gsi1pk", "gsi1sk", "content_hash"):
        record.pop(name, None)
    return record

"""Repositories of an instance's settlements (reconciliation reports) and return orders, in the data table.

Settlement lines are keyed by the period and the row's position in Walmart's report (``store/keys.py``): fetching a
report again overwrites the same items, and ``trim_lines`` removes the rows a shorter report no longer has, so a line
is never stored twice. Lines are written 25 to a BatchWriteItem. The period item is updated field by field, so the
``unexplained`` amount that accounting writes on it is never overwritten by a sync.

Return orders are upserted by return order id and only written when their content changed (one BatchGetItem per 100
keys), with one small link item per sales order they return (``returns_of_order`` reads them).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from walmart_integration.models.marketplace import content_hash
from walmart_integration.models.returns import ReturnOrder
from walmart_integration.models.settlements import SettlementLine, SettlementPeriod, settlement_line_from_row
from walmart_integration.store import dynamo, keys
from walmart_integration.store.base import Repository
from walmart_integration.store.expressions import Update

BATCH_WRITE = 25
BATCH_GET = 100
_INTERNAL = ("pk", "sk", "gsi1pk", "gsi1sk", "content_hash", "updated_at")
# Fields of the period item written by the sync: all but accounting's ``unexplained`` and ``finalised_at`` (set once,
# by ``mark_finalised``).
_SYNCED_PERIOD_FIELDS = tuple(
    name for name in SettlementPeriod.model_fields if name not in ("unexplained", "finalised_at")
)


def _storable(value: Any) -> Any:
    """Model values as DynamoDB holds them: dates as ISO text, money as exact numbers."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def _record(item: dict[str, Any]) -> dict[str, Any]:
    record = dynamo.deserialize(item, exact=True)
    for name in _INTERNAL:
        record.pop(name, None)
    return record


class SettlementRepository(Repository):
    # -- periods ----------------------------------------------------------------------------------------------
    def period(self, tenant_id: str, instance_id: str, settlement_id: str) -> SettlementPeriod | None:
        item = self.client.get_item(
            TableName=self.table,
            Key={
                "pk": {"S": keys.instance_data_pk(tenant_id, instance_id)},
                "sk": {"S": keys.settlement_sk(settlement_id)},
            },
            ConsistentRead=True,
        ).get("Item")
        return SettlementPeriod.model_validate(_record(item)) if item else None

    def periods(self, tenant_id: str, instance_id: str) -> list[SettlementPeriod]:
        """Every period of the instance, newest first."""
        items = self.query_all(
            exact=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": keys.instance_data_pk(tenant_id, instance_id)},
                ":prefix": {"S": keys.SETTLEMENT_PREFIX},
            },
            ScanIndexForward=False,
            ConsistentRead=True,
        )
        return [SettlementPeriod.model_validate(_strip(item)) for item in items]

    def page_periods(
        self, tenant_id: str, instance_id: str, limit: int, cursor: str | None
    ) -> tuple[list[SettlementPeriod], str | None]:
        """A page of periods in key order (oldest first: ids are ISO dates)."""
        items, next_cursor = self.query_page(
            keys.instance_data_pk(tenant_id, instance_id), keys.SETTLEMENT_PREFIX, limit, cursor
        )
        return [SettlementPeriod.model_validate(_record(item)) for item in items], next_cursor

    def save_period(self, tenant_id: str, instance_id: str, period: SettlementPeriod) -> None:
        """Create or update the period item with the sync's fields; ``unexplained`` (accounting's) is left alone."""
        values = period.model_dump(include=set(_SYNCED_PERIOD_FIELDS))
        update = Update()
        for name, value in values.items():
            if value is None:
                update.remove(name)
            else:
                update.set(name, _storable(value))
        self.client.update_item(
            TableName=self.table, Key=self._period_key(tenant_id, instance_id, period), **update.params()
        )

    def mark_finalised(self, tenant_id: str, instance_id: str, settlement_id: str, moment: str) -> bool:
        """Record the moment the period was first stored final; True only the first time (accounting is told once)."""
        update = Update().set("finalised_at", moment)
        condition = f"{update.exists('pk')} AND {update.missing('finalised_at')}"
        key = {
            "pk": {"S": keys.instance_data_pk(tenant_id, instance_id)},
            "sk": {"S": keys.settlement_sk(settlement_id)},
        }
        try:
            self.client.update_item(TableName=self.table, Key=key, **update.params(condition))
        except dynamo.ClientError as error:
            if not dynamo.is_error(error, dynamo.CONDITIONAL_CHECK_FAILED):
                raise
            return False
        return True

    def set_unexplained(self, tenant_id: str, instance_id: str, settlement_id: str, amount: Decimal | None) -> None:
        """Accounting's result on the period: deposit minus everything posted (None clears it)."""
        update = Update()
        if amount is None:
            update.remove("unexplained")
        else:
            update.set("unexplained", amount)
        key = {
            "pk": {"S": keys.instance_data_pk(tenant_id, instance_id)},
            "sk": {"S": keys.settlement_sk(settlement_id)},
        }
        self.client.update_item(TableName=self.table, Key=key, **update.params(update.exists("pk")))

    @staticmethod
    def _period_key(tenant_id: str, instance_id: str, period: SettlementPeriod) -> dict[str, Any]:
        return {
            "pk": {"S": keys.instance_data_pk(tenant_id, instance_id)},
            "sk": {"S": keys.settlement_sk(period.settlement_id)},
        }

    # -- lines ------------------------------------------------------------------------------------------------
    def put_lines(self, tenant_id: str, instance_id: str, lines: Iterable[SettlementLine]) -> int:
        """Write the lines by (period, position), 25 to a batch; a line already there is overwritten. Returns how many
        items were written. Only Walmart's row is stored (``columns``): the typed fields are read out of it when the
        line is read (``settlement_line_from_row``), so the item is half the size and one parser serves old lines too.
        """
        unique = {(line.settlement_id, line.position): line for line in lines}
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": keys.settlement_lines_pk(tenant_id, instance_id, settlement_id)},
                        "sk": {"S": keys.settlement_line_sk(position)},
                        "settlement_id": {"S": settlement_id},
                        "position": {"N": str(position)},
                        "columns": {"M": {name: {"S": value} for name, value in line.columns.items()}},
                    }
                }
            }
            for (settlement_id, position), line in unique.items()
        ]
        self._batch_write(requests)
        return len(requests)

    def trim_lines(self, tenant_id: str, instance_id: str, settlement_id: str, count: int) -> int:
        """Delete the period's lines at positions ``count`` and beyond (a re-fetched report that shrank); returns how
        many were deleted."""
        pk = keys.settlement_lines_pk(tenant_id, instance_id, settlement_id)
        response_items = self.query_all(
            KeyConditionExpression="pk = :pk AND sk >= :from",
            ExpressionAttributeValues={":pk": {"S": pk}, ":from": {"S": keys.settlement_line_sk(count)}},
            ProjectionExpression="pk, sk",
            ConsistentRead=True,
        )
        requests = [{"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": item["sk"]}}}} for item in response_items]
        self._batch_write(requests)
        return len(requests)

    def lines(self, tenant_id: str, instance_id: str, settlement_id: str) -> list[SettlementLine]:
        """Every line of a period, in report order."""
        items = self.query_all(
            exact=True,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.settlement_lines_pk(tenant_id, instance_id, settlement_id)}},
            ConsistentRead=True,
        )
        return [
            settlement_line_from_row(str(item["settlement_id"]), int(item["position"]), item.get("columns") or {})
            for item in items
        ]

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), BATCH_WRITE):
            pending: dict[str, Any] = {self.table: requests[start : start + BATCH_WRITE]}
            while pending:
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}


class ReturnRepository(Repository):
    def upsert_changed(self, tenant_id: str, instance_id: str, returns: Iterable[ReturnOrder], now: str) -> int:
        """Write the return orders whose content changed (or are new), each with a link per sales order it returns;
        returns how many return orders were written."""
        pk = keys.instance_data_pk(tenant_id, instance_id)
        links_pk = keys.return_links_pk(tenant_id, instance_id)
        unique = {r.return_order_id: r for r in returns}
        if not unique:
            return 0
        stored = self._hashes(pk, [keys.return_sk(rid) for rid in unique])
        requests = []
        links: set[tuple[str, str]] = set()
        for rid, order in unique.items():
            record = _storable(order.model_dump())
            digest = content_hash(record)
            if stored.get(keys.return_sk(rid)) == digest:
                continue
            item = {
                **record,
                "pk": pk,
                "sk": keys.return_sk(rid),
                "content_hash": digest,
                "updated_at": now,
                "gsi1pk": keys.returns_index_pk(tenant_id, instance_id),
                "gsi1sk": keys.returns_index_sk(order.return_order_date or "", rid),
            }
            requests.append({"PutRequest": {"Item": dynamo.serialize(item)}})
            links |= {(po, rid) for po in order.purchase_order_ids}
        # the links first: a link to a return not written yet is passed over, and a return written without its link
        # would never be linked (the next page finds it unchanged)
        for po, rid in sorted(links):
            self.client.update_item(
                TableName=self.table,
                Key={"pk": {"S": links_pk}, "sk": {"S": keys.return_link_sk(po)}},
                UpdateExpression="ADD return_order_ids :rid",
                ExpressionAttributeValues={":rid": {"SS": [rid]}},
            )
        for start in range(0, len(requests), BATCH_WRITE):
            pending: dict[str, Any] = {self.table: requests[start : start + BATCH_WRITE]}
            while pending:
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
        return len(requests)

    def _hashes(self, pk: str, sort_keys: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(sort_keys), BATCH_GET):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for sk in sort_keys[start : start + BATCH_GET]],
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

    def get(self, tenant_id: str, instance_id: str, return_order_id: str) -> ReturnOrder | None:
        item = self.client.get_item(
            TableName=self.table,
            Key={
                "pk": {"S": keys.instance_data_pk(tenant_id, instance_id)},
                "sk": {"S": keys.return_sk(return_order_id)},
            },
            ConsistentRead=True,
        ).get("Item")
        return ReturnOrder.model_validate(_record(item)) if item else None

    def page(
        self, tenant_id: str, instance_id: str, limit: int, cursor: str | None
    ) -> tuple[list[ReturnOrder], str | None]:
        """Return orders newest first (by return order date)."""
        index_pk = keys.returns_index_pk(tenant_id, instance_id)
        params: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": index_pk}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        start = dynamo.decode_index_cursor(cursor, index_pk, keys.instance_data_pk(tenant_id, instance_id))
        if start:
            params["ExclusiveStartKey"] = start
        response = self.client.query(**params)
        found = [ReturnOrder.model_validate(_record(item)) for item in response.get("Items", [])]
        return found, dynamo.encode_index_cursor(response.get("LastEvaluatedKey"))

    def of_orders(self, tenant_id: str, instance_id: str, pos: list[str]) -> dict[str, list[ReturnOrder]]:
        """The return orders that return lines of each sales order (every one of ``pos`` a key): one BatchGetItem
        of their links and one of the returns per 100 keys."""
        links_pk = keys.return_links_pk(tenant_id, instance_id)
        linked = {
            str(item["sk"]): sorted(item.get("return_order_ids") or ())
            for item in map(
                dynamo.deserialize,
                self._batch_get([{"pk": links_pk, "sk": keys.return_link_sk(po)} for po in dict.fromkeys(pos)]),
            )
        }
        pk = keys.instance_data_pk(tenant_id, instance_id)
        ids = sorted({rid for rids in linked.values() for rid in rids})
        found = {
            r.return_order_id: r
            for r in (
                ReturnOrder.model_validate(_record(item))
                for item in self._batch_get([{"pk": pk, "sk": keys.return_sk(rid)} for rid in ids])
            )
        }
        return {po: [found[rid] for rid in linked.get(keys.return_link_sk(po), []) if rid in found] for po in pos}

    def _batch_get(self, wanted: list[dict[str, str]]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for start in range(0, len(wanted), BATCH_GET):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [
                        {name: {"S": value} for name, value in key.items()} for key in wanted[start : start + BATCH_GET]
                    ],
                    "ConsistentRead": True,
                }
            }
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                items += response.get("Responses", {}).get(self.table, [])
                request = response.get("UnprocessedKeys") or {}
        return items


def _strip(record: dict[str, Any]) -> dict[str, Any]:
    """A deserialised item without the key attributes."""
    return {name: value for name, value in record.items() if name not in _INTERNAL}

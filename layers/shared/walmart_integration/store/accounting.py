"""Accounting records of an instance (app table, tenant partition; key design in ``keys``).

``ACCTPOST#<instance>#<po>``      what an order has posted so far (per line), with a version
``ACCTDOC#<instance>#<ulid>``     a document: issued (immutable) or an open period batch
``ACCTBATCH#<instance>#<type>#<period>#<period key>#<reason>``  which document is the open batch of a period
gsi1: ACCTHELD#<tenant>#<instance> / <po>  orders with held lines (the holds live on their posting item);
gsi1: ACCTOPEN / <period end>#...  open batches (closed by the scheduler); ACCTOUTBOX / <issued at>#...  issued, not yet
published (the publisher's outbox: an event is never lost between the write and the publication).

One evaluation of an order writes its posting state (conditional on the version it read), its new documents or batch
lines and holds in one transaction: a duplicate or concurrent evaluation cannot post twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from walmart_integration.store import dynamo, keys
from walmart_integration.store.base import Repository
from walmart_integration.store.expressions import Expression, Update, new_item

CLEARED = "cleared_"  # + settlement id: what that settlement cleared of an order's accruals


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


class AccountingRepository(Repository):
    def posting(self, tenant_id: str, instance_id: str, po: str) -> dict[str, Any] | None:
        item = self.client.get_item(
            TableName=self.table,
            Key=_key(keys.tenant_pk(tenant_id), keys.posting_sk(instance_id, po)),
            ConsistentRead=True,
        ).get("Item")
        return dynamo.deserialize(item, exact=True) if item else None

    def postings(self, tenant_id: str, instance_id: str, pos: list[str]) -> dict[str, dict[str, Any]]:
        """The posting states of these orders (consistent BatchGetItem); orders never posted are left out."""
        pk = keys.tenant_pk(tenant_id)
        found: dict[str, dict[str, Any]] = {}
        unique = sorted(set(pos))
        for start in range(0, len(unique), 100):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [_key(pk, keys.posting_sk(instance_id, po)) for po in unique[start : start + 100]],
                    "ConsistentRead": True,
                }
            }
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table, []):
                    record = dynamo.deserialize(item, exact=True)
                    found[str(record["purchase_order_id"])] = record
                request = response.get("UnprocessedKeys") or {}
        return found

    def commit(self, actions: list[dict[str, Any]]) -> bool:
        """Write one evaluation's actions in one transaction (False: a condition failed, nothing was written)."""
        try:
            if len(actions) == 1 and "Update" in actions[0]:  # holds or postings alone: one conditional update
                self.client.update_item(**actions[0]["Update"])
            else:
                self.client.transact_write_items(TransactItems=actions)  # an order has far fewer than 100 items
        except dynamo.ClientError as error:
            if dynamo.is_error(error, dynamo.TRANSACTION_CANCELED, dynamo.CONDITIONAL_CHECK_FAILED):
                return False
            raise
        return True

    # -- actions of one evaluation (written together by ``commit``) -------------------------------------------
    def posting_action(
        self, tenant_id: str, instance_id: str, po: str, values: dict[str, Any], version: int
    ) -> dict[str, Any]:
        """The order's posting state at ``version`` + 1, if it is still at ``version``; in the held index while
        ``values["holds"]`` has any."""
        holds = values.get("holds")
        update = Update().set_all(
            {
                **values,
                "type": "accounting_posting",
                "purchase_order_id": po,
                "gsi1pk": keys.held_index_pk(tenant_id, instance_id) if holds else None,
                "gsi1sk": po if holds else None,
                "version": version + 1,
            }
        )
        condition = f"{update.not_exists('pk')} OR {update.compare('version', '=', version)}"
        return self._update(tenant_id, keys.posting_sk(instance_id, po), update, condition)

    def issued_document_action(self, tenant_id: str, document: dict[str, Any], issued_at: str) -> dict[str, Any]:
        """A new issued document, in the outbox until it is published."""
        item = {
            **document,
            "sk": keys.document_sk(document["instance_id"], document["id"]),
            "gsi1pk": keys.OUTBOX_GSI_PK,
            "gsi1sk": keys.outbox_gsi_sk(issued_at, tenant_id, document["id"]),
        }
        return self._put(tenant_id, item, new_item)

    def batch_actions(self, tenant_id: str, document: dict[str, Any]) -> list[dict[str, Any]]:
        """Lines for the open batch of the document's period: appended to it, or a new batch when there is none
        (or it was issued meanwhile: the conditions fail and the evaluation starts over)."""
        pointer_sk = keys.batch_sk(
            document["instance_id"], document["type"], document["period"], document["period_key"], document["reason"]
        )
        pointer = self._get(tenant_id, pointer_sk)
        current = self._get(tenant_id, pointer["document_sk"]) if pointer else None
        if pointer is not None and current is not None and current.get("status") == "open":
            update = (
                Update().append("lines", document["lines"]).append("purchase_order_ids", document["purchase_order_ids"])
            )
            condition = update.compare("status", "=", "open")
            return [self._update(tenant_id, pointer["document_sk"], update, condition)]
        sk = keys.document_sk(document["instance_id"], document["id"])
        item = {
            **document,
            "sk": sk,
            "gsi1pk": keys.OPEN_GSI_PK,
            "gsi1sk": keys.open_gsi_sk(document["period_end"], tenant_id, document["id"]),
        }
        put_pointer = self._put(
            tenant_id,
            {"sk": pointer_sk, "type": "accounting_batch", "document_sk": sk},
            new_item if pointer is None else lambda guard: guard.compare("document_sk", "=", pointer["document_sk"]),
        )
        return [self._put(tenant_id, item, new_item), put_pointer]

    def _get(self, tenant_id: str, sk: str) -> dict[str, Any] | None:
        item = self.client.get_item(TableName=self.table, Key=_key(keys.tenant_pk(tenant_id), sk), ConsistentRead=True)
        found = item.get("Item")
        return dynamo.deserialize(found, exact=True) if found else None

    def _put(
        self, tenant_id: str, item: dict[str, Any], condition: Callable[[Expression], str] | None = None
    ) -> dict[str, Any]:
        """A Put action; ``condition`` writes its ConditionExpression with the placeholders it is handed."""
        action: dict[str, Any] = {
            "TableName": self.table,
            "Item": dynamo.serialize({"pk": keys.tenant_pk(tenant_id), **item}),
        }
        if condition is not None:
            guard = Expression()
            action.update(guard.params(condition(guard)))
        return {"Put": action}

    def _update(self, tenant_id: str, sk: str, update: Update, condition: str | None = None) -> dict[str, Any]:
        return {
            "Update": {"TableName": self.table, "Key": _key(keys.tenant_pk(tenant_id), sk), **update.params(condition)}
        }

    # -- reads ------------------------------------------------------------------------------------------------
    def page_documents(
        self, tenant_id: str, instance_id: str, limit: int, cursor: str | None, where: Mapping[str, str]
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Documents oldest first, only those whose attributes equal ``where``'s (type, period, status)."""
        items, next_cursor = self.filtered_page(
            keys.tenant_pk(tenant_id), keys.document_prefix(instance_id), limit, cursor, where
        )
        return [dynamo.deserialize(item, exact=True) for item in items], next_cursor

    def held(self, tenant_id: str, instance_id: str) -> list[dict[str, Any]]:
        """Posting states of the instance's orders that have held lines (sparse index)."""
        return list(
            self.query_all(
                exact=True,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :pk",
                ExpressionAttributeValues={":pk": {"S": keys.held_index_pk(tenant_id, instance_id)}},
            )
        )

    def due_batches(self, now: str) -> Iterator[dict[str, Any]]:
        """Open batch documents whose period ended before ``now`` (every tenant; sparse index, no scan)."""
        return self.query_all(
            exact=True,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk AND gsi1sk < :now",
            ExpressionAttributeValues={":pk": {"S": keys.OPEN_GSI_PK}, ":now": {"S": now}},
        )

    def outbox(self) -> Iterator[dict[str, Any]]:
        return self.query_all(
            exact=True,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.OUTBOX_GSI_PK}},
        )

    # -- settlements ----------------------------------------------------------------------------------------------
    def clearings(self, tenant_id: str, instance_id: str, pos: list[str]) -> dict[str, dict[str, dict[str, str]]]:
        """Per order: the proforma fee accruals each settlement cleared (settlement id -> account -> amount)."""
        pk = keys.tenant_pk(tenant_id)
        found: dict[str, dict[str, dict[str, str]]] = {}
        unique = sorted(set(pos))
        for start in range(0, len(unique), 100):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [_key(pk, keys.clearing_sk(instance_id, po)) for po in unique[start : start + 100]],
                    "ConsistentRead": True,
                }
            }
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table, []):
                    record = dynamo.deserialize(item, exact=True)
                    found[str(record["purchase_order_id"])] = {
                        name.removeprefix(CLEARED): dict(value)
                        for name, value in record.items()
                        if name.startswith(CLEARED)
                    }
                request = response.get("UnprocessedKeys") or {}
        return found

    def record_clearing(
        self, tenant_id: str, instance_id: str, po: str, settlement_id: str, amounts: dict[str, str]
    ) -> None:
        """What ``settlement_id`` cleared of the order's accruals: an attribute of its own per settlement (settlements
        posted at the same time never overwrite each other's; a retry sets the same value again)."""
        update = Update().set_all({"type": "accounting_clearing", "purchase_order_id": po})
        update.set((f"{CLEARED}{settlement_id}",), amounts)  # one name, whatever the id holds
        self.client.update_item(
            TableName=self.table,
            Key=_key(keys.tenant_pk(tenant_id), keys.clearing_sk(instance_id, po)),
            **update.params(),
        )

    def issue_settlement(self, tenant_id: str, document: dict[str, Any], settlement_id: str, issued_at: str) -> bool:
        """The settlement's document, once: False when it was issued before (its guard exists)."""
        guard = {
            "sk": keys.settled_sk(document["instance_id"], settlement_id),
            "type": "accounting_settled",
            "document_id": document["id"],
        }
        actions = [self._put(tenant_id, guard, new_item), self.issued_document_action(tenant_id, document, issued_at)]
        actions.append(
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": _key(
                        keys.tenant_pk(tenant_id), keys.settlement_hold_sk(document["instance_id"], settlement_id)
                    ),
                }
            }
        )
        return self.commit(actions)

    def settled(self, tenant_id: str, instance_id: str, settlement_id: str) -> bool:
        return self._get(tenant_id, keys.settled_sk(instance_id, settlement_id)) is not None

    def hold_settlement(
        self, tenant_id: str, instance_id: str, settlement_id: str, holds: list[dict[str, Any]]
    ) -> None:
        """Why the settlement is not posted (its lines held), replaced by each evaluation."""
        item = {
            "sk": keys.settlement_hold_sk(instance_id, settlement_id),
            "type": "accounting_settlement_hold",
            "settlement_id": settlement_id,
            "holds": holds,
        }
        self.client.put_item(TableName=self.table, Item=dynamo.serialize({"pk": keys.tenant_pk(tenant_id), **item}))

    def settlement_holds(self, tenant_id: str, instance_id: str) -> list[dict[str, Any]]:
        return list(
            self.query_all(
                exact=True,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                ExpressionAttributeValues={
                    ":pk": {"S": keys.tenant_pk(tenant_id)},
                    ":prefix": {"S": keys.settlement_hold_prefix(instance_id)},
                },
            )
        )

    # -- issuing and publishing -----------------------------------------------------------------------------
    def issue(self, document: dict[str, Any], values: dict[str, Any], issued_at: str) -> bool:
        """Close an open batch (as ``due_batches`` listed it): its totals and ``issued`` status, once; it moves to the
        outbox."""
        outbox_key = keys.outbox_gsi_sk(issued_at, str(document["tenant_id"]), str(document["id"]))
        update = Update().set_all({**values, "status": "issued", "gsi1pk": keys.OUTBOX_GSI_PK, "gsi1sk": outbox_key})
        condition = update.compare("status", "=", "open")
        try:
            self.client.update_item(
                TableName=self.table, Key=_key(document["pk"], document["sk"]), **update.params(condition)
            )
        except dynamo.ClientError as error:
            if dynamo.is_conditional_failure(error):
                return False
            raise
        return True

    def published(self, pk: str, sk: str) -> None:
        update = Update().set("published", True).remove("gsi1pk").remove("gsi1sk")
        self.client.update_item(TableName=self.table, Key=_key(pk, sk), **update.params())

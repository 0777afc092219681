"""Accounting records of an instance (app table, tenant partition; key design in ``keys``).

``ACCTPOST#<instance>#<po>``      what an order has posted so far (per line), with a version
``ACCTDOC#<instance>#<ulid>``     a document: issued (immutable) or an open period batch
``ACCTBATCH#<instance>#<type>#<period key>``  which document is the open batch of a period
gsi1: ACCTHELD#<tenant>#<instance> / <po>  orders with held lines (the holds live on their posting item);
gsi1: ACCTOPEN / <period end>#...  open batches (closed by the scheduler); ACCTOUTBOX / <issued at>#...  issued, not yet
published (the publisher's outbox: an event is never lost between the write and the publication).

One evaluation of an order writes its posting state (conditional on the version it read), its new documents or batch
lines and holds in one transaction: a duplicate or concurrent evaluation cannot post twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from walmart_integration.store import dynamo, keys
from walmart_integration.store.base import Repository
from walmart_integration.store.expressions import Update

OPEN_GSI = "ACCTOPEN"
OUTBOX_GSI = "ACCTOUTBOX"


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def posting_sk(instance_id: str, po: str) -> str:
    return f"ACCTPOST#{instance_id}#{po}"


def document_prefix(instance_id: str) -> str:
    return f"ACCTDOC#{instance_id}#"


def batch_sk(instance_id: str, doc_type: str, period_key: str) -> str:
    return f"ACCTBATCH#{instance_id}#{doc_type}#{period_key}"


def held_index_pk(tenant_id: str, instance_id: str) -> str:
    return f"ACCTHELD#{tenant_id}#{instance_id}"


class AccountingRepository(Repository):
    def posting(self, tenant_id: str, instance_id: str, po: str) -> dict[str, Any] | None:
        item = self.client.get_item(
            TableName=self.table, Key=_key(keys.tenant_pk(tenant_id), posting_sk(instance_id, po)), ConsistentRead=True
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
                    "Keys": [_key(pk, posting_sk(instance_id, po)) for po in unique[start : start + 100]],
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
        except Exception as error:
            if dynamo.transaction_reasons(error) or dynamo.is_conditional_failure(error):
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
                "gsi1pk": held_index_pk(tenant_id, instance_id) if holds else None,
                "gsi1sk": po if holds else None,
                "version": version + 1,
            }
        )
        condition = f"attribute_not_exists(pk) OR {update.name('version')} = {update.value(version)}"
        return self._update(tenant_id, posting_sk(instance_id, po), update, condition)

    def issued_document_action(self, tenant_id: str, document: dict[str, Any], issued_at: str) -> dict[str, Any]:
        """A new issued document, in the outbox until it is published."""
        item = {
            **document,
            "sk": document_prefix(document["instance_id"]) + document["id"],
            "gsi1pk": OUTBOX_GSI,
            "gsi1sk": f"{issued_at}#{tenant_id}#{document['id']}",
        }
        return self._put(tenant_id, item, "attribute_not_exists(pk)")

    def batch_actions(self, tenant_id: str, document: dict[str, Any]) -> list[dict[str, Any]]:
        """Lines for the open batch of the document's period: appended to it, or a new batch when there is none
        (or it was issued meanwhile: the conditions fail and the evaluation starts over)."""
        pointer_sk = batch_sk(
            document["instance_id"],
            document["type"],
            f"{document['period']}#{document['period_key']}#{document['reason']}",
        )
        pointer = self._get(tenant_id, pointer_sk)
        current = self._get(tenant_id, pointer["document_sk"]) if pointer else None
        if pointer is not None and current is not None and current.get("status") == "open":
            update = Update()
            lines = update.value(document["lines"])
            pos = update.value(document["purchase_order_ids"])
            update.sets.append(f"{update.name('lines')} = list_append({update.name('lines')}, {lines})")
            update.sets.append(
                f"{update.name('purchase_order_ids')} = list_append({update.name('purchase_order_ids')}, {pos})"
            )
            condition = f"{update.name('status')} = {update.value('open')}"
            return [self._update(tenant_id, pointer["document_sk"], update, condition)]
        sk = document_prefix(document["instance_id"]) + document["id"]
        item = {
            **document,
            "sk": sk,
            "gsi1pk": OPEN_GSI,
            "gsi1sk": f"{document['period_end']}#{tenant_id}#{document['id']}",
        }
        put_pointer = self._put(
            tenant_id,
            {"sk": pointer_sk, "type": "accounting_batch", "document_sk": sk},
            "attribute_not_exists(pk)" if pointer is None else "document_sk = :previous",
        )
        if pointer is not None:
            put_pointer["Put"]["ExpressionAttributeValues"] = {":previous": {"S": pointer["document_sk"]}}
        return [self._put(tenant_id, item, "attribute_not_exists(pk)"), put_pointer]

    def _get(self, tenant_id: str, sk: str) -> dict[str, Any] | None:
        item = self.client.get_item(TableName=self.table, Key=_key(keys.tenant_pk(tenant_id), sk), ConsistentRead=True)
        found = item.get("Item")
        return dynamo.deserialize(found, exact=True) if found else None

    def _put(self, tenant_id: str, item: dict[str, Any], condition: str | None = None) -> dict[str, Any]:
        action: dict[str, Any] = {
            "TableName": self.table,
            "Item": dynamo.serialize({"pk": keys.tenant_pk(tenant_id), **item}),
        }
        if condition:
            action["ConditionExpression"] = condition
        return {"Put": action}

    def _update(self, tenant_id: str, sk: str, update: Update, condition: str | None = None) -> dict[str, Any]:
        return {
            "Update": {"TableName": self.table, "Key": _key(keys.tenant_pk(tenant_id), sk), **update.params(condition)}
        }

    # -- reads ------------------------------------------------------------------------------------------------
    def page_documents(
        self, tenant_id: str, instance_id: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        items, next_cursor = self.query_page(keys.tenant_pk(tenant_id), document_prefix(instance_id), limit, cursor)
        return [dynamo.deserialize(item, exact=True) for item in items], next_cursor

    def held(self, tenant_id: str, instance_id: str) -> list[dict[str, Any]]:
        """Posting states of the instance's orders that have held lines (sparse index)."""
        return list(
            self.query_all(
                exact=True,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :pk",
                ExpressionAttributeValues={":pk": {"S": held_index_pk(tenant_id, instance_id)}},
            )
        )

    def due_batches(self, now: str) -> Iterator[dict[str, Any]]:
        """Open batch documents whose period ended before ``now`` (every tenant; sparse index, no scan)."""
        return self.query_all(
            exact=True,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk AND gsi1sk < :now",
            ExpressionAttributeValues={":pk": {"S": OPEN_GSI}, ":now": {"S": now}},
        )

    def outbox(self) -> Iterator[dict[str, Any]]:
        return self.query_all(
            exact=True,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": {"S": OUTBOX_GSI}},
        )

    # -- issuing and publishing -----------------------------------------------------------------------------
    def issue(self, pk: str, sk: str, values: dict[str, Any], outbox_key: str) -> bool:
        """Close an open batch: its totals and ``issued`` status, once; it moves to the outbox."""
        update = Update().set_all({**values, "status": "issued", "gsi1pk": OUTBOX_GSI, "gsi1sk": outbox_key})
        condition = f"{update.name('status')} = {update.value('open')}"
        try:
            self.client.update_item(TableName=self.table, Key=_key(pk, sk), **update.params(condition))
        except Exception as error:
            if dynamo.is_conditional_failure(error):
                return False
            raise
        return True

    def published(self, pk: str, sk: str) -> None:
        update = Update().set("published", True).remove("gsi1pk").remove("gsi1sk")
        self.client.update_item(TableName=self.table, Key=_key(pk, sk), **update.params())

"""Repository of a tenant's internal (SKU) products, which Walmart listings link to by sku."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from walmart_integration.errors import ValidationFailed
from walmart_integration.models.catalog import InternalProductRecord
from walmart_integration.models.common import utcnow
from walmart_integration.store import dynamo, keys
from walmart_integration.store.base import Repository
from walmart_integration.store.expressions import Expression, Update, new_item


class CatalogRepository(Repository):
    def _reserve_ids(self, tenant_id: str, count: int) -> list[int]:
        response = self.client.update_item(
            TableName=self.table,
            Key={"pk": {"S": keys.tenant_pk(tenant_id)}, "sk": {"S": keys.counter_sk("skuproduct")}},
            ReturnValues="UPDATED_NEW",
            **Update().add("last_id", count).params(),
        )
        last = int(response["Attributes"]["last_id"]["N"])
        return list(range(last - count + 1, last + 1))

    def _put_new(self, tenant_id: str, record: InternalProductRecord) -> None:
        """Store the product unless the tenant has one with its sku (ConditionalCheckFailedException)."""
        guard = Expression()
        item = {"pk": keys.tenant_pk(tenant_id), "sk": keys.sku_product_sk(record.sku), **record.model_dump()}
        self.client.put_item(TableName=self.table, Item=dynamo.serialize(item), **guard.params(new_item(guard)))

    def create(self, tenant_id: str, sku: str, name: str, cost: Decimal | None) -> InternalProductRecord:
        """A new product; a sku the tenant already has is a 422 on ``sku``."""
        (number,) = self._reserve_ids(tenant_id, 1)
        record = InternalProductRecord(id=number, sku=sku, name=name, cost=cost, created_at=utcnow().isoformat())
        try:
            self._put_new(tenant_id, record)
        except dynamo.ClientError as error:
            if dynamo.is_conditional_failure(error):
                raise ValidationFailed({"sku": [f"A product with sku {sku} already exists."]}) from None
            raise
        return record

    def by_skus(self, tenant_id: str, skus: list[str]) -> dict[str, InternalProductRecord]:
        pk = keys.tenant_pk(tenant_id)
        found: dict[str, InternalProductRecord] = {}
        unique = sorted(set(skus))
        for start in range(0, len(unique), 100):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [
                        {"pk": {"S": pk}, "sk": {"S": keys.sku_product_sk(s)}} for s in unique[start : start + 100]
                    ]
                }
            }
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table, []):
                    record = _record(item)
                    found[record.sku] = record
                request = response.get("UnprocessedKeys") or {}
        return found

    def create_missing(self, tenant_id: str, wanted: dict[str, str]) -> dict[str, InternalProductRecord]:
        """Create products for the skus (sku -> name) the tenant lacks; a concurrent creator's wins."""
        existing = self.by_skus(tenant_id, list(wanted))
        missing = [sku for sku in sorted(wanted) if sku not in existing]
        if not missing:
            return existing
        now = utcnow().isoformat()
        for sku, number in zip(missing, self._reserve_ids(tenant_id, len(missing)), strict=True):
            record = InternalProductRecord(id=number, sku=sku, name=wanted[sku], cost=None, created_at=now)
            try:
                self._put_new(tenant_id, record)
                existing[sku] = record
            except dynamo.ClientError as error:
                if not dynamo.is_conditional_failure(error):
                    raise
        return {**existing, **self.by_skus(tenant_id, [s for s in missing if s not in existing])}

    def product(self, tenant_id: str, product_id: int) -> InternalProductRecord | None:
        """The tenant's product with this id. Products are keyed by sku: this reads the tenant's products (a filter on
        the id), as rare as a person editing a product is."""
        guard = Expression()
        key = (
            f"pk = {guard.value(keys.tenant_pk(tenant_id))} AND begins_with(sk, {guard.value(keys.SKU_PRODUCT_PREFIX)})"
        )
        for item in self.query_all(
            exact=True,
            KeyConditionExpression=key,
            FilterExpression=guard.compare("id", "=", product_id),
            **guard.attributes(),
        ):
            return InternalProductRecord.model_validate(item)
        return None

    def update(self, tenant_id: str, sku: str, changes: dict[str, Any]) -> InternalProductRecord:
        """Set these fields of the product (it exists: the condition fails only if it was deleted meanwhile)."""
        update = Update().set_all(changes)
        response = self.client.update_item(
            TableName=self.table,
            Key={"pk": {"S": keys.tenant_pk(tenant_id)}, "sk": {"S": keys.sku_product_sk(sku)}},
            ReturnValues="ALL_NEW",
            **update.params(update.exists("pk")),
        )
        return _record(response["Attributes"])

    def page(self, tenant_id: str, limit: int, cursor: str | None) -> tuple[list[InternalProductRecord], str | None]:
        items, next_cursor = self.query_page(keys.tenant_pk(tenant_id), keys.SKU_PRODUCT_PREFIX, limit, cursor)
        return [_record(item) for item in items], next_cursor


def _record(item: dict[str, Any]) -> InternalProductRecord:
    return InternalProductRecord.model_validate(dynamo.deserialize(item, exact=True))

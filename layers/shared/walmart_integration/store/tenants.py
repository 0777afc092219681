"""Repository of tenants and their bearer tokens (stored as SHA-256 hashes only)."""

from __future__ import annotations

from walmart_integration.models.common import utcnow
from walmart_integration.models.tenant import ApiTokenRecord, TenantRecord
from walmart_integration.store import dynamo, keys
from walmart_integration.store.base import Repository
from walmart_integration.store.expressions import Expression, Update, new_item


class TenantRepository(Repository):
    def ensure_tenant(self, tenant_id: str) -> None:
        record = TenantRecord(tenant_id=tenant_id, created_at=utcnow().isoformat())
        guard = Expression()
        try:
            self.client.put_item(
                TableName=self.table,
                Item=dynamo.serialize(
                    {"pk": keys.tenant_pk(tenant_id), "sk": keys.TENANT_SK, "type": "tenant", **record.model_dump()}
                ),
                **guard.params(new_item(guard)),
            )
        except dynamo.ClientError as error:
            if not dynamo.is_conditional_failure(error):
                raise

    def tenant_exists(self, tenant_id: str) -> bool:
        response = self.client.get_item(
            TableName=self.table, Key={"pk": {"S": keys.tenant_pk(tenant_id)}, "sk": {"S": keys.TENANT_SK}}
        )
        return "Item" in response

    def put_token(self, token_hash: str, tenant_id: str) -> None:
        record = ApiTokenRecord(tenant_id=tenant_id, created_at=utcnow().isoformat(), revoked=False)
        guard = Expression()
        self.client.put_item(
            TableName=self.table,
            Item=dynamo.serialize(
                {
                    "pk": keys.api_token_pk(token_hash),
                    "sk": keys.API_TOKEN_SK,
                    "type": "api_token",
                    **record.model_dump(),
                }
            ),
            **guard.params(new_item(guard)),
        )

    def get_token(self, token_hash: str) -> ApiTokenRecord | None:
        response = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": keys.api_token_pk(token_hash)}, "sk": {"S": keys.API_TOKEN_SK}},
        )
        item = response.get("Item")
        return ApiTokenRecord.model_validate(dynamo.deserialize(item)) if item else None

    def revoke_token(self, token_hash: str) -> None:
        update = Update().set("revoked", True)
        self.client.update_item(
            TableName=self.table,
            Key={"pk": {"S": keys.api_token_pk(token_hash)}, "sk": {"S": keys.API_TOKEN_SK}},
            **update.params(update.exists("pk")),
        )

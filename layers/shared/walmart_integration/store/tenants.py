"""Repository of tenants and their bearer tokens (stored as SHA-256 hashes only)."""

from __future__ import annotations

from typing import Any

from walmart_integration.models.common import utcnow
from walmart_integration.store import dynamo, keys
from walmart_integration.store.base import Repository


class TenantRepository(Repository):
    def ensure_tenant(self, tenant_id: str) -> None:
        try:
            self.client.put_item(
                TableName=self.table,
                Item=dynamo.serialize(
                    {
                        "pk": keys.tenant_pk(tenant_id),
                        "sk": keys.TENANT_SK,
                        "type": "tenant",
                        "tenant_id": tenant_id,
                        "created_at": utcnow().isoformat(),
                    }
                ),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except Exception as error:
            if not dynamo.is_conditional_failure(error):
                raise

    def tenant_exists(self, tenant_id: str) -> bool:
        response = self.client.get_item(
            TableName=self.table, Key={"pk": {"S": keys.tenant_pk(tenant_id)}, "sk": {"S": keys.TENANT_SK}}
        )
        return "Item" in response

    def put_token(self, token_hash: str, tenant_id: str) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=dynamo.serialize(
                {
                    "pk": keys.api_token_pk(token_hash),
                    "sk": keys.API_TOKEN_SK,
                    "type": "api_token",
                    "tenant_id": tenant_id,
                    "created_at": utcnow().isoformat(),
                    "revoked": False,
                }
            ),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get_token(self, token_hash: str) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": keys.api_token_pk(token_hash)}, "sk": {"S": keys.API_TOKEN_SK}},
        )
        item = response.get("Item")
        return dynamo.deserialize(item) if item else None

    def revoke_token(self, token_hash: str) -> None:
        self.client.update_item(
            TableName=self.table,
            Key={"pk": {"S": keys.api_token_pk(token_hash)}, "sk": {"S": keys.API_TOKEN_SK}},
            UpdateExpression="SET revoked = :true",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":true": {"BOOL": True}},
        )

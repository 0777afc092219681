"""Seller authorizations in progress: the OAuth ``state`` of each authorization URL we handed out.

Only the state's SHA-256 is stored (the state itself travels in the seller's browser and Walmart's redirect). An
item says which tenant's instance, at which credentials version, the authorization is for, and until when it works;
taking it deletes it, so a state is used once even when two callbacks race.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from walmart_integration.store import dynamo, keys
from walmart_integration.store.base import Repository


@dataclass(frozen=True)
class PendingAuthorization:
    tenant_id: str
    instance_id: str
    credentials_version: int  # the instance's when the URL was made: a newer connection makes the state stale
    redirect_uri: str  # what the authorize URL named: the code exchange must send the same
    expires_at: float  # epoch seconds (also the item's TTL)


class AuthorizationRepository(Repository):
    def open(self, state_hash: str, pending: PendingAuthorization) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=dynamo.serialize(
                {
                    "pk": keys.oauth_state_pk(state_hash),
                    "sk": keys.OAUTH_STATE_SK,
                    "type": "oauth_state",
                    "tenant_id": pending.tenant_id,
                    "instance_id": pending.instance_id,
                    "credentials_version": pending.credentials_version,
                    "redirect_uri": pending.redirect_uri,
                    "expires_at": int(pending.expires_at) + 1,
                }
            ),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def take(self, state_hash: str) -> PendingAuthorization | None:
        """The authorization of this state, removed in the same call (None: unknown, or already taken)."""
        try:
            response = self.client.delete_item(
                TableName=self.table,
                Key={"pk": {"S": keys.oauth_state_pk(state_hash)}, "sk": {"S": keys.OAUTH_STATE_SK}},
                ConditionExpression="attribute_exists(pk)",
                ReturnValues="ALL_OLD",
            )
        except Exception as error:
            if dynamo.is_conditional_failure(error):
                return None
            raise
        item: dict[str, Any] = dynamo.deserialize(response.get("Attributes") or {})
        if not item:
            return None
        return PendingAuthorization(
            tenant_id=str(item["tenant_id"]),
            instance_id=str(item["instance_id"]),
            credentials_version=int(item["credentials_version"]),
            redirect_uri=str(item["redirect_uri"]),
            expires_at=float(item["expires_at"]),
        )

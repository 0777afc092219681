"""Seller authorizations in progress: the OAuth ``state`` of each authorization URL we handed out.

Only the state's SHA-256 is stored (the state itself travels in the seller's browser and Walmart's redirect). An
item says which tenant's instance, at which credentials version, the authorization is for, and until when it works;
taking it deletes it, so a state is used once even when two callbacks race.
"""

from __future__ import annotations

from walmart_integration.models.authorization import PendingAuthorization
from walmart_integration.store import dynamo, keys
from walmart_integration.store.base import Repository
from walmart_integration.store.expressions import Expression, new_item


class AuthorizationRepository(Repository):
    def open(self, state_hash: str, pending: PendingAuthorization) -> None:
        guard = Expression()
        self.client.put_item(
            TableName=self.table,
            Item=dynamo.serialize(
                {
                    "pk": keys.oauth_state_pk(state_hash),
                    "sk": keys.OAUTH_STATE_SK,
                    "type": "oauth_state",
                    **pending.model_dump(),
                    "expires_at": int(pending.expires_at) + 1,
                }
            ),
            **guard.params(new_item(guard)),
        )

    def take(self, state_hash: str) -> PendingAuthorization | None:
        """The authorization of this state, removed in the same call (None: unknown, or already taken)."""
        guard = Expression()
        try:
            response = self.client.delete_item(
                TableName=self.table,
                Key={"pk": {"S": keys.oauth_state_pk(state_hash)}, "sk": {"S": keys.OAUTH_STATE_SK}},
                ReturnValues="ALL_OLD",
                **guard.params(guard.exists("pk")),
            )
        except dynamo.ClientError as error:
            if dynamo.is_conditional_failure(error):
                return None
            raise
        item = dynamo.deserialize(response.get("Attributes") or {})
        if not item:
            return None
        return PendingAuthorization.model_validate(item)

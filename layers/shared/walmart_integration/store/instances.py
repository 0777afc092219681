"""Repository of integration instances (and their name reservations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from walmart_integration.errors import Conflict, NotFound, ValidationFailed
from walmart_integration.models.common import utcnow
from walmart_integration.models.instance import InstanceRecord, Job
from walmart_integration.store import dynamo, keys
from walmart_integration.store.base import Repository
from walmart_integration.store.expressions import Expression, Update

NAME_TAKEN = "The name has already been taken."

# Attributes that PATCH may set directly.
_UPDATABLE = (
    "name",
    "integration_id",
    "client_id",
    "has_client_secret",
    "credentials",
    "credentials_version",
    "seller_id",
    "refresh_token",
    "access_token",
    "access_token_expires_at",
    "integration_settings",
    "is_automatic_sync_enabled",
    "status",
    "jobs",
)


def _to_item(record: InstanceRecord) -> dict[str, Any]:
    item = record.model_dump(mode="python", exclude={"jobs"})
    item["jobs"] = {name: job.model_dump() for name, job in record.jobs.items()}
    item["pk"] = keys.tenant_pk(record.tenant_id)
    item["sk"] = keys.instance_sk(record.id)
    item["type"] = "instance"
    for name in ("created_at", "updated_at", "access_token_expires_at"):
        if isinstance(item.get(name), datetime):
            item[name] = item[name].isoformat()
    item.update(_autosync_keys(record))
    return item


def _autosync_keys(record: InstanceRecord) -> dict[str, str | None]:
    if record.is_automatic_sync_enabled:
        return {"gsi1pk": keys.AUTOSYNC_GSI_PK, "gsi1sk": keys.autosync_gsi_sk(record.tenant_id, record.id)}
    return {"gsi1pk": None, "gsi1sk": None}


def _from_item(item: dict[str, Any]) -> InstanceRecord:
    return InstanceRecord.model_validate(dynamo.deserialize(item))


class InstanceRepository(Repository):
    def create(self, record: InstanceRecord) -> None:
        """Store a new instance and reserve its name in one transaction (one winner per name)."""
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": dynamo.serialize(_to_item(record)),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": dynamo.serialize(
                                {
                                    "pk": keys.tenant_pk(record.tenant_id),
                                    "sk": keys.instance_name_sk(record.name),
                                    "type": "instance_name",
                                    "instance_id": record.id,
                                }
                            ),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except dynamo.ClientError as error:
            reasons = dynamo.transaction_reasons(error)
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise ValidationFailed({"name": [NAME_TAKEN]}) from None
            raise

    def get(self, tenant_id: str, instance_id: str) -> InstanceRecord:
        response = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": keys.tenant_pk(tenant_id)}, "sk": {"S": keys.instance_sk(instance_id)}},
            ConsistentRead=True,
        )
        if "Item" not in response:
            raise NotFound(f"Instance {instance_id} not found.")
        return _from_item(response["Item"])

    def find(self, tenant_id: str, instance_id: str) -> InstanceRecord | None:
        try:
            return self.get(tenant_id, instance_id)
        except NotFound:
            return None

    def page(self, tenant_id: str, limit: int, cursor: str | None) -> tuple[list[InstanceRecord], str | None]:
        items, next_cursor = self.query_page(keys.tenant_pk(tenant_id), keys.INSTANCE_PREFIX, limit, cursor)
        return [_from_item(item) for item in items], next_cursor

    def update(self, current: InstanceRecord, changes: dict[str, Any]) -> InstanceRecord:
        """Apply ``changes`` if nobody changed the instance since ``current`` was read (optimistic lock).

        A rename moves the name reservation in the same transaction.
        """
        updated = current.model_copy(update={**changes, "version": current.version + 1, "updated_at": utcnow()})
        item = _to_item(updated)
        fields = [name for name in _UPDATABLE if name in changes] + ["version", "updated_at"]
        if "is_automatic_sync_enabled" in changes:
            fields += ["gsi1pk", "gsi1sk"]
        update = Update()
        for name in fields:
            if item.get(name) is None:
                update.remove(name)
            else:
                update.set(name, item[name])
        condition = f"{update.exists('pk')} AND {update.compare('version', '=', current.version)}"
        pk = keys.tenant_pk(current.tenant_id)
        actions: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {"pk": {"S": pk}, "sk": {"S": keys.instance_sk(current.id)}},
                    **update.params(condition),
                }
            }
        ]
        renamed = keys.instance_name_sk(updated.name) != keys.instance_name_sk(current.name)
        if renamed:
            actions.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": dynamo.serialize(
                            {
                                "pk": pk,
                                "sk": keys.instance_name_sk(updated.name),
                                "type": "instance_name",
                                "instance_id": current.id,
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
            actions.append(
                {
                    "Delete": {
                        "TableName": self.table,
                        "Key": {"pk": {"S": pk}, "sk": {"S": keys.instance_name_sk(current.name)}},
                    }
                }
            )
        try:
            self.client.transact_write_items(TransactItems=actions)
        except dynamo.ClientError as error:
            reasons = dynamo.transaction_reasons(error)
            if not reasons:
                raise
            if renamed and reasons[1] == "ConditionalCheckFailed":
                raise ValidationFailed({"name": [NAME_TAKEN]}) from None
            if self.find(current.tenant_id, current.id) is None:
                raise NotFound(f"Instance {current.id} not found.") from None
            raise Conflict("The instance was changed by another request; read it again and retry.") from None
        return updated

    def delete(self, current: InstanceRecord) -> None:
        """Delete the instance, its encrypted secrets (same item) and its name reservation."""
        pk = keys.tenant_pk(current.tenant_id)
        guard = Expression()
        condition = f"{guard.exists('pk')} AND {guard.compare('version', '=', current.version)}"
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self.table,
                            "Key": {"pk": {"S": pk}, "sk": {"S": keys.instance_sk(current.id)}},
                            **guard.params(condition),
                        }
                    },
                    {
                        "Delete": {
                            "TableName": self.table,
                            "Key": {"pk": {"S": pk}, "sk": {"S": keys.instance_name_sk(current.name)}},
                        }
                    },
                ]
            )
        except dynamo.ClientError as error:
            if not dynamo.transaction_reasons(error):
                raise
            if self.find(current.tenant_id, current.id) is None:
                raise NotFound(f"Instance {current.id} not found.") from None
            raise Conflict("The instance was changed by another request; read it again and retry.") from None

    def save_progress(
        self,
        tenant_id: str,
        instance_id: str,
        credentials_version: int,
        jobs: dict[str, Job],
        status: str | None = None,
        extra: dict[str, Any] | None = None,
        progress_of_run: str | None = None,
    ) -> bool:
        """Set job states (and status/extra attributes) of the instance's current connection.

        Returns False when the instance is gone or its credentials changed meanwhile: the caller's
        work is stale and must be dropped.
        """
        update = Update().set("updated_at", utcnow().isoformat())
        for name, state in jobs.items():
            update.set(("jobs", name), state.model_dump())
        attributes = dict(extra or {})
        if status is not None:
            attributes["status"] = status
        for name, raw in attributes.items():
            update.set(name, raw.isoformat() if isinstance(raw, datetime) else raw)
        condition = f"{update.exists('pk')} AND {update.compare('credentials_version', '=', credentials_version)}"
        if progress_of_run is not None:
            # Progress of a run never overwrites that run's end: workers of one run report concurrently.
            job = next(iter(jobs))
            condition += (
                f" AND NOT ({update.compare(('jobs', job, 'run_id'), '=', progress_of_run)}"
                f" AND {update.one_of(('jobs', job, 'status'), ('succeeded', 'failed'))})"
            )
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"pk": {"S": keys.tenant_pk(tenant_id)}, "sk": {"S": keys.instance_sk(instance_id)}},
                **update.params(condition),
            )
        except dynamo.ClientError as error:
            if dynamo.is_conditional_failure(error):
                return False
            raise
        return True

    # -- the shared access token: one refresh for every worker of a connection ------------------------------------
    def acquire_token_lease(
        self,
        tenant_id: str,
        instance_id: str,
        credentials_version: int,
        seen_expiry: datetime | None,
        owner: str,
        now: float,
        until: float,
    ) -> InstanceRecord | None:
        """Take the right to renew the connection's access token until ``until`` (epoch seconds): only while the
        token is still the one the caller saw expire (``seen_expiry``), nobody else holds an unexpired lease and the
        connection is neither replaced nor refused. The instance as it is now (its latest refresh token), or None:
        someone else renews the token, or already did."""
        update = Update().set("token_lease_owner", owner).set("token_lease_until", until)
        lease = update.name("token_lease_until")
        condition = (
            f"{update.exists('pk')} AND {update.compare('credentials_version', '=', credentials_version)}"
            f" AND {update.compare('status', '<>', 'credentials_invalid')}"
            f" AND (attribute_not_exists({lease}) OR {lease} < {update.value(now)})"
        )
        if seen_expiry is None:
            condition += f" AND {update.not_exists('access_token_expires_at')}"
        else:
            condition += f" AND {update.compare('access_token_expires_at', '=', seen_expiry.isoformat())}"
        try:
            response = self.client.update_item(
                TableName=self.table,
                Key=self._key(tenant_id, instance_id),
                ReturnValues="ALL_NEW",
                **update.params(condition),
            )
        except dynamo.ClientError as error:
            if dynamo.is_conditional_failure(error):
                return None
            raise
        return _from_item(response["Attributes"])

    def store_token(
        self,
        tenant_id: str,
        instance_id: str,
        credentials_version: int,
        owner: str,
        access_token: bytes,
        expires_at: datetime,
        refresh_token: bytes | None = None,
    ) -> bool:
        """The renewed access token (and a refresh token Walmart rotated), lease released; False when the lease was
        lost or the connection replaced meanwhile (the token is then not stored)."""
        update = Update().set_all(
            {"access_token": access_token, "access_token_expires_at": expires_at.isoformat()}
            | {"updated_at": utcnow().isoformat()}
        )
        if refresh_token is not None:
            update.set("refresh_token", refresh_token)
        update.remove("token_lease_owner").remove("token_lease_until")
        condition = (
            f"{update.exists('pk')} AND {update.compare('credentials_version', '=', credentials_version)}"
            f" AND {update.compare('token_lease_owner', '=', owner)}"
        )
        try:
            self.client.update_item(
                TableName=self.table, Key=self._key(tenant_id, instance_id), **update.params(condition)
            )
        except dynamo.ClientError as error:
            if dynamo.is_conditional_failure(error):
                return False
            raise
        return True

    def release_token_lease(self, tenant_id: str, instance_id: str, owner: str) -> None:
        """Give the lease up (the renewal failed): the next worker may try at once."""
        update = Update().remove("token_lease_owner").remove("token_lease_until")
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._key(tenant_id, instance_id),
                **update.params(update.compare("token_lease_owner", "=", owner)),
            )
        except dynamo.ClientError as error:
            if not dynamo.is_conditional_failure(error):
                raise

    @staticmethod
    def _key(tenant_id: str, instance_id: str) -> dict[str, Any]:
        return {"pk": {"S": keys.tenant_pk(tenant_id)}, "sk": {"S": keys.instance_sk(instance_id)}}

    def automatic_sync_instances(self) -> list[InstanceRecord]:
        """Instances with automatic sync on, from the sparse ``gsi1`` index (no table scan)."""
        params: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": keys.AUTOSYNC_GSI_PK}},
        }
        records: list[InstanceRecord] = []
        while True:
            response = self.client.query(**params)
            records.extend(_from_item(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return records
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

"""Walmart Connect records: companies, accounts and their report runs, profiles, claims, changes, performance rows.

Key design in ``keys``. A profile is linked to at most one account: linking updates the profile and the account in
one transaction whose conditions (profile assigned to the tenant, active, not linked elsewhere; account not linked
to another profile) let exactly one of many concurrent links win.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from walmart_integration.store import dynamo, keys
from walmart_integration.store.base import Repository
from walmart_integration.store.expressions import Update


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _missing(update: Update, path: str) -> str:
    """Condition: ``path`` is absent or null."""
    return f"attribute_not_exists({update.name(path)}) OR attribute_type({update.name(path)}, {update.value('NULL')})"


class AdvertisingRepository(Repository):
    """The app table's advertising records (companies, accounts, profiles, claims, changes, discovery)."""

    # -- plain items ------------------------------------------------------------------------------------
    def _get(self, pk: str, sk: str, consistent: bool = True) -> dict[str, Any] | None:
        item = self.client.get_item(TableName=self.table, Key=_key(pk, sk), ConsistentRead=consistent).get("Item")
        return dynamo.deserialize(item) if item else None

    def _put(self, item: dict[str, Any], condition: str | None = None) -> None:
        params: dict[str, Any] = {"TableName": self.table, "Item": dynamo.serialize(item)}
        if condition:
            params["ConditionExpression"] = condition
        self.client.put_item(**params)

    def update(
        self, pk: str, sk: str, update: Update, condition: str | None = None, *, returns: str = "ALL_NEW"
    ) -> dict[str, Any] | None:
        """Apply ``update``; None when ``condition`` failed (nothing changed), else the item (``returns``)."""
        try:
            response = self.client.update_item(
                TableName=self.table, Key=_key(pk, sk), ReturnValues=returns, **update.params(condition)
            )
        except Exception as error:
            if dynamo.is_conditional_failure(error):
                return None
            raise
        return dynamo.deserialize(response.get("Attributes") or {})

    def _page(self, pk: str, prefix: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        items, next_cursor = self.query_page(pk, prefix, limit, cursor)
        return [dynamo.deserialize(item) for item in items], next_cursor

    def _index_page(
        self, index_pk: str, limit: int, cursor: str | None, table_pk: str
    ) -> tuple[list[dict[str, Any]], str | None]:
        params: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": index_pk}},
            "Limit": limit,
        }
        start = dynamo.decode_index_cursor(cursor, index_pk, table_pk) if cursor else None
        if start:
            params["ExclusiveStartKey"] = start
        response = self.client.query(**params)
        items = [dynamo.deserialize(item) for item in response.get("Items", [])]
        return items, dynamo.encode_index_cursor(response.get("LastEvaluatedKey"))

    # -- companies ----------------------------------------------------------------------------------------
    def create_company(self, tenant_id: str, company: dict[str, Any]) -> None:
        item = {"pk": keys.tenant_pk(tenant_id), "sk": keys.company_sk(company["id"]), "type": "company", **company}
        self._put(item, "attribute_not_exists(pk)")

    def get_company(self, tenant_id: str, company_id: str) -> dict[str, Any] | None:
        return self._get(keys.tenant_pk(tenant_id), keys.company_sk(company_id))

    def page_companies(self, tenant_id: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        return self._page(keys.tenant_pk(tenant_id), keys.COMPANY_PREFIX, limit, cursor)

    # -- accounts -----------------------------------------------------------------------------------------
    def create_account(self, tenant_id: str, account: dict[str, Any]) -> bool:
        """Store an account of an existing company (False: the company does not exist)."""
        pk = keys.tenant_pk(tenant_id)
        item = {"pk": pk, "sk": keys.account_sk(account["id"]), "type": "account", **account}
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self.table,
                            "Key": _key(pk, keys.company_sk(account["company_id"])),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": dynamo.serialize(item),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except Exception as error:
            if dynamo.transaction_reasons(error):
                return False
            raise
        return True

    def get_account(self, tenant_id: str, account_id: str) -> dict[str, Any] | None:
        return self._get(keys.tenant_pk(tenant_id), keys.account_sk(account_id))

    def accounts_of_company(self, tenant_id: str, company_id: str) -> list[dict[str, Any]]:
        return [
            item
            for item in self.query_all(
                KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                ExpressionAttributeValues={
                    ":pk": {"S": keys.tenant_pk(tenant_id)},
                    ":prefix": {"S": keys.ACCOUNT_PREFIX},
                },
            )
            if item.get("company_id") == company_id
        ]

    def linked_accounts(self) -> Iterator[dict[str, Any]]:
        """Every account with a linked profile (sparse index, no table scan)."""
        return self.query_all(
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.LINKS_GSI_PK}},
        )

    def link(self, tenant_id: str, account_id: str, advertiser_id: str, now: str, run: dict[str, Any]) -> list[str]:
        """Link profile and account in one transaction; the cancellation reasons (profile, account) if refused."""
        account = Update().set_all(
            {
                "profile_id": advertiser_id,
                "linked_at": now,
                "backfill": run,
                "refresh": None,
                "refreshed_for": run["window_end"],  # the last published day a run was started for (or None)
                "gsi1pk": keys.LINKS_GSI_PK,
                "gsi1sk": f"{tenant_id}#{account_id}",
            }
        )
        profile = Update().set_all({"linked_account_id": account_id, "linked_tenant_id": tenant_id, "linked_at": now})
        profile_condition = (
            f"{profile.name('tenant_id')} = {profile.value(tenant_id)} AND {profile.name('status')} = "
            f"{profile.value('active')} AND attribute_not_exists({profile.name('linked_account_id')})"
        )
        account_condition = f"attribute_exists(pk) AND attribute_not_exists({account.name('profile_id')})"
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": _key(keys.PROFILES_PK, keys.profile_sk(advertiser_id)),
                            **profile.params(profile_condition),
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": _key(keys.tenant_pk(tenant_id), keys.account_sk(account_id)),
                            **account.params(account_condition),
                        }
                    },
                ]
            )
        except Exception as error:
            reasons = dynamo.transaction_reasons(error)
            if reasons:
                return reasons
            raise
        return []

    def unlink(self, tenant_id: str, account_id: str, advertiser_id: str) -> bool:
        account = Update()
        for path in ("profile_id", "linked_at", "gsi1pk", "gsi1sk", "refreshed_for", "next_refresh_at"):
            account.remove(path)
        profile = Update()
        for path in ("linked_account_id", "linked_tenant_id", "linked_at"):
            profile.remove(path)
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": _key(keys.tenant_pk(tenant_id), keys.account_sk(account_id)),
                            **account.params(f"{account.name('profile_id')} = {account.value(advertiser_id)}"),
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": _key(keys.PROFILES_PK, keys.profile_sk(advertiser_id)),
                            **profile.params(f"{profile.name('linked_account_id')} = {profile.value(account_id)}"),
                        }
                    },
                ]
            )
        except Exception as error:
            if dynamo.transaction_reasons(error):
                return False
            raise
        return True

    # -- report runs (maps on the account item) -----------------------------------------------------------
    def start_run(
        self,
        tenant_id: str,
        account_id: str,
        field: str,
        run: dict[str, Any],
        target: str,
        seen_target: str | None,
        *,
        replaces: str | None = None,
    ) -> bool:
        """Start a run in ``field`` ("backfill" or "refresh") for Walmart's published day ``target``, once: False when
        the account is no longer linked to the run's profile, a run of that field is in progress (other than the
        dead run ``replaces``), or another scheduler started one since ``refreshed_for`` was ``seen_target``."""
        update = Update().set(field, run).set("refreshed_for", target).remove("next_refresh_at")
        status = update.name(f"{field}.status")
        busy = f"{status} IN ({update.value('queued')}, {update.value('running')})"
        if replaces:
            busy = f"({busy} AND NOT {update.name(field + '.run_id')} = {update.value(replaces)})"
        seen = (
            _missing(update, "refreshed_for")
            if seen_target is None
            else f"{update.name('refreshed_for')} = {update.value(seen_target)}"
        )
        condition = (
            f"{update.name('profile_id')} = {update.value(run['advertiser_id'])} AND "
            f"(attribute_not_exists({status}) OR NOT {busy}) AND ({seen})"
        )
        return self.update(keys.tenant_pk(tenant_id), keys.account_sk(account_id), update, condition) is not None

    def resolve_window(
        self,
        tenant_id: str,
        account_id: str,
        field: str,
        run_id: str,
        window: tuple[str, str],
        reports: Mapping[str, tuple[str, str]],
    ) -> dict[str, Any] | None:
        """Fix a run's window once Walmart's latest published day is known (None: already fixed, or replaced)."""
        update = Update().set(f"{field}.window_start", window[0]).set(f"{field}.window_end", window[1])
        for key, (start, end) in reports.items():
            update.set(f"{field}.reports.{key}.start", start).set(f"{field}.reports.{key}.end", end)
        update.set("refreshed_for", window[1])
        condition = (
            f"{update.name(field + '.run_id')} = {update.value(run_id)} AND ({_missing(update, field + '.window_end')})"
        )
        return self.update(keys.tenant_pk(tenant_id), keys.account_sk(account_id), update, condition)

    # -- Walmart's latest published report days ------------------------------------------------------------
    def report_dates(self) -> dict[str, Any] | None:
        """{"dates": {reportType: yyyy-mm-dd}, "checked_at": iso} as last read from Walmart, or None."""
        return self._get(keys.DISCOVERY_PK, keys.REPORT_DATES_SK, consistent=False)

    def save_report_dates(self, dates: Mapping[str, str], checked_at: str) -> None:
        item = {"pk": keys.DISCOVERY_PK, "sk": keys.REPORT_DATES_SK, "type": "ad_report_dates"}
        self._put({**item, "dates": dict(dates), "checked_at": checked_at})

    def update_report(
        self, tenant_id: str, account_id: str, field: str, run_id: str, key: str, values: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Progress of one report of the current run (None: the run was replaced or the report already finished)."""
        update = Update()
        for name, value in values.items():
            update.set(f"{field}.reports.{key}.{name}", value)
        update.set(f"{field}.status", "running")
        condition = (
            f"{update.name(field + '.run_id')} = {update.value(run_id)} AND "
            f"NOT {update.name(field + '.status')} IN ({update.value('succeeded')}, {update.value('failed')}, "
            f"{update.value('stopped')}) AND NOT {update.name(f'{field}.reports.{key}.status')} IN "
            f"({update.value('succeeded')}, {update.value('failed')})"
        )
        return self.update(keys.tenant_pk(tenant_id), keys.account_sk(account_id), update, condition)

    def finish_run(self, tenant_id: str, account_id: str, field: str, run_id: str, values: Mapping[str, Any]) -> bool:
        update = Update()
        for name, value in values.items():
            update.set(name if "." in name or name == "data_through" else f"{field}.{name}", value)
        condition = (
            f"{update.name(field + '.run_id')} = {update.value(run_id)} AND "
            f"{update.name(field + '.status')} IN ({update.value('queued')}, {update.value('running')})"
        )
        return self.update(keys.tenant_pk(tenant_id), keys.account_sk(account_id), update, condition) is not None

    # -- profiles --------------------------------------------------------------------------------------------
    def get_profile(self, advertiser_id: str) -> dict[str, Any] | None:
        return self._get(keys.PROFILES_PK, keys.profile_sk(advertiser_id))

    def all_profiles(self) -> list[dict[str, Any]]:
        return list(
            self.query_all(
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": keys.PROFILES_PK}},
                ConsistentRead=True,
            )
        )

    def tenant_profiles(
        self, tenant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        return self._index_page(keys.tenant_profiles_gsi_pk(tenant_id), limit, cursor, keys.PROFILES_PK)

    def profile_seen(self, values: Mapping[str, Any], seen_at: str) -> dict[str, Any]:
        """Upsert a profile Walmart listed: active again if it had been revoked."""
        update = Update().set_all({**values, "type": "ad_profile", "last_seen_at": seen_at, "status": "active"})
        update.set("first_seen_at", seen_at, if_not_exists=True)
        update.remove("revoked_at").remove("status_reason")
        item = self.update(keys.PROFILES_PK, keys.profile_sk(str(values["advertiser_id"])), update)
        assert item is not None
        return item

    def profile_revoked(self, advertiser_id: str, now: str, listed_before: str, reason: str) -> bool:
        """Mark revoked unless a snapshot newer than ``listed_before`` has listed it since."""
        update = Update().set_all({"status": "revoked", "revoked_at": now, "status_reason": reason})
        condition = (
            f"{update.name('status')} = {update.value('active')} AND "
            f"{update.name('last_seen_at')} < {update.value(listed_before)}"
        )
        return self.update(keys.PROFILES_PK, keys.profile_sk(advertiser_id), update, condition) is not None

    def assign_profile(self, advertiser_id: str, tenant_id: str, by: str, now: str, *, force: bool = False) -> bool:
        """Assign to a tenant: automatic assignment only when unassigned; an operator may reassign an unlinked one."""
        update = Update().set_all(
            {
                "tenant_id": tenant_id,
                "assigned_by": by,
                "assigned_at": now,
                "gsi1pk": keys.tenant_profiles_gsi_pk(tenant_id),
                "gsi1sk": advertiser_id,
                "assignment_reason": None,
            }
        )
        if force:
            condition = f"attribute_exists(pk) AND attribute_not_exists({update.name('linked_account_id')})"
        else:
            condition = f"attribute_exists(pk) AND attribute_not_exists({update.name('tenant_id')})"
        return self.update(keys.PROFILES_PK, keys.profile_sk(advertiser_id), update, condition) is not None

    def profile_waiting(self, advertiser_id: str, reason: str | None) -> None:
        """Note why an unassigned profile waits for an operator (None: it does not)."""
        update = Update().set_all({"assignment_reason": reason})
        self.update(
            keys.PROFILES_PK,
            keys.profile_sk(advertiser_id),
            update,
            f"attribute_exists(pk) AND attribute_not_exists({update.name('tenant_id')})",
        )

    # -- claims ------------------------------------------------------------------------------------------------
    def put_claim(self, tenant_id: str, advertiser_id: str, name: str, now: str) -> dict[str, Any]:
        update = Update().set_all(
            {
                "type": "ad_claim",
                "tenant_id": tenant_id,
                "advertiser_id": advertiser_id,
                "advertiser_name": name,
                "updated_at": now,
                "gsi1pk": keys.tenant_claims_gsi_pk(tenant_id),
                "gsi1sk": advertiser_id,
            }
        )
        update.set("created_at", now, if_not_exists=True)
        update.set("status", "waiting", if_not_exists=True)
        item = self.update(keys.claim_pk(advertiser_id), keys.tenant_pk(tenant_id), update)
        assert item is not None
        return item

    def claims_for(self, advertiser_id: str) -> list[dict[str, Any]]:
        return list(
            self.query_all(
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": keys.claim_pk(advertiser_id)}},
                ConsistentRead=True,
            )
        )

    def tenant_claims(self, tenant_id: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        items, next_cursor = self._index_page(keys.tenant_claims_gsi_pk(tenant_id), limit, cursor, "ADCLAIM#")
        return items, next_cursor

    def set_claim(self, advertiser_id: str, tenant_id: str, status: str, reason: str | None, now: str) -> None:
        update = Update().set_all({"status": status, "reason": reason, "updated_at": now})
        self.update(keys.claim_pk(advertiser_id), keys.tenant_pk(tenant_id), update, "attribute_exists(pk)")

    # -- discovery runs ------------------------------------------------------------------------------------------
    def discovery(self) -> dict[str, Any] | None:
        return self._get(keys.DISCOVERY_PK, keys.DISCOVERY_SK)

    def start_discovery(self, run: dict[str, Any], busy_since: str, fresh_since: str) -> bool:
        """Start a discovery run unless one started after ``busy_since`` is still going, or one finished after
        ``fresh_since`` (False: join that one)."""
        item = {"pk": keys.DISCOVERY_PK, "sk": keys.DISCOVERY_SK, "type": "ad_discovery", **run}
        try:
            self.client.put_item(
                TableName=self.table,
                Item=dynamo.serialize(item),
                ConditionExpression=(
                    "attribute_not_exists(pk) OR (#s IN (:requested, :polling) AND requested_at < :busy) "
                    "OR (#s IN (:ok, :failed) AND finished_at < :fresh)"
                ),
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":requested": {"S": "requested"},
                    ":polling": {"S": "polling"},
                    ":ok": {"S": "succeeded"},
                    ":failed": {"S": "failed"},
                    ":busy": {"S": busy_since},
                    ":fresh": {"S": fresh_since},
                },
            )
        except Exception as error:
            if dynamo.is_conditional_failure(error):
                return False
            raise
        return True

    def update_discovery(self, refresh_id: str, values: Mapping[str, Any]) -> bool:
        update = Update().set_all(values)
        condition = f"{update.name('refresh_id')} = {update.value(refresh_id)}"
        return self.update(keys.DISCOVERY_PK, keys.DISCOVERY_SK, update, condition) is not None

    # -- changes -----------------------------------------------------------------------------------------------
    def create_change(self, tenant_id: str, change: dict[str, Any]) -> None:
        sk = keys.change_prefix(change["account_id"]) + change["id"]
        self._put({"pk": keys.tenant_pk(tenant_id), "sk": sk, "type": "ad_change", **change})

    def get_change(self, tenant_id: str, account_id: str, change_id: str) -> dict[str, Any] | None:
        return self._get(keys.tenant_pk(tenant_id), keys.change_prefix(account_id) + change_id)

    def page_changes(
        self, tenant_id: str, account_id: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        return self._page(keys.tenant_pk(tenant_id), keys.change_prefix(account_id), limit, cursor)

    def finish_change(self, tenant_id: str, account_id: str, change_id: str, values: Mapping[str, Any]) -> bool:
        update = Update().set_all(values)
        condition = f"{update.name('status')} = {update.value('queued')}"
        sk = keys.change_prefix(account_id) + change_id
        return self.update(keys.tenant_pk(tenant_id), sk, update, condition) is not None


class PerformanceRepository(Repository):
    """Daily report rows in the data table: one item per (report type, day, entity); a re-pull overwrites."""

    def put_rows(self, advertiser_id: str, report_type: str, rows: Sequence[dict[str, Any]]) -> int:
        pk = keys.performance_pk(advertiser_id, report_type)
        requests = [
            {"PutRequest": {"Item": dynamo.serialize({"pk": pk, **row})}}
            for row in {row["sk"]: row for row in rows}.values()  # one write per key within a batch
        ]
        for start in range(0, len(requests), 25):
            pending: dict[str, Any] = {self.table: requests[start : start + 25]}
            for _ in range(8):
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
                if not pending:
                    break
            if pending:
                raise RuntimeError("DynamoDB left report rows unprocessed; the report will be stored again")
        return len(requests)

    def rows(self, advertiser_id: str, report_type: str, start: str, end: str) -> Iterator[dict[str, Any]]:
        """Rows of the days ``start``..``end`` (yyyy-mm-dd, inclusive), money as ``Decimal``."""
        params: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :start AND :end",
            "ExpressionAttributeValues": {
                ":pk": {"S": keys.performance_pk(advertiser_id, report_type)},
                ":start": {"S": start},
                ":end": {"S": end + "#\uffff"},
            },
        }
        while True:
            response = self.client.query(**params)
            for item in response.get("Items", []):
                yield dynamo.deserialize(item, exact=True)
            if not response.get("LastEvaluatedKey"):
                return
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

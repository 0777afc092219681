"""Walmart Connect records: companies, accounts and their report runs, profiles, claims, changes, performance rows.

Key design in ``keys``. A profile is linked to at most one account: linking updates the profile and the account in
one transaction whose conditions (profile assigned to the tenant, active, not linked elsewhere; account not linked
to another profile) let exactly one of many concurrent links win.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from walmart_integration.models.advertising import (
    AccountRecord,
    ChangeRecord,
    ClaimRecord,
    CompanyRecord,
    DiscoveryRecord,
    ProfileRecord,
    ReportDatesRecord,
    ReportRunRecord,
)
from walmart_integration.store import dynamo, keys
from walmart_integration.store.base import Repository
from walmart_integration.store.expressions import Expression, Update, new_item


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


class AdvertisingRepository(Repository):
    """The app table's advertising records (companies, accounts, profiles, claims, changes, discovery)."""

    # -- plain items ------------------------------------------------------------------------------------
    def _get(self, pk: str, sk: str, consistent: bool = True) -> dict[str, Any] | None:
        item = self.client.get_item(TableName=self.table, Key=_key(pk, sk), ConsistentRead=consistent).get("Item")
        return dynamo.deserialize(item) if item else None

    def _put(self, item: dict[str, Any], condition: Callable[[Expression], str] | None = None) -> None:
        """Put ``item``; ``condition`` writes its ConditionExpression with the placeholders it is handed."""
        params: dict[str, Any] = {"TableName": self.table, "Item": dynamo.serialize(item)}
        if condition is not None:
            guard = Expression()
            params.update(guard.params(condition(guard)))
        self.client.put_item(**params)

    def update(
        self, pk: str, sk: str, update: Update, condition: str | None = None, *, returns: str = "ALL_NEW"
    ) -> dict[str, Any] | None:
        """Apply ``update``; None when ``condition`` failed (nothing changed), else the item (``returns``)."""
        try:
            response = self.client.update_item(
                TableName=self.table, Key=_key(pk, sk), ReturnValues=returns, **update.params(condition)
            )
        except dynamo.ClientError as error:
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
    def create_company(self, tenant_id: str, company: CompanyRecord) -> None:
        item = {"pk": keys.tenant_pk(tenant_id), "sk": keys.company_sk(company.id), "type": "company"}
        self._put({**item, **company.model_dump()}, new_item)

    def get_company(self, tenant_id: str, company_id: str) -> CompanyRecord | None:
        item = self._get(keys.tenant_pk(tenant_id), keys.company_sk(company_id))
        return CompanyRecord.model_validate(item) if item else None

    def page_companies(self, tenant_id: str, limit: int, cursor: str | None) -> tuple[list[CompanyRecord], str | None]:
        items, next_cursor = self._page(keys.tenant_pk(tenant_id), keys.COMPANY_PREFIX, limit, cursor)
        return [CompanyRecord.model_validate(item) for item in items], next_cursor

    # -- accounts -----------------------------------------------------------------------------------------
    def create_account(self, tenant_id: str, account: AccountRecord) -> bool:
        """Store an account of an existing company (False: the company does not exist)."""
        pk = keys.tenant_pk(tenant_id)
        item = {"pk": pk, "sk": keys.account_sk(account.id), "type": "account", **account.model_dump(exclude_none=True)}
        company, new = Expression(), Expression()
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self.table,
                            "Key": _key(pk, keys.company_sk(account.company_id)),
                            **company.params(company.exists("pk")),
                        }
                    },
                    {"Put": {"TableName": self.table, "Item": dynamo.serialize(item), **new.params(new_item(new))}},
                ]
            )
        except dynamo.ClientError as error:
            if dynamo.transaction_reasons(error):
                return False
            raise
        return True

    def get_account(self, tenant_id: str, account_id: str) -> AccountRecord | None:
        item = self._get(keys.tenant_pk(tenant_id), keys.account_sk(account_id))
        return AccountRecord.model_validate(item) if item else None

    def accounts_of_company(self, tenant_id: str, company_id: str) -> list[AccountRecord]:
        return [
            account
            for account in map(
                AccountRecord.model_validate,
                self.query_all(
                    KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                    ExpressionAttributeValues={
                        ":pk": {"S": keys.tenant_pk(tenant_id)},
                        ":prefix": {"S": keys.ACCOUNT_PREFIX},
                    },
                ),
            )
            if account.company_id == company_id
        ]

    def linked_accounts(self) -> Iterator[tuple[str, AccountRecord]]:
        """Every account with a linked profile, with its tenant (sparse index, no table scan)."""
        for item in self.query_all(
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.LINKS_GSI_PK}},
        ):
            yield keys.tenant_of(str(item["pk"])), AccountRecord.model_validate(item)

    def link(self, tenant_id: str, account_id: str, advertiser_id: str, now: str, run: ReportRunRecord) -> list[str]:
        """Link profile and account in one transaction; the cancellation reasons (profile, account) if refused."""
        account = Update().set_all(
            {
                "profile_id": advertiser_id,
                "linked_at": now,
                "backfill": run.model_dump(exclude_none=True),
                "refresh": None,
                "refreshed_for": run.window_end,  # the last published day a run was started for (None: not known)
                "gsi1pk": keys.LINKS_GSI_PK,
                "gsi1sk": keys.links_gsi_sk(tenant_id, account_id),
            }
        )
        profile = Update().set_all({"linked_account_id": account_id, "linked_tenant_id": tenant_id, "linked_at": now})
        profile_condition = (
            f"{profile.compare('tenant_id', '=', tenant_id)} AND {profile.compare('status', '=', 'active')} "
            f"AND {profile.not_exists('linked_account_id')}"
        )
        account_condition = f"{account.exists('pk')} AND {account.not_exists('profile_id')}"
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
        except dynamo.ClientError as error:
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
                            **account.params(account.compare("profile_id", "=", advertiser_id)),
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": _key(keys.PROFILES_PK, keys.profile_sk(advertiser_id)),
                            **profile.params(profile.compare("linked_account_id", "=", account_id)),
                        }
                    },
                ]
            )
        except dynamo.ClientError as error:
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
        run: ReportRunRecord,
        target: str,
        seen_target: str | None,
        *,
        replaces: str | None = None,
    ) -> bool:
        """Start a run in ``field`` ("backfill" or "refresh") for Walmart's published day ``target``, once: False when
        the account is no longer linked to the run's profile, a run of that field is in progress (other than the
        dead run ``replaces``), or another scheduler started one since ``refreshed_for`` was ``seen_target``."""
        update = Update().set(field, run.model_dump(exclude_none=True)).set("refreshed_for", target)
        update.remove("next_refresh_at")  # what accounts linked before ``refreshed_for`` kept instead
        busy = update.one_of((field, "status"), ("queued", "running"))
        if replaces:
            busy = f"({busy} AND NOT {update.compare((field, 'run_id'), '=', replaces)})"
        seen = (
            update.missing("refreshed_for")
            if seen_target is None
            else update.compare("refreshed_for", "=", seen_target)
        )
        condition = (
            f"{update.compare('profile_id', '=', run.advertiser_id)} AND "
            f"({update.not_exists((field, 'status'))} OR NOT {busy}) AND {seen}"
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
    ) -> AccountRecord | None:
        """Fix a run's window once Walmart's latest published day is known (None: already fixed, or replaced)."""
        update = Update().set((field, "window_start"), window[0]).set((field, "window_end"), window[1])
        for key, (start, end) in reports.items():
            update.set((field, "reports", key, "start"), start).set((field, "reports", key, "end"), end)
        update.set("refreshed_for", window[1])
        condition = f"{update.compare((field, 'run_id'), '=', run_id)} AND {update.missing((field, 'window_end'))}"
        item = self.update(keys.tenant_pk(tenant_id), keys.account_sk(account_id), update, condition)
        return AccountRecord.model_validate(item) if item is not None else None

    # -- Walmart's latest published report days ------------------------------------------------------------
    def report_dates(self) -> ReportDatesRecord | None:
        """Walmart's latest published day per report type as last read from Walmart, or None (never read)."""
        item = self._get(keys.DISCOVERY_PK, keys.REPORT_DATES_SK, consistent=False)
        return ReportDatesRecord.model_validate(item) if item else None

    def save_report_dates(self, record: ReportDatesRecord) -> None:
        item = {"pk": keys.DISCOVERY_PK, "sk": keys.REPORT_DATES_SK, "type": "ad_report_dates"}
        self._put({**item, **record.model_dump()})

    def update_report(
        self, tenant_id: str, account_id: str, field: str, run_id: str, key: str, values: Mapping[str, Any]
    ) -> AccountRecord | None:
        """Progress of one report of the current run (None: the run was replaced or the report already finished)."""
        update = Update()
        for name, value in values.items():
            update.set((field, "reports", key, name), value)
        update.set((field, "status"), "running")
        condition = (
            f"{update.compare((field, 'run_id'), '=', run_id)} AND "
            f"NOT {update.one_of((field, 'status'), ('succeeded', 'failed', 'stopped'))} AND "
            f"NOT {update.one_of((field, 'reports', key, 'status'), ('succeeded', 'failed'))}"
        )
        item = self.update(keys.tenant_pk(tenant_id), keys.account_sk(account_id), update, condition)
        return AccountRecord.model_validate(item) if item is not None else None

    def finish_run(self, tenant_id: str, account_id: str, field: str, run_id: str, values: Mapping[str, Any]) -> bool:
        update = Update()
        for name, value in values.items():
            update.set(name if "." in name or name == "data_through" else f"{field}.{name}", value)
        condition = (
            f"{update.compare((field, 'run_id'), '=', run_id)} AND "
            f"{update.one_of((field, 'status'), ('queued', 'running'))}"
        )
        return self.update(keys.tenant_pk(tenant_id), keys.account_sk(account_id), update, condition) is not None

    # -- profiles --------------------------------------------------------------------------------------------
    def get_profile(self, advertiser_id: str) -> ProfileRecord | None:
        item = self._get(keys.PROFILES_PK, keys.profile_sk(advertiser_id))
        return ProfileRecord.model_validate(item) if item else None

    def all_profiles(self) -> list[ProfileRecord]:
        items = self.query_all(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.PROFILES_PK}},
            ConsistentRead=True,
        )
        return [ProfileRecord.model_validate(item) for item in items]

    def tenant_profiles(self, tenant_id: str, limit: int, cursor: str | None) -> tuple[list[ProfileRecord], str | None]:
        items, next_cursor = self._index_page(keys.tenant_profiles_gsi_pk(tenant_id), limit, cursor, keys.PROFILES_PK)
        return [ProfileRecord.model_validate(item) for item in items], next_cursor

    def profile_seen(self, values: Mapping[str, Any], seen_at: str) -> ProfileRecord:
        """Upsert a profile Walmart listed: active again if it had been revoked."""
        update = Update().set_all({**values, "type": "ad_profile", "last_seen_at": seen_at, "status": "active"})
        update.set("first_seen_at", seen_at, if_not_exists=True)
        update.remove("revoked_at").remove("status_reason")
        item = self.update(keys.PROFILES_PK, keys.profile_sk(str(values["advertiser_id"])), update)
        assert item is not None
        return ProfileRecord.model_validate(item)

    def profile_revoked(self, advertiser_id: str, now: str, listed_before: str, reason: str) -> bool:
        """Mark revoked unless a snapshot newer than ``listed_before`` has listed it since."""
        update = Update().set_all({"status": "revoked", "revoked_at": now, "status_reason": reason})
        condition = (
            f"{update.compare('status', '=', 'active')} AND {update.compare('last_seen_at', '<', listed_before)}"
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
            condition = f"{update.exists('pk')} AND {update.not_exists('linked_account_id')}"
        else:
            condition = f"{update.exists('pk')} AND {update.not_exists('tenant_id')}"
        return self.update(keys.PROFILES_PK, keys.profile_sk(advertiser_id), update, condition) is not None

    def profile_waiting(self, advertiser_id: str, reason: str | None) -> None:
        """Note why an unassigned profile waits for an operator (None: it does not)."""
        update = Update().set_all({"assignment_reason": reason})
        self.update(
            keys.PROFILES_PK,
            keys.profile_sk(advertiser_id),
            update,
            f"{update.exists('pk')} AND {update.not_exists('tenant_id')}",
        )

    # -- claims ------------------------------------------------------------------------------------------------
    def put_claim(self, tenant_id: str, advertiser_id: str, name: str, now: str) -> ClaimRecord:
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
        return ClaimRecord.model_validate(item)

    def claims_for(self, advertiser_id: str) -> list[ClaimRecord]:
        items = self.query_all(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.claim_pk(advertiser_id)}},
            ConsistentRead=True,
        )
        return [ClaimRecord.model_validate(item) for item in items]

    def tenant_claims(self, tenant_id: str, limit: int, cursor: str | None) -> tuple[list[ClaimRecord], str | None]:
        items, next_cursor = self._index_page(keys.tenant_claims_gsi_pk(tenant_id), limit, cursor, keys.CLAIM_PREFIX)
        return [ClaimRecord.model_validate(item) for item in items], next_cursor

    def set_claim(self, advertiser_id: str, tenant_id: str, status: str, reason: str | None, now: str) -> None:
        update = Update().set_all({"status": status, "reason": reason, "updated_at": now})
        self.update(keys.claim_pk(advertiser_id), keys.tenant_pk(tenant_id), update, update.exists("pk"))

    # -- discovery runs ------------------------------------------------------------------------------------------
    def discovery(self) -> DiscoveryRecord | None:
        item = self._get(keys.DISCOVERY_PK, keys.DISCOVERY_SK)
        return DiscoveryRecord.model_validate(item) if item else None

    def start_discovery(self, run: DiscoveryRecord, busy_since: str, fresh_since: str) -> bool:
        """Start a discovery run unless one started after ``busy_since`` is still going, or one finished after
        ``fresh_since`` (False: join that one)."""
        item = {"pk": keys.DISCOVERY_PK, "sk": keys.DISCOVERY_SK, "type": "ad_discovery", **run.model_dump()}

        def replaceable(guard: Expression) -> str:
            going = guard.one_of("status", ("requested", "polling"))
            ended = guard.one_of("status", ("succeeded", "failed"))
            stale = guard.compare("requested_at", "<", busy_since)
            old = guard.compare("finished_at", "<", fresh_since)
            return f"{guard.not_exists('pk')} OR ({going} AND {stale}) OR ({ended} AND {old})"

        try:
            self._put(item, replaceable)
        except dynamo.ClientError as error:
            if dynamo.is_conditional_failure(error):
                return False
            raise
        return True

    def update_discovery(self, refresh_id: str, values: Mapping[str, Any]) -> bool:
        update = Update().set_all(values)
        condition = update.compare("refresh_id", "=", refresh_id)
        return self.update(keys.DISCOVERY_PK, keys.DISCOVERY_SK, update, condition) is not None

    # -- changes -----------------------------------------------------------------------------------------------
    def create_change(self, tenant_id: str, change: ChangeRecord) -> None:
        sk = keys.change_sk(change.account_id, change.id)
        self._put({"pk": keys.tenant_pk(tenant_id), "sk": sk, "type": "ad_change", **change.model_dump()})

    def get_change(self, tenant_id: str, account_id: str, change_id: str) -> ChangeRecord | None:
        item = self._get(keys.tenant_pk(tenant_id), keys.change_sk(account_id, change_id))
        return ChangeRecord.model_validate(item) if item else None

    def page_changes(
        self, tenant_id: str, account_id: str, limit: int, cursor: str | None
    ) -> tuple[list[ChangeRecord], str | None]:
        items, next_cursor = self._page(keys.tenant_pk(tenant_id), keys.change_prefix(account_id), limit, cursor)
        return [ChangeRecord.model_validate(item) for item in items], next_cursor

    def finish_change(self, tenant_id: str, account_id: str, change_id: str, values: Mapping[str, Any]) -> bool:
        update = Update().set_all(values)
        condition = update.compare("status", "=", "queued")
        sk = keys.change_sk(account_id, change_id)
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
        first, last = keys.performance_days(start, end)
        params: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :start AND :end",
            "ExpressionAttributeValues": {
                ":pk": {"S": keys.performance_pk(advertiser_id, report_type)},
                ":start": {"S": first},
                ":end": {"S": last},
            },
        }
        while True:
            response = self.client.query(**params)
            for item in response.get("Items", []):
                yield dynamo.deserialize(item, exact=True)
            if not response.get("LastEvaluatedKey"):
                return
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

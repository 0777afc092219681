"""Advertising use cases behind the API: companies, accounts, profile links, claims, performance, changes.

Tenant isolation: every read goes through the tenant's own partition or index; a profile that is not assigned to
the tenant is "not found", whoever else it belongs to.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from walmart_integration.config import Settings
from walmart_integration.errors import Conflict, Forbidden, NotFound, ValidationFailed
from walmart_integration.models.advertising import (
    CHANNEL_OF_TYPE,
    AccountCreate,
    AccountRecord,
    AccountView,
    AdvertisingLink,
    CampaignChange,
    ChangeRecord,
    ChangeView,
    ClaimCreate,
    ClaimRecord,
    ClaimView,
    Company,
    CompanyCreate,
    CompanyRecord,
    KeywordChange,
    PerformanceRow,
    ProfileRecord,
    ProfileView,
    RefreshView,
    ReportRun,
    ReportRunRecord,
)
from walmart_integration.models.common import iso, new_id, utcnow
from walmart_integration.models.messages import AdsChangeJob
from walmart_integration.services.ads_reports import CENT, AdsReports
from walmart_integration.services.profile_discovery import ProfileAssignment, ProfileDiscovery
from walmart_integration.store.advertising import AdvertisingRepository, PerformanceRepository
from walmart_integration.store.queues import Queues

MAX_PERFORMANCE_DAYS = 366
GROUP_KEYS = {"date": ("date",), "campaign": ("campaign_id",), "ad_group": ("campaign_id", "ad_group_id")}


def _company(item: CompanyRecord) -> Company:
    return Company(id=item.id, name=item.name, created_at=item.created_at)


def profile_view(item: ProfileRecord) -> ProfileView:
    return ProfileView(
        profile_id=str(item.advertiser_id),
        advertiser_name=item.advertiser_name,
        advertiser_type=item.advertiser_type,
        access=item.access,
        status=item.status,
        status_reason=item.status_reason,
        seller_id=item.seller_id,
        seller_name=item.seller_name,
        linked_account_id=item.linked_account_id,
        first_seen_at=item.first_seen_at,
        last_seen_at=item.last_seen_at,
    )


def _run(value: ReportRunRecord | None) -> ReportRun | None:
    return ReportRun.model_validate(value.model_dump()) if value else None


class AdvertisingService:
    def __init__(
        self,
        settings: Settings,
        repo: AdvertisingRepository,
        performance: PerformanceRepository,
        queues: Queues,
        reports: AdsReports,
        discovery: Callable[[], ProfileDiscovery],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.repo = repo
        self.performance_rows = performance
        self.queues = queues
        self.reports = reports
        self._discovery = discovery
        self.assignment = ProfileAssignment(repo, clock)
        self.clock = clock

    # -- companies and accounts ------------------------------------------------------------------------
    def create_company(self, tenant_id: str, body: CompanyCreate) -> Company:
        item = CompanyRecord(id=new_id(), name=body.name, created_at=iso(self.clock()) or "")
        self.repo.create_company(tenant_id, item)
        return _company(item)

    def list_companies(self, tenant_id: str, limit: int, cursor: str | None) -> tuple[list[Company], str | None]:
        items, next_cursor = self.repo.page_companies(tenant_id, limit, cursor)
        return [_company(item) for item in items], next_cursor

    def get_company(self, tenant_id: str, company_id: str) -> Company:
        item = self.repo.get_company(tenant_id, company_id)
        if item is None:
            raise NotFound("Company not found.")
        return _company(item)

    def create_account(self, tenant_id: str, company_id: str, body: AccountCreate) -> AccountView:
        item = AccountRecord(
            id=new_id(),
            company_id=company_id,
            name=body.name,
            channel=body.channel,
            geo=body.geo,
            created_at=iso(self.clock()) or "",
        )
        if not self.repo.create_account(tenant_id, item):
            raise NotFound("Company not found.")
        return self._account_view(item)

    def list_accounts(self, tenant_id: str, company_id: str) -> list[AccountView]:
        self.get_company(tenant_id, company_id)
        return [self._account_view(item) for item in self.repo.accounts_of_company(tenant_id, company_id)]

    def get_account(self, tenant_id: str, account_id: str) -> AccountView:
        return self._account_view(self._account(tenant_id, account_id))

    def _account(self, tenant_id: str, account_id: str) -> AccountRecord:
        item = self.repo.get_account(tenant_id, account_id)
        if item is None:
            raise NotFound("Account not found.")
        return item

    def _account_view(self, item: AccountRecord, profile: ProfileRecord | None = None) -> AccountView:
        link = None
        if item.profile_id:
            profile = profile or self.repo.get_profile(str(item.profile_id))
            link = AdvertisingLink(
                profile_id=str(item.profile_id),
                advertiser_name=profile.advertiser_name if profile else "",
                advertiser_type=profile.advertiser_type if profile else "3p",
                access=profile.access if profile else "read",
                status=profile.status if profile else "revoked",
                status_reason=profile.status_reason if profile else None,
                linked_at=item.linked_at or "",
            )
        return AccountView(
            id=item.id,
            company_id=item.company_id,
            name=item.name,
            channel=item.channel,
            geo=item.geo,
            created_at=item.created_at,
            advertising=link,
            backfill=_run(item.backfill),
            refresh=_run(item.refresh),
            data_through=item.data_through,
        )

    # -- profiles and links ----------------------------------------------------------------------------
    def list_profiles(self, tenant_id: str, limit: int, cursor: str | None) -> tuple[list[ProfileView], str | None]:
        items, next_cursor = self.repo.tenant_profiles(tenant_id, limit, cursor)
        return [profile_view(item) for item in items if item.tenant_id == tenant_id], next_cursor

    def link(self, tenant_id: str, account_id: str, profile_id: str) -> AccountView:
        account = self._account(tenant_id, account_id)
        profile = self.repo.get_profile(profile_id)
        if profile is None or profile.tenant_id != tenant_id:
            raise NotFound(f"Advertising profile {profile_id} is not available to this tenant.")
        if str(account.profile_id or "") == profile_id:
            return self._account_view(account, profile)  # linking again what is linked changes nothing
        if account.profile_id:
            raise Conflict(f"Account {account_id} is already linked to profile {account.profile_id}; unlink it first.")
        if profile.status != "active":
            raise Conflict(f"Advertising profile {profile_id} is revoked: {profile.status_reason or ''}".strip())
        expected = CHANNEL_OF_TYPE[profile.advertiser_type]
        if account.channel != expected:
            raise ValidationFailed(
                {
                    "profile_id": [
                        f"Profile {profile_id} is a {profile.advertiser_type} advertiser: it links to a "
                        f"{expected} account, not {account.channel}."
                    ]
                }
            )
        # The backfill ends at the last day Walmart has published, as last heard (the scheduler asks every 15
        # minutes); never heard yet: the window is fixed when the backfill starts.
        availability = self.reports.availability
        run, jobs = self.reports.plan(
            tenant_id, account_id, profile_id, "backfill", availability.through(availability.known())
        )
        reasons = self.repo.link(tenant_id, account_id, profile_id, iso(self.clock()) or "", run)
        if reasons:
            current = self.repo.get_profile(profile_id)
            if reasons[0] != "None" and current is not None and current.linked_account_id:
                raise Conflict(
                    f"Advertising profile {profile_id} is already linked to account {current.linked_account_id}."
                )
            if reasons[0] != "None":
                raise Conflict(f"Advertising profile {profile_id} changed meanwhile; try again.")
            raise Conflict(f"Account {account_id} was linked to another profile meanwhile.")
        self.reports.enqueue(jobs)
        return self.get_account(tenant_id, account_id)

    def unlink(self, tenant_id: str, account_id: str) -> AccountView:
        account = self._account(tenant_id, account_id)
        if not account.profile_id:
            raise Conflict(f"Account {account_id} has no linked advertising profile.")
        if not self.repo.unlink(tenant_id, account_id, str(account.profile_id)):
            raise Conflict("The link changed meanwhile; try again.")
        return self.get_account(tenant_id, account_id)

    # -- claims and discovery ----------------------------------------------------------------------------
    def claim(self, tenant_id: str, body: ClaimCreate) -> ClaimView:
        now = iso(self.clock()) or ""
        self.repo.put_claim(tenant_id, body.advertiser_id, body.advertiser_name, now)
        self.assignment.apply(body.advertiser_id)
        claim = next(c for c in self.repo.claims_for(body.advertiser_id) if c.tenant_id == tenant_id)
        return self._claim_view(claim)

    def list_claims(self, tenant_id: str, limit: int, cursor: str | None) -> tuple[list[ClaimView], str | None]:
        items, next_cursor = self.repo.tenant_claims(tenant_id, limit, cursor)
        return [self._claim_view(item) for item in items if item.tenant_id == tenant_id], next_cursor

    @staticmethod
    def _claim_view(item: ClaimRecord) -> ClaimView:
        return ClaimView(
            advertiser_id=str(item.advertiser_id),
            advertiser_name=item.advertiser_name,
            status=item.status,
            reason=item.reason,
            created_at=item.created_at,
            updated_at=item.updated_at,
        )

    def refresh(self) -> RefreshView:
        run = self._discovery().start("api")
        return RefreshView.model_validate(run.model_dump(include=set(RefreshView.model_fields)))

    # -- performance ---------------------------------------------------------------------------------------
    def performance(
        self, tenant_id: str, account_id: str, start: str | None, end: str | None, group_by: str
    ) -> list[PerformanceRow]:
        account = self._account(tenant_id, account_id)
        if not account.profile_id:
            raise Conflict(f"Account {account_id} has no linked advertising profile.")
        # By default the stored days: the backfill's length, up to the last day held (a day Walmart has published).
        held = account.data_through
        last_held = date.fromisoformat(str(held)) if held else self.clock().date() - timedelta(days=1)
        first, last = self._dates(start, end, last_held)
        totals: dict[tuple[str, ...], dict[str, Any]] = {}
        for row in self.performance_rows.rows(str(account.profile_id), "adGroup", first, last):
            group = tuple(str(row.get(name)) for name in GROUP_KEYS[group_by])
            total = totals.setdefault(group, self._empty(row, group_by))
            total["spend"] += Decimal(row.get("spend") or 0)
            total["attributed_sales"] += Decimal(row.get("attributed_sales") or 0)
            for name in ("impressions", "clicks", "attributed_orders"):
                total[name] += int(row.get(name) or 0)
        result = []
        for group in sorted(totals):
            total = totals[group]
            total["spend"] = str(total["spend"].quantize(CENT))
            total["attributed_sales"] = str(total["attributed_sales"].quantize(CENT))
            result.append(PerformanceRow.model_validate(total))
        return result

    @staticmethod
    def _empty(row: dict[str, Any], group_by: str) -> dict[str, Any]:
        total: dict[str, Any] = {
            "spend": Decimal(0),
            "attributed_sales": Decimal(0),
            "impressions": 0,
            "clicks": 0,
            "attributed_orders": 0,
        }
        if group_by == "date":
            total["date"] = row["date"]
        else:
            total.update(campaign_id=str(row["campaign_id"]), campaign_name=row.get("campaign_name"))
            if group_by == "ad_group":
                total.update(ad_group_id=str(row["ad_group_id"]), ad_group_name=row.get("ad_group_name"))
        return total

    def _dates(self, start: str | None, end: str | None, last_held: date) -> tuple[str, str]:
        errors: dict[str, list[str]] = {}
        parsed: dict[str, date] = {}
        for name, raw, default in (
            ("from", start, last_held - timedelta(days=self.settings.ads_backfill_days - 1)),
            ("to", end, last_held),
        ):
            try:
                parsed[name] = date.fromisoformat(raw) if raw else default
            except ValueError:
                errors[name] = ["Use a date as yyyy-mm-dd."]
        if not errors and parsed["from"] > parsed["to"]:
            errors["from"] = ["from must not be after to."]
        if not errors and (parsed["to"] - parsed["from"]).days >= MAX_PERFORMANCE_DAYS:
            errors["to"] = [f"At most {MAX_PERFORMANCE_DAYS} days at once."]
        if errors:
            raise ValidationFailed(errors)
        return parsed["from"].isoformat(), parsed["to"].isoformat()

    # -- write-back -----------------------------------------------------------------------------------------
    def change(
        self, tenant_id: str, account_id: str, entity: str, entity_id: str, body: CampaignChange | KeywordChange
    ) -> ChangeView:
        account = self._account(tenant_id, account_id)
        if not account.profile_id:
            raise Conflict(f"Account {account_id} has no linked advertising profile.")
        profile = self.repo.get_profile(str(account.profile_id))
        if profile is None or profile.status != "active":
            raise Conflict(
                (profile.status_reason if profile else None) or "The advertising profile is no longer available."
            )
        if profile.access != "write":
            raise Forbidden(
                f"Advertiser {account.profile_id} granted read-only access; its admin can grant write access in "
                "Walmart's advertising console (Admin > API Partner)."
            )
        changes = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in body.model_dump(exclude_none=True).items()}
        change_id = new_id()
        item = ChangeRecord(
            id=change_id,
            account_id=account_id,
            advertiser_id=str(account.profile_id),
            entity=entity,  # type: ignore[arg-type]  # the route's literal
            entity_id=entity_id,
            changes=changes,
            status="queued",
            created_at=iso(self.clock()) or "",
        )
        self.repo.create_change(tenant_id, item)
        self.queues.send(
            self.settings.ads_writeback_queue_url,
            AdsChangeJob(tenant_id=tenant_id, account_id=account_id, change_id=change_id),
        )
        return ChangeView.model_validate(item.model_dump())

    def list_changes(
        self, tenant_id: str, account_id: str, limit: int, cursor: str | None
    ) -> tuple[list[ChangeView], str | None]:
        self._account(tenant_id, account_id)
        items, next_cursor = self.repo.page_changes(tenant_id, account_id, limit, cursor)
        return [ChangeView.model_validate(item.model_dump()) for item in items], next_cursor

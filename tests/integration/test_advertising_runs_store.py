"""The report-run writes' conditions against DynamoDB (moto): a run starts once per day Walmart publishes, a run in
progress is only replaced when it is the dead one named, and a window planned before Walmart's latest day was known
is fixed once, whether the item holds it absent or null."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import boto3
import pytest
from moto import mock_aws

from walmart_integration.config import Settings
from walmart_integration.models.advertising import AccountRecord, CompanyRecord, ReportDatesRecord
from walmart_integration.services.ads_reports import AdsReports
from walmart_integration.store import keys
from walmart_integration.store.advertising import AdvertisingRepository
from walmart_integration.store.expressions import Update

REGION = "us-east-1"
NOW = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
TENANT, ACCOUNT, ADVERTISER = "t1", "A1", "600001"


@pytest.fixture
def repo(monkeypatch: pytest.MonkeyPatch) -> Iterator[AdvertisingRepository]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName="app",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "gsi1pk", "gsi1sk")
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "gsi1",
                    "KeySchema": [
                        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        yield AdvertisingRepository("app", REGION)


def reports() -> AdsReports:
    return AdsReports(Settings(ads_report_types="adGroup"), None, None, None, None, clock=lambda: NOW)  # type: ignore[arg-type]


def linked(repo: AdvertisingRepository, through: date | None) -> AccountRecord:
    """An account linked to an active profile of the tenant, its backfill planned through ``through``."""
    now = "2026-12-02T13:00:00Z"
    repo.create_company(TENANT, CompanyRecord(id="C1", name="Brand", created_at=now))
    account = AccountRecord(id=ACCOUNT, company_id="C1", name="Shop", channel="walmart-3p", geo="US", created_at=now)
    assert repo.create_account(TENANT, account)
    values = {"advertiser_id": ADVERTISER, "advertiser_name": "Brand", "advertiser_type": "3p", "access": "write"}
    repo.profile_seen(values, now)
    assert repo.assign_profile(ADVERTISER, TENANT, "claim", now)
    run, _ = reports().plan(TENANT, ACCOUNT, ADVERTISER, "backfill", through)
    assert repo.link(TENANT, ACCOUNT, ADVERTISER, now, run) == []
    stored = repo.get_account(TENANT, ACCOUNT)
    assert stored is not None
    return stored


def test_a_refresh_starts_once_per_published_day_and_a_run_in_progress_is_replaced_only_when_named(repo):
    account = linked(repo, date(2026, 11, 30))
    assert account.refreshed_for == "2026-11-30"
    assert account.backfill is not None
    assert repo.finish_run(TENANT, ACCOUNT, "backfill", account.backfill.run_id, {"status": "succeeded"})
    first, _ = reports().plan(TENANT, ACCOUNT, ADVERTISER, "refresh", date(2026, 12, 1))
    second, _ = reports().plan(TENANT, ACCOUNT, ADVERTISER, "refresh", date(2026, 12, 1))

    # Two schedulers saw the same account: one starts the run, the other finds it started.
    assert repo.start_run(TENANT, ACCOUNT, "refresh", first, "2026-12-01", "2026-11-30")
    assert not repo.start_run(TENANT, ACCOUNT, "refresh", second, "2026-12-01", "2026-11-30")
    # The next day: the run in progress holds the account, unless it is the dead run the scheduler names.
    later, _ = reports().plan(TENANT, ACCOUNT, ADVERTISER, "refresh", date(2026, 12, 2))
    assert not repo.start_run(TENANT, ACCOUNT, "refresh", later, "2026-12-02", "2026-12-01")
    assert not repo.start_run(TENANT, ACCOUNT, "refresh", later, "2026-12-02", "2026-12-01", replaces=second.run_id)
    assert repo.start_run(TENANT, ACCOUNT, "refresh", later, "2026-12-02", "2026-12-01", replaces=first.run_id)

    stored = repo.get_account(TENANT, ACCOUNT)
    assert stored is not None and stored.refresh is not None
    assert (stored.refresh.run_id, stored.refresh.window_end, stored.refreshed_for) == (
        later.run_id,
        "2026-12-02",
        "2026-12-02",
    )


def test_a_run_of_an_account_no_longer_linked_to_its_profile_does_not_start(repo):
    linked(repo, date(2026, 11, 30))
    assert repo.unlink(TENANT, ACCOUNT, ADVERTISER)
    run, _ = reports().plan(TENANT, ACCOUNT, ADVERTISER, "refresh", date(2026, 12, 1))
    assert not repo.start_run(TENANT, ACCOUNT, "refresh", run, "2026-12-01", None)
    stored = repo.get_account(TENANT, ACCOUNT)
    assert stored is not None and stored.refresh is None and stored.refreshed_for is None


@pytest.mark.parametrize("stored_as", ["absent", "null"])
def test_a_window_planned_before_walmarts_latest_day_was_known_is_fixed_once(repo, stored_as):
    account = linked(repo, None)
    assert account.backfill is not None and account.refreshed_for is None
    assert (account.backfill.window_start, account.backfill.window_end) == (None, None)
    run_id = account.backfill.run_id
    if stored_as == "null":  # as the dict-based records of the ads branch stored it
        nulls = Update().set(("backfill", "window_start"), None).set(("backfill", "window_end"), None)
        repo.update(keys.tenant_pk(TENANT), keys.account_sk(ACCOUNT), nulls)

    window, other = ("2026-10-02", "2026-11-30"), ("2026-10-03", "2026-12-01")
    # A message of a run that was replaced meanwhile changes nothing.
    assert repo.resolve_window(TENANT, ACCOUNT, "backfill", "someone-else", other, {"adGroup": other}) is None
    fixed = repo.resolve_window(TENANT, ACCOUNT, "backfill", run_id, window, {"adGroup": window})
    assert fixed is not None and fixed.backfill is not None
    assert (fixed.backfill.window_start, fixed.backfill.window_end, fixed.refreshed_for) == (*window, "2026-11-30")
    assert (fixed.backfill.reports["adGroup"].start, fixed.backfill.reports["adGroup"].end) == window
    # A second starter (a duplicate delivery) finds it fixed and changes nothing.
    assert repo.resolve_window(TENANT, ACCOUNT, "backfill", run_id, other, {"adGroup": other}) is None
    stored = repo.get_account(TENANT, ACCOUNT)
    assert stored is not None and stored.backfill is not None and stored.backfill.window_end == "2026-11-30"


def test_walmarts_latest_report_days_are_kept_as_last_read(repo):
    assert repo.report_dates() is None
    repo.save_report_dates(ReportDatesRecord(dates={"adGroup": "2026-11-30"}, checked_at="2026-12-02T13:00:00Z"))
    repo.save_report_dates(
        ReportDatesRecord(dates={"adGroup": "2026-12-01", "keyword": "2026-11-30"}, checked_at="2026-12-02T13:15:00Z")
    )
    assert repo.report_dates() == ReportDatesRecord(
        dates={"adGroup": "2026-12-01", "keyword": "2026-11-30"}, checked_at="2026-12-02T13:15:00Z"
    )

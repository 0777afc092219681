"""Typed records keep the items' shape: what the repositories write is what earlier versions wrote, and what earlier
versions stored reads back (no sockets, no moto: a fake client records the requests)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from walmart_integration.config import Settings
from walmart_integration.models.advertising import AccountRecord, ProfileRecord
from walmart_integration.models.locations import LocationAddress, LocationRecord
from walmart_integration.models.sync import RunState
from walmart_integration.services.ads_reports import AdsReports
from walmart_integration.store import dynamo
from walmart_integration.store.advertising import AdvertisingRepository
from walmart_integration.store.locations import LocationRepository
from walmart_integration.store.tenants import TenantRepository

NOW = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)


class RecordingDynamo:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, operation: str) -> Any:
        def call(**params: Any) -> dict[str, Any]:
            self.requests.append((operation, params))
            return {}

        return call


def test_an_account_is_stored_with_the_attributes_it_always_had():
    client = RecordingDynamo()
    account = AccountRecord(
        id="A1", company_id="C1", name="Shop", channel="walmart-3p", geo="US", created_at="2026-12-02T13:00:00Z"
    )
    assert AdvertisingRepository("app", "us-east-1", client).create_account("t1", account)
    [(operation, params)] = client.requests
    assert operation == "transact_write_items"
    put = params["TransactItems"][1]["Put"]
    assert dynamo.deserialize(put["Item"]) == {
        "pk": "TENANT#t1",
        "sk": "ACCOUNT#A1",
        "type": "account",
        "id": "A1",
        "company_id": "C1",
        "name": "Shop",
        "channel": "walmart-3p",
        "geo": "US",
        "created_at": "2026-12-02T13:00:00Z",
    }


def test_a_linked_backfill_run_is_the_map_it_always_was():
    reports = AdsReports(Settings(ads_report_types="adGroup"), None, None, None, None, clock=lambda: NOW)  # type: ignore[arg-type]
    run, _ = reports.plan("t1", "A1", "600001", "backfill", date(2026, 12, 1))
    client = RecordingDynamo()
    AdvertisingRepository("app", "us-east-1", client).link("t1", "A1", "600001", "2026-12-02T13:00:00Z", run)
    [(_, params)] = client.requests
    account = params["TransactItems"][1]["Update"]
    names = {v: k for k, v in account["ExpressionAttributeNames"].items()}
    set_backfill = next(part for part in account["UpdateExpression"].split(", ") if f"{names['backfill']} = " in part)
    stored = dynamo.deserialize({"backfill": account["ExpressionAttributeValues"][set_backfill.split(" = ")[-1]]})
    assert stored["backfill"] == {
        "run_id": run.run_id,
        "kind": "backfill",
        "advertiser_id": "600001",
        "status": "queued",
        "days": 60,
        "window_start": "2026-10-03",
        "window_end": "2026-12-01",
        "reports": {
            "adGroup": {
                "report_type": "adGroup",
                "offset": 0,
                "days": 60,
                "start": "2026-10-03",
                "end": "2026-12-01",
                "status": "queued",
                "polls": 0,
                "rows": 0,
                "attempts": 0,
            }
        },
        "started_at": "2026-12-02T13:00:00Z",
    }
    assert "t1#A1" in {value.get("S") for value in account["ExpressionAttributeValues"].values()}


def test_items_stored_by_earlier_versions_read_as_records():
    account = AccountRecord.model_validate(
        dynamo.deserialize(
            dynamo.serialize(
                {
                    "pk": "TENANT#t1",
                    "sk": "ACCOUNT#A1",
                    "type": "account",
                    "gsi1pk": "ADLINKS",
                    "gsi1sk": "t1#A1",
                    "id": "A1",
                    "company_id": "C1",
                    "name": "Shop",
                    "channel": "walmart-3p",
                    "geo": "US",
                    "created_at": "2026-12-01T00:00:00Z",
                    "profile_id": "600001",
                    "backfill": {
                        "run_id": "R1",
                        "kind": "backfill",
                        "advertiser_id": "600001",
                        "status": "running",
                        "window_start": "2026-10-03",
                        "window_end": "2026-12-01",
                        "started_at": "2026-12-02T13:00:00Z",
                        "reports": {
                            "adGroup": {"report_type": "adGroup", "start": "a", "end": "b", "snapshot_id": None},
                        },
                    },
                }
            )
        )
    )
    assert account.report_run("backfill") is account.backfill and account.report_run("refresh") is None
    assert account.backfill is not None and account.backfill.reports["adGroup"].status == "queued"
    assert account.backfill.reports["adGroup"].attempts == 0
    profile = ProfileRecord.model_validate(
        {
            "advertiser_id": "600001",
            "advertiser_name": "Brand",
            "advertiser_type": "3p",
            "access": "write",
            "status": "active",
            "first_seen_at": "x",
            "last_seen_at": "y",
            "granted_at": None,
        }
    )
    assert profile.tenant_id is None and profile.linked_account_id is None
    assert RunState.model_validate({"pk": "TENANT#t1", "units": None, "records": {"p1": 3}}).total_records == 3


def test_a_location_is_stored_with_the_attributes_it_always_had():
    client = RecordingDynamo()
    location = LocationRecord(
        id="N1",
        name="DC",
        type="3PLFulfilled",
        status="ACTIVE",
        time_zone=None,
        address=LocationAddress(city="Bentonville", country="US"),
        removed_at=None,
        synced_at="2026-12-02T13:00:00Z",
    )
    LocationRepository("data", "us-east-1", client).put_many("t1", "i1", [location])
    [(_, params)] = client.requests
    item = dynamo.deserialize(params["RequestItems"]["data"][0]["PutRequest"]["Item"])
    assert item == {
        "pk": "INSTANCE#t1#i1",
        "sk": "LOCATION#N1",
        "id": "N1",
        "name": "DC",
        "type": "3PLFulfilled",
        "status": "ACTIVE",
        "address": {
            "line1": None,
            "line2": None,
            "city": "Bentonville",
            "state": None,
            "postal_code": None,
            "country": "US",
        },
        "synced_at": "2026-12-02T13:00:00Z",
    }


def test_a_token_is_stored_as_its_hash_with_its_tenant():
    client = RecordingDynamo()
    TenantRepository("app", "us-east-1", client).put_token("ab12", "acme")
    [(_, params)] = client.requests
    item = dynamo.deserialize(params["Item"])
    assert item.pop("created_at")
    assert item == {"pk": "APITOKEN#ab12", "sk": "APITOKEN", "type": "api_token", "tenant_id": "acme", "revoked": False}
    assert params["ConditionExpression"] == "attribute_not_exists(#n0)"

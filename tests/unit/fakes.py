"""In-memory stand-ins for the adapters behind ``walmart_integration.services.ports``, for unit tests of services.

Each fake keeps the rule of the store it stands for that a service relies on (a name taken once per tenant, an
optimistic version, progress only for the current credentials, a unit registered once, a write only when content
changed, postings committed all or nothing), and records what was sent or published so a test can read it back.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from walmart_integration.errors import Conflict, NotFound, ValidationFailed
from walmart_integration.models.catalog import InternalProductRecord
from walmart_integration.models.common import new_id, utcnow
from walmart_integration.models.instance import InstanceRecord, Job
from walmart_integration.models.marketplace import SyncedRecord
from walmart_integration.models.returns import ReturnOrder
from walmart_integration.models.settlements import SettlementLine, SettlementPeriod
from walmart_integration.store.instances import NAME_TAKEN
from walmart_integration.store.runs import RunState
from walmart_integration.walmart.errors import WalmartError
from walmart_integration.walmart.marketplace import AccessToken, AppCredentials, OAuthTokens


def connected_instance(tenant_id: str, now: datetime, streams: Iterable[str]) -> InstanceRecord:
    """A connected instance (sealed credentials, history from 2026-01-01) whose ``streams`` jobs are queued."""
    return InstanceRecord(
        tenant_id=tenant_id,
        id=new_id(),
        name="main",
        integration_id=1,
        environment="sandbox",
        client_id="c",
        has_client_secret=True,
        credentials=b"sealed",
        credentials_version=3,
        integration_settings={"start_date": "2026-01-01", "store_id": 1},
        status="connected",
        jobs={name: Job(status="queued") for name in streams},
        created_at=now,
        updated_at=now,
    )


class FakeInstances:
    """``store.instances.InstanceRepository``: one record per (tenant, id), names unique per tenant (casefolded)."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], InstanceRecord] = {}
        self.leases: dict[tuple[str, str], tuple[str, float]] = {}  # (tenant, id) -> (owner, until): token renewal

    def _taken(self, record: InstanceRecord) -> bool:
        name = record.name.strip().casefold()
        return any(
            other.tenant_id == record.tenant_id and other.id != record.id and other.name.strip().casefold() == name
            for other in self.records.values()
        )

    def create(self, record: InstanceRecord) -> None:
        if self._taken(record):
            raise ValidationFailed({"name": [NAME_TAKEN]})
        self.records[(record.tenant_id, record.id)] = record

    def get(self, tenant_id: str, instance_id: str) -> InstanceRecord:
        found = self.find(tenant_id, instance_id)
        if found is None:
            raise NotFound(f"Instance {instance_id} not found.")
        return found

    def find(self, tenant_id: str, instance_id: str) -> InstanceRecord | None:
        return self.records.get((tenant_id, instance_id))

    def page(self, tenant_id: str, limit: int, cursor: str | None) -> tuple[list[InstanceRecord], str | None]:
        mine = sorted((r for r in self.records.values() if r.tenant_id == tenant_id), key=lambda r: r.id)
        after = [r for r in mine if cursor is None or r.id > cursor]
        page = after[:limit]
        return page, page[-1].id if len(after) > limit else None

    def update(self, current: InstanceRecord, changes: dict[str, Any]) -> InstanceRecord:
        stored = self.get(current.tenant_id, current.id)
        if stored.version != current.version:
            raise Conflict("The instance was changed by another request; read it again and retry.")
        updated = current.model_copy(update={**changes, "version": current.version + 1, "updated_at": utcnow()})
        if self._taken(updated):
            raise ValidationFailed({"name": [NAME_TAKEN]})
        self.records[(current.tenant_id, current.id)] = updated
        return updated

    def delete(self, current: InstanceRecord) -> None:
        stored = self.get(current.tenant_id, current.id)
        if stored.version != current.version:
            raise Conflict("The instance was changed by another request; read it again and retry.")
        del self.records[(current.tenant_id, current.id)]

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
        record = self.find(tenant_id, instance_id)
        if record is None or record.credentials_version != credentials_version:
            return False
        if progress_of_run is not None:
            current = record.jobs.get(next(iter(jobs)))
            if current and current.run_id == progress_of_run and current.status in ("succeeded", "failed"):
                return False
        changes: dict[str, Any] = {"jobs": {**record.jobs, **jobs}, "updated_at": utcnow(), **(extra or {})}
        if status is not None:
            changes["status"] = status
        self.records[(tenant_id, instance_id)] = record.model_copy(update=changes)
        return True

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
        record = self.find(tenant_id, instance_id)
        if record is None or record.credentials_version != credentials_version:
            return None
        if record.status == "credentials_invalid" or record.access_token_expires_at != seen_expiry:
            return None
        held = self.leases.get((tenant_id, instance_id))
        if held is not None and held[1] >= now:
            return None
        self.leases[(tenant_id, instance_id)] = (owner, until)
        return record

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
        record = self.find(tenant_id, instance_id)
        held = self.leases.get((tenant_id, instance_id))
        if record is None or record.credentials_version != credentials_version or held is None or held[0] != owner:
            return False
        changes: dict[str, Any] = {"access_token": access_token, "access_token_expires_at": expires_at}
        if refresh_token is not None:
            changes["refresh_token"] = refresh_token
        self.records[(tenant_id, instance_id)] = record.model_copy(update=changes)
        del self.leases[(tenant_id, instance_id)]
        return True

    def release_token_lease(self, tenant_id: str, instance_id: str, owner: str) -> None:
        held = self.leases.get((tenant_id, instance_id))
        if held is not None and held[0] == owner:
            del self.leases[(tenant_id, instance_id)]


@dataclass
class FakeReference:
    """``store.reference.ReferenceRepository``: the stores and nominal codes (id -> code) each tenant has."""

    stores: dict[str, set[int]] = field(default_factory=dict)
    codes: dict[str, dict[int, str]] = field(default_factory=dict)

    def existing(self, tenant_id: str, wanted: dict[str, set[int]]) -> dict[str, set[int]]:
        have = {"store": self.stores.get(tenant_id, set()), "nominalcode": set(self.codes.get(tenant_id, {}))}
        return {kind: ids & have.get(kind, set()) for kind, ids in wanted.items()}

    def nominal_codes(self, tenant_id: str, ids: set[int]) -> dict[int, str]:
        return {n: code for n, code in self.codes.get(tenant_id, {}).items() if n in ids}


class FakeVault:
    """``store.vault.Vault``: a ciphertext opens only with the context it was sealed with (as KMS's does)."""

    def encrypt(self, plaintext: bytes, context: dict[str, str]) -> bytes:
        sealed = {"context": context, "data": base64.b64encode(plaintext[::-1]).decode()}
        return b"sealed:" + json.dumps(sealed, sort_keys=True).encode()

    def decrypt(self, ciphertext: bytes, context: dict[str, str]) -> bytes:
        sealed = json.loads(ciphertext.removeprefix(b"sealed:"))
        if sealed["context"] != context:
            raise PermissionError("InvalidCiphertextException: the encryption context does not match")
        return base64.b64decode(sealed["data"])[::-1]


class FakeQueues:
    """``store.queues.Queues``: every message sent, per queue URL, in order. ``fail`` makes the next send raise."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, BaseModel, float]] = []
        self.fail: Exception | None = None

    def send(self, queue_url: str, message: BaseModel, delay_seconds: float = 0) -> None:
        if self.fail is not None:
            error, self.fail = self.fail, None
            raise error
        self.sent.append((queue_url, message, delay_seconds))

    def send_many(self, queue_url: str, messages: list[BaseModel]) -> None:
        for message in messages:
            self.send(queue_url, message)

    def bodies(self, queue_url: str) -> list[dict[str, Any]]:
        return [message.model_dump(exclude_none=True) for url, message, _ in self.sent if url == queue_url]


class FakeRuns:
    """``store.runs.RunRepository``: run states (units set once, page counts set, never added) and watermarks that
    only move forward."""

    def __init__(self) -> None:
        self.runs: dict[tuple[str, str, str, str], RunState] = {}
        self.watermarks: dict[tuple[str, str, str], str] = {}

    def _state(self, tenant_id: str, instance_id: str, stream: str, run_id: str) -> RunState:
        return self.runs.setdefault((tenant_id, instance_id, stream, run_id), RunState())

    @staticmethod
    def _copy(state: RunState) -> RunState:
        return state.model_copy(deep=True)

    def begin(self, tenant_id: str, instance_id: str, stream: str, run_id: str, moment: datetime) -> RunState:
        state = self._state(tenant_id, instance_id, stream, run_id)
        state.started_at = state.started_at or moment.isoformat()
        return self._copy(state)

    def plan(self, tenant_id: str, instance_id: str, stream: str, run_id: str, units: list[str]) -> RunState:
        return self.set_units(tenant_id, instance_id, stream, run_id, dict.fromkeys(units, "pending"), only_new=True)

    def set_units(
        self,
        tenant_id: str,
        instance_id: str,
        stream: str,
        run_id: str,
        units: dict[str, str],
        only_new: bool = False,
    ) -> RunState:
        state = self._state(tenant_id, instance_id, stream, run_id)
        for unit, value in units.items():
            if not (only_new and unit in state.units):
                state.units[unit] = value
        return self._copy(state)

    def record_page(
        self,
        tenant_id: str,
        instance_id: str,
        stream: str,
        run_id: str,
        page_id: str,
        records: int,
        skipped: int,
        error: str | None,
        unit_done: str | None = None,
    ) -> RunState:
        state = self._state(tenant_id, instance_id, stream, run_id)
        state.records[page_id] = records
        state.skipped[page_id] = skipped
        if error:
            state.errors[page_id] = error[:300]
        if unit_done:
            state.units[unit_done] = "done"
        return self._copy(state)

    def get(self, tenant_id: str, instance_id: str, stream: str, run_id: str) -> RunState:
        return self._copy(self._state(tenant_id, instance_id, stream, run_id))

    def watermark(self, tenant_id: str, instance_id: str, stream: str) -> str | None:
        return self.watermarks.get((tenant_id, instance_id, stream))

    def advance_watermark(self, tenant_id: str, instance_id: str, stream: str, moment: str) -> None:
        key = (tenant_id, instance_id, stream)
        if key not in self.watermarks or self.watermarks[key] < moment:
            self.watermarks[key] = moment


class FakeSynced:
    """``store.synced.SyncedDataRepository``: records by (tenant, instance, kind, key), written only when changed."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str, str, str], dict[str, Any]] = {}  # the stored items, as dicts
        self.writes = 0

    def upsert_changed(
        self, tenant_id: str, instance_id: str, kind: str, records: Iterable[SyncedRecord], now: str
    ) -> int:
        written = 0
        for record in {r.key: r for r in records}.values():
            key = (tenant_id, instance_id, kind, record.key)
            digest = record.content_hash()
            if self.records.get(key, {}).get("content_hash") != digest:
                self.records[key] = {**record.content(), "content_hash": digest, "updated_at": now}
                written += 1
        self.writes += written
        return written

    def count(self, tenant_id: str, instance_id: str, kind: str) -> int:
        return sum(1 for t, i, k, _ in self.records if (t, i, k) == (tenant_id, instance_id, kind))

    def orders(self, tenant_id: str, instance_id: str, purchase_order_ids: list[str]) -> dict[str, dict[str, Any]]:
        found = {po: self.records.get((tenant_id, instance_id, "order", po)) for po in purchase_order_ids}
        return {po: record for po, record in found.items() if record is not None}


class FakeSettlements:
    """``store.settlements.SettlementRepository``: periods by id, lines by (period, position), accounting's
    ``unexplained`` and ``finalised_at`` untouched by ``save_period``."""

    def __init__(self) -> None:
        self.period_items: dict[tuple[str, str, str], SettlementPeriod] = {}
        self.line_items: dict[tuple[str, str, str, int], SettlementLine] = {}
        self.line_writes = 0

    def period(self, tenant_id: str, instance_id: str, settlement_id: str) -> SettlementPeriod | None:
        return self.period_items.get((tenant_id, instance_id, settlement_id))

    def periods(self, tenant_id: str, instance_id: str) -> list[SettlementPeriod]:
        mine = [p for (t, i, _), p in self.period_items.items() if (t, i) == (tenant_id, instance_id)]
        return sorted(mine, key=lambda p: p.settlement_id, reverse=True)

    def page_periods(
        self, tenant_id: str, instance_id: str, limit: int, cursor: str | None
    ) -> tuple[list[SettlementPeriod], str | None]:
        ordered = list(reversed(self.periods(tenant_id, instance_id)))
        start = int(cursor or 0)
        following = start + limit
        return ordered[start:following], str(following) if following < len(ordered) else None

    def save_period(self, tenant_id: str, instance_id: str, period: SettlementPeriod) -> None:
        key = (tenant_id, instance_id, period.settlement_id)
        current = self.period_items.get(key)
        kept = {"unexplained": current.unexplained, "finalised_at": current.finalised_at} if current else {}
        self.period_items[key] = period.model_copy(update=kept or {"unexplained": None, "finalised_at": None})

    def mark_finalised(self, tenant_id: str, instance_id: str, settlement_id: str, moment: str) -> bool:
        current = self.period_items.get((tenant_id, instance_id, settlement_id))
        if current is None or current.finalised_at is not None:
            return False
        self.period_items[(tenant_id, instance_id, settlement_id)] = current.model_copy(update={"finalised_at": moment})
        return True

    def set_unexplained(self, tenant_id: str, instance_id: str, settlement_id: str, amount: Decimal | None) -> None:
        current = self.period_items[(tenant_id, instance_id, settlement_id)]
        self.period_items[(tenant_id, instance_id, settlement_id)] = current.model_copy(update={"unexplained": amount})

    def put_lines(self, tenant_id: str, instance_id: str, lines: Iterable[SettlementLine]) -> int:
        unique = {(line.settlement_id, line.position): line for line in lines}
        for (settlement_id, position), line in unique.items():
            self.line_items[(tenant_id, instance_id, settlement_id, position)] = line
        self.line_writes += len(unique)
        return len(unique)

    def trim_lines(self, tenant_id: str, instance_id: str, settlement_id: str, count: int) -> int:
        gone = [k for k in self.line_items if k[:3] == (tenant_id, instance_id, settlement_id) and k[3] >= count]
        for key in gone:
            del self.line_items[key]
        return len(gone)

    def lines(self, tenant_id: str, instance_id: str, settlement_id: str) -> list[SettlementLine]:
        mine = [(k[3], line) for k, line in self.line_items.items() if k[:3] == (tenant_id, instance_id, settlement_id)]
        return [line for _, line in sorted(mine, key=lambda pair: pair[0])]


class FakeReturns:
    """``store.settlements.ReturnRepository``: return orders by id, written only when changed."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str, str], ReturnOrder] = {}
        self.writes = 0

    def upsert_changed(self, tenant_id: str, instance_id: str, returns: Iterable[ReturnOrder], now: str) -> int:
        written = 0
        for order in {r.return_order_id: r for r in returns}.values():
            key = (tenant_id, instance_id, order.return_order_id)
            if self.records.get(key) != order:
                self.records[key] = order
                written += 1
        self.writes += written
        return written

    def get(self, tenant_id: str, instance_id: str, return_order_id: str) -> ReturnOrder | None:
        return self.records.get((tenant_id, instance_id, return_order_id))

    def page(
        self, tenant_id: str, instance_id: str, limit: int, cursor: str | None
    ) -> tuple[list[ReturnOrder], str | None]:
        mine = [r for (t, i, _), r in self.records.items() if (t, i) == (tenant_id, instance_id)]
        ordered = sorted(mine, key=lambda r: (r.return_order_date or "", r.return_order_id), reverse=True)
        start = int(cursor or 0)
        following = start + limit
        return ordered[start:following], str(following) if following < len(ordered) else None

    def of_orders(self, tenant_id: str, instance_id: str, pos: list[str]) -> dict[str, list[ReturnOrder]]:
        mine = sorted(
            (r for (t, i, _), r in self.records.items() if (t, i) == (tenant_id, instance_id)),
            key=lambda r: r.return_order_id,
        )
        return {po: [r for r in mine if po in r.purchase_order_ids] for po in pos}


class FakeCatalog:
    """``store.catalog.CatalogRepository``: a tenant's internal products by sku, integer ids in creation order."""

    def __init__(self) -> None:
        self.products: dict[str, dict[str, InternalProductRecord]] = {}

    def add(self, tenant_id: str, sku: str, cost: str | None) -> InternalProductRecord:
        from decimal import Decimal

        mine = self.products.setdefault(tenant_id, {})
        product = InternalProductRecord(
            id=len(mine) + 1, sku=sku, name=f"Product {sku}", cost=Decimal(cost) if cost else None
        )
        mine[sku] = product
        return product

    def by_skus(self, tenant_id: str, skus: list[str]) -> dict[str, InternalProductRecord]:
        mine = self.products.get(tenant_id, {})
        return {sku: mine[sku] for sku in skus if sku in mine}

    def create_missing(self, tenant_id: str, wanted: dict[str, str]) -> dict[str, InternalProductRecord]:
        for sku in wanted:
            if sku not in self.products.get(tenant_id, {}):
                self.add(tenant_id, sku, None)
        return self.by_skus(tenant_id, list(wanted))


class FakePostings:
    """``store.accounting.AccountingRepository``: postings with versions, documents, open batches and the outbox.

    ``commit`` applies an evaluation's actions all together, or none when a posting's version moved on since it was
    read; ``interfere`` (a callable run before each commit) lets a test change a posting concurrently."""

    def __init__(self) -> None:
        self.postings_by_po: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.documents: dict[tuple[str, str], dict[str, Any]] = {}  # (tenant, document id) -> document
        self.batches: dict[tuple[str, str], str] = {}  # (tenant, batch pointer) -> document id
        self.commits = 0
        self.interfere: Callable[[], None] | None = None
        self.cleared: dict[tuple[str, str, str], dict[str, dict[str, str]]] = {}
        self.settled_guards: set[tuple[str, str, str]] = set()
        self.settlement_hold_items: dict[tuple[str, str, str], dict[str, Any]] = {}

    def posting(self, tenant_id: str, instance_id: str, po: str) -> dict[str, Any] | None:
        found = self.postings_by_po.get((tenant_id, instance_id, po))
        return json.loads(json.dumps(found, default=str)) if found else None

    def postings(self, tenant_id: str, instance_id: str, pos: list[str]) -> dict[str, dict[str, Any]]:
        found = {po: self.posting(tenant_id, instance_id, po) for po in pos}
        return {po: posting for po, posting in found.items() if posting is not None}

    def posting_action(
        self, tenant_id: str, instance_id: str, po: str, values: dict[str, Any], version: int
    ) -> dict[str, Any]:
        return {"posting": (tenant_id, instance_id, po), "values": values, "version": version}

    def issued_document_action(self, tenant_id: str, document: dict[str, Any], issued_at: str) -> dict[str, Any]:
        return {"document": {**document, "outbox_key": issued_at}, "tenant_id": tenant_id}

    def batch_actions(self, tenant_id: str, document: dict[str, Any]) -> list[dict[str, Any]]:
        pointer = f"{document['instance_id']}#{document['type']}#{document['period']}#{document['period_key']}"
        pointer += f"#{document['reason']}"
        current = self.documents.get((tenant_id, self.batches.get((tenant_id, pointer), "")))
        if current is not None and current["status"] == "open":
            return [{"append": (tenant_id, current["id"]), "document": document}]
        return [{"batch": (tenant_id, pointer), "document": document, "tenant_id": tenant_id}]

    def commit(self, actions: list[dict[str, Any]]) -> bool:
        if self.interfere is not None:
            self.interfere()
        for action in actions:
            if "posting" in action:
                stored = self.postings_by_po.get(action["posting"])
                if int((stored or {}).get("version") or 0) != action["version"]:
                    return False
        self.commits += 1
        for action in actions:
            if "posting" in action:
                po = action["posting"][2]
                self.postings_by_po[action["posting"]] = {
                    **action["values"],
                    "purchase_order_id": po,
                    "version": action["version"] + 1,
                }
            elif "append" in action:
                current = self.documents[action["append"]]
                current["lines"] += action["document"]["lines"]
                current["purchase_order_ids"] += action["document"]["purchase_order_ids"]
            elif "batch" in action:
                document = action["document"]
                self.documents[(action["tenant_id"], document["id"])] = {**document, "pk": action["tenant_id"]}
                self.batches[action["batch"]] = document["id"]
            else:
                document = action["document"]
                self.documents[(action["tenant_id"], document["id"])] = {**document, "pk": action["tenant_id"]}
        return True

    def page_documents(
        self, tenant_id: str, instance_id: str, limit: int, cursor: str | None, where: Mapping[str, str]
    ) -> tuple[list[dict[str, Any]], str | None]:
        mine = [
            d
            for (t, _), d in self.documents.items()
            if t == tenant_id and d["instance_id"] == instance_id and all(d.get(k) == v for k, v in where.items())
        ]
        start = int(cursor or 0)
        more = start + limit < len(mine)
        return mine[start : start + limit], str(start + limit) if more else None

    def held(self, tenant_id: str, instance_id: str) -> list[dict[str, Any]]:
        return [
            dict(posting)
            for (t, i, _), posting in self.postings_by_po.items()
            if (t, i) == (tenant_id, instance_id) and posting.get("holds")
        ]

    def due_batches(self, now: str) -> Iterator[dict[str, Any]]:
        for (_, document_id), document in list(self.documents.items()):
            if document["status"] == "open" and document["period_end"] < now:
                yield {**document, "sk": document_id}

    def outbox(self) -> Iterator[dict[str, Any]]:
        for (_, document_id), document in list(self.documents.items()):
            if document["status"] == "issued" and not document.get("published"):
                yield {**document, "sk": document_id}

    def issue(self, document: dict[str, Any], values: dict[str, Any], issued_at: str) -> bool:
        stored = self.documents[(document["pk"], document["sk"])]
        if stored["status"] != "open":
            return False
        stored.update(values, status="issued", issued_at=issued_at)
        return True

    def published(self, pk: str, sk: str) -> None:
        self.documents[(pk, sk)]["published"] = True

    def clearings(self, tenant_id: str, instance_id: str, pos: list[str]) -> dict[str, dict[str, dict[str, str]]]:
        return {
            po: dict(self.cleared[(tenant_id, instance_id, po)])
            for po in pos
            if (tenant_id, instance_id, po) in self.cleared
        }

    def record_clearing(
        self, tenant_id: str, instance_id: str, po: str, settlement_id: str, amounts: dict[str, str]
    ) -> None:
        self.cleared.setdefault((tenant_id, instance_id, po), {})[settlement_id] = dict(amounts)

    def issue_settlement(self, tenant_id: str, document: dict[str, Any], settlement_id: str, issued_at: str) -> bool:
        guard = (tenant_id, document["instance_id"], settlement_id)
        if guard in self.settled_guards:
            return False
        self.settled_guards.add(guard)
        self.settlement_hold_items.pop(guard, None)
        self.documents[(tenant_id, document["id"])] = {**document, "pk": tenant_id}
        return True

    def settled(self, tenant_id: str, instance_id: str, settlement_id: str) -> bool:
        return (tenant_id, instance_id, settlement_id) in self.settled_guards

    def hold_settlement(
        self, tenant_id: str, instance_id: str, settlement_id: str, holds: list[dict[str, Any]]
    ) -> None:
        self.settlement_hold_items[(tenant_id, instance_id, settlement_id)] = {
            "settlement_id": settlement_id,
            "holds": holds,
        }

    def settlement_holds(self, tenant_id: str, instance_id: str) -> list[dict[str, Any]]:
        return [v for (t, i, _), v in self.settlement_hold_items.items() if (t, i) == (tenant_id, instance_id)]


class FakeEvents:
    """``store.events.EventPublisher``: every event published, in order."""

    def __init__(self) -> None:
        self.published: list[tuple[str, str, dict[str, Any]]] = []

    def publish(self, source: str, detail_type: str, detail: dict[str, Any]) -> None:
        self.published.append((source, detail_type, detail))


class FakeMarketplace:
    """``walmart.marketplace.MarketplaceClient`` for the token job: issues tokens for the credentials it knows, or
    raises what a test queued in ``failures`` (one per call, first in first out)."""

    def __init__(self, credentials: dict[str, str], lifetime: timedelta = timedelta(minutes=15)) -> None:
        self.credentials = credentials
        self.lifetime = lifetime
        self.failures: list[WalmartError] = []
        self.issued: list[AccessToken] = []
        self.environments: list[str] = []
        self.refresh_tokens: dict[str, str] = {}

    def for_environment(self, environment: str) -> FakeMarketplace:
        self.environments.append(environment)
        return self

    def fetch_token(self, client_id: str, client_secret: str, now: datetime | None = None) -> AccessToken:
        from walmart_integration.walmart.errors import WalmartAuthError

        if self.failures:
            raise self.failures.pop(0)
        if self.credentials.get(client_id) != client_secret:
            raise WalmartAuthError("Invalid client credentials (UNAUTHORIZED.GMP_GATEWAY_API)", 401, "UNAUTHORIZED")
        token = AccessToken(f"token-{new_id()}", (now or datetime.now(UTC)) + self.lifetime)
        self.issued.append(token)
        return token

    def refresh(
        self, app: AppCredentials, seller_id: str, refresh_token: str, now: datetime | None = None
    ) -> OAuthTokens:
        """The ``refresh_token`` grant: a new access token for a refresh token this fake knows (``refresh_tokens``:
        seller id -> refresh token), the same refresh token kept (Walmart's example rotates none)."""
        from walmart_integration.walmart.errors import WalmartAuthError

        if self.failures:
            raise self.failures.pop(0)
        if self.refresh_tokens.get(seller_id) != refresh_token or self.credentials.get(app.client_id) != (
            app.client_secret
        ):
            raise WalmartAuthError("Invalid refresh token (INVALID_REQUEST_HEADER.GMP_GATEWAY_API)", 400, "INVALID")
        token = AccessToken(f"token-{new_id()}", (now or datetime.now(UTC)) + self.lifetime)
        self.issued.append(token)
        return OAuthTokens(token, None)


class Clock:
    """A clock a test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class FakeWalmartCalls:
    """``services.connection.ConnectionService.call`` with a Walmart that answers the pages a test queued (then
    empty last pages); every request is kept: (endpoint, params or cursor)."""

    def __init__(self) -> None:
        from walmart_integration.walmart.marketplace import ItemsPage, OrdersPage

        self.orders: list[OrdersPage] = []
        self.items: list[ItemsPage] = []
        self.recon_dates: list[str] = []  # availableApReportDates
        self.recon_reports: dict[str, list[dict[str, str]]] = {}  # rows of each report date
        self.returns: list[Any] = []  # ReturnsPage answers, in order
        self.requests: list[tuple[str, Any]] = []
        self._empty_orders = OrdersPage([], 0, None)
        self._empty_items = ItemsPage([], 0, None)

    def marketplace(self, environment: str) -> Any:
        return self

    def call(self, record: InstanceRecord, endpoint: str, call: Any) -> Any:
        return call(self, "access-token")

    def orders_page(self, access_token: str, params: dict[str, Any] | None = None, cursor: str | None = None) -> Any:
        self.requests.append(("orders", params if cursor is None else cursor))
        return self.orders.pop(0) if self.orders else self._empty_orders

    def items_page(self, access_token: str, cursor: str, offset: int, limit: int) -> Any:
        self.requests.append(("items", {"cursor": cursor, "offset": offset, "limit": limit}))
        return self.items.pop(0) if self.items else self._empty_items

    def recon_report_dates(self, access_token: str) -> list[str]:
        self.requests.append(("recon-dates", None))
        return list(self.recon_dates)

    def recon_report_page(self, access_token: str, report_date: str, offset: int, rows: int) -> Any:
        """Pages of the report's rows; the offset is the row number times 100 (opaque to the caller, as bytes are)."""
        from walmart_integration.walmart.marketplace import ReconPage

        self.requests.append(("recon", {"reportDate": report_date, "offset": offset, "noOfRecords": rows}))
        first = offset // 100
        page = self.recon_reports[report_date][first : first + rows]
        return ReconPage(rows=page, next_offset=(first + rows) * 100 if len(page) == rows else None)

    def returns_page(self, access_token: str, params: dict[str, Any] | None = None, cursor: str | None = None) -> Any:
        from walmart_integration.walmart.marketplace import ReturnsPage

        self.requests.append(("returns", params if cursor is None else cursor))
        return self.returns.pop(0) if self.returns else ReturnsPage([], 0, None)

"""What the services need from ``store/`` and ``walmart/``: small protocols, one per adapter, holding only the methods
services call. Lambda wires the real adapters (``composition.py``); unit tests hand the services in-memory
fakes (``tests/unit/fakes.py``), and mypy checks both against these.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from pydantic import BaseModel

from walmart_integration.models.catalog import InternalProductRecord
from walmart_integration.models.instance import InstanceRecord, Job
from walmart_integration.models.marketplace import SyncedRecord
from walmart_integration.models.returns import ReturnOrder
from walmart_integration.models.settlements import SettlementLine, SettlementPeriod
from walmart_integration.store.runs import RunState
from walmart_integration.walmart.marketplace import AccessToken, AppCredentials, OAuthTokens


class Instances(Protocol):
    """Integration instances of tenants (``store.instances.InstanceRepository``)."""

    def create(self, record: InstanceRecord) -> None: ...

    def get(self, tenant_id: str, instance_id: str) -> InstanceRecord: ...

    def find(self, tenant_id: str, instance_id: str) -> InstanceRecord | None: ...

    def page(self, tenant_id: str, limit: int, cursor: str | None) -> tuple[list[InstanceRecord], str | None]: ...

    def update(self, current: InstanceRecord, changes: dict[str, Any]) -> InstanceRecord: ...

    def delete(self, current: InstanceRecord) -> None: ...

    def save_progress(
        self,
        tenant_id: str,
        instance_id: str,
        credentials_version: int,
        jobs: dict[str, Job],
        status: str | None = None,
        extra: dict[str, Any] | None = None,
        progress_of_run: str | None = None,
    ) -> bool: ...

    def acquire_token_lease(
        self,
        tenant_id: str,
        instance_id: str,
        credentials_version: int,
        seen_expiry: datetime | None,
        owner: str,
        now: float,
        until: float,
    ) -> InstanceRecord | None: ...

    def store_token(
        self,
        tenant_id: str,
        instance_id: str,
        credentials_version: int,
        owner: str,
        access_token: bytes,
        expires_at: datetime,
        refresh_token: bytes | None = None,
    ) -> bool: ...

    def release_token_lease(self, tenant_id: str, instance_id: str, owner: str) -> None: ...


class ReferenceData(Protocol):
    """A tenant's stores and nominal codes (``store.reference.ReferenceRepository``)."""

    def existing(self, tenant_id: str, wanted: dict[str, set[int]]) -> dict[str, set[int]]: ...

    def nominal_codes(self, tenant_id: str, ids: set[int]) -> dict[int, str]: ...


class Secrets(Protocol):
    """Encryption bound to a context (``store.vault.Vault``: KMS)."""

    def encrypt(self, plaintext: bytes, context: dict[str, str]) -> bytes: ...

    def decrypt(self, ciphertext: bytes, context: dict[str, str]) -> bytes: ...


class MessageQueues(Protocol):
    """Sending work to the workers' queues (``store.queues.Queues``: SQS)."""

    def send(self, queue_url: str, message: BaseModel, delay_seconds: float = 0) -> None: ...

    def send_many(self, queue_url: str, messages: list[BaseModel]) -> None: ...


class Runs(Protocol):
    """Progress of sync runs and the incremental watermarks (``store.runs.RunRepository``)."""

    def begin(self, tenant_id: str, instance_id: str, stream: str, run_id: str, moment: datetime) -> RunState: ...

    def plan(self, tenant_id: str, instance_id: str, stream: str, run_id: str, units: list[str]) -> RunState: ...

    def set_units(
        self,
        tenant_id: str,
        instance_id: str,
        stream: str,
        run_id: str,
        units: dict[str, str],
        only_new: bool = False,
    ) -> RunState: ...

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
    ) -> RunState: ...

    def get(self, tenant_id: str, instance_id: str, stream: str, run_id: str) -> RunState: ...

    def watermark(self, tenant_id: str, instance_id: str, stream: str) -> str | None: ...

    def advance_watermark(self, tenant_id: str, instance_id: str, stream: str, moment: str) -> None: ...


class SyncedData(Protocol):
    """The products and orders synced from Walmart (``store.synced.SyncedDataRepository``)."""

    def upsert_changed(
        self, tenant_id: str, instance_id: str, kind: str, records: Iterable[SyncedRecord], now: str
    ) -> int: ...

    def count(self, tenant_id: str, instance_id: str, kind: str) -> int: ...

    # The stored items as dicts (older shapes included): accounting's read, until it moves to OrderRecord.
    def orders(self, tenant_id: str, instance_id: str, purchase_order_ids: list[str]) -> dict[str, dict[str, Any]]: ...


class Settlements(Protocol):
    """Settlement periods and their report lines (``store.settlements.SettlementRepository``)."""

    def period(self, tenant_id: str, instance_id: str, settlement_id: str) -> SettlementPeriod | None: ...

    def periods(self, tenant_id: str, instance_id: str) -> list[SettlementPeriod]: ...

    def page_periods(
        self, tenant_id: str, instance_id: str, limit: int, cursor: str | None
    ) -> tuple[list[SettlementPeriod], str | None]: ...

    def save_period(self, tenant_id: str, instance_id: str, period: SettlementPeriod) -> None: ...

    def mark_finalised(self, tenant_id: str, instance_id: str, settlement_id: str, moment: str) -> bool: ...

    def set_unexplained(self, tenant_id: str, instance_id: str, settlement_id: str, amount: Decimal | None) -> None: ...

    def put_lines(self, tenant_id: str, instance_id: str, lines: Iterable[SettlementLine]) -> int: ...

    def trim_lines(self, tenant_id: str, instance_id: str, settlement_id: str, count: int) -> int: ...

    def lines(self, tenant_id: str, instance_id: str, settlement_id: str) -> list[SettlementLine]: ...


class Returns(Protocol):
    """Walmart return orders (``store.settlements.ReturnRepository``)."""

    def upsert_changed(self, tenant_id: str, instance_id: str, returns: Iterable[ReturnOrder], now: str) -> int: ...

    def get(self, tenant_id: str, instance_id: str, return_order_id: str) -> ReturnOrder | None: ...

    def page(
        self, tenant_id: str, instance_id: str, limit: int, cursor: str | None
    ) -> tuple[list[ReturnOrder], str | None]: ...

    def of_orders(self, tenant_id: str, instance_id: str, pos: list[str]) -> dict[str, list[ReturnOrder]]: ...


class Catalog(Protocol):
    """A tenant's internal (SKU) products (``store.catalog.CatalogRepository``)."""

    def by_skus(self, tenant_id: str, skus: list[str]) -> dict[str, InternalProductRecord]: ...

    def create_missing(self, tenant_id: str, wanted: dict[str, str]) -> dict[str, InternalProductRecord]: ...


class Products(Protocol):
    """Reading and changing one internal product (``store.catalog.CatalogRepository``)."""

    def product(self, tenant_id: str, product_id: int) -> InternalProductRecord | None: ...

    def update(self, tenant_id: str, sku: str, changes: dict[str, Any]) -> InternalProductRecord: ...


class Postings(Protocol):
    """Accounting postings, documents, batches and the outbox (``store.accounting.AccountingRepository``).

    An evaluation collects opaque write actions and commits them together: all or nothing."""

    def posting(self, tenant_id: str, instance_id: str, po: str) -> dict[str, Any] | None: ...

    def postings(self, tenant_id: str, instance_id: str, pos: list[str]) -> dict[str, dict[str, Any]]: ...

    def commit(self, actions: list[dict[str, Any]]) -> bool: ...

    def posting_action(
        self, tenant_id: str, instance_id: str, po: str, values: dict[str, Any], version: int
    ) -> dict[str, Any]: ...

    def issued_document_action(self, tenant_id: str, document: dict[str, Any], issued_at: str) -> dict[str, Any]: ...

    def batch_actions(self, tenant_id: str, document: dict[str, Any]) -> list[dict[str, Any]]: ...

    def page_documents(
        self, tenant_id: str, instance_id: str, limit: int, cursor: str | None, where: Mapping[str, str]
    ) -> tuple[list[dict[str, Any]], str | None]: ...

    def held(self, tenant_id: str, instance_id: str) -> list[dict[str, Any]]: ...

    def due_batches(self, now: str) -> Iterator[dict[str, Any]]: ...

    def outbox(self) -> Iterator[dict[str, Any]]: ...

    def issue(self, document: dict[str, Any], values: dict[str, Any], issued_at: str) -> bool: ...

    def published(self, pk: str, sk: str) -> None: ...

    def clearings(self, tenant_id: str, instance_id: str, pos: list[str]) -> dict[str, dict[str, dict[str, str]]]: ...

    def record_clearing(
        self, tenant_id: str, instance_id: str, po: str, settlement_id: str, amounts: dict[str, str]
    ) -> None: ...

    def issue_settlement(
        self, tenant_id: str, document: dict[str, Any], settlement_id: str, issued_at: str
    ) -> bool: ...

    def settled(self, tenant_id: str, instance_id: str, settlement_id: str) -> bool: ...

    def hold_settlement(
        self, tenant_id: str, instance_id: str, settlement_id: str, holds: list[dict[str, Any]]
    ) -> None: ...

    def settlement_holds(self, tenant_id: str, instance_id: str) -> list[dict[str, Any]]: ...


class Events(Protocol):
    """Publishing domain events (``store.events.EventPublisher``: EventBridge)."""

    def publish(self, source: str, detail_type: str, detail: dict[str, Any]) -> None: ...


class MarketplaceApi(Protocol):
    """Walmart Marketplace as the token job sees it (``walmart.marketplace.MarketplaceClient``)."""

    def fetch_token(self, client_id: str, client_secret: str, now: datetime | None = None) -> AccessToken: ...

    def refresh(
        self, app: AppCredentials, seller_id: str, refresh_token: str, now: datetime | None = None
    ) -> OAuthTokens: ...


class WalmartCalls(Protocol):
    """One Walmart call within the seller's budget, with a usable token (``services.connection.ConnectionService``)."""

    def marketplace(self, environment: str) -> Any:
        """The environment's Walmart client (a report's download address needs no seller token)."""

    def call(self, record: InstanceRecord, endpoint: str, call: Any) -> Any: ...

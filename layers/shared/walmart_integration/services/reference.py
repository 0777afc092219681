"""Reference data: the Walmart integration catalogue and a tenant's stores and nominal codes."""

from __future__ import annotations

from walmart_integration.models.reference import (
    WALMART_INTEGRATIONS,
    Integration,
    NominalCode,
    NominalCodeCreate,
    NominalCodeRecord,
    Store,
    StoreCreate,
    StoreRecord,
)
from walmart_integration.store.reference import ReferenceRepository


class ReferenceService:
    def __init__(self, reference: ReferenceRepository) -> None:
        self.reference = reference

    @staticmethod
    def integrations() -> list[Integration]:
        return list(WALMART_INTEGRATIONS)

    def create_store(self, tenant_id: str, body: StoreCreate) -> Store:
        return Store.model_validate(self.reference.create(tenant_id, StoreRecord, body.model_dump()).model_dump())

    def list_stores(self, tenant_id: str, limit: int, cursor: str | None) -> tuple[list[Store], str | None]:
        items, next_cursor = self.reference.page(tenant_id, StoreRecord, limit, cursor)
        return [Store.model_validate(item.model_dump()) for item in items], next_cursor

    def create_nominal_code(self, tenant_id: str, body: NominalCodeCreate) -> NominalCode:
        record = self.reference.create(tenant_id, NominalCodeRecord, body.model_dump())
        return NominalCode.model_validate(record.model_dump())

    def list_nominal_codes(
        self, tenant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[NominalCode], str | None]:
        items, next_cursor = self.reference.page(tenant_id, NominalCodeRecord, limit, cursor)
        return [NominalCode.model_validate(item.model_dump()) for item in items], next_cursor

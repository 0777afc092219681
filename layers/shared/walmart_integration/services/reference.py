"""Reference data: the Walmart integration catalogue and a tenant's stores and nominal codes."""

from __future__ import annotations

from walmart_integration.models.reference import (
    WALMART_INTEGRATIONS,
    Integration,
    NominalCode,
    NominalCodeCreate,
    Store,
    StoreCreate,
)
from walmart_integration.store.reference import ReferenceRepository


class ReferenceService:
    def __init__(self, reference: ReferenceRepository) -> None:
        self.reference = reference

    @staticmethod
    def integrations() -> list[Integration]:
        return list(WALMART_INTEGRATIONS)

    def create_store(self, tenant_id: str, body: StoreCreate) -> Store:
        return Store.model_validate(self.reference.create(tenant_id, "store", body.model_dump()))

    def list_stores(self, tenant_id: str, limit: int, cursor: str | None) -> tuple[list[Store], str | None]:
        items, next_cursor = self.reference.page(tenant_id, "store", limit, cursor)
        return [Store.model_validate(item) for item in items], next_cursor

    def create_nominal_code(self, tenant_id: str, body: NominalCodeCreate) -> NominalCode:
        return NominalCode.model_validate(self.reference.create(tenant_id, "nominalcode", body.model_dump()))

    def list_nominal_codes(
        self, tenant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[NominalCode], str | None]:
        items, next_cursor = self.reference.page(tenant_id, "nominalcode", limit, cursor)
        return [NominalCode.model_validate(item) for item in items], next_cursor

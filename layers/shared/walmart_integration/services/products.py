"""Changing a tenant's internal (SKU) product: its name or its unit cost. A new cost releases at once the cost of
goods sold held for want of it (the accounting jobs of the orders holding lines of the sku are queued)."""

from __future__ import annotations

from collections.abc import Callable

from walmart_integration.errors import NotFound
from walmart_integration.models.catalog import InternalProductRecord, InternalProductUpdate
from walmart_integration.services.ports import Products


class ProductService:
    def __init__(self, products: Products, cost_changed: Callable[[str, str], int]) -> None:
        """``cost_changed(tenant_id, sku)``: re-evaluates the lines held for that product (``AccountingService``)."""
        self.products = products
        self.cost_changed = cost_changed

    def update(self, tenant_id: str, product_id: int, patch: InternalProductUpdate) -> InternalProductRecord:
        """404 for a product the tenant does not have (another tenant's included)."""
        current = self.products.product(tenant_id, product_id)
        if current is None:
            raise NotFound("Product not found.")
        changes = {name: getattr(patch, name) for name in patch.model_fields_set}
        changes = {name: value for name, value in changes.items() if getattr(current, name) != value}
        if not changes:
            return current
        updated = self.products.update(tenant_id, current.sku, changes)
        if "cost" in changes and updated.cost is not None:
            self.cost_changed(tenant_id, updated.sku)
        return updated

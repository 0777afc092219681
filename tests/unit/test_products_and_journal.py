"""Changing a product (what it releases) and the CSV journal's cells, on in-memory stores."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from walmart_integration.errors import NotFound
from walmart_integration.models.accounting import AccountingDocument, DocumentTotals, PostingLine
from walmart_integration.models.catalog import InternalProductRecord, InternalProductUpdate
from walmart_integration.services.journal import journal_csv
from walmart_integration.services.products import ProductService


class FakeProducts:
    def __init__(self) -> None:
        self.records = {("t1", 7): InternalProductRecord(id=7, sku="SKU-7", name="Seven", cost=None)}
        self.updates: list[dict[str, Any]] = []

    def product(self, tenant_id: str, product_id: int) -> InternalProductRecord | None:
        return self.records.get((tenant_id, product_id))

    def update(self, tenant_id: str, sku: str, changes: dict[str, Any]) -> InternalProductRecord:
        self.updates.append(changes)
        [key] = [k for k, r in self.records.items() if k[0] == tenant_id and r.sku == sku]
        self.records[key] = self.records[key].model_copy(update=changes)
        return self.records[key]


def test_a_new_cost_releases_the_skus_held_lines_once_and_a_rename_does_not() -> None:
    products, released = FakeProducts(), list[tuple[str, str]]()

    def cost_changed(tenant_id: str, sku: str) -> int:
        released.append((tenant_id, sku))
        return 1

    service = ProductService(products, cost_changed)
    updated = service.update("t1", 7, InternalProductUpdate.model_validate({"cost": "2.50"}))
    assert (updated.cost, released) == (Decimal("2.50"), [("t1", "SKU-7")])
    service.update("t1", 7, InternalProductUpdate.model_validate({"cost": "2.50", "name": "Seven"}))  # no change
    service.update("t1", 7, InternalProductUpdate.model_validate({"name": "Renamed"}))
    assert released == [("t1", "SKU-7")]
    assert products.updates == [{"cost": Decimal("2.50")}, {"name": "Renamed"}]
    with pytest.raises(NotFound):
        service.update("t2", 7, InternalProductUpdate.model_validate({"cost": "1"}))


@pytest.mark.parametrize("body", [{}, {"cost": "-0.01"}, {"cost": "1.0000001"}, {"name": ""}, {"name": None}, {"x": 1}])
def test_bad_product_changes_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        InternalProductUpdate.model_validate(body)


def test_journal_cells_that_a_spreadsheet_would_run_are_quoted() -> None:
    line = PostingLine(
        account="sales",
        nominal_code="4000",
        nominal_code_id=1,
        debit="0.00",
        credit="5.00",
        purchase_order_id="P1",
        line_number="1",
        sku="=HYPERLINK(1)",
        description="Product revenue, boxed",
    )
    document = AccountingDocument(
        id="D1",
        instance_id="i1",
        type="invoice",
        reason="sale",
        period="immediate",
        status="issued",
        currency="USD",
        issued_at="2026-03-10T15:00:00Z",
        created_at="2026-03-10T15:00:00Z",
        purchase_order_ids=["P1"],
        lines=[line],
        totals=DocumentTotals(debit="5.00", credit="5.00", net="5.00", tax="0.00", gross="5.00"),
    )
    rows = journal_csv([document]).split("\r\n")
    assert rows[1] == '2026-03-10,D1,4000,"Product revenue, boxed",0.00,5.00,USD,invoice,sales,P1,1,\'=HYPERLINK(1)'

"""Reading an instance's settlements and returns (the API's side; the sync writes them: ``settlements_sync``)."""

from __future__ import annotations

from walmart_integration.errors import NotFound
from walmart_integration.models.returns import ReturnOrder
from walmart_integration.models.settlements import SettlementDetailView, SettlementPeriodView, group_lines
from walmart_integration.services.ports import Instances, Returns, Settlements


class SettlementService:
    def __init__(self, instances: Instances, settlements: Settlements, returns: Returns) -> None:
        self.instances = instances
        self.settlements = settlements
        self.returns = returns

    def list_periods(
        self, tenant_id: str, instance_id: str, limit: int, cursor: str | None
    ) -> tuple[list[SettlementPeriodView], str | None]:
        """Payment periods in date order (another tenant's instance: 404)."""
        self.instances.get(tenant_id, instance_id)
        periods, next_cursor = self.settlements.page_periods(tenant_id, instance_id, limit, cursor)
        return [SettlementPeriodView.of(period) for period in periods], next_cursor

    def period(self, tenant_id: str, instance_id: str, settlement_id: str) -> SettlementDetailView:
        self.instances.get(tenant_id, instance_id)
        period = self.settlements.period(tenant_id, instance_id, settlement_id)
        if period is None:
            raise NotFound(f"Settlement {settlement_id} not found.")
        lines = self.settlements.lines(tenant_id, instance_id, settlement_id)
        return SettlementDetailView.model_validate({**period.model_dump(), "groups": group_lines(lines)})

    def list_returns(
        self, tenant_id: str, instance_id: str, limit: int, cursor: str | None
    ) -> tuple[list[ReturnOrder], str | None]:
        """Return orders, newest first."""
        self.instances.get(tenant_id, instance_id)
        return self.returns.page(tenant_id, instance_id, limit, cursor)

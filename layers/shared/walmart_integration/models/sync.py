"""Stored progress of Marketplace sync runs (``store/runs``): a run's units of work and its per-page counts."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

UnitState = str  # "pending", "done" or "split"


class RunState(BaseModel):
    """One run of one stream, as its item holds it (``RUN#...``): per page, how many records it stored and skipped
    (and a sample error); per unit of work, whether it is pending, done or split."""

    model_config = ConfigDict(extra="ignore")  # the item's keys and TTL are the store's business

    units: dict[str, UnitState] = Field(default_factory=dict)
    records: dict[str, int] = Field(default_factory=dict)
    skipped: dict[str, int] = Field(default_factory=dict)
    errors: dict[str, str] = Field(default_factory=dict)
    started_at: str | None = None

    @field_validator("units", "records", "skipped", "errors", mode="before")
    @classmethod
    def _missing_map_is_empty(cls, value: Any) -> Any:
        return value or {}

    @property
    def complete(self) -> bool:
        return bool(self.units) and all(state != "pending" for state in self.units.values())

    @property
    def total_records(self) -> int:
        return sum(self.records.values())

    @property
    def total_skipped(self) -> int:
        return sum(self.skipped.values())

    def error_summary(self) -> str | None:
        if not self.total_skipped:
            return None
        samples = "; ".join(list(self.errors.values())[:3])
        return f"{self.total_skipped} malformed record(s) skipped: {samples}"

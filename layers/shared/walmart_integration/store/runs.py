"""Repository of sync runs: progress and completion of one run of a stream, written idempotently.

A run item holds, per page, how many records it stored and skipped (map entries set, never
incremented, so a redelivered page cannot count twice) and, per unit of work (an orders pass of
one ship-node type, a backfill window), whether it is pending, done or split. The run is complete
when no unit is pending. The sync state item holds the incremental watermark of each stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from walmart_integration.store import dynamo, keys
from walmart_integration.store.base import Repository

RUN_TTL_DAYS = 30
MAX_ERRORS_KEPT = 20


@dataclass
class RunState:
    units: dict[str, str] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    started_at: str | None = None

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


def _state(item: dict[str, Any] | None) -> RunState:
    data = dynamo.deserialize(item) if item else {}
    return RunState(
        units=dict(data.get("units") or {}),
        records={k: int(v) for k, v in (data.get("records") or {}).items()},
        skipped={k: int(v) for k, v in (data.get("skipped") or {}).items()},
        errors=dict(data.get("errors") or {}),
        started_at=data.get("started_at"),
    )


class RunRepository(Repository):
    def _key(self, tenant_id: str, instance_id: str, stream: str, run_id: str) -> dict[str, Any]:
        return {"pk": {"S": keys.tenant_pk(tenant_id)}, "sk": {"S": keys.run_sk(instance_id, stream, run_id)}}

    def begin(self, tenant_id: str, instance_id: str, stream: str, run_id: str, moment: datetime) -> RunState:
        """Create the run's item if it is new (idempotent) and return its state: ``started_at`` is the ``moment``
        the run was first begun, the same every time it is planned again (after a worker died mid-plan)."""
        values: dict[str, Any] = {
            ":empty": {"M": {}},
            ":now": {"S": moment.isoformat()},
            ":expires": {"N": str(int((datetime.now(UTC) + timedelta(days=RUN_TTL_DAYS)).timestamp()))},
        }
        response = self.client.update_item(
            TableName=self.table,
            Key=self._key(tenant_id, instance_id, stream, run_id),
            UpdateExpression=(
                "SET #units = if_not_exists(#units, :empty), records = if_not_exists(records, :empty), "
                "skipped = if_not_exists(skipped, :empty), errors = if_not_exists(errors, :empty), "
                "started_at = if_not_exists(started_at, :now), expires_at = :expires"
            ),
            ExpressionAttributeNames={"#units": "units"},
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        return _state(response.get("Attributes"))

    def plan(self, tenant_id: str, instance_id: str, stream: str, run_id: str, units: list[str]) -> RunState:
        """Register the run's units of work as pending (idempotent: an existing unit keeps its state)."""
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
        names: dict[str, str] = {"#units": "units"}
        values: dict[str, Any] = {}
        sets = []
        for index, (unit, state) in enumerate(units.items()):
            names[f"#u{index}"] = unit
            values[f":u{index}"] = {"S": state}
            target = f"#units.#u{index}"
            sets.append(f"{target} = if_not_exists({target}, :u{index})" if only_new else f"{target} = :u{index}")
        return self._set(self._key(tenant_id, instance_id, stream, run_id), sets, names, values)

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
        """Record a page's counts (and, on its last page, its unit as done); returns the run's state."""
        names = {"#p": page_id, "#records": "records", "#skipped": "skipped"}
        values: dict[str, Any] = {":r": {"N": str(records)}, ":s": {"N": str(skipped)}}
        sets = ["#records.#p = :r", "#skipped.#p = :s"]
        if error:
            names["#errors"] = "errors"
            values[":e"] = {"S": error[:300]}
            sets.append("#errors.#p = :e")
        if unit_done:
            names["#units"] = "units"
            names["#u"] = unit_done
            values[":done"] = {"S": "done"}
            sets.append("#units.#u = :done")
        return self._set(self._key(tenant_id, instance_id, stream, run_id), sets, names, values)

    def _set(self, key: dict[str, Any], sets: list[str], names: dict[str, str], values: dict[str, Any]) -> RunState:
        """Apply SET clauses to a run item and return the run's state after them."""
        response = self.client.update_item(
            TableName=self.table,
            Key=key,
            UpdateExpression="SET " + ", ".join(sets),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        return _state(response.get("Attributes"))

    def get(self, tenant_id: str, instance_id: str, stream: str, run_id: str) -> RunState:
        response = self.client.get_item(
            TableName=self.table, Key=self._key(tenant_id, instance_id, stream, run_id), ConsistentRead=True
        )
        return _state(response.get("Item"))

    # -- incremental watermarks --------------------------------------------------------------------------
    def watermark(self, tenant_id: str, instance_id: str, stream: str) -> str | None:
        response = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": keys.tenant_pk(tenant_id)}, "sk": {"S": keys.sync_state_sk(instance_id)}},
            ConsistentRead=True,
        )
        item = dynamo.deserialize(response["Item"]) if "Item" in response else {}
        value = (item.get("watermarks") or {}).get(stream)
        return str(value) if value else None

    def advance_watermark(self, tenant_id: str, instance_id: str, stream: str, moment: str) -> None:
        """Move the watermark forward (never back: a late, older run cannot rewind it)."""
        key = {"pk": {"S": keys.tenant_pk(tenant_id)}, "sk": {"S": keys.sync_state_sk(instance_id)}}
        self.client.update_item(
            TableName=self.table,
            Key=key,
            UpdateExpression="SET watermarks = if_not_exists(watermarks, :empty)",
            ExpressionAttributeValues={":empty": {"M": {}}},
        )
        try:
            self.client.update_item(
                TableName=self.table,
                Key=key,
                UpdateExpression="SET watermarks.#s = :m",
                ConditionExpression="attribute_not_exists(watermarks.#s) OR watermarks.#s < :m",
                ExpressionAttributeNames={"#s": stream},
                ExpressionAttributeValues={":m": {"S": moment}},
            )
        except Exception as error:
            if not dynamo.is_conditional_failure(error):
                raise

"""Repository of sync runs: progress and completion of one run of a stream, written idempotently.

A run item holds, per page, how many records it stored and skipped (map entries set, never
incremented, so a redelivered page cannot count twice) and, per unit of work (an orders pass of
one ship-node type, a backfill window), whether it is pending, done or split. The run is complete
when no unit is pending. The sync state item holds the incremental watermark of each stream.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from walmart_integration.models.sync import RunState
from walmart_integration.store import dynamo, keys
from walmart_integration.store.base import Repository
from walmart_integration.store.expressions import Update

__all__ = ["RunRepository", "RunState"]

RUN_TTL_DAYS = 30
MAX_ERRORS_KEPT = 20


def _state(item: dict[str, Any] | None) -> RunState:
    return RunState.model_validate(dynamo.deserialize(item) if item else {})


class RunRepository(Repository):
    def _key(self, tenant_id: str, instance_id: str, stream: str, run_id: str) -> dict[str, Any]:
        return {"pk": {"S": keys.tenant_pk(tenant_id)}, "sk": {"S": keys.run_sk(instance_id, stream, run_id)}}

    def begin(self, tenant_id: str, instance_id: str, stream: str, run_id: str, moment: datetime) -> RunState:
        """Create the run's item if it is new (idempotent) and return its state: ``started_at`` is the ``moment``
        the run was first begun, the same every time it is planned again (after a worker died mid-plan)."""
        expires_at = int((datetime.now(UTC) + timedelta(days=RUN_TTL_DAYS)).timestamp())
        update = Update()
        for name in ("units", "records", "skipped", "errors"):
            update.set(name, {}, if_not_exists=True)
        update.set("started_at", moment.isoformat(), if_not_exists=True).set("expires_at", expires_at)
        return self._apply(self._key(tenant_id, instance_id, stream, run_id), update)

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
        update = Update()
        for unit, state in units.items():
            update.set(("units", unit), state, if_not_exists=only_new)
        return self._apply(self._key(tenant_id, instance_id, stream, run_id), update)

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
        update = Update().set(("records", page_id), records).set(("skipped", page_id), skipped)
        if error:
            update.set(("errors", page_id), error[:300])
        if unit_done:
            update.set(("units", unit_done), "done")
        return self._apply(self._key(tenant_id, instance_id, stream, run_id), update)

    def _apply(self, key: dict[str, Any], update: Update) -> RunState:
        """Apply ``update`` to a run item and return the run's state after it."""
        response = self.client.update_item(TableName=self.table, Key=key, ReturnValues="ALL_NEW", **update.params())
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
            TableName=self.table, Key=key, **Update().set("watermarks", {}, if_not_exists=True).params()
        )
        update = Update().set(("watermarks", stream), moment)
        condition = (
            f"{update.not_exists(('watermarks', stream))} OR {update.compare(('watermarks', stream), '<', moment)}"
        )
        try:
            self.client.update_item(TableName=self.table, Key=key, **update.params(condition))
        except dynamo.ClientError as error:
            if not dynamo.is_conditional_failure(error):
                raise

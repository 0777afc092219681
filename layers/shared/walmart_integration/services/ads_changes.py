"""Write-back: a user's campaign or keyword change, queued, sent to Walmart Connect once, its result recorded.

Walmart's updates are absolute (``dailyBudget = 25.00``, ``state = paused``), so sending a change again after a
worker died between Walmart's answer and our record of it changes nothing at Walmart: at-least-once is safe.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from walmart_integration.errors import RetryLater
from walmart_integration.models.common import iso, utcnow
from walmart_integration.models.messages import AdsChangeJob
from walmart_integration.observability import logger
from walmart_integration.services.connect_gateway import ConnectGateway
from walmart_integration.store.advertising import AdvertisingRepository
from walmart_integration.walmart.errors import WalmartAuthError, WalmartError, WalmartUnavailable

if TYPE_CHECKING:
    from walmart_integration.worker import Delivery

WIRE_NAMES = {"daily_budget": "dailyBudget", "status": "status", "bid": "bid", "state": "state"}


def walmart_update(entity: str, entity_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """The item Walmart's PUT takes: the id and the changed attributes only (money as exact decimals)."""
    update: dict[str, Any] = {"campaignId" if entity == "campaign" else "keywordId": int(entity_id)}
    for name, value in changes.items():
        update[WIRE_NAMES[name]] = Decimal(str(value)) if name in ("daily_budget", "bid") else value
    return update


class AdsChanges:
    def __init__(
        self, repo: AdvertisingRepository, gateway: ConnectGateway, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.repo = repo
        self.gateway = gateway
        self.clock = clock

    def send(self, job: AdsChangeJob, delivery: Delivery) -> None:
        change = self.repo.get_change(job.tenant_id, job.account_id, job.change_id)
        if change is None or change.status != "queued":
            return  # already sent (a duplicate delivery) or gone
        profile = self.repo.get_profile(str(change.advertiser_id))
        if profile is None or profile.status != "active":
            reason = (profile.status_reason if profile else None) or "The advertising profile is no longer available."
            self._finish(job, False, reason)
            return
        if profile.access != "write":
            self._finish(job, False, "The advertiser granted read-only access: changes cannot be sent.")
            return
        update = walmart_update(change.entity, str(change.entity_id), change.changes)
        try:
            if change.entity == "campaign":
                result = self.gateway.call(lambda c: c.update_campaign(update), what="campaign change")
            else:
                result = self.gateway.call(lambda c: c.update_keyword(update), what="keyword change")
        except WalmartUnavailable as error:
            if delivery.is_last_attempt:
                self._finish(job, False, f"Walmart Connect unavailable: {error.message}")
                return
            raise RetryLater(error.message) from error
        except (WalmartAuthError, WalmartError) as error:
            self._finish(job, False, f"Walmart refused the change: {error.message}")
            return
        self._finish(job, result.ok, None if result.ok else (result.details or "Walmart refused the change."))

    def _finish(self, job: AdsChangeJob, ok: bool, error: str | None) -> None:
        values = {"status": "succeeded" if ok else "failed", "error": error, "finished_at": iso(self.clock())}
        if self.repo.finish_change(job.tenant_id, job.account_id, job.change_id, values):
            logger.info("Advertising change sent", extra={"change_id": job.change_id, "ok": ok, "reason": error})

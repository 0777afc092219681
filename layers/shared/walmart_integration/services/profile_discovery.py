"""Which advertisers granted us access (profiles), and which tenant each belongs to.

Discovery (every 15 minutes, or on request): one insight snapshot for the whole partner, polled through SQS
delays, downloaded, parsed; profiles are upserted, the ones Walmart stopped listing are marked revoked, and
tenants' claims are applied. Its cost in Walmart operations does not depend on the number of tenants. Each run
also asks Walmart which report day it has published (``ads_reports.ReportAvailability``): the scheduler starts
the daily refresh from that.

Only a list read whole revokes: a failed snapshot, an unreadable file or an empty list (while we hold active
profiles) changes no profile: it is logged and a new snapshot is asked for (three in all), and the next scheduled
run tries again. An empty list is believed only when the next snapshot is empty too. A file with some unreadable
records updates the profiles it lists but revokes none (docs/walmart/FACTS.md, "Checked behaviours — Walmart
Connect").

Assignment rule (one place: ``ProfileAssignment.apply``): a profile goes to a tenant automatically when exactly one
tenant claims the advertiser and the claimed name matches Walmart's; otherwise it waits for an operator.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from walmart_integration.config import Settings
from walmart_integration.errors import Conflict, NotFound, RetryLater
from walmart_integration.models.advertising import ClaimRecord, DiscoveryRecord
from walmart_integration.models.common import iso, new_id, precise_iso, utcnow
from walmart_integration.models.messages import ProfileRefreshJob
from walmart_integration.observability import logger
from walmart_integration.services.connect_gateway import ConnectGateway, poll_delay
from walmart_integration.store.advertising import AdvertisingRepository
from walmart_integration.store.queues import Queues
from walmart_integration.walmart.errors import WalmartAuthError, WalmartError, WalmartUnavailable

if TYPE_CHECKING:
    from walmart_integration.worker import Delivery

BUSY_MINUTES = 30  # a discovery run older than this is considered dead and may be replaced
SNAPSHOT_ATTEMPTS = 3  # advertiser snapshots asked for in one run before it ends failed (profiles kept)
WAITING_NOT_LISTED = "Walmart does not list this advertiser for our partner access yet (checked every 15 minutes)."
WAITING_MISMATCH = "The claimed name differs from the advertiser's name in Walmart; an operator will review it."
WAITING_CONTESTED = "More than one tenant claims this advertiser; an operator will review it."
REJECTED = "An operator assigned this advertiser to another tenant."
REVOKED = "Walmart no longer lists this advertiser for our partner access (the partner was removed); syncing stopped."


def same_name(a: str, b: str) -> bool:
    """Names as a person would compare them: case, spacing and punctuation aside."""

    def norm(name: str) -> str:
        return " ".join(re.sub(r"[^\w\s]", " ", name.casefold()).split())

    return norm(a) == norm(b)


class ProfileAssignment:
    """Applies tenants' claims to a profile (the only place that assigns profiles)."""

    def __init__(self, repo: AdvertisingRepository, clock: Callable[[], datetime] = utcnow) -> None:
        self.repo = repo
        self.clock = clock

    def apply(self, advertiser_id: str) -> str | None:
        """Bring the profile's owner and its claims' statuses up to date; the owner tenant, if any."""
        now = iso(self.clock()) or ""
        profile = self.repo.get_profile(advertiser_id)
        claims = self.repo.claims_for(advertiser_id)
        if profile is None:
            for claim in claims:
                self._claim(claim, "waiting", WAITING_NOT_LISTED, now)
            return None
        owner = profile.tenant_id
        live = [claim for claim in claims if claim.status != "rejected"]
        if owner is None and len(live) == 1:
            claim = live[0]
            if same_name(claim.advertiser_name, profile.advertiser_name):
                if self.repo.assign_profile(advertiser_id, claim.tenant_id, "claim", now):
                    logger.info("Profile assigned by claim", extra={"advertiser_id": advertiser_id})
                profile = self.repo.get_profile(advertiser_id) or profile
                owner = profile.tenant_id
            else:
                self.repo.profile_waiting(advertiser_id, "name_mismatch")
        elif owner is None and len(live) > 1:
            self.repo.profile_waiting(advertiser_id, "contested")
        for claim in claims:
            if claim.tenant_id == owner:
                self._claim(claim, "assigned", None, now)
            elif claim.status == "rejected":
                continue
            elif owner is None and len(live) == 1:
                self._claim(claim, "waiting", WAITING_MISMATCH, now)
            else:
                self._claim(claim, "waiting", WAITING_CONTESTED, now)
        return str(owner) if owner else None

    def resolve(self, advertiser_id: str, tenant_id: str) -> None:
        """Operator: give the profile to ``tenant_id`` (who must have claimed it); other claims are rejected."""
        now = iso(self.clock()) or ""
        claims = {claim.tenant_id: claim for claim in self.repo.claims_for(advertiser_id)}
        if tenant_id not in claims:
            raise NotFound(f"Tenant {tenant_id} has not claimed advertiser {advertiser_id}.")
        if self.repo.get_profile(advertiser_id) is None:
            raise NotFound(f"Walmart has not listed advertiser {advertiser_id} for our partner access.")
        if not self.repo.assign_profile(advertiser_id, tenant_id, "operator", now, force=True):
            raise Conflict(f"Advertiser {advertiser_id} is linked to an account; it must be unlinked first.")
        for tenant, claim in claims.items():
            if tenant == tenant_id:
                self._claim(claim, "assigned", None, now)
            else:
                self._claim(claim, "rejected", REJECTED, now)

    def reject(self, advertiser_id: str, tenant_id: str) -> None:
        """Operator: refuse one tenant's claim; the remaining claims are applied again."""
        claims = {claim.tenant_id: claim for claim in self.repo.claims_for(advertiser_id)}
        if tenant_id not in claims:
            raise NotFound(f"Tenant {tenant_id} has not claimed advertiser {advertiser_id}.")
        self.repo.set_claim(
            advertiser_id, tenant_id, "rejected", "An operator rejected this claim.", iso(self.clock()) or ""
        )
        self.apply(advertiser_id)

    def waiting(self) -> list[dict[str, Any]]:
        """Profiles an operator has to decide, with their claims."""
        result = []
        for profile in self.repo.all_profiles():
            if profile.tenant_id or not profile.assignment_reason:
                continue
            claims = [
                {"tenant_id": c.tenant_id, "advertiser_name": c.advertiser_name, "status": c.status}
                for c in self.repo.claims_for(profile.advertiser_id)
            ]
            result.append(
                {
                    "advertiser_id": profile.advertiser_id,
                    "advertiser_name": profile.advertiser_name,
                    "reason": profile.assignment_reason,
                    "claims": claims,
                }
            )
        return result

    def _claim(self, claim: ClaimRecord, status: str, reason: str | None, now: str) -> None:
        if claim.status != status or claim.reason != reason:
            self.repo.set_claim(claim.advertiser_id, claim.tenant_id, status, reason, now)


class ProfileDiscovery:
    def __init__(
        self,
        settings: Settings,
        repo: AdvertisingRepository,
        gateway: ConnectGateway,
        queues: Queues,
        assignment: ProfileAssignment,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.repo = repo
        self.gateway = gateway
        self.queues = queues
        self.assignment = assignment
        self.clock = clock

    def start(self, trigger: str) -> DiscoveryRecord:
        """Start a run (schedule or API). A run in progress, or one that finished moments ago, is joined."""
        now = self.clock()
        refresh_id = new_id()
        run = DiscoveryRecord(refresh_id=refresh_id, status="requested", requested_at=iso(now) or "", trigger=trigger)
        # The schedule always starts a run once the last one ended; a request soon after one ended joins it.
        fresh_since = (
            "9999-12-31T23:59:59Z"
            if trigger == "schedule"
            else iso(now - timedelta(seconds=self.settings.ads_discovery_min_interval_seconds)) or ""
        )
        busy_since = iso(now - timedelta(minutes=BUSY_MINUTES)) or ""
        started = self.repo.start_discovery(run, busy_since=busy_since, fresh_since=fresh_since)
        if not started:
            current = self.repo.discovery()
            logger.info("Profile discovery joins the current run", extra={"trigger": trigger})
            return current or run
        self.queues.send(self.settings.profile_refresh_queue_url, ProfileRefreshJob(refresh_id=refresh_id))
        logger.info("Profile discovery started", extra={"trigger": trigger, "refresh_id": refresh_id})
        return run

    def step(self, job: ProfileRefreshJob, delivery: Delivery) -> None:
        state = self.repo.discovery()
        if state is None or state.refresh_id != job.refresh_id or state.status in ("succeeded", "failed"):
            logger.info("Stale discovery message dropped", extra={"refresh_id": job.refresh_id})
            return
        try:
            if job.snapshot_id is None:
                self._request(job, state)
            elif state.snapshot_id == job.snapshot_id:
                self._poll(job, state)
        except WalmartUnavailable as error:
            if delivery.is_last_attempt:
                self._fail(job.refresh_id, f"Walmart Connect unavailable: {error.message}")
                return
            raise RetryLater(error.message) from error
        except (WalmartAuthError, WalmartError) as error:
            self._fail(job.refresh_id, f"Walmart Connect refused the discovery: {error.message}")

    def _request(self, job: ProfileRefreshJob, state: DiscoveryRecord) -> None:
        if state.snapshot_id:
            return  # a duplicate of a request that went through: its poll chain is running
        self._note_report_dates()
        snapshot = self.gateway.call(
            lambda c: c.request_insight_snapshot(self.settings.ads_insight_type), what="insight snapshot"
        )
        values = {
            "status": "polling",
            "snapshot_id": snapshot.snapshot_id,
            "snapshot_requested_at": precise_iso(self.clock()),
        }
        if self.repo.update_discovery(job.refresh_id, values):
            next_job = job.model_copy(update={"snapshot_id": snapshot.snapshot_id, "polls": 0})
            self.queues.send(self.settings.profile_refresh_queue_url, next_job, poll_delay(self.settings, 0))

    def _note_report_dates(self) -> None:
        """Ask Walmart which report day it has published (one operation per run): the scheduler starts the daily
        refresh from it. A failure here is logged and leaves discovery alone (the next run asks again)."""
        from walmart_integration.services.ads_reports import ReportAvailability

        availability = ReportAvailability(self.settings, self.repo, self.gateway, self.clock)
        try:
            availability.latest(max_age_seconds=0)
        except (WalmartAuthError, WalmartError) as error:
            logger.warning("Walmart's latest report dates not read", extra={"reason": error.message})

    def _poll(self, job: ProfileRefreshJob, state: DiscoveryRecord) -> None:
        snapshot_id = job.snapshot_id or ""
        snapshot = self.gateway.call(lambda c: c.insight_snapshot(snapshot_id), what="insight poll")
        if snapshot.is_failed:
            self._bad_snapshot(job, state, f"Walmart's advertiser snapshot ended {snapshot.job_status}")
            return
        if not snapshot.is_done:
            polls = job.polls + 1
            self.repo.update_discovery(job.refresh_id, {"polls": polls})
            next_job = job.model_copy(update={"polls": polls})
            self.queues.send(self.settings.profile_refresh_queue_url, next_job, poll_delay(self.settings, polls))
            return
        from walmart_integration.walmart.connect_files import parse_advertisers

        data = self.gateway.call(lambda c: c.download(snapshot.details), what="insight download")
        try:
            records, skipped = parse_advertisers(data)
        except ValueError as error:
            self._bad_snapshot(job, state, f"Walmart's advertiser file could not be read ({error})")
            return
        if skipped and not records:
            self._bad_snapshot(job, state, f"Walmart's advertiser file held {skipped} unreadable records only")
            return
        if not records and not state.empty_before and self._holds_active_profiles():
            # One empty list is not "every advertiser removed the partner": ask again. A second empty list in a row
            # is believed (else the last advertiser to remove us would never be seen to go).
            self._bad_snapshot(job, state, "Walmart's advertiser file held an empty list", empty=True)
            return
        listed_before = str(state.snapshot_requested_at or state.requested_at)
        revoked = self.apply(records, listed_before, revoke=not skipped)
        note = None
        if skipped:
            note = f"{skipped} advertiser records could not be read: profiles missing from the file were not revoked."
            logger.warning("Advertiser file partly unreadable", extra={"skipped": skipped, "profiles": len(records)})
        self.repo.update_discovery(
            job.refresh_id,
            {
                "status": "succeeded",
                "finished_at": iso(self.clock()),
                "profiles": len(records),
                "revoked": revoked,
                "skipped": skipped,
                "error": note,
            },
        )
        logger.info(
            "Profile discovery finished",
            extra={"profiles": len(records), "revoked": revoked, "skipped": skipped, "polls": job.polls},
        )

    def _holds_active_profiles(self) -> bool:
        return any(profile.status == "active" for profile in self.repo.all_profiles())

    def _bad_snapshot(self, job: ProfileRefreshJob, state: DiscoveryRecord, why: str, empty: bool = False) -> None:
        """A snapshot that lists nothing we can trust: no profile changes on its word. Ask Walmart for a new one
        (SNAPSHOT_ATTEMPTS in all), then end the run failed; the next scheduled run tries again."""
        attempts = state.attempts or 1
        logger.warning("Advertiser snapshot unusable; profiles kept", extra={"reason": why, "attempt": attempts})
        if attempts >= SNAPSHOT_ATTEMPTS:
            self._fail(job.refresh_id, f"{why} (after {attempts} snapshots); every profile was kept as it was.")
            return
        values = {
            "status": "requested",
            "snapshot_id": None,
            "attempts": attempts + 1,
            "last_problem": why,
            "empty_before": empty,
        }
        if self.repo.update_discovery(job.refresh_id, values):
            retry = job.model_copy(update={"snapshot_id": None, "polls": 0})
            self.queues.send(self.settings.profile_refresh_queue_url, retry, poll_delay(self.settings, 0))

    def apply(self, records: list[Any], listed_before: str, revoke: bool = True) -> int:
        """Upsert what Walmart listed, revoke what it stopped listing (only when ``revoke``: the list was read
        whole), apply claims; the number revoked.

        ``listed_before``: when the snapshot was asked for; a profile seen since (by a newer run) stays active.
        """
        now = precise_iso(self.clock())
        listed = set()
        for record in records:
            listed.add(record.advertiser_id)
            profile = self.repo.profile_seen(
                {
                    "advertiser_id": record.advertiser_id,
                    "advertiser_name": record.name,
                    "advertiser_type": record.advertiser_type,
                    "access": record.access,
                    "granted_at": record.granted_at,
                    "seller_id": record.seller_id,
                    "seller_name": record.seller_name,
                    "organization_name": record.organization_name,
                    "spend_limit_reached": record.spend_limit_reached,
                },
                now,
            )
            if not profile.tenant_id:
                self.assignment.apply(record.advertiser_id)
        revoked = 0
        for stored in self.repo.all_profiles() if revoke else []:
            if stored.advertiser_id in listed or stored.status != "active":
                continue
            if self.repo.profile_revoked(stored.advertiser_id, now, listed_before, REVOKED):
                revoked += 1
                logger.warning("Profile revoked by Walmart", extra={"advertiser_id": stored.advertiser_id})
        return revoked

    def _fail(self, refresh_id: str, message: str) -> None:
        logger.warning("Profile discovery failed", extra={"reason": message})
        self.repo.update_discovery(refresh_id, {"status": "failed", "finished_at": iso(self.clock()), "error": message})

"""Integration instances: create, read, list, update, delete — the seed's contract and its rules."""

from __future__ import annotations

import json
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from walmart_integration.config import Settings
from walmart_integration.errors import ValidationFailed, field_errors
from walmart_integration.models.common import new_id, utcnow
from walmart_integration.models.instance import (
    JOB_NAMES,
    NOMINAL_CODE_FIELDS,
    SYNC_JOB_NAMES,
    Environment,
    InstanceCreate,
    InstanceRecord,
    InstanceUpdate,
    InstanceView,
    Job,
)
from walmart_integration.models.messages import AccountingJob, TokenJob
from walmart_integration.models.reference import walmart_integration_ids
from walmart_integration.services.ports import Instances, MessageQueues, ReferenceData, Secrets

if TYPE_CHECKING:
    from walmart_integration.store.idempotency import RunOnce

# Settings whose change can release held accounting lines.
ACCOUNTING_SETTINGS = {
    *NOMINAL_CODE_FIELDS,
    "sync_sales_order_invoices_to_accounting",
    "sync_sales_credit_to_accounting",
    "proforma_marketplace_cost_percentage",
    "proforma_payment_cost_percentage",
}
ENVIRONMENT_IMMUTABLE = (
    "The environment cannot be changed after creation: OAuth credentials are bound to the issuing "
    "environment. Delete and recreate the instance to switch."
)


def credentials_context(tenant_id: str, instance_id: str) -> dict[str, str]:
    """KMS encryption context of an instance's client credentials."""
    return {"tenant_id": tenant_id, "instance_id": instance_id, "purpose": "walmart-client-credentials"}


def fresh_jobs(has_credentials: bool) -> dict[str, Job]:
    """Jobs of a new connection: the token job queued (or skipped without credentials), the rest pending."""
    jobs = {name: Job() for name in JOB_NAMES}
    if has_credentials:
        jobs["token"] = Job(status="queued")
    else:
        jobs["token"] = Job(status="skipped", error="No Walmart credentials: set connection_settings to connect.")
    return jobs


class InstanceService:
    def __init__(
        self,
        settings: Settings,
        instances: Instances,
        reference: ReferenceData,
        vault: Secrets,
        queues: MessageQueues,
        run_once: RunOnce | None = None,
    ) -> None:
        self.settings = settings
        self.instances = instances
        self.reference = reference
        self.vault = vault
        self.queues = queues
        self.run_once = run_once

    # -- reads -------------------------------------------------------------------------------
    def get(self, tenant_id: str, instance_id: str) -> InstanceView:
        return self.instances.get(tenant_id, instance_id).view()

    def page(self, tenant_id: str, limit: int, cursor: str | None) -> tuple[list[InstanceView], str | None]:
        records, next_cursor = self.instances.page(tenant_id, limit, cursor)
        return [record.view() for record in records], next_cursor

    # -- writes ------------------------------------------------------------------------------
    def create(
        self, tenant_id: str, body: InstanceCreate, idempotency_key: str | None = None, lambda_context: Any = None
    ) -> InstanceView:
        """Create an instance. With the client's ``idempotency_key``, a retry returns the first response and creates
        nothing; the same key with another body is Powertools' ``IdempotencyValidationError`` (the API's 409)."""
        if idempotency_key is None:
            return self._create(tenant_id, body)
        if self.run_once is None:
            raise RuntimeError("InstanceService was built without run_once: an Idempotency-Key cannot be honoured")
        view = self.run_once(
            {"operation": "create_instance", "tenant_id": tenant_id, "idempotency_key": idempotency_key},
            lambda: self._create(tenant_id, body).model_dump(mode="json"),
            lambda_context,
            payload=body.model_dump(mode="json"),
        )
        return InstanceView.model_validate(view)

    def _create(self, tenant_id: str, body: InstanceCreate) -> InstanceView:
        settings = body.integration_settings.model_dump()
        self._check_references(tenant_id, body.integration_id, settings, changed=None)
        environment = self._environment(body.environment)
        instance_id = new_id()
        client_id = body.connection_settings.clientId if body.connection_settings else None
        client_secret = body.connection_settings.clientSecret if body.connection_settings else None
        connectable = bool(client_id and client_secret)
        now = utcnow()
        record = InstanceRecord(
            tenant_id=tenant_id,
            id=instance_id,
            name=body.name,
            integration_id=body.integration_id,
            environment=environment,
            client_id=client_id,
            has_client_secret=client_secret is not None,
            credentials=self._seal(tenant_id, instance_id, client_id, client_secret),
            credentials_version=1,
            integration_settings=settings,
            is_automatic_sync_enabled=body.is_automatic_sync_enabled,
            status="pending" if connectable else "credentials_missing",
            jobs=fresh_jobs(connectable),
            created_at=now,
            updated_at=now,
        )
        self.instances.create(record)
        if connectable:
            # Never leave an instance that waits for a job nobody will run: if the job cannot be queued, the instance
            # is deleted again and the failure propagates (the client retries). Nothing is caught.
            with ExitStack() as undo:
                undo.callback(self.instances.delete, record)
                self._enqueue_token_job(record)
                undo.pop_all()
        return record.view()

    def update(self, tenant_id: str, instance_id: str, patch: InstanceUpdate) -> InstanceView:
        current = self.instances.get(tenant_id, instance_id)
        sent = patch.model_fields_set
        if "environment" in sent and not self.settings.is_production and patch.environment != current.environment:
            raise ValidationFailed({"environment": [ENVIRONMENT_IMMUTABLE]})
        changes: dict[str, Any] = {}
        merged_settings = dict(current.integration_settings)
        if patch.integration_settings is not None:
            merged_settings.update(patch.integration_settings.model_dump(exclude_unset=True))
        elif "integration_settings" in sent:
            raise ValidationFailed({"integration_settings": ["This field must be a JSON object."]})
        candidate = {
            "name": patch.name if "name" in sent else current.name,
            "integration_id": patch.integration_id if "integration_id" in sent else current.integration_id,
            "integration_settings": merged_settings,
            "is_automatic_sync_enabled": (
                patch.is_automatic_sync_enabled
                if "is_automatic_sync_enabled" in sent
                else current.is_automatic_sync_enabled
            ),
        }
        try:
            valid = InstanceCreate.model_validate(candidate)
        except ValidationError as error:
            raise ValidationFailed(field_errors(list(error.errors()), drop_prefix=())) from None
        new_settings = valid.integration_settings.model_dump()
        changed_settings = {k for k, v in new_settings.items() if current.integration_settings.get(k) != v}
        self._check_references(
            tenant_id,
            valid.integration_id if valid.integration_id != current.integration_id else None,
            new_settings,
            changed=changed_settings,
        )
        for name in ("name", "integration_id", "is_automatic_sync_enabled"):
            if getattr(valid, name) != getattr(current, name):
                changes[name] = getattr(valid, name)
        if changed_settings:
            changes["integration_settings"] = new_settings
        if patch.connection_settings is not None or "connection_settings" in sent:
            changes.update(self._credential_changes(current, patch))
        if not changes:
            return current.view()
        updated = self.instances.update(current, changes)
        if "credentials_version" in changes and updated.has_credentials:
            self._enqueue_token_job(updated)
        if changed_settings & ACCOUNTING_SETTINGS:
            # Lines held for a missing nominal code (or a flag that was off) are evaluated again.
            job = AccountingJob(tenant_id=tenant_id, instance_id=instance_id, release=True)
            self.queues.send(self.settings.accounting_queue_url, job)
        return updated.view()

    def delete(self, tenant_id: str, instance_id: str) -> None:
        """Delete the instance with its encrypted secrets; its queued work finds it gone and is dropped."""
        current = self.instances.get(tenant_id, instance_id)
        self.instances.delete(current)

    # -- rules -------------------------------------------------------------------------------
    def _environment(self, requested: Environment | None) -> Environment:
        if self.settings.is_production:
            return "production"
        return requested or "sandbox"

    def _check_references(
        self, tenant_id: str, integration_id: int | None, settings: dict[str, Any], changed: set[str] | None
    ) -> None:
        """422 for an unknown integration type, store or nominal code (``changed``: only those fields)."""
        errors: dict[str, list[str]] = {}
        if integration_id is not None and integration_id not in walmart_integration_ids():
            errors["integration_id"] = [f"Integration {integration_id} is not a Walmart integration type."]
        wanted: dict[str, set[int]] = {"store": set(), "nominalcode": set()}
        if changed is None or "store_id" in changed:
            wanted["store"].add(settings["store_id"])
        codes = {f: settings[f] for f in NOMINAL_CODE_FIELDS if settings.get(f) is not None}
        codes = {f: v for f, v in codes.items() if changed is None or f in changed}
        wanted["nominalcode"].update(codes.values())
        found = self.reference.existing(tenant_id, wanted) if any(wanted.values()) else wanted
        if wanted["store"] - found.get("store", set()):
            errors["integration_settings.store_id"] = [f"Store {settings['store_id']} does not exist."]
        for field_name, code_id in codes.items():
            if code_id not in found.get("nominalcode", set()):
                errors[f"integration_settings.{field_name}"] = [f"Nominal code {code_id} does not exist."]
        if errors:
            raise ValidationFailed(errors)

    def _seal(self, tenant_id: str, instance_id: str, client_id: str | None, secret: str | None) -> bytes | None:
        if not (client_id and secret):
            return None
        plaintext = json.dumps({"clientId": client_id, "clientSecret": secret}).encode()
        return self.vault.encrypt(plaintext, credentials_context(tenant_id, instance_id))

    def _credential_changes(self, current: InstanceRecord, patch: InstanceUpdate) -> dict[str, Any]:
        """New credentials mean a new connection: new version, token dropped, jobs restarted. Client credentials
        replace a seller's OAuth authorization: its refresh token is deleted with the access token."""
        connection = patch.connection_settings
        given = connection.model_fields_set if connection else {"clientId", "clientSecret"}
        client_id = (connection.clientId if connection else None) if "clientId" in given else current.client_id
        secret: str | None
        if "clientSecret" in given:
            secret = connection.clientSecret if connection else None
        elif current.credentials is not None:
            secret = open_credentials(self.vault, current)[1]
        else:
            secret = None
        if client_id == current.client_id and "clientSecret" not in given:
            return {}
        connectable = bool(client_id and secret)
        return {
            "client_id": client_id,
            "has_client_secret": secret is not None,
            "credentials": self._seal(current.tenant_id, current.id, client_id, secret),
            "credentials_version": current.credentials_version + 1,
            "seller_id": None,
            "refresh_token": None,
            "access_token": None,
            "access_token_expires_at": None,
            "status": "pending" if connectable else "credentials_missing",
            "jobs": fresh_jobs(connectable),
        }

    def _enqueue_token_job(self, record: InstanceRecord) -> None:
        job = TokenJob(
            tenant_id=record.tenant_id, instance_id=record.id, credentials_version=record.credentials_version
        )
        self.queues.send(self.settings.token_queue_url, job)


def open_credentials(vault: Secrets, record: InstanceRecord) -> tuple[str, str]:
    """(clientId, clientSecret) of an instance; only workers and credential changes open them."""
    if record.credentials is None:
        raise ValueError("The instance has no credentials.")
    data = json.loads(vault.decrypt(record.credentials, credentials_context(record.tenant_id, record.id)))
    return str(data["clientId"]), str(data["clientSecret"])


__all__ = ["SYNC_JOB_NAMES", "InstanceService", "credentials_context", "fresh_jobs", "open_credentials"]

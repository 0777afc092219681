"""A seller authorizes our app on Walmart (OAuth 2.0 authorization code grant), and the instance connects with it.

Walmart's flow (docs/walmart/FACTS.md, "Seller authorization for a platform"): our authorization URL sends the
seller's browser to Walmart's authorize page with ``responseType=code``, ``clientId`` (our app), ``redirectUri``,
``clientType=seller``, ``nonce`` and ``state``; after the seller's Authorize, Walmart redirects the browser to the
redirect URI with ``code``, ``type=auth``, ``clientId``, ``sellerId`` and ``state``; we exchange the code at
``POST /v3/token`` (``grant_type=authorization_code``, ``WM_PARTNER.ID`` = the seller id) for an access token and a
refresh token. A Decline comes back as OAuth's ``error=access_denied`` (Walmart does not document it; RFC 6749
4.1.2.1).

The ``state`` is ours: random, single use (its item is deleted as it is read), valid for minutes, and bound to the
tenant and instance it was made for (and that instance's connection at the time: a newer one makes it stale). Every
bad callback gets the same refusal, whatever the reason: the callback is public, and must not say whether an
instance exists.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlencode

from walmart_integration.config import Settings
from walmart_integration.errors import Conflict, NotFound
from walmart_integration.models.authorization import PendingAuthorization
from walmart_integration.models.common import iso, utcnow
from walmart_integration.models.instance import AuthorizationView, InstanceRecord, Job
from walmart_integration.models.messages import TokenJob
from walmart_integration.observability import MetricUnit, logger, metrics
from walmart_integration.services.connection import refresh_token_context, token_context
from walmart_integration.services.instances import fresh_jobs
from walmart_integration.store import dynamo
from walmart_integration.store.app_secret import AppNotConfigured
from walmart_integration.store.authorizations import AuthorizationRepository
from walmart_integration.store.instances import InstanceRepository
from walmart_integration.store.queues import Queues
from walmart_integration.store.vault import Vault
from walmart_integration.walmart.errors import WalmartError, WalmartGrantRefused
from walmart_integration.walmart.marketplace import AppCredentials, MarketplaceClient, OAuthTokens

# Walmart's examples use 10 upper-case letters and digits for both (page "Log in and authorize app scope"); ours are
# longer: the state is the only proof that a callback answers our own authorization URL.
_ALPHABET = string.ascii_uppercase + string.digits
STATE_LENGTH = 40
NONCE_LENGTH = 16
CLIENT_TYPE = "seller"  # the US marketplace ("seller-ca" / "seller-mx" elsewhere)
MAX_PARAMETER_LENGTH = 4096
SAVE_ATTEMPTS = 3

Outcome = Literal["connected", "declined", "invalid", "refused", "unavailable", "failed"]


@dataclass(frozen=True)
class Callback:
    """What Walmart appended to our redirect URI (every value as the browser sent it, possibly absent)."""

    code: str | None = None
    state: str | None = None
    type: str | None = None
    client_id: str | None = None
    seller_id: str | None = None
    error: str | None = None
    error_description: str | None = None


@dataclass(frozen=True)
class CallbackResult:
    outcome: Outcome
    seller_id: str | None = None  # connected: Walmart's seller id


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


class AuthorizationService:
    def __init__(
        self,
        settings: Settings,
        instances: InstanceRepository,
        authorizations: AuthorizationRepository,
        vault: Vault,
        queues: Queues,
        marketplace: Callable[[str], MarketplaceClient],
        app_credentials: Callable[[], AppCredentials],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.instances = instances
        self.authorizations = authorizations
        self.vault = vault
        self.queues = queues
        self.marketplace = marketplace
        self.app_credentials = app_credentials
        self.clock = clock

    # -- 1. the authorization URL ------------------------------------------------------------------------------------
    def start(self, tenant_id: str, instance_id: str, callback_url: str) -> AuthorizationView:
        """A single-use authorization URL for the instance (404 for another tenant's or a deleted instance).

        The redirect URI is the configured one (it must equal a URI registered for our app,
        docs/walmart/specs/marketplace__authentication.openapi.json, ``redirect_uri``), else ``callback_url``, our
        callback as the caller reached the API."""
        record = self.instances.get(tenant_id, instance_id)
        redirect_uri = self.settings.walmart_redirect_uri or callback_url
        app = self._app()
        state = _random(STATE_LENGTH)
        expires = self.clock() + timedelta(seconds=self.settings.oauth_state_ttl_seconds)
        pending = PendingAuthorization(
            tenant_id=tenant_id,
            instance_id=instance_id,
            credentials_version=record.credentials_version,
            redirect_uri=redirect_uri,
            expires_at=expires.timestamp(),
        )
        self.authorizations.open(state_hash(state), pending)
        # The parameters of Walmart's authorize page, in the order of its example (page "Log in and authorize app
        # scope"); all of them are mandatory there.
        query = urlencode(
            {
                "responseType": "code",
                "clientId": app.client_id,
                "redirectUri": redirect_uri,
                "nonce": _random(NONCE_LENGTH),
                "state": state,
                "clientType": CLIENT_TYPE,
            }
        )
        metrics.add_metric(name="AuthorizationsStarted", unit=MetricUnit.Count, value=1)
        return AuthorizationView(
            authorization_url=f"{self.settings.walmart_authorize_url}?{query}", expires_at=iso(expires) or ""
        )

    # -- 2. Walmart's redirect -------------------------------------------------------------------------------------
    def complete(self, callback: Callback) -> CallbackResult:
        """Check the state, exchange the code, store the tokens encrypted, queue the token job. Nothing is changed
        unless every check passes and Walmart gave the tokens."""
        if any(len(value) > MAX_PARAMETER_LENGTH for value in vars(callback).values() if value):
            return CallbackResult("invalid")
        if callback.error:
            # The seller declined (or Walmart refused the request): the state is spent, nothing is connected.
            if callback.state:
                self.authorizations.take(state_hash(callback.state))
            metrics.add_metric(name="AuthorizationsDeclined", unit=MetricUnit.Count, value=1)
            return CallbackResult("declined")
        if not (callback.state and callback.code and callback.seller_id):
            return CallbackResult("invalid")
        pending = self.authorizations.take(state_hash(callback.state))
        now = self.clock()
        if pending is None or pending.expires_at <= now.timestamp():
            return self._invalid("unknown, used or expired state")
        try:
            app = self.app_credentials()
        except AppNotConfigured as error:
            logger.error("Seller authorization is not configured", extra={"reason": str(error)})
            return CallbackResult("unavailable")
        if (callback.client_id and callback.client_id != app.client_id) or (callback.type not in (None, "auth")):
            return self._invalid("not an answer to our app's authorization")
        record = self.instances.find(pending.tenant_id, pending.instance_id)
        if record is None or record.credentials_version != pending.credentials_version:
            return self._invalid("the instance was deleted or reconnected since")
        try:
            tokens = self.marketplace(record.environment).exchange_code(
                app, callback.seller_id, callback.code, pending.redirect_uri, now=now
            )
        except WalmartGrantRefused as error:
            logger.info("Walmart refused the authorization code", extra={"walmart_message": error.message})
            return CallbackResult("refused")
        except WalmartError as error:
            logger.warning("The authorization code could not be exchanged", extra={"walmart_message": error.message})
            return CallbackResult("unavailable")
        if tokens.refresh_token is None:
            logger.warning("Walmart's answer to the authorization code carried no refresh token")
            return CallbackResult("unavailable")
        connected = self._connect(record, callback.seller_id, tokens)
        if connected is None:
            return self._invalid("the instance was deleted or reconnected during the exchange")
        job = TokenJob(
            tenant_id=connected.tenant_id, instance_id=connected.id, credentials_version=connected.credentials_version
        )
        try:
            self.queues.send(self.settings.token_queue_url, job)
        except (dynamo.ClientError, dynamo.BotoCoreError):
            # SQS refused or could not be reached. The tokens are stored but nothing would connect the instance: say so
            # on it, and to the person.
            logger.exception("The token job could not be queued")
            failed = Job(status="failed", error="The connection could not be started: authorize the app again.")
            self.instances.save_progress(
                connected.tenant_id, connected.id, connected.credentials_version, {"token": failed}, status="error"
            )
            return CallbackResult("failed")
        metrics.add_metric(name="AuthorizationsCompleted", unit=MetricUnit.Count, value=1)
        logger.append_keys(tenant_id=connected.tenant_id, instance_id=connected.id)
        logger.info("Seller authorization stored", extra={"seller_id": callback.seller_id})
        return CallbackResult("connected", seller_id=callback.seller_id)

    def _connect(self, record: InstanceRecord, seller_id: str, tokens: OAuthTokens) -> InstanceRecord | None:
        """The instance's new connection: OAuth tokens (KMS, bound to tenant and instance) replace whatever it had;
        the client credentials, if any, are deleted. None when the instance changed its connection meanwhile."""
        assert tokens.refresh_token is not None
        refresh = self.vault.encrypt(tokens.refresh_token.encode(), refresh_token_context(record.tenant_id, record.id))
        access = self.vault.encrypt(tokens.access.value.encode(), token_context(record.tenant_id, record.id))
        expected_version = record.credentials_version
        for _ in range(SAVE_ATTEMPTS):
            changes = {
                "client_id": None,
                "has_client_secret": False,
                "credentials": None,
                "seller_id": seller_id,
                "refresh_token": refresh,
                "access_token": access,
                "access_token_expires_at": tokens.access.expires_at,
                "credentials_version": expected_version + 1,
                "status": "connecting",
                "jobs": fresh_jobs(True),
            }
            try:
                return self.instances.update(record, changes)
            except NotFound:
                return None
            except Conflict:  # a concurrent change (a rename...): read it again, unless its connection changed
                found = self.instances.find(record.tenant_id, record.id)
                if found is None or found.credentials_version != expected_version:
                    return None
                record = found
        return None

    def _app(self) -> AppCredentials:
        try:
            return self.app_credentials()
        except AppNotConfigured as error:
            logger.error("Seller authorization is not configured", extra={"reason": str(error)})
            raise Conflict(
                "Connecting through Walmart's app authorization is not set up on this deployment; "
                "use connection_settings (clientId, clientSecret) instead."
            ) from None

    @staticmethod
    def _invalid(reason: str) -> CallbackResult:
        logger.info("Authorization callback refused", extra={"reason": reason})
        return CallbackResult("invalid")

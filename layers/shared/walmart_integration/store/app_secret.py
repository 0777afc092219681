"""Our Walmart solution provider app's client id and secret: one Secrets Manager secret per deployment, cached."""

from __future__ import annotations

from walmart_integration.store.partner_secret import PartnerSecret


class AppNotConfigured(RuntimeError):
    """The deployment has no (usable) app credentials: sellers cannot authorize it."""


class AppSecret(PartnerSecret):
    """Reads ``{"client_id", "client_secret"}`` (Powertools' secrets provider, cached like the partner secret)."""

    def client_credentials(self) -> tuple[str, str]:
        if not self.name:
            raise AppNotConfigured("WALMART_APP_SECRET_NAME is not set: the Walmart app's credentials are missing")
        data = self.values()
        client_id, client_secret = data.get("client_id"), data.get("client_secret")
        if not (isinstance(client_id, str) and client_id and isinstance(client_secret, str) and client_secret):
            raise AppNotConfigured(f"Secret {self.name} must hold client_id and client_secret")
        return client_id, client_secret

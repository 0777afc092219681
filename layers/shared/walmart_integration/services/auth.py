"""Bearer tokens: opaque, stored only as SHA-256 hashes, each bound to one tenant."""

from __future__ import annotations

import hashlib
import re
import secrets

from walmart_integration.errors import ValidationFailed
from walmart_integration.store.tenants import TenantRepository

TOKEN_PREFIX = "wis_"  # noqa: S105 (a prefix, not a secret)
TENANT_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_TOKEN_PATTERN = re.compile(r"^wis_[A-Za-z0-9_-]{20,100}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None when malformed."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not _TOKEN_PATTERN.match(token):
        return None
    return token


class AuthService:
    def __init__(self, tenants: TenantRepository) -> None:
        self.tenants = tenants

    def issue_token(self, tenant_id: str) -> str:
        """A new bearer token for the tenant (created if needed). Only its hash is stored."""
        if not TENANT_ID_PATTERN.match(tenant_id):
            raise ValidationFailed(
                {"tenant": ["A tenant name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit."]}
            )
        self.tenants.ensure_tenant(tenant_id)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.tenants.put_token(hash_token(token), tenant_id)
        return token

    def authenticate(self, authorization: str | None) -> str | None:
        """The tenant a valid, unrevoked token belongs to; None otherwise."""
        token = bearer_token(authorization)
        if token is None:
            return None
        record = self.tenants.get_token(hash_token(token))
        if record is None or record.revoked:
            return None
        return record.tenant_id

    def revoke(self, token: str) -> None:
        self.tenants.revoke_token(hash_token(token))

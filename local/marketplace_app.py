"""Our Walmart Marketplace app (the solution provider app sellers authorize) for a local stack or an in-process one.

The functions read the app's client id and secret from the Secrets Manager secret ``WALMART_APP_SECRET_NAME`` (as
deployed), so the stack writes that secret into its embedded AWS:
- with ``WALMART_MARKETPLACE_URL`` pointing at a real Walmart: from ``WALMART_APP_CLIENT_ID`` and
  ``WALMART_APP_CLIENT_SECRET`` (none: no secret, so sellers can only connect with their own API keys);
- otherwise: credentials made now, registered with the built-in emulator as an app (its redirect URI, the stack's
  callback, once the API listens: ``allow_redirect``).
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local.emulator import Emulator

ENV_NAMES = ("WALMART_APP_CLIENT_ID", "WALMART_APP_CLIENT_SECRET")
CALLBACK_PATH = "/api/walmart/oauth/callback"
APP_NAME = "Walmart Integration Service (local)"


@dataclass
class MarketplaceApp:
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uris: list[str] = field(default_factory=list)


def app_from_env(env: Mapping[str, str]) -> MarketplaceApp | None:
    """The credentials of a real app from the environment (None when none are given)."""
    given = [name for name in ENV_NAMES if env.get(name)]
    if not given:
        return None
    missing = [name for name in ENV_NAMES if not env.get(name)]
    if missing:
        raise ValueError(f"The Walmart app's credentials are incomplete: set {', '.join(missing)}")
    return MarketplaceApp(env["WALMART_APP_CLIENT_ID"], env["WALMART_APP_CLIENT_SECRET"])


def install_app(
    secretsmanager: Any,
    secret_name: str,
    emulator: Emulator | None,
    env: Mapping[str, str] | None = None,
    redirect_uris: Iterable[str] = (),
) -> MarketplaceApp | None:
    """Write the app secret; with the built-in emulator (``emulator``), make the app and register it there."""
    app = app_from_env(env or {}) if emulator is None else None
    if app is None and emulator is not None:
        app = MarketplaceApp(str(uuid.uuid4()), secrets.token_urlsafe(32))
    if app is None:
        return None
    app.redirect_uris = list(redirect_uris)
    if emulator is not None:
        emulator.register_app(app.client_id, app.client_secret, app.redirect_uris, APP_NAME)
    body = json.dumps({"client_id": app.client_id, "client_secret": app.client_secret})
    try:
        secretsmanager.create_secret(Name=secret_name, SecretString=body)
    except secretsmanager.exceptions.ResourceExistsException:
        secretsmanager.put_secret_value(SecretId=secret_name, SecretString=body)
    return app


def allow_redirect(emulator: Emulator, app: MarketplaceApp, redirect_uri: str) -> None:
    """Register one more redirect URI of the app with the emulator (the stack's callback once its API listens)."""
    if redirect_uri not in app.redirect_uris:
        app.redirect_uris.append(redirect_uri)
    emulator.register_app(app.client_id, app.client_secret, app.redirect_uris, APP_NAME)

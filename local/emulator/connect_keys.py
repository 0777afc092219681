"""Walmart Connect partner credentials: an RSA key pair, the auth token, request signatures.

Every Connect call carries ``WM_SEC.AUTH_SIGNATURE`` = base64(RSA-SHA256 PKCS#1 v1.5 signature of
``"<consumer_id>\\n<timestamp_ms>\\n<key_version>\\n"``). :func:`generate_partner` makes a partner
for the emulator (``Emulator.configure_partner`` takes its public half); :func:`signed_headers`
is for tests that talk to the emulator without the service's client.
"""

from __future__ import annotations

import base64
import binascii
import functools
import secrets
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

HDR_CONSUMER_ID = "WM_CONSUMER.ID"
HDR_TIMESTAMP = "WM_CONSUMER.intimestamp"
HDR_KEY_VERSION = "WM_SEC.KEY_VERSION"
HDR_SIGNATURE = "WM_SEC.AUTH_SIGNATURE"


@dataclass(frozen=True)
class PartnerKeyPair:
    consumer_id: str
    key_version: str
    private_key_pem: str = field(repr=False)  # PKCS#8 PEM
    public_key_pem: str = field(repr=False)  # SubjectPublicKeyInfo PEM
    auth_token: str = field(repr=False)


def generate_partner(consumer_id: str = "local-partner", key_version: str = "1") -> PartnerKeyPair:
    """A new partner: RSA 2048 key pair and a random auth token."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    return PartnerKeyPair(consumer_id, str(key_version), private_pem, public_pem, secrets.token_urlsafe(32))


def string_to_sign(consumer_id: str, timestamp: str | int, key_version: str) -> bytes:
    return f"{consumer_id}\n{timestamp}\n{key_version}\n".encode()


@functools.lru_cache(maxsize=16)
def _private_key(private_key_pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def sign(private_key_pem: str, consumer_id: str, timestamp_ms: int, key_version: str) -> str:
    raw = _private_key(private_key_pem).sign(
        string_to_sign(consumer_id, timestamp_ms, key_version), padding.PKCS1v15(), hashes.SHA256()
    )
    return base64.b64encode(raw).decode("ascii")


def load_public_key(public_key_pem: str) -> rsa.RSAPublicKey:
    """The RSA public key of a PEM (ValueError if it is not one)."""
    key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def verify(public_key: rsa.RSAPublicKey, consumer_id: str, timestamp: str, key_version: str, signature: str) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(raw, string_to_sign(consumer_id, timestamp, key_version), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def signed_headers(pair: PartnerKeyPair, timestamp_ms: int) -> dict[str, str]:
    """Every header a Connect call needs, signed for ``timestamp_ms`` (tests only)."""
    return {
        "Authorization": f"Bearer {pair.auth_token}",
        HDR_CONSUMER_ID: pair.consumer_id,
        HDR_TIMESTAMP: str(timestamp_ms),
        HDR_KEY_VERSION: pair.key_version,
        HDR_SIGNATURE: sign(pair.private_key_pem, pair.consumer_id, timestamp_ms, pair.key_version),
        "Accept": "application/json",
    }

"""Walmart Connect request signatures: RSA-SHA256 (PKCS#1 v1.5) over the consumer id, timestamp and key version.

``cryptography`` is imported on first use only, to keep Lambda cold starts short.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=8)
def _private_key(private_key_pem: str) -> Any:
    """The loaded RSA key. Accepts a PEM, a PEM whose newlines arrived escaped as ``\\n``, or the bare base64
    DER (PKCS#8) Walmart hands to partners. Errors never carry the key material."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    text = private_key_pem.strip()
    if "\\n" in text and "\n" not in text:
        text = text.replace("\\n", "\n")
    try:
        if "-----BEGIN" in text:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            key = serialization.load_der_private_key(base64.b64decode("".join(text.split())), password=None)
    except (ValueError, TypeError):
        raise ValueError("The Walmart Connect private key could not be loaded (not an unencrypted RSA key).") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("The Walmart Connect private key is not an RSA key.")
    return key


def auth_signature(consumer_id: str, timestamp_ms: int, key_version: str, private_key_pem: str) -> str:
    """``WM_SEC.AUTH_SIGNATURE``: base64 of the signature of ``"<consumer_id>\\n<timestamp>\\n<key_version>\\n"``."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    message = f"{consumer_id}\n{timestamp_ms}\n{key_version}\n".encode()
    signature = _private_key(private_key_pem).sign(message, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")

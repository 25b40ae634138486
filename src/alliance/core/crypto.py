"""Encryption at rest for free-text clinical fields (Fernet: AES-128-CBC + HMAC-SHA256).

Keys come from ``FIELD_ENCRYPTION_KEYS`` (comma-separated, newest first). Every key in the
list can decrypt; only the first encrypts. Rotation: put the new key first, run
``alliance rotate_encryption_keys``, then drop the old key.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "fernet:"


@lru_cache(maxsize=8)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    fernets = []
    for index, key in enumerate(keys):
        try:
            fernets.append(Fernet(key.encode()))
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS entry {index + 1} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from None
    return MultiFernet(fernets)


def fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return PREFIX + fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


class DecryptionError(Exception):
    """Stored ciphertext cannot be read with any configured key."""


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise DecryptionError("value is not encrypted with a known scheme")
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise DecryptionError("no key in FIELD_ENCRYPTION_KEYS can decrypt this value") from None


def rotate(stored: str) -> str:
    """Re-encrypt a stored value under the newest key."""
    if not stored.startswith(PREFIX):
        raise DecryptionError("value is not encrypted with a known scheme")
    try:
        token = fernet().rotate(stored[len(PREFIX) :].encode("ascii"))
    except InvalidToken:
        raise DecryptionError("no key in FIELD_ENCRYPTION_KEYS can decrypt this value") from None
    return PREFIX + token.decode("ascii")

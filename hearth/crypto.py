"""Encryption of secrets at rest (OAuth tokens), keyed by the instance's secret key.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) authenticates as well as encrypts:
a tampered or foreign ciphertext fails to decrypt instead of yielding garbage. The Fernet key
is derived from `HEARTH_SECRET_KEY` with HKDF and a purpose label, so the same secret can key
other purposes later without one leaking into another.
"""

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hearth.errors import HearthError

__all__ = ["SecretBox", "UnreadableSecret"]


class UnreadableSecret(HearthError):
    """A stored secret cannot be decrypted: the secret key changed, or the value was altered."""


class SecretBox:
    """Encrypts and decrypts small secrets with a key derived from `secret_key` for `purpose`."""

    def __init__(self, secret_key: str, *, purpose: str) -> None:
        if not secret_key:
            raise ValueError("an empty secret key encrypts nothing")
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()
        ).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise UnreadableSecret(
                "a stored secret cannot be decrypted with this HEARTH_SECRET_KEY"
            ) from exc

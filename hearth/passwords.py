"""Password hashing with scrypt from the standard library: no I/O, no extra dependency.

A hash is stored as ``scrypt$<n>$<r>$<p>$<salt>$<digest>`` (salt and digest in base64), so the
cost parameters can be raised later without invalidating the hashes already stored.
"""

import base64
import hashlib
import hmac
import secrets

__all__ = ["hash_password", "verify_password"]

# OWASP's minimum for scrypt; 128 * n * r = 16 MiB of memory per hash.
_COST = 2**14
_BLOCK_SIZE = 8
_PARALLELISM = 1
_SALT_BYTES = 16
_DIGEST_BYTES = 32
_SCHEME = "scrypt"


def hash_password(password: str) -> str:
    """Hash `password` with a fresh random salt."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, _COST, _BLOCK_SIZE, _PARALLELISM, _DIGEST_BYTES)
    return "$".join(
        [_SCHEME, str(_COST), str(_BLOCK_SIZE), str(_PARALLELISM), _b64(salt), _b64(digest)]
    )


def verify_password(password: str, password_hash: str) -> bool:
    """True if `password` is the one `password_hash` was made from; False for a malformed hash."""
    try:
        scheme, cost, block_size, parallelism, salt, digest = password_hash.split("$")
        if scheme != _SCHEME:
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = _scrypt(
            password,
            base64.b64decode(salt, validate=True),
            int(cost),
            int(block_size),
            int(parallelism),
            len(expected),
        )
    except ValueError:
        return False
    # Constant time, so response timing does not leak how much of the digest matched.
    return hmac.compare_digest(actual, expected)


def _scrypt(
    password: str, salt: bytes, cost: int, block_size: int, parallelism: int, length: int
) -> bytes:
    return hashlib.scrypt(
        password.encode(),
        salt=salt,
        n=cost,
        r=block_size,
        p=parallelism,
        dklen=length,
        maxmem=256 * cost * block_size,
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")

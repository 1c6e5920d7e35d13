"""Password hashing with scrypt from the standard library: a random salt per password and a
constant-time comparison."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# scrypt cost: 2**15 rounds, 8 blocks, 1 lane: about 32 MiB and a few tens of ms per check.
N, R, P = 2**15, 8, 1
MAX_MEM = 64 * 1024 * 1024


def hash_password(password: str) -> str:
    """A salted scrypt hash: "scrypt$N$r$p$salt$hash" (hex)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=N, r=R, p=P, maxmem=MAX_MEM)
    return f"scrypt${N}${R}${P}${salt.hex()}${digest.hex()}"


def check_password(stored: str, password: str) -> bool:
    """True when `password` matches the stored hash."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        again = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n),
                               r=int(r), p=int(p), maxmem=MAX_MEM)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(again.hex(), digest)


def new_password() -> str:
    """A random password to hand out once (about 120 bits)."""
    return secrets.token_urlsafe(15)

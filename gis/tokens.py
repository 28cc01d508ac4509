"""API tokens: create (the secret is returned once), list, revoke, verify; and who may do what.

Only the sha256 of a secret is stored. A role is ``viewer`` (reads), ``planner`` (reads,
and writes within its scope) or ``admin`` (everything). A scope is a region-code prefix
(``"652301001"`` covers every community of that street); empty covers everything.

>>> allowed("planner", "652301001", "write", "652301001003")
True
>>> allowed("planner", "652301001", "write", "652301002001")
False
>>> allowed("viewer", "", "write", "652301001003")
False
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Connection, text

from gis.errors import InvalidInput, NotFound, Unauthorized
from gis.models import TOKEN_ROLES

__all__ = [
    "ACTIONS",
    "ROLES",
    "TokenInfo",
    "allowed",
    "create_token",
    "hash_secret",
    "list_tokens",
    "revoke_token",
    "verify_token",
]

ROLES = TOKEN_ROLES
ACTIONS = ("read", "write")
Action = Literal["read", "write"]
PREFIX = "ggv_"


@dataclass(frozen=True)
class TokenInfo:
    """A token as stored, without its secret."""

    id: int
    name: str
    role: str
    scope: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


def hash_secret(secret: str) -> str:
    """The hex sha256 stored for a secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def allowed(role: str, scope: str, action: str, region_code: str | None = None) -> bool:
    """Whether ``role`` with ``scope`` may do ``action`` (read|write) on ``region_code``.

    Everyone reads; admins write everything; planners write regions whose code starts
    with their scope (a planner writing something that names no region needs an empty
    scope); viewers never write."""
    if action not in ACTIONS or role not in ROLES:
        return False
    if action == "read" or role == "admin":
        return True
    if role != "planner":
        return False
    if not scope:
        return True
    return region_code is not None and region_code.startswith(scope)


def _check(name: str, role: str, scope: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"token role {role!r}: use one of {', '.join(ROLES)}")
    if scope and not (scope.isdigit() and len(scope) <= 12):
        raise InvalidInput(
            f"token scope {scope!r}: a region-code prefix of up to 12 digits "
            "(e.g. 652301001 for a street), or empty for everything"
        )
    if not name.strip():
        raise InvalidInput("token name is empty: name the person or system that will use it")


_COLUMNS = "id, name, role, scope, created_at, revoked_at, last_used_at"


def create_token(conn: Connection, name: str, role: str, scope: str = "") -> tuple[TokenInfo, str]:
    """A new token and its secret (shown once; only its hash is kept). The caller commits."""
    _check(name, role, scope)
    secret = PREFIX + secrets.token_urlsafe(32)
    row = conn.execute(
        text(
            f"INSERT INTO api_token (name, role, scope, token_hash) "
            f"VALUES (:name, :role, :scope, :hash) RETURNING {_COLUMNS}"
        ),
        {"name": name.strip(), "role": role, "scope": scope, "hash": hash_secret(secret)},
    ).one()
    return TokenInfo(*row), secret


def list_tokens(conn: Connection) -> list[TokenInfo]:
    """Every token, oldest first (revoked ones too)."""
    rows = conn.execute(text(f"SELECT {_COLUMNS} FROM api_token ORDER BY id")).all()
    return [TokenInfo(*r) for r in rows]


def revoke_token(conn: Connection, token_id: int) -> TokenInfo:
    """Revoke a token (idempotent: an already revoked one keeps its first revocation time)."""
    row = conn.execute(
        text(
            f"UPDATE api_token SET revoked_at = coalesce(revoked_at, now()) "
            f"WHERE id = :id RETURNING {_COLUMNS}"
        ),
        {"id": token_id},
    ).one_or_none()
    if row is None:
        raise NotFound(f"token {token_id}: no such token; `gridgov token list` shows them")
    return TokenInfo(*row)


def verify_token(conn: Connection, secret: str) -> TokenInfo:
    """The live token of ``secret`` (its ``last_used_at`` set to now; the caller commits).

    Raises :class:`Unauthorized` for an unknown or revoked secret."""
    digest = hash_secret(secret)
    row = conn.execute(
        text(f"SELECT {_COLUMNS}, token_hash FROM api_token WHERE token_hash = :h"),
        {"h": digest},
    ).one_or_none()
    # the lookup is by hash (an attacker cannot steer it); compare in constant time anyway
    if row is None or not hmac.compare_digest(str(row.token_hash), digest):
        raise Unauthorized("unknown API token: check the secret, or ask an admin for a token")
    info = TokenInfo(*row[:-1])
    if info.revoked_at is not None:
        raise Unauthorized(f"API token {info.name!r} was revoked; ask an admin for a new one")
    conn.execute(text("UPDATE api_token SET last_used_at = now() WHERE id = :id"), {"id": info.id})
    return info

"""Auth at the edge: ``Authorization: Bearer <secret>`` → the caller (or None).

Writes always need a token (:data:`WriterDep`): none, malformed, unknown or revoked →
401; a viewer → 403; a planner only inside its scope (403 otherwise, :func:`check_scope`).
Reads are open unless ``GRIDGOV_READS_NEED_TOKEN=true`` (:func:`read_access`, installed
app-wide; ``/health`` stays open).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from api.deps import get_engine
from gis.edit.plans import get_plan
from gis.errors import Forbidden, OutOfScope, Unauthorized
from gis.settings import get_settings
from gis.tokens import allowed, verify_token

__all__ = ["Caller", "CallerDep", "WriterDep", "check_plan_scope", "check_scope", "read_access"]

# documents the scheme in /openapi.json; the header is parsed below, with clear errors
_bearer = HTTPBearer(auto_error=False, description="An API token: `gridgov token create`")
OPEN_PATHS = frozenset({"/health"})


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token's name (the actor of writes), role and scope."""

    name: str
    role: str
    scope: str
    token_id: int


def _secret(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or any(c.isspace() for c in value):
        raise Unauthorized(
            "malformed Authorization header: send `Authorization: Bearer <secret>` "
            "with the secret `gridgov token create` printed"
        )
    return value


def get_caller(
    request: Request,
    engine: Annotated[Engine, Depends(get_engine)],
    _documented: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
) -> Caller | None:
    """The caller of the request's token; None without an Authorization header."""
    secret = _secret(request)
    if secret is None:
        return None
    with engine.begin() as conn:
        info = verify_token(conn, secret)
    return Caller(info.name, info.role, info.scope, info.id)


def require_writer(caller: Annotated[Caller | None, Depends(get_caller)]) -> Caller:
    """A caller who may write somewhere: 401 without a token, 403 for a viewer."""
    if caller is None:
        raise Unauthorized(
            "writes need an API token: send `Authorization: Bearer <secret>`; "
            "an admin creates one with `gridgov token create --role planner --name …`"
        )
    if caller.role not in ("planner", "admin"):
        raise Forbidden(
            f"token {caller.name!r} is a {caller.role}: it may read but not write; "
            "ask an admin for a planner token"
        )
    return caller


def read_access(request: Request, engine: Annotated[Engine, Depends(get_engine)]) -> None:
    """With ``GRIDGOV_READS_NEED_TOKEN=true``, a GET without a valid token → 401."""
    if not get_settings().auth.reads_need_token:
        return
    if request.method not in ("GET", "HEAD") or request.url.path in OPEN_PATHS:
        return
    if get_caller(request, engine) is None:
        raise Unauthorized(
            "this server needs an API token for reads too: send `Authorization: Bearer <secret>`"
        )


def check_scope(caller: Caller, codes: Iterable[str], what: str) -> None:
    """403 (:class:`OutOfScope`) unless the caller may write every region in ``codes``."""
    outside = sorted({c for c in codes if not allowed(caller.role, caller.scope, "write", c)})
    if outside:
        named = ", ".join(c or "(a row naming no region)" for c in outside[:5])
        more = f" and {len(outside) - 5} more" if len(outside) > 5 else ""
        raise OutOfScope(
            f"{what}: {named}{more} outside the scope {caller.scope!r} of token "
            f"{caller.name!r}; use a token whose scope covers them, or ask an admin"
        )


def check_plan_scope(engine: Engine, caller: Caller, plan_id: int) -> None:
    """403 unless the caller's scope covers every community of the plan (404: no plan)."""
    if caller.role == "admin" or not caller.scope:
        return
    with engine.connect() as conn:
        plan = get_plan(conn, plan_id)
    check_scope(caller, plan.community_codes, f"plan {plan_id}")


CallerDep = Annotated[Caller | None, Depends(get_caller)]
WriterDep = Annotated[Caller, Depends(require_writer)]

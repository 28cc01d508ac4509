"""Request dependencies: the process's engine and one session per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, cast

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

__all__ = ["EngineDep", "SessionDep", "get_engine", "get_session"]


def get_engine(request: Request) -> Engine:
    """The engine the lifespan created for this process."""
    return cast(Engine, request.app.state.engine)


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    """One session per request. Read-only routes never commit: closing rolls back."""
    with Session(engine) as session:
        yield session


EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]

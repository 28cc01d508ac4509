"""What every command shares: the console, and turning domain errors into exit codes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from gis.errors import GridgovError

__all__ = ["console", "err_console", "friendly_errors", "say"]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])


def say(message: str) -> None:
    console.print(message, markup=False)


def friendly_errors(func: F) -> F:
    """Print a gridgov error as one clear message and exit 1 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except GridgovError as exc:
            err_console.print(f"[bold red]error:[/] {exc.message}", markup=True, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]

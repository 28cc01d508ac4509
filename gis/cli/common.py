"""What every command shares: the console, and turning domain errors into exit codes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from gis.errors import GridgovError

__all__ = ["console", "err_console", "friendly_errors", "say"]

# on a terminal rich measures the width; into a pipe or file, wide enough for tables
console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])


def say(message: str) -> None:
    # soft_wrap: never fold a long line (a URL) at the 80 columns of a pipe
    console.print(message, markup=False, soft_wrap=True)


def friendly_errors(func: F) -> F:
    """Print a gridgov error, or a GRIDGOV_* setting that is not valid, as one clear
    message and exit 1 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except GridgovError as exc:
            messages = [exc.message]
        except ValidationError as exc:  # from get_settings(): a bad environment variable
            messages = [str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()]
        for message in messages:
            err_console.print("[bold red]error:[/] ", end="", markup=True)
            err_console.print(message, markup=False, soft_wrap=True)
        raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]

"""Helpers for the page tests: a real uvicorn server, and Debian's headless Chromium
driven by Playwright with every request outside 127.0.0.1 blocked and counted.

    with serve(database_url) as base, open_browser() as browser:
        page = browser.open(base + "/map")
        assert browser.failures == [] and browser.console_errors == []
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import (
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Route,
    sync_playwright,
)

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "Browser",
    "free_port",
    "open_browser",
    "serve",
    "serve_process",
]

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(database_url: str, timeout: float = 90.0) -> Iterator[str]:
    """Run ``uvicorn api.app:create_app`` in a subprocess against ``database_url``; the base URL."""
    with serve_process(database_url, timeout) as (base, _):
        yield base


@contextmanager
def serve_process(
    database_url: str, timeout: float = 90.0
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Like :func:`serve`, and the server's process too (for tests that kill it)."""
    port = free_port()
    env = dict(os.environ, GRIDGOV_DATABASE_URL=database_url, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryFile() as log:
        yield from _serve(env, port, log, timeout)


def _serve(
    env: dict[str, str], port: int, log: IO[bytes], timeout: float
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"uvicorn exited with {proc.returncode}:\n{log.read().decode()}")
            try:
                r = httpx.get(base + "/health", timeout=2.0)
                if r.status_code == 200:
                    break
                last = f"HTTP {r.status_code}: {r.text}"
            except httpx.TransportError as exc:
                last = repr(exc)
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn /health not ok within {timeout} s; last: {last}")
            time.sleep(0.1)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Browser:
    """A Chromium context that records what went wrong on its pages."""

    context: BrowserContext
    failures: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def _route(self, route: Route) -> None:
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route.continue_()
            return
        self.failures.append(f"blocked: {route.request.url}")
        route.abort("blockedbyclient")

    def _failed(self, request: Request) -> None:
        if not any(request.url in f for f in self.failures):
            self.failures.append(f"failed: {request.url} ({request.failure})")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} at {message.location}")

    def open(self, url: str) -> Page:
        """Open ``url`` in a new page, recording failed requests, HTTP errors and console errors."""
        page = self.context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.console_errors.append(f"uncaught: {exc}"))
        page.on("requestfailed", self._failed)
        page.on(
            "response",
            lambda r: (
                self.failures.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None
            ),
        )
        page.goto(url, wait_until="load")
        return page


@contextmanager
def open_browser(width: int = 1280, height: int = 860) -> Iterator[Browser]:
    """Headless Debian Chromium with a fresh profile; only 127.0.0.1 is reachable."""
    with (
        tempfile.TemporaryDirectory(prefix="gridgov-chromium-") as profile,
        sync_playwright() as pw,
    ):
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
            locale="zh-CN",
        )
        browser = Browser(context)
        context.route("**/*", browser._route)
        try:
            yield browser
        finally:
            context.close()

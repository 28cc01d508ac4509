"""A limit on request bodies (``GRIDGOV_MAX_BODY_BYTES``, default 50 MiB): larger → 413.

A pure ASGI middleware: a declared ``Content-Length`` over the limit is refused before
the body is read; a chunked body is counted as it arrives and refused when it passes the
limit. Uploads to ``/import/…`` keep their own larger limit
(:data:`api.routers.io.MAX_UPLOAD_BYTES`).
"""

from __future__ import annotations

import json

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.routers.io import CHUNK, MAX_UPLOAD_BYTES
from gis.settings import get_settings

__all__ = ["BodyLimit"]


def _detail(limit: int) -> str:
    return (
        f"the request body is larger than {limit} bytes ({limit / 2**20:g} MiB); "
        "send less, or raise GRIDGOV_MAX_BODY_BYTES on the server"
    )


class BodyLimit:
    """Answer 413 problem+json to request bodies over the limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def _limit(self, path: str) -> int:
        limit = get_settings().auth.max_body_bytes
        if path.startswith("/import/"):
            return max(limit, MAX_UPLOAD_BYTES + CHUNK)
        return limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = self._limit(path)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(path, limit, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # FastAPI re-raises HTTPException from reading the body
                    raise HTTPException(413, _detail(limit))
            return message

        await self.app(scope, counted, send)

    @staticmethod
    async def _refuse(path: str, limit: int, send: Send) -> None:
        body = json.dumps(
            {
                "type": "urn:gridgov:problem:payload-too-large",
                "title": "Payload too large",
                "status": 413,
                "detail": _detail(limit),
                "instance": path,
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

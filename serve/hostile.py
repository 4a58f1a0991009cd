"""Requests no query can answer, refused before they reach a route.

A NUL in the path or the query string (``%00``) can match no stored code (the ingest refuses NUL
in every field), and PostgreSQL cannot even compare with it: the query failed and the server
answered 500. It is answered 400 naming where the NUL is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import unquote_to_bytes

from fastapi import Request, Response
from fastapi.responses import JSONResponse

Next = Callable[[Request], Awaitable[Response]]


async def refuse_nul(request: Request, call_next: Next) -> Response:
    """400 for a NUL in the path or the query string; everything else goes on."""
    path = request.scope.get("path", "")
    if "\x00" in path:
        return JSONResponse({"detail": "the path holds a NUL character (U+0000)"}, 400)
    if b"\x00" in unquote_to_bytes(request.scope.get("query_string", b"")):
        return JSONResponse({"detail": "the query string holds a NUL character (U+0000)"}, 400)
    return await call_next(request)

"""Refused requests: the exception that ends one with a status and an :class:`ErrorBody`, and
the handlers that turn it (and FastAPI's own validation errors) into JSON answers."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from producers.rest.bodies import ErrorBody, FieldProblem
from tracesync.errors import TracesyncError

_SINGLE_DETAILS = {
    403: "event refused for this API key",
    413: "event too large (a retry cannot succeed)",
    422: "event rejected",
    503: "event not stored",
}


class RequestRefusedError(TracesyncError):
    """Ends a request with ``status`` and an :class:`ErrorBody`."""

    def __init__(self, status: int, detail: str, problems: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(detail)
        self.status = status
        self.body = ErrorBody(
            detail=detail, errors=[FieldProblem(field=f, reason=r) for f, r in problems]
        )


def single_event_refused(status: int, problems: Sequence[tuple[str, str]]) -> RequestRefusedError:
    """The answer to a single-event request whose event was refused or not stored."""
    return RequestRefusedError(status, _SINGLE_DETAILS.get(status, "event rejected"), problems)


def install_error_handlers(app: FastAPI) -> None:
    """Answer refused requests and FastAPI's validation errors with an :class:`ErrorBody`."""

    @app.exception_handler(RequestRefusedError)
    async def on_problem(_: Request, exc: RequestRefusedError) -> JSONResponse:
        return JSONResponse(exc.body.model_dump(mode="json"), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def on_invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [(".".join(str(p) for p in e["loc"]), str(e["msg"])) for e in exc.errors()]
        status = 404 if any(f == "path.system" for f, _ in problems) else 422
        detail = "no such source system" if status == 404 else "request rejected"
        body = ErrorBody(
            detail=detail, errors=[FieldProblem(field=f, reason=r) for f, r in problems]
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=status)

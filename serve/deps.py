"""Shared FastAPI dependencies: a store connection per request, paging, the GS1 master data,
the plant's time zone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import tzinfo
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy import Connection

from serve.reads import Page
from tracesync.gs1.identifiers import MasterData


def connection(request: Request) -> Iterator[Connection]:
    """A read connection on the store for the duration of the request."""
    with request.app.state.engine.connect() as conn:
        yield conn


def page(
    request: Request,
    limit: Annotated[int | None, Query(ge=1)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page:
    """The requested page, capped at the configured maximum."""
    settings = request.app.state.serve
    wanted = settings.page_limit if limit is None else limit
    return Page(min(wanted, settings.max_page_limit), offset)


def master(request: Request) -> MasterData | None:
    """GS1 master data for Digital Link codes and exports."""
    found: MasterData | None = request.app.state.master
    return found


def zone(request: Request) -> tzinfo:
    """The plant's time zone: every time in an answer is shown in it, with its offset."""
    found: tzinfo = request.app.state.time_zone
    return found


Conn = Annotated[Connection, Depends(connection)]
Paging = Annotated[Page, Depends(page)]
Master = Annotated[MasterData | None, Depends(master)]
Zone = Annotated[tzinfo, Depends(zone)]

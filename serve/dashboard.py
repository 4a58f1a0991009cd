"""The reconciliation dashboard: batches per status, and the batches of one status (mismatches by
default) with each system's quantity and the deltas against MES, over the same read as
``GET /v1/reconciliation``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from serve import reads
from serve.pages import guard, page
from serve.reads import Page

router = APIRouter(include_in_schema=False)
DEFAULT_STATUS = "MISMATCH"


@router.get("/reconciliation")
def reconciliation_page(
    request: Request,
    status: str = DEFAULT_STATUS,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """Counts by status; the batches of ``status`` (``ALL`` for every batch), paged."""
    refused = guard(request)
    if refused:
        return refused
    wanted = status.strip().upper() or DEFAULT_STATUS
    paging = Page(request.app.state.serve.page_limit, offset)
    with request.app.state.engine.connect() as conn:
        listing = reads.reconciliation(conn, None if wanted == "ALL" else wanted, paging)
    return page("reconciliation.html.j2", listing=listing, wanted=wanted)

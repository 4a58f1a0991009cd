"""Exports and reports as downloads, for the ``compliance`` role.

Each reuses :mod:`sinks.exports`: the writer writes into a temporary folder, and the file's
bytes are sent with a download name.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from serve.auth import requires
from sinks.exports.epcis_export import write_epcis
from sinks.exports.fsma204 import write_fsma204
from sinks.exports.report import write_report
from sinks.exports.resolve import UnknownCodeError
from sinks.exports.store_reads import Window
from tracesync.errors import TracesyncError
from tracesync.gs1.identifiers import Identifiers

router = APIRouter(prefix="/v1", dependencies=[Depends(requires("export"))])

_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jsonld": "application/ld+json",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}


def _download(name: str, fmt: str, write: Callable[[Path], object]) -> Response:
    with tempfile.TemporaryDirectory(prefix="tracesync-serve-") as folder:
        out = Path(folder) / name
        try:
            write(out)
        except UnknownCodeError as exc:
            raise HTTPException(404, str(exc)) from exc
        except TracesyncError as exc:
            raise HTTPException(422, str(exc)) from exc
        body = out.read_bytes()
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=_TYPES[fmt], headers=headers)


def _window(
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    product: str | None = None,
    lot: str | None = None,
) -> Window:
    return Window(date_from, date_to, product, lot)


Dates = Annotated[Window, Depends(_window)]


@router.get("/exports/fsma204")
def fsma204(
    request: Request,
    window: Dates,
    fmt: Annotated[Literal["csv", "xlsx"], Query(alias="format")] = "xlsx",
) -> Response:
    """The FSMA 204 sortable spreadsheet (critical tracking events and genealogy)."""
    engine = request.app.state.engine
    return _download(f"fsma204.{fmt}", fmt, lambda out: write_fsma204(engine, window, out, fmt))


@router.get("/exports/epcis")
def epcis(
    request: Request, window: Dates, code: Annotated[list[str] | None, Query()] = None
) -> Response:
    """An EPCIS 2.0 EPCISDocument (JSON-LD) of the window's batches or of the given codes."""
    ids = Identifiers(request.app.state.master)
    engine = request.app.state.engine
    codes = tuple(code or ())
    return _download(
        "epcis.jsonld", "jsonld", lambda out: write_epcis(engine, out, ids, window, codes)
    )


@router.get("/reports/{code}.{fmt}")
def report(request: Request, code: str, fmt: Literal["html", "pdf"]) -> Response:
    """The regulator trace report of a code, as HTML or PDF."""
    engine = request.app.state.engine
    master = request.app.state.master
    return _download(
        f"trace-report-{code}.{fmt}",
        fmt,
        lambda out: write_report(engine, code, out, fmt, master=master),
    )

"""The web console: server-rendered pages for people (search, batch, genealogy, recall).

Login is by API key: the login form checks it and sets the ``tracesync_key`` cookie to a signed
session token (:mod:`serve.tokens`), never to the key; a page without a valid session or key shows
the login form with the reason, status 401.
"""

from __future__ import annotations

import csv
import io
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from serve import reads
from serve.auth import KEY_COOKIE, SESSION, Caller, KeyRing, authenticate
from serve.pages import guard as _guard
from serve.pages import login_page as _login_page
from serve.pages import page as _page
from sinks.exports.report_graph import genealogy_svg
from sinks.exports.resolve import UnknownCodeError, store_code
from sinks.store.queries import recall, resolve

router = APIRouter(include_in_schema=False)


def _with_session(request: Request, response: Response, caller: Caller) -> Response:
    ring: KeyRing = request.app.state.keys
    ttl_s = request.app.state.serve.session_hours * 3600
    token = ring.token(caller, ttl_s, SESSION)
    response.set_cookie(KEY_COOKIE, token, max_age=int(ttl_s), httponly=True, samesite="strict")
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form() -> HTMLResponse:
    """The login form."""
    return _login_page("", 200)


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the posted key; on success set the cookie and go to the search page."""
    form = parse_qs((await request.body()).decode("utf-8"))
    key = (form.get("key") or [""])[0].strip()
    try:
        caller = authenticate(request.app.state.keys, key, "read")
    except HTTPException as exc:
        return _login_page(str(exc.detail), exc.status_code)
    return _with_session(request, RedirectResponse("/", status_code=303), caller)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    """The search box."""
    return _guard(request) or _page("search.html.j2", problem="")


@router.get("/search")
def search(request: Request, q: str = "") -> Response:
    """Resolve any code and open what it names."""
    refused = _guard(request)
    if refused:
        return refused
    asked = q.strip()
    with request.app.state.engine.connect() as conn:
        try:
            code = store_code(conn, asked, request.app.state.master)
        except UnknownCodeError as exc:
            return _page("search.html.j2", 404, problem=str(exc), q=asked)
        found = resolve(conn, code) if code else None
    if found is None:
        problem = f"{asked!r} is not a batch, lot, trace code, GS1 code, delivery or complaint"
        return _page("search.html.j2", 404, problem=problem, q=asked)
    if len(found.batch_codes) == 1:
        return RedirectResponse(f"/batch/{quote(found.batch_codes[0])}", status_code=303)
    return _page("choose.html.j2", found=found)


def _batch_link(code: str) -> str:
    return f"/batch/{quote(code)}"


@router.get("/batch/{code}")
def batch_page(request: Request, code: str) -> Response:
    """A batch: production, parameters, quality, holds, stock, shipments, reconciliation,
    and its genealogy both ways with clickable nodes."""
    refused = _guard(request)
    if refused:
        return refused
    with request.app.state.engine.connect() as conn:
        try:
            one = reads.batch_trace(conn, code)
        except UnknownCodeError as exc:
            forward = recall(conn, code)
            if not forward.found:
                return _page("search.html.j2", 404, problem=str(exc), q=code)
            return _page("lot.html.j2", lot=code, recall=forward)
        forward = recall(conn, code)
        stock = reads.stock_of(conn, code)
    b = one.batch
    svg = genealogy_svg(
        code,
        b.product_name or b.product_code or b.material_code or "",
        one.upstream,
        forward.downstream,
        on_hold=b.on_hold,
        link=_batch_link,
    )
    return _page(
        "batch.html.j2",
        trace=one,
        batch=b,
        stock=stock,
        svg=svg,
        recall=forward,
        zone=request.app.state.time_zone,
    )


@router.get("/recall/{lot}")
def recall_page(request: Request, lot: str) -> Response:
    """A recall: affected batches, stock locations, deliveries and customers."""
    refused = _guard(request)
    if refused:
        return refused
    with request.app.state.engine.connect() as conn:
        try:
            report = reads.recall_lot(conn, lot)
        except UnknownCodeError as exc:
            return _page("search.html.j2", 404, problem=str(exc), q=lot)
    return _page("recall.html.j2", recall=report, zone=request.app.state.time_zone)


@router.get("/recall/{lot}/csv")
def recall_csv(request: Request, lot: str) -> Response:
    """The recall's affected batches, stock and shipments as one CSV list."""
    refused = _guard(request)
    if refused:
        return refused
    with request.app.state.engine.connect() as conn:
        try:
            report = reads.recall_lot(conn, lot)
        except UnknownCodeError as exc:
            return Response(str(exc), status_code=404, media_type="text/plain")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["kind", "batch_code", "level", "where", "quantity", "customer", "delivery"])
    for link in report.downstream:
        writer.writerow(["batch", link.code, link.level, "", "", "", ""])
    for s in report.stock:
        writer.writerow(["stock", s["batch_code"], "", s["location"], s["quantity"], "", ""])
    for s in report.shipments:
        row = [s["batch_code"], "", s["ship_to"], s["quantity"], s["customer_id"]]
        writer.writerow(["shipment", *row, s["delivery_id"]])
    headers = {"Content-Disposition": f'attachment; filename="recall-{lot}.csv"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)

"""The console's assessment page: a form that fills the inventory and the result of
``tracesync assess`` for it, with the evaluation sheet and the emitted configuration as downloads.

- ``GET /assess``: the empty form; ``POST /assess``: the form (or a pasted TOML inventory) checked
  by the inventory model (:func:`tracesync.assess.loader.parse_inventory`): every bad field is
  named inline with its path (422), a good one shows the five steps, the four-dimension
  comparison and the plan per flow — the same assessment, rules and text as the CLI.
- ``POST /assess/sheet.xlsx`` / ``sheet.md`` / ``config.zip``: the downloads, for the inventory
  the result page carries in a hidden field (the page keeps no state).
- ``POST /v1/assess``: the same for programs, an inventory as JSON in, ``tracesync assess --json``
  out; a bad inventory is 422 with one ``{path, reason}`` per bad field.
"""

from __future__ import annotations

import io
import json
import tempfile
import tomllib
import zipfile
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Body, Depends, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from serve import assess_form as forms
from serve.auth import requires
from serve.pages import guard, page
from tracesync.assess.assessment import Assessment, assess
from tracesync.assess.edges import EdgeTimings
from tracesync.assess.emit import plan_config
from tracesync.assess.loader import InventoryError, parse_inventory
from tracesync.assess.report import assessment_dict, assessment_text, flow_lines
from tracesync.assess.sheet import comparison_table, summary_rows, working_table, write_sheet

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/v1", dependencies=[Depends(requires("read"))])
_SOURCE = "the form"
_SHEET_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "md": "text/markdown; charset=utf-8",
}


def _timings(request: Request) -> EdgeTimings:
    found: EdgeTimings | None = getattr(request.app.state, "assess_timings", None)
    return found or EdgeTimings()


async def _form(request: Request) -> dict[str, list[str]]:
    return parse_qs((await request.body()).decode("utf-8"), keep_blank_values=True)


def _refused(request: Request) -> HTMLResponse | None:
    """The login page (401/403) when the request has no key that may read, else None."""
    return guard(request)


def _render(document: dict[str, Any], status: int = 200, **values: Any) -> HTMLResponse:
    names = {
        section.name(field, row)
        for section in forms.SECTIONS
        for row in (range(forms.rows_shown(section, document)) if section.rows else [None])
        for field in section.fields
    }
    problems = values.pop("problems", ())
    inline: dict[str, list[str]] = {}
    for path, reason in problems:
        field = forms.field_of(path, names)
        if field is not None:
            inline.setdefault(field, []).append(f"{path}: {reason}")
    return page(
        "assess.html.j2",
        status,
        sections=forms.SECTIONS,
        rows={s.path: forms.rows_shown(s, document) for s in forms.SECTIONS if s.rows},
        values=forms.form_values(document),
        inline=inline,
        problems=problems,
        carried=json.dumps({k: document[k] for k in forms.CARRIED if k in document}),
        **values,
    )


def _result_values(result: Assessment, document: dict[str, Any]) -> dict[str, Any]:
    head, rows = comparison_table(result)
    return {
        "result": result,
        "summary": summary_rows(result),
        "comparison": (head, rows),
        "working": working_table(result),
        "flows": [flow_lines(plan) for plan in result.plans],
        "text": assessment_text(result),
        "inventory_json": json.dumps(document),
    }


@router.get("/assess", response_class=HTMLResponse)
def assess_form(request: Request) -> HTMLResponse:
    """The empty inventory form."""
    return _refused(request) or _render({})


def _posted_document(form: dict[str, list[str]]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The inventory the form or its pasted TOML describes, and any problem reading it."""
    pasted = (form.get("toml") or [""])[-1]
    if pasted.strip():
        try:
            return tomllib.loads(pasted), []
        except tomllib.TOMLDecodeError as exc:
            return {}, [("<pasted inventory>", f"not valid TOML: {exc}")]
    try:
        carried = json.loads((form.get("carried") or ["{}"])[-1] or "{}")
    except json.JSONDecodeError:
        carried = {}
    return forms.document_from_form(form, carried if isinstance(carried, dict) else {}), []


@router.post("/assess", response_class=HTMLResponse)
async def assess_posted(request: Request) -> HTMLResponse:
    """Check the inventory; show every bad field inline, or the assessment."""
    refused = _refused(request)
    if refused:
        return refused
    document, problems = _posted_document(await _form(request))
    if problems:
        return _render(document, 422, problems=problems)
    try:
        result = assess(parse_inventory(document, _SOURCE), _timings(request))
    except InventoryError as exc:
        return _render(document, 422, problems=list(exc.problems))
    return _render(document, **_result_values(result, document))


async def _carried_assessment(request: Request) -> Assessment:
    """The assessment of the inventory a result page posted back (hidden field)."""
    form = await _form(request)
    try:
        document = json.loads((form.get("inventory") or [""])[-1])
        return assess(parse_inventory(document, _SOURCE), _timings(request))
    except json.JSONDecodeError as exc:
        raise HTTPException(422, f"inventory: not JSON ({exc})") from exc
    except InventoryError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.post("/assess/sheet.{fmt}")
async def sheet_download(request: Request, fmt: Literal["xlsx", "md"]) -> Response:
    """The evaluation sheet as xlsx or Markdown."""
    refused = _refused(request)
    if refused:
        return refused
    result = await _carried_assessment(request)
    with tempfile.TemporaryDirectory(prefix="tracesync-assess-") as folder:
        out = Path(folder) / f"evaluation-sheet.{fmt}"
        write_sheet(result, out)
        body = out.read_bytes()
    headers = {"Content-Disposition": f'attachment; filename="{out.name}"'}
    return Response(body, media_type=_SHEET_TYPES[fmt], headers=headers)


@router.post("/assess/config.zip")
async def config_download(request: Request) -> Response:
    """The starting configuration of the recommended edges (``--emit-config``) as a zip."""
    refused = _refused(request)
    if refused:
        return refused
    result = await _carried_assessment(request)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for config in plan_config(result):
            archive.writestr(f"tracesync-config/{config.path}", config.text)
    headers = {"Content-Disposition": 'attachment; filename="tracesync-config.zip"'}
    return Response(buffer.getvalue(), media_type="application/zip", headers=headers)


@api_router.post("/assess")
def assess_json(request: Request, inventory: Annotated[dict[str, Any], Body()]) -> Response:
    """Assess an inventory given as JSON (the TOML file's tables); the answer is what
    ``tracesync assess --json`` prints, a bad inventory 422 naming each bad field."""
    try:
        result = assess(parse_inventory(inventory, "inventory"), _timings(request))
    except InventoryError as exc:
        problems = [{"path": path, "reason": reason} for path, reason in exc.problems]
        return JSONResponse({"detail": problems}, status_code=422)
    return JSONResponse(assessment_dict(result))

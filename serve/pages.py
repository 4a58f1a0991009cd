"""Rendering the console's pages: the template environment, the login page, the key guard.

Every console page module renders through :func:`page` and checks the caller with :func:`guard`
(the session cookie set at login, or an ``X-API-Key`` header).
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from serve.auth import Caller, identify
from serve.formatting import FILTERS

_env = Environment(
    loader=PackageLoader("serve", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(FILTERS)


def page(name: str, status: int = 200, **values: Any) -> HTMLResponse:
    """The template ``name`` rendered with ``values``."""
    html = _env.get_template(name).render(**values)
    return HTMLResponse(html, status_code=status)


def login_page(problem: str, status: int = 401) -> HTMLResponse:
    """The login form, with the reason the caller has to log in."""
    return page("login.html.j2", status, problem=problem)


def caller_or_refusal(request: Request, action: str = "read") -> Caller | HTMLResponse:
    """The caller when it may do ``action``; else the login page (401) or a refusal (403)."""
    try:
        return identify(request, action)
    except HTTPException as exc:
        if exc.status_code == 403:
            return page("refused.html.j2", 403, problem=str(exc.detail))
        return login_page(str(exc.detail), exc.status_code)


def guard(request: Request) -> HTMLResponse | None:
    """The login page when the request has no valid key, else ``None``."""
    found = caller_or_refusal(request)
    return found if isinstance(found, HTMLResponse) else None

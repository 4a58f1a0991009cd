"""The options of the two HTTP servers (``ingest api``, ``serve``) against slow and surplus clients.

:func:`http_limit_options` adds ``--header-timeout``, ``--body-timeout``, ``--keep-alive`` and
``--max-connections``; :func:`with_http_limits` applies the ones given to the settings' ``http``
section of the command (:class:`~tracesync.settings.HttpLimits`, enforced by
:mod:`tracesync.http_limits`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

if TYPE_CHECKING:
    from tracesync.settings import Settings

Section = Literal["ingest", "serve"]
F = TypeVar("F", bound=Callable[..., Any])
_META = "tracesync.http_limits"
_POSITIVE = click.FloatRange(min=0, min_open=True)
_OPTIONS: list[tuple[str, str, click.ParamType, str, str]] = [
    # flag, settings field, type, help, the field's default as shown (a unit test compares)
    (
        "--header-timeout",
        "header_timeout_s",
        _POSITIVE,
        "Close a connection whose request headers are not complete after this many seconds "
        "(408 if it sent part of a request)",
        "10",
    ),
    (
        "--body-timeout",
        "body_timeout_s",
        _POSITIVE,
        "Answer 408 and close when a request body is not complete this many seconds after its "
        "headers (nothing of it is used)",
        "30",
    ),
    (
        "--keep-alive",
        "keep_alive_s",
        click.IntRange(min=1),
        "Close a connection idle this many seconds between requests",
        "5",
    ),
    (
        "--max-connections",
        "max_connections",
        click.IntRange(min=1),
        "Open connections at most; more are answered 503 and closed at once "
        "(unset: min(1000, 3/4 of the descriptor limit))",
        "unset",
    ),
]


def _remember(ctx: click.Context, param: click.Parameter, value: object) -> None:
    if value is not None and param.name is not None:
        ctx.meta.setdefault(_META, {})[param.name] = value


def http_limit_options(section: Section) -> Callable[[F], F]:
    """The four options, their defaults named as the settings of ``section``."""

    def decorate(command: F) -> F:
        for flag, field, kind, text, shown in reversed(_OPTIONS):
            command = click.option(
                flag,
                field,
                type=kind,
                default=None,
                expose_value=False,
                callback=_remember,
                help=f"{text} [settings: {section}.http.{field}, {shown}].",
            )(command)
        return command

    return decorate


def with_http_limits(ctx: click.Context, settings: Settings, section: Section) -> Settings:
    """``settings`` with the options given on the command line applied to ``section.http``."""
    from tracesync.settings import HttpLimits

    given: dict[str, Any] = ctx.meta.get(_META, {})
    if not given:
        return settings
    part = getattr(settings, section)
    limits = HttpLimits.model_validate(part.http.model_dump() | given)
    return settings.model_copy(update={section: part.model_copy(update={"http": limits})})

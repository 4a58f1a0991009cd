"""The settings of one CLI invocation: built once, on first use, and shared by every command.

Building them loads pydantic; a command that needs no settings (``trace --store-url ...``) so
starts without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from tracesync.settings import Settings


def settings_from(ctx: click.Context) -> Settings:
    """The settings of this invocation, kept on the root context (built on the first call)."""
    from tracesync.settings import Settings, load_settings

    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = load_settings()
    return root.obj


def with_worker(settings: Settings, **overrides: object) -> Settings:
    """``settings`` with some worker settings replaced (validated); None values are ignored."""
    given = {name: value for name, value in overrides.items() if value is not None}
    if not given:
        return settings
    worker = settings.worker.model_validate(settings.worker.model_dump() | given)
    return settings.model_copy(update={"worker": worker})

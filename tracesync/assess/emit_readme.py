"""The README of an emitted configuration: what to start, the columns to provide, what is open."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tracesync.assess.assessment import Assessment
from tracesync.assess.edges import EDGE_NAMES
from tracesync.assess.skeleton import Skeleton


class _File(Protocol):
    """What the README needs of an emitted file (:class:`tracesync.assess.emit.ConfigFile`)."""

    @property
    def path(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def system(self) -> str | None: ...


def readme(
    a: Assessment, mappings: Sequence[tuple[_File, Skeleton]], files: Sequence[_File]
) -> str:
    org = a.inventory.organization
    lines = [
        f"# tracesync configuration for {org.name}",
        "",
        "Written by `tracesync assess --emit-config`. Start from these files, rename the columns "
        "to the sources' own, replace the placeholder URLs, then start the edges below.",
        "",
        "## Edges",
        "",
    ]
    for system_id, choice in a.choices.items():
        option = choice.option
        if option is None:
            rules = ", ".join(r.rule for r in choice.refusals)
            lines.append(f"- **{system_id}**: no edge ({rules}); see the assessment")
            continue
        lines.append(
            f"- **{system_id}**: {EDGE_NAMES[option.kind]} ({option.mode}) [{option.rule}]"
        )
        lines += [f"  - to do: {action}" for action in option.actions]
        own = [m for m in mappings if m[0].system == system_id]
        if option.kind == "api":
            lines.append("  - `set -a; . ./ingest.env; set +a; tracesync ingest api`")
        elif option.kind == "db":
            args = " ".join(f"--mapping {m[0].path}" for m in own)
            lines.append(
                f"  - `set -a; . ./ingest.env; set +a; tracesync ingest db {args}` (the URLs from "
                "ingest.env; or one mapping with `--url`)"
            )
        else:
            args = " ".join(f"--mapping {m[0].path}" for m in own)
            lines.append(f"  - `tracesync ingest files {args} --watch <drop folder>`")
    if any(f.kind == "routes" for f in files):
        lines += [
            "",
            "## Targets",
            "",
            "- `tracesync sink targets --routes routes.toml "
            "--target <id>.url=https://...` (and `tracesync sink store` for the trace store)",
        ]
    if mappings:
        lines += ["", "## Columns each mapping reads", ""]
        for config, outline in mappings:
            columns = ", ".join(f"{c.name}{'' if c.required else '?'}" for c in outline.columns)
            lines.append(f"- `{config.path}` ({outline.event_type}): {columns}")
        lines.append("")
        lines.append("`?` marks a column that may be empty.")
    flagged = a.flagged
    if flagged:
        lines += ["", "## Flows still open", ""]
        for plan in flagged:
            lines.append(
                f"- **{plan.flow}**: " + "; ".join(f"[{p.rule}] {p.text}" for p in plan.problems)
            )
            lines += [f"  - fix: {fix}" for fix in plan.fixes]
    return "\n".join(lines) + "\n"

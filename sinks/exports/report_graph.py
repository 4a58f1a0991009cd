"""The genealogy of one batch drawn as an SVG graph on the server (no browser, no JavaScript).

Columns by genealogy level: upstream lots to the left (level 1 = consumed directly), the batch in
the middle, downstream batches to the right; an arrow runs from each consumed lot to the batch it
went into. Lots on hold have a red border, lots the store does not hold a dashed one. A column
shows at most ``max_per_column`` nodes and says how many more there are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from sinks.store.queries import Link

_W, _H, _GAP_X, _GAP_Y, _PAD = 150, 34, 60, 12, 16


@dataclass(frozen=True)
class _Node:
    code: str
    label: str
    column: int
    on_hold: bool
    stored: bool


def _nodes(
    batch: str, label: str, up: Sequence[Link], down: Sequence[Link], limit: int
) -> tuple[dict[str, _Node], dict[int, int]]:
    nodes = {batch: _Node(batch, label, 0, False, True)}
    hidden: dict[int, int] = {}
    for links, sign in ((up, -1), (down, 1)):
        for link in sorted(links, key=lambda k: (k.level, k.code)):
            if link.code in nodes:
                continue
            column = sign * link.level
            shown = sum(1 for n in nodes.values() if n.column == column)
            if shown >= limit:
                hidden[column] = hidden.get(column, 0) + 1
                continue
            what = link.product_code or link.lot_material or link.material_code
            nodes[link.code] = _Node(link.code, what, column, link.on_hold, link.stored)
    return nodes, hidden


def genealogy_svg(
    batch: str,
    label: str,
    upstream: Sequence[Link],
    downstream: Sequence[Link],
    *,
    on_hold: bool = False,
    max_per_column: int = 12,
    link: Callable[[str], str] | None = None,
) -> str:
    """An ``<svg>`` element drawing the batch's genealogy; with ``link``, each node is a link
    to ``link(code)``."""
    nodes, hidden = _nodes(batch, label, upstream, downstream, max_per_column)
    nodes[batch] = _Node(batch, label, 0, on_hold, True)
    columns = sorted({n.column for n in nodes.values()})
    rows: dict[int, list[_Node]] = {c: [] for c in columns}
    for node in sorted(nodes.values(), key=lambda n: n.code):
        rows[node.column].append(node)
    tallest = max(len(r) + (1 if hidden.get(c) else 0) for c, r in rows.items())
    width = _PAD * 2 + len(columns) * _W + (len(columns) - 1) * _GAP_X
    height = _PAD * 2 + 20 + tallest * (_H + _GAP_Y)
    pos: dict[str, tuple[float, float]] = {}
    for i, column in enumerate(columns):
        x = _PAD + i * (_W + _GAP_X)
        offset = (tallest - len(rows[column])) * (_H + _GAP_Y) / 2
        for j, node in enumerate(rows[column]):
            pos[node.code] = (x, _PAD + 20 + offset + j * (_H + _GAP_Y))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="genealogy" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" font-family="DejaVu Sans, sans-serif">',
        '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="7" refY="4" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>',
    ]
    for i, column in enumerate(columns):
        title = "this batch" if column == 0 else f"{'up' if column < 0 else 'down'} L{abs(column)}"
        mid = _PAD + i * (_W + _GAP_X) + _W / 2
        parts.append(
            f'<text x="{mid}" y="{_PAD + 8}" font-size="10" text-anchor="middle" '
            f'fill="#444">{title}</text>'
        )
    parts += _edges(upstream, downstream, pos)
    parts += [_box(n, *pos[n.code], n.code == batch, link) for n in nodes.values()]
    for i, column in enumerate(columns):
        if hidden.get(column):
            x = _PAD + i * (_W + _GAP_X) + 4
            y = height - _PAD
            parts.append(
                f'<text x="{x}" y="{y}" font-size="10" fill="#a00">'
                f"+ {hidden[column]} more (see the table)</text>"
            )
    parts.append("</svg>")
    return "\n".join(parts)


def _edges(
    upstream: Sequence[Link], downstream: Sequence[Link], pos: dict[str, tuple[float, float]]
) -> list[str]:
    lines = []
    pairs = {(k.code, k.via) for k in upstream} | {(k.via, k.code) for k in downstream}
    for parent, child in sorted(pairs):
        if parent not in pos or child not in pos:
            continue
        (x1, y1), (x2, y2) = pos[parent], pos[child]
        if x1 > x2:  # a cycle drawn backwards: keep it visible
            x1, x2 = x2, x1
        lines.append(
            f'<line x1="{x1 + _W}" y1="{y1 + _H / 2}" x2="{x2 - 2}" y2="{y2 + _H / 2}" '
            'stroke="#777" stroke-width="1" marker-end="url(#arrow)"/>'
        )
    return lines


def _box(
    node: _Node, x: float, y: float, centre: bool, link: Callable[[str], str] | None = None
) -> str:
    stroke = "#c00" if node.on_hold else "#1f4e79" if centre else "#666"
    dash = "" if node.stored else ' stroke-dasharray="4 3"'
    fill = "#ddebf7" if centre else "#ffffff"
    box = (
        f'<g data-code="{escape(node.code)}">'
        f'<rect x="{x}" y="{y}" width="{_W}" height="{_H}" rx="4" fill="{fill}" '
        f'stroke="{stroke}" stroke-width="{2 if node.on_hold or centre else 1}"{dash}/>'
        f'<text x="{x + 6}" y="{y + 14}" font-size="11" font-weight="bold">'
        f"{escape(node.code[:24])}</text>"
        f'<text x="{x + 6}" y="{y + 27}" font-size="9" fill="#444">'
        f"{escape((node.label or '')[:28])}{' - ON HOLD' if node.on_hold else ''}</text></g>"
    )
    if link is None:
        return box
    return f'<a href="{escape(link(node.code))}" class="node">{box}</a>'

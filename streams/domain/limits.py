"""What one field of an event may hold: the pure part of the worker's input guard.

A text value may not be longer than the field limit nor hold a NUL (the PostgreSQL store cannot
keep one); the batch code and the source reference, which people read in reports and logs, may
not be blank nor hold control or format characters (a bidi override makes one code look like
another). The ingest edge refuses the same (:mod:`tracesync.contracts.envelope_shape`); this guard
holds for records produced to a source topic by anything else.

The worker bounds what one batch can accumulate at three levels (docs/streams.md, "Size
limits"): each text value of an event (here, on the decoded :class:`Event`), each encoded event
and each encoded chain (both measured in bytes at the processor's edge, :mod:`streams.processor`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from streams.domain.events import Event

_IDENTIFIERS = ("event_id", "source_ref", "batch_code", "plant")
_CODES = ("batch_code", "source_ref")
_SCALARS = frozenset({int, float, bool, type(None)})
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def field_problem(event: Event, max_bytes: int) -> str | None:
    """Why one of ``event``'s fields cannot be taken (None: all can).

    The reason names the field by its path, e.g. ``payload.trace_codes[3]``.
    """
    for name in _CODES:
        found = code_problem(getattr(event, name))
        if found is not None:
            return f"field {name} {found}"
    return oversized_field(event, max_bytes)


def code_problem(value: str) -> str | None:
    """Why ``value`` is no readable code: blank, or with a control or format character."""
    if value.isascii() and value.isprintable() and value.strip():
        return None
    if not value.strip():
        return "is blank"
    for char in value:
        if unicodedata.category(char) in _UNPRINTABLE:
            return f"contains the control or format character U+{ord(char):04X}"
    return None


def oversized_field(event: Event, max_bytes: int) -> str | None:
    """Why one of ``event``'s text values is longer than ``max_bytes`` UTF-8 bytes or holds a
    NUL (None: none is or does)."""
    max_chars = max_bytes // 4
    head = (event.event_id, event.source_ref, event.batch_code, event.plant)
    if _plain(head, max_chars) and _plain(event.payload, max_chars):
        return None
    for name in _IDENTIFIERS:
        found = _oversized(getattr(event, name), name, max_bytes)
        if found is not None:
            return found
    return _oversized(event.payload, "payload", max_bytes)


def _plain(value: Any, max_chars: int) -> bool:
    """Whether no text in ``value`` holds a NUL or more than ``max_chars`` code points.

    The lean first pass over every event (no paths built): a value it doubts is walked again by
    :func:`_oversized`, which decides, in UTF-8 bytes, and names the field.
    """
    if type(value) is dict:
        items: Any = value.values()
    elif isinstance(value, Mapping):
        items = value.values()
    elif isinstance(value, list | tuple):
        items = value
    elif isinstance(value, str):
        return "\x00" not in value and len(value) <= max_chars
    else:
        return True
    for item in items:
        kind = type(item)
        if kind is str:
            if "\x00" in item or len(item) > max_chars:
                return False
        elif kind not in _SCALARS and not _plain(item, max_chars):
            return False
    return True


def _oversized(value: Any, path: str, max_bytes: int) -> str | None:
    if isinstance(value, str):
        return _text_problem(value, path, max_bytes)
    if isinstance(value, Mapping):
        items: Any = ((f"{path}.{key}", item) for key, item in value.items())
    elif isinstance(value, list | tuple):
        items = ((f"{path}[{index}]", item) for index, item in enumerate(value))
    else:
        return None
    for item_path, item in items:
        found = _oversized(item, item_path, max_bytes)
        if found is not None:
            return found
    return None


def _text_problem(value: str, path: str, max_bytes: int) -> str | None:
    if "\x00" in value:
        return f"field {path} contains a NUL character (U+0000)"
    # a str of n code points takes at most 4n UTF-8 bytes: most values need no encoding
    if len(value) * 4 <= max_bytes:
        return None
    size = len(value.encode("utf-8", "surrogatepass"))
    if size <= max_bytes:
        return None
    return f"field {path} of {size} bytes exceeds the limit of {max_bytes} bytes"

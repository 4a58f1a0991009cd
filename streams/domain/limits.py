"""How large one field of an event may be: the pure part of the worker's size limits.

The worker bounds what one batch can accumulate at three levels (docs/streams.md, "Size
limits"): each text value of an event (here, on the decoded :class:`Event`), each encoded event
and each encoded chain (both measured in bytes at the processor's edge, :mod:`streams.processor`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streams.domain.events import Event

_IDENTIFIERS = ("event_id", "source_ref", "batch_code", "plant")


def oversized_field(event: Event, max_bytes: int) -> str | None:
    """Why one of ``event``'s text values is longer than ``max_bytes`` UTF-8 bytes (None: none is).

    The reason names the field by its path, e.g. ``payload.trace_codes[3]``.
    """
    for name in _IDENTIFIERS:
        found = _oversized(getattr(event, name), name, max_bytes)
        if found is not None:
            return found
    return _oversized(event.payload, "payload", max_bytes)


def _oversized(value: Any, path: str, max_bytes: int) -> str | None:
    if isinstance(value, str):
        # a str of n code points takes at most 4n UTF-8 bytes: most values need no encoding
        if len(value) * 4 <= max_bytes:
            return None
        size = len(value.encode("utf-8", "surrogatepass"))
        if size <= max_bytes:
            return None
        return f"field {path} of {size} bytes exceeds the limit of {max_bytes} bytes"
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _oversized(item, f"{path}.{key}", max_bytes)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _oversized(item, f"{path}[{index}]", max_bytes)
            if found is not None:
                return found
    return None

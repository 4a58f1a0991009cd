"""XML exports as a stream of rows: the elements a ``record_path`` names, one at a time.

The file is fed to expat in chunks (:class:`xml.etree.ElementTree.XMLPullParser`); each record
is turned into a row once its end tag is read, then cleared and detached from its parent, like
every element outside a record, so the tree never holds more than the open elements and the
record being read. expat (>= 2.4.1, as bundled) refuses entity-expansion bombs and no external
entity is ever fetched (a reference to one is an undefined entity: not well-formed).

``record_path`` is the subset of ElementPath that can be matched while streaming: tag names
(``{namespace}tag``, ``{*}tag``) or ``*``, separated by ``/`` (child) or ``//`` (any depth),
relative to the root element (``Row``, ``./Export/Row``, ``.//Row``); predicates are refused.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from typing import IO, Any, cast

from producers.files.errors import UnreadableFileError
from tracesync.errors import ConfigurationError

_CHUNK = 256 * 1024
_STEP = re.compile(r"(//?)(\*|(?:\{[^{}]*\})?[^/{}\[\]@=()'\".\s][^/{}\[\]@=()'\"\s]*)")

Step = tuple[bool, str]  # (any depth before it, tag or *)


def record_steps(record_path: str) -> tuple[Step, ...]:
    """The steps of ``record_path``; ConfigurationError for what cannot be matched streaming."""
    path = record_path.strip()
    text = path[1:] if path.startswith("./") else "/" + path
    tokens = _STEP.findall(text)
    if not tokens or "".join(sep + tag for sep, tag in tokens) != text:
        raise ConfigurationError(
            f"bad record_path {record_path!r}: use tag names or * separated by / or // "
            "(relative to the root element, e.g. './/Row' or 'Batch/Row'; no predicates)"
        )
    return tuple((sep == "//", tag) for sep, tag in tokens)


def _tag_is(step: str, tag: str) -> bool:
    if step in {"*", tag}:
        return True
    return step.startswith("{*}") and (tag == step[3:] or tag.endswith("}" + step[3:]))


def _matches(steps: tuple[Step, ...], chain: list[str]) -> bool:
    """Whether the element at the end of ``chain`` (tags below the root) is a record."""

    def match(i: int, j: int) -> bool:
        if i == len(steps):
            return j == len(chain)
        anywhere, tag = steps[i]
        last = len(chain) if anywhere else min(j + 1, len(chain))
        return any(_tag_is(tag, chain[k]) and match(i + 1, k + 1) for k in range(j, last))

    return match(0, 0)


class _Records:
    """Turns start/end events into rows, in document order, clearing what was read."""

    def __init__(self, steps: tuple[Step, ...]) -> None:
        self.steps = steps
        self.open: list[ET.Element] = []
        self.is_record: list[bool] = []
        self.pending: list[ET.Element] = []  # records of the outermost open record, in order
        self.open_records = 0

    def rows(self, events: Iterable[tuple[str, ET.Element]]) -> Iterator[dict[str, Any]]:
        """Rows of the records these start/end events complete."""
        for event, element in events:
            if event == "start":
                chain = [e.tag for e in self.open[1:]] + [element.tag]
                is_record = bool(self.open) and _matches(self.steps, chain)
                self.open.append(element)
                self.is_record.append(is_record)
                if is_record:
                    self.pending.append(element)
                    self.open_records += 1
                continue
            self.open.pop()
            if self.is_record.pop():
                self.open_records -= 1
            if self.open_records:
                continue  # inside a record: kept until the outermost record ends
            for done in self.pending:
                yield element_row(done)
            self.pending.clear()
            element.clear()
            if self.open:
                self.open[-1].remove(element)


def xml_rows(stream: IO[bytes], record_path: str) -> Iterator[dict[str, Any]]:
    """The rows of the elements ``record_path`` names, read from ``stream`` in chunks."""
    records = _Records(record_steps(record_path))
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    try:
        while chunk := stream.read(_CHUNK):
            parser.feed(chunk)
            yield from records.rows(_elements(parser))
        parser.close()
        yield from records.rows(_elements(parser))
    except ET.ParseError as exc:
        raise UnreadableFileError(f"not well-formed XML: {exc}") from exc


def _elements(parser: ET.XMLPullParser[ET.Element]) -> Iterator[tuple[str, ET.Element]]:
    # only start and end events were asked for: each carries an element
    return cast("Iterator[tuple[str, ET.Element]]", parser.read_events())


def element_row(element: ET.Element) -> dict[str, Any]:
    """An XML element as a row: attributes and leaf children by name (text); children with
    children or attributes become lists of rows; repeated leaf children become lists of text."""
    row: dict[str, Any] = dict(element.attrib)
    for child in element:
        if len(child) or child.attrib:
            row.setdefault(child.tag, [])
            if isinstance(row[child.tag], list):
                row[child.tag].append(element_row(child))
            continue
        text = (child.text or "").strip()
        if child.tag in row:
            existing = row[child.tag]
            row[child.tag] = [*existing, text] if isinstance(existing, list) else [existing, text]
        else:
            row[child.tag] = text
    return row

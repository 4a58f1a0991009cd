"""Accept a GS1 Digital Link URI or element string wherever a trace code is accepted.

:func:`store_code` turns what a person typed or scanned into the code the store knows: a plain
code passes through; a GS1 code resolves to the trace code printed on the unit (stored as given,
in canonical form or as its serial) or, failing that, to the batch named by its lot (AI 10). A
lot whose product has another GTIN in the master data, or a serial of another lot, is an error
naming both; so is a code the store does not know.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from sinks.store import schema as s
from tracesync.errors import TracesyncError
from tracesync.gs1.digital_link import Gs1Code, looks_like_gs1, parse_gs1
from tracesync.gs1.identifiers import MasterData


class UnknownCodeError(TracesyncError):
    """A code (or the GS1 code it was given as) names nothing in the trace store."""


def _candidates(text: str, code: Gs1Code) -> list[str]:
    found = [text.strip(), code.element_string(), code.digital_link()]
    found.append(code.digital_link(constrained=True))
    found += [v for v in (code.serial, code.sscc) if v]
    return list(dict.fromkeys(found))


def store_code(conn: Connection, text: str, master: MasterData | None = None) -> str:
    """The store's code for ``text`` (unchanged unless it is a GS1 code)."""
    if not looks_like_gs1(text):
        return text
    code = parse_gs1(text)
    t = s.trace_codes
    query = select(t.c.trace_code, t.c.batch_code).where(
        t.c.trace_code.in_(_candidates(text, code))
    )
    matches = {row.trace_code: row.batch_code for row in conn.execute(query)}
    if matches:
        trace_code, batch = next(iter(sorted(matches.items())))
        if code.lot is not None and batch != code.lot:
            raise UnknownCodeError(
                f"{text!r}: unit {trace_code!r} belongs to batch {batch!r}, not to lot {code.lot!r}"
            )
        _check_gtin(conn, text, code, batch, master)
        return str(trace_code)
    if code.lot is not None:
        _check_gtin(conn, text, code, code.lot, master)
        return code.lot
    what = ", ".join(f"({ai}) {value}" for ai, value in code.elements)
    raise UnknownCodeError(f"{text!r}: no unit or lot in the trace store for {what}")


def _check_gtin(
    conn: Connection, text: str, code: Gs1Code, batch: str, master: MasterData | None
) -> None:
    b = s.batches
    query = select(b.c.product_code, b.c.material_code).where(b.c.batch_code == batch)
    row = conn.execute(query).first()
    if row is None:
        raise UnknownCodeError(f"{text!r}: lot {batch!r} is not in the trace store")
    item = row.product_code or row.material_code
    expected = (master.gtins if master else {}).get(item or "")
    if code.gtin is not None and expected is not None and expected != code.gtin:
        raise UnknownCodeError(
            f"{text!r}: GTIN {code.gtin} is not the GTIN of {batch!r} ({item}: {expected})"
        )

"""Identifiers the exports use: GS1 Digital Link URIs where master data gives a GTIN or GLN,
private URNs (``urn:tracesync:...``) otherwise; and the way back from a URI to our codes.

:class:`MasterData` holds the GTIN of each product or material code and the GLN of the plant,
customers, ship-to addresses and suppliers (``[gtins]`` and ``[glns]`` of a TOML file, see
``deploy/gs1/demo.toml``). :class:`Identifiers` builds every URI an EPCIS document needs and parses
them back (the capture side uses the same object, so an exported document maps back to the same
codes).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote

from tracesync.errors import ConfigurationError
from tracesync.gs1.digital_link import (
    CANONICAL_DOMAIN,
    Gs1Code,
    Gs1SyntaxError,
    check_digit,
    gtin14,
    looks_like_gs1,
    parse_gs1,
)
from tracesync.gs1.epc_urn import epc_urn_to_digital_link
from tracesync.settings import ExportSettings

PRIVATE = "urn:tracesync"


@dataclass(frozen=True)
class MasterData:
    """GTINs by product/material code, GLNs by plant/party/location id."""

    gtins: Mapping[str, str] = field(default_factory=dict)
    glns: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: Path | None, **extra: Mapping[str, str]) -> MasterData:
        """Read ``[gtins]`` and ``[glns]`` from a TOML file; check every key's digits."""
        data: dict[str, dict[str, str]] = {"gtins": {}, "glns": {}}
        if path is not None:
            try:
                loaded = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigurationError(f"cannot read GS1 master data {path}: {exc}") from exc
            for table, values in data.items():
                values.update({str(k): str(v) for k, v in loaded.get(table, {}).items()})
        for table, given in extra.items():
            data[table].update(given)
        try:
            gtins = {code: gtin14(value) for code, value in data["gtins"].items()}
            glns = {code: _gln(value) for code, value in data["glns"].items()}
        except Gs1SyntaxError as exc:
            raise ConfigurationError(f"GS1 master data {path or '(settings)'}: {exc}") from exc
        return cls(gtins, glns)


def master_data(settings: ExportSettings) -> MasterData:
    """The GS1 master data the settings name (file first, then the inline tables)."""
    return MasterData.from_file(settings.gs1_master_data, gtins=settings.gtins, glns=settings.glns)


def _gln(value: str) -> str:
    if len(value) != 13 or not value.isdigit() or check_digit(value[:-1]) != value[-1]:
        raise Gs1SyntaxError(value, "a GLN has 13 digits with a valid check digit")
    return value


def _q(part: str) -> str:
    return quote(part, safe="-._~")


@dataclass(frozen=True)
class LotRef:
    """A lot (or batch) named by a class URI: its item (product/material code) and lot code."""

    item: str | None
    lot: str


class Identifiers:
    """URIs for lots, units, locations, parties, equipment and business transactions."""

    def __init__(self, master: MasterData | None = None) -> None:
        self.master = master or MasterData()
        self._item_of_gtin = {gtin: code for code, gtin in self.master.gtins.items()}
        self._id_of_gln = {gln: code for code, gln in self.master.glns.items()}

    # -- towards EPCIS ---------------------------------------------------------------------

    def lot_class(self, item: str | None, lot: str) -> str:
        """EPC class of a lot: ``…/01/{GTIN}/10/{lot}`` or ``urn:tracesync:lot:{item}:{lot}``."""
        gtin = self.master.gtins.get(item or "")
        if gtin is not None and _lot_fits(lot):
            return f"{CANONICAL_DOMAIN}/01/{gtin}/10/{quote(lot, safe='')}"
        return f"{PRIVATE}:lot:{_q(item or '')}:{_q(lot)}"

    def unit(self, item: str | None, trace_code: str) -> str:
        """Instance id of a unit, case or pallet from its trace code."""
        if looks_like_gs1(trace_code):
            try:
                return parse_gs1(trace_code).digital_link(constrained=True)
            except Gs1SyntaxError:
                pass
        gtin = self.master.gtins.get(item or "")
        if gtin is not None and _lot_fits(trace_code):
            return f"{CANONICAL_DOMAIN}/01/{gtin}/21/{quote(trace_code, safe='')}"
        return f"{PRIVATE}:unit:{_q(trace_code)}"

    def location(self, plant: str, sub: str | None = None) -> str:
        """A business location or read point: the plant, or a line/warehouse place in it."""
        gln = self.master.glns.get(plant)
        if gln is not None and (sub is None or _lot_fits(sub)):
            return f"{CANONICAL_DOMAIN}/414/{gln}" + (f"/254/{quote(sub, safe='')}" if sub else "")
        return f"{PRIVATE}:loc:{_q(plant)}" + (f":{_q(sub)}" if sub else "")

    def party(self, party_id: str) -> str:
        gln = self.master.glns.get(party_id)
        if gln is not None:
            return f"{CANONICAL_DOMAIN}/417/{gln}"
        return f"{PRIVATE}:party:{_q(party_id)}"

    def equipment(self, plant: str, equipment_id: str) -> str:
        return f"{PRIVATE}:equipment:{_q(plant)}:{_q(equipment_id)}"

    def transaction(self, kind: str, number: str) -> str:
        return f"{PRIVATE}:bt:{_q(kind)}:{_q(number)}"

    # -- back from EPCIS -------------------------------------------------------------------

    def parse_lot_class(self, uri: str) -> LotRef:
        """Item and lot of a lot class URI (ours, a GS1 Digital Link or an LGTIN URN)."""
        if uri.startswith(f"{PRIVATE}:lot:"):
            item, sep, lot = uri.removeprefix(f"{PRIVATE}:lot:").partition(":")
            if not sep or not lot:
                raise ValueError(f"{uri!r}: expected {PRIVATE}:lot:ITEM:LOT")
            return LotRef(unquote(item) or None, unquote(lot))
        code = self._gs1(uri)
        if code.gtin is None or code.lot is None:
            raise ValueError(f"{uri!r} names no lot: a GTIN with (10) lot is needed")
        return LotRef(self._item_of_gtin.get(code.gtin, code.gtin), code.lot)

    def parse_unit(self, uri: str) -> str:
        """The trace code of a unit URI (ours, a GS1 Digital Link or an SGTIN/SSCC URN)."""
        if uri.startswith(f"{PRIVATE}:unit:"):
            return unquote(uri.removeprefix(f"{PRIVATE}:unit:"))
        code = self._gs1(uri)
        if code.serial is not None:
            return code.serial
        if code.sscc is not None:
            return code.sscc
        raise ValueError(f"{uri!r} names no unit: a GTIN with (21) serial or an SSCC is needed")

    def parse_place(self, uri: str) -> tuple[str, str | None]:
        """(plant, sub-location) of a location URI."""
        if uri.startswith(f"{PRIVATE}:loc:"):
            plant, _, sub = uri.removeprefix(f"{PRIVATE}:loc:").partition(":")
            return unquote(plant), (unquote(sub) or None)
        code = self._gs1(uri)
        gln = code.get("414")
        if gln is None:
            raise ValueError(f"{uri!r} is not a location (414 GLN)")
        return self._id_of_gln.get(gln, gln), code.get("254")

    def parse_party(self, uri: str) -> str:
        if uri.startswith(f"{PRIVATE}:party:"):
            return unquote(uri.removeprefix(f"{PRIVATE}:party:"))
        code = self._gs1(uri)
        gln = code.get("417") or code.get("414")
        if gln is None:
            raise ValueError(f"{uri!r} is not a party (417 GLN)")
        return self._id_of_gln.get(gln, gln)

    def parse_tail(self, uri: str, kind: str) -> str:
        """The id of an equipment (``kind`` = equipment) or transaction URI of ours; else the
        URI's last path segment."""
        prefix = f"{PRIVATE}:{kind}:"
        if uri.startswith(prefix):
            return unquote(uri.removeprefix(prefix).rsplit(":", 1)[-1])
        return unquote(uri.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1])

    def _gs1(self, uri: str) -> Gs1Code:
        try:
            return parse_gs1(epc_urn_to_digital_link(uri) or uri)
        except Gs1SyntaxError as exc:
            raise ValueError(str(exc)) from exc


def _lot_fits(value: str) -> bool:
    """Whether ``value`` can be a GS1 (10)/(21)/(254) value: 1-20 characters of set 82."""
    try:
        parse_gs1(f"(01)09506000134352(10){value}")
    except Gs1SyntaxError:
        return False
    return True

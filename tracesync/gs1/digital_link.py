"""GS1 Digital Link URIs and GS1 element strings: parse, check and write them (pure, no I/O).

A trace code may be given as a Digital Link URI (``https://id.gs1.org/01/{GTIN}/10/{lot}/21/
{serial}``, any domain, an optional path before the key, a query with attributes) or as an
element string, bracketed (``(01)09506000134352(10)ABC(21)42``) or raw with GS separators (as a
scanner reads it, ``]d2`` / ``]Q3`` prefix allowed). :func:`parse_gs1` turns both into a
:class:`Gs1Code`; anything malformed raises :class:`Gs1SyntaxError` naming what is wrong (the
application identifier, the check digit, the character, the length).

The store lookups that turn a parsed code into a batch live in :mod:`sinks.exports.resolve`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from tracesync.errors import TracesyncError

CANONICAL_DOMAIN = "https://id.gs1.org"
GS = "\x1d"

# AI -> (description, fixed length or None for variable, max length, numeric only)
_AIS: dict[str, tuple[str, int | None, int, bool]] = {
    "00": ("SSCC", 18, 18, True),
    "01": ("GTIN", 14, 14, True),
    "02": ("GTIN of contained items", 14, 14, True),
    "10": ("batch/lot", None, 20, False),
    "11": ("production date", 6, 6, True),
    "13": ("packaging date", 6, 6, True),
    "15": ("best before date", 6, 6, True),
    "17": ("expiry date", 6, 6, True),
    "21": ("serial number", None, 20, False),
    "22": ("consumer product variant", None, 20, False),
    "30": ("variable count", None, 8, True),
    "37": ("count of trade items", None, 8, True),
    "254": ("GLN extension", None, 20, False),
    "400": ("customer purchase order", None, 30, False),
    "414": ("GLN of a physical location", 13, 13, True),
    "417": ("party GLN", 13, 13, True),
}
_WEIGHT_AI = re.compile(r"^3[1-6]\d\d$")  # 3100-3699: measures, 6 digits, last AI digit = decimals
_KEY_AIS = ("01", "00", "414", "417")
_QUALIFIERS = {"01": ("22", "10", "21"), "414": ("254",), "00": (), "417": ()}
# GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1)
_CSET82 = re.compile(r"""^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*$""")
_BRACKETED = re.compile(r"\((\d{2,4})\)([^()]*)")


class Gs1SyntaxError(TracesyncError):
    """A Digital Link URI or element string is malformed; the message says what is wrong."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"{text!r} is not a valid GS1 code: {reason}")


@dataclass(frozen=True)
class Gs1Code:
    """The application identifiers of one code, in the order given, checked."""

    elements: tuple[tuple[str, str], ...]

    def get(self, ai: str) -> str | None:
        return next((value for key, value in self.elements if key == ai), None)

    @property
    def gtin(self) -> str | None:
        return self.get("01")

    @property
    def lot(self) -> str | None:
        return self.get("10")

    @property
    def serial(self) -> str | None:
        return self.get("21")

    @property
    def sscc(self) -> str | None:
        return self.get("00")

    def element_string(self) -> str:
        """The bracketed element string, key first, then qualifiers, then attributes."""
        return "".join(f"({ai}){value}" for ai, value in self._ordered())

    def digital_link(self, *, constrained: bool = False) -> str:
        """The canonical Digital Link URI (``https://id.gs1.org``); attributes in the query.

        ``constrained`` keeps only the finest identification (GTIN+serial, else GTIN+lot, else
        the key alone) and no query: the form the EPCIS event hash uses.
        """
        key = next((ai for ai in _KEY_AIS if self.get(ai) is not None), None)
        if key is None:
            raise Gs1SyntaxError(self.element_string(), "no GS1 key (01, 00, 414 or 417)")
        path = [(key, self.get(key) or "")]
        qualifiers = [(q, self.get(q)) for q in _QUALIFIERS[key] if self.get(q) is not None]
        if constrained:
            finest = [q for q in qualifiers if q[0] in ("21", "254")] or [
                q for q in qualifiers if q[0] == "10"
            ]
            qualifiers = finest[:1]
        path += [(q, v or "") for q, v in qualifiers]
        uri = CANONICAL_DOMAIN + "".join(f"/{ai}/{quote(v, safe='')}" for ai, v in path)
        if constrained:
            return uri
        used = {ai for ai, _ in path}
        rest = [(ai, v) for ai, v in self.elements if ai not in used]
        if rest:
            uri += "?" + "&".join(f"{ai}={quote(v, safe='')}" for ai, v in rest)
        return uri

    def _ordered(self) -> list[tuple[str, str]]:
        key = next((ai for ai in _KEY_AIS if self.get(ai) is not None), None)
        first = [key, *_QUALIFIERS.get(key, ())] if key else []
        head = [(ai, self.get(ai) or "") for ai in first if self.get(ai) is not None]
        return head + [(ai, v) for ai, v in self.elements if ai not in first]


def looks_like_gs1(text: str) -> bool:
    """Whether ``text`` is meant as a GS1 code (so a parse error should be shown, not ignored)."""
    t = text.strip()
    if t.startswith(("(01)", "(00)", "]d2", "]Q3", "]C1")) or GS in t:
        return True
    if re.match(r"^https?://", t):
        path = urlsplit(t).path
        return bool(re.search(r"/(01|00|414|417|8006)/", path + "/"))
    return False


def check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit of ``digits`` (the key without its last digit)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def gtin14(value: str) -> str:
    """A GTIN-8/12/13/14 as 14 digits, check digit verified."""
    if not value.isdigit() or len(value) not in (8, 12, 13, 14):
        raise Gs1SyntaxError(value, "a GTIN has 8, 12, 13 or 14 digits")
    padded = value.zfill(14)
    _verify_check_digit(padded, "GTIN", value)
    return padded


def _verify_check_digit(value: str, what: str, text: str) -> None:
    expected = check_digit(value[:-1])
    if value[-1] != expected:
        raise Gs1SyntaxError(
            text, f"{what} {value} has check digit {value[-1]}, expected {expected}"
        )


def _check_value(ai: str, value: str, text: str) -> str:  # noqa: C901 - a check per AI kind
    if _WEIGHT_AI.match(ai):
        if len(value) != 6 or not value.isdigit():
            raise Gs1SyntaxError(text, f"AI ({ai}) takes exactly 6 digits, got {value!r}")
        return value
    spec = _AIS.get(ai)
    if spec is None:
        raise Gs1SyntaxError(text, f"unknown or unsupported application identifier ({ai})")
    name, fixed, longest, numeric = spec
    if ai == "01":
        return _fixed_key(value, name, text)
    if fixed is not None and len(value) != fixed:
        raise Gs1SyntaxError(text, f"({ai}) {name} takes {fixed} digits, got {len(value)}")
    if not value:
        raise Gs1SyntaxError(text, f"({ai}) {name} is empty")
    if len(value) > longest:
        raise Gs1SyntaxError(text, f"({ai}) {name} is at most {longest} characters")
    if numeric and not value.isdigit():
        raise Gs1SyntaxError(text, f"({ai}) {name} takes digits only, got {value!r}")
    bad = next((c for c in value if not _CSET82.match(c)), None)
    if bad is not None:
        raise Gs1SyntaxError(text, f"({ai}) {name} contains {bad!r}, not allowed by GS1")
    if ai in ("00", "414", "417"):
        _verify_check_digit(value, name, text)
    return value


def _fixed_key(value: str, name: str, text: str) -> str:
    if len(value) != 14 or not value.isdigit():
        raise Gs1SyntaxError(text, f"(01) {name} takes 14 digits, got {value!r}")
    _verify_check_digit(value, name, text)
    return value


def _code(elements: list[tuple[str, str]], text: str) -> Gs1Code:
    seen: set[str] = set()
    for ai, _ in elements:
        if ai in seen:
            raise Gs1SyntaxError(text, f"application identifier ({ai}) appears twice")
        seen.add(ai)
    checked = tuple((ai, _check_value(ai, v, text)) for ai, v in elements)
    if not any(ai in _KEY_AIS for ai, _ in checked):
        raise Gs1SyntaxError(text, "no GS1 key: (01) GTIN, (00) SSCC, (414) or (417) GLN")
    code = Gs1Code(checked)
    if code.gtin is None and (code.lot or code.serial):
        raise Gs1SyntaxError(text, "(10) and (21) qualify a GTIN; (01) is missing")
    return code


def parse_element_string(text: str) -> Gs1Code:
    """A bracketed or raw (GS-separated) element string."""
    t = text.strip()
    for prefix in ("]d2", "]Q3", "]C1"):
        t = t.removeprefix(prefix)
    if t.startswith("("):
        matches = list(_BRACKETED.finditer(t))
        if not matches or "".join(m.group(0) for m in matches) != t:
            raise Gs1SyntaxError(text, "expected (AI)value pairs, e.g. (01)09506000134352(10)A1")
        return _code([(m.group(1), m.group(2)) for m in matches], text)
    return _code(_split_raw(t, text), text)


def _split_raw(t: str, text: str) -> list[tuple[str, str]]:
    elements: list[tuple[str, str]] = []
    i = 0
    while i < len(t):
        ai = next((t[i : i + n] for n in (2, 3, 4) if _known(t[i : i + n])), None)
        if ai is None:
            raise Gs1SyntaxError(text, f"unknown application identifier at {t[i : i + 4]!r}")
        i += len(ai)
        fixed = 6 if _WEIGHT_AI.match(ai) else _AIS[ai][1]
        if fixed is not None:
            value, i = t[i : i + fixed], i + fixed
        else:
            end = t.find(GS, i)
            end = len(t) if end < 0 else end
            value, i = t[i:end], end
        elements.append((ai, value))
        if i < len(t) and t[i] == GS:
            i += 1
    return elements


def _known(ai: str) -> bool:
    return ai in _AIS or bool(_WEIGHT_AI.match(ai))


def parse_digital_link(text: str) -> Gs1Code:
    """A Digital Link URI (any domain); the key is the first AI found in the path."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Gs1SyntaxError(text, "a Digital Link URI starts with https:// and a domain")
    segments = [unquote(s) for s in parts.path.split("/") if s]
    start = next((i for i, s in enumerate(segments) if s in _QUALIFIERS), None)
    if start is None:
        raise Gs1SyntaxError(text, "no GS1 key in the path (/01/, /00/, /414/ or /417/)")
    path = segments[start:]
    if len(path) % 2:
        raise Gs1SyntaxError(text, f"path ends with {path[-1]!r} without its value")
    pairs = [(path[i], path[i + 1]) for i in range(0, len(path), 2)]
    if pairs[0][0] == "01" and len(pairs[0][1]) in (8, 12, 13) and pairs[0][1].isdigit():
        pairs[0] = ("01", pairs[0][1].zfill(14))  # Digital Link allows GTIN-8/12/13
    allowed = _QUALIFIERS[pairs[0][0]]
    for ai, _ in pairs[1:]:
        if ai not in allowed:
            raise Gs1SyntaxError(
                text, f"/{ai}/ cannot qualify /{pairs[0][0]}/ (allowed: {', '.join(allowed)})"
            )
    order = [allowed.index(ai) for ai, _ in pairs[1:]]
    if order != sorted(order):
        raise Gs1SyntaxError(text, f"qualifiers must come in the order {'/'.join(allowed)}")
    query = [q.split("=", 1) for q in parts.query.split("&") if q]
    attributes = [(k, unquote(v)) for k, v in (q if len(q) == 2 else (q[0], "") for q in query)]
    return _code(pairs + [(k, v) for k, v in attributes if k.isdigit()], text)


def parse_gs1(text: str) -> Gs1Code:
    """A Digital Link URI or an element string."""
    t = text.strip()
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", t):
        return parse_digital_link(t)
    return parse_element_string(t)

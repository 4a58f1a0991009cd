"""EPC URNs (``urn:epc:id:sgtin:…``, ``urn:epc:class:lgtin:…``) as GS1 Digital Link URIs, and
the constrained canonical form of any Digital Link URI.

EPCIS 1.x documents and many EPCIS 2.0 ones name objects with EPC URNs (GS1 Tag Data Standard);
the event hash and our capture work on Digital Link URIs, so both convert with
:func:`epc_urn_to_digital_link`. :func:`constrain_digital_link` is lenient (no check-digit test):
it only rewrites a URI for hashing, it does not vouch for it.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

from tracesync.gs1.digital_link import CANONICAL_DOMAIN, check_digit

_PARTS = re.compile(r"^urn:epc:(id|class|idpat):([a-z]+):(.+)$")
# primary key -> qualifiers kept by the constrained form, finest first
_FINEST = {
    "01": ("21", "10", "235"),
    "00": (),
    "253": (),
    "255": (),
    "401": (),
    "402": (),
    "414": ("254",),
    "417": (),
    "8003": (),
    "8004": (),
    "8006": ("21", "10"),
    "8010": ("8011",),
    "8017": (),
    "8018": (),
}
_ALIASES = {"gtin": "01", "sscc": "00", "gln": "414", "party": "417", "lot": "10", "ser": "21"}
_ALIASES |= {"glnx": "254", "cpv": "22"}


def _v(value: str) -> str:
    return quote(unquote(value), safe="")


def _with_check(raw: str) -> str:
    return raw + check_digit(raw)


def _gtin_of(company: str, item: str) -> str:
    return _with_check(item[:1] + company + item[1:])


def _item_key(scheme: str, kind: str, f: list[str]) -> str | None:
    if len(f) < 3 or len(f[0] + f[1]) != 13:
        return None
    gtin = _gtin_of(f[0], f[1])
    rest = ".".join(f[2:])
    if kind == "idpat" or rest == "*":
        return f"/01/{gtin}"
    return f"/01/{gtin}/{'10' if scheme == 'lgtin' else '21'}/{_v(rest)}"


def _simple_key(scheme: str, f: list[str]) -> str | None:  # noqa: C901 - a branch per scheme
    """Schemes of a company prefix and one or two references."""
    joined = "".join(f[:2])
    if scheme == "sscc" and len(f) == 2 and len(joined) == 17:
        return f"/00/{_with_check(f[1][:1] + f[0] + f[1][1:])}"
    if scheme == "sgln" and len(f) >= 3 and len(joined) == 12:
        ext = ".".join(f[2:])
        return f"/414/{_with_check(joined)}" + ("" if ext in ("", "0") else f"/254/{_v(ext)}")
    if scheme == "pgln" and len(f) == 2 and len(joined) == 12:
        return f"/417/{_with_check(joined)}"
    if scheme == "gdti" and len(f) >= 3 and len(joined) == 12:
        return f"/253/{_with_check(joined)}{_v('.'.join(f[2:]))}"
    if scheme == "sgcn" and len(f) >= 3 and len(joined) == 12:
        return f"/255/{_with_check(joined)}{_v('.'.join(f[2:]))}"
    if scheme == "grai" and len(f) >= 3 and len(joined) == 12:
        return f"/8003/0{_with_check(joined)}{_v('.'.join(f[2:]))}"
    if scheme == "giai" and len(f) == 2:
        return f"/8004/{f[0]}{_v(f[1])}"
    if scheme == "gsrn" and len(f) == 2 and len(joined) == 17:
        return f"/8018/{_with_check(joined)}"
    if scheme == "gsrnp" and len(f) == 2 and len(joined) == 17:
        return f"/8017/{_with_check(joined)}"
    if scheme == "gsin" and len(f) == 2 and len(joined) == 16:
        return f"/402/{_with_check(joined)}"
    if scheme == "ginc" and len(f) == 2:
        return f"/401/{f[0]}{_v(f[1])}"
    return None


def epc_urn_to_digital_link(uri: str) -> str | None:
    """The canonical Digital Link URI of an EPC URN; ``None`` when ``uri`` is no such URN."""
    match = _PARTS.match(uri.strip())
    if match is None:
        return None
    kind, scheme, body = match.groups()
    fields = body.split(".")
    if scheme in ("sgtin", "lgtin"):
        path = _item_key(scheme, kind, fields)
    elif kind == "id":
        path = _simple_key(scheme, fields)
    else:
        path = None
    return CANONICAL_DOMAIN + path if path else None


def constrain_digital_link(uri: str) -> str | None:
    """``https://id.gs1.org``, the primary key and only its finest qualifier, no query; ``None``
    when ``uri`` is not a Digital Link URI."""
    if not uri.startswith(("http://", "https://")):
        return None
    segments = [s for s in urlsplit(uri).path.split("/") if s]
    segments = [_ALIASES.get(s, s) if i % 2 == 0 else s for i, s in enumerate(segments)]
    for start in range(0, len(segments) - 1):
        key = segments[start]
        if key not in _FINEST:
            continue
        pairs = dict(zip(segments[start + 2 :: 2], segments[start + 3 :: 2], strict=False))
        if key == "01" and not re.fullmatch(r"\d{14}", segments[start + 1]):
            return None
        path = f"/{key}/{segments[start + 1]}"
        finest = next((q for q in _FINEST[key] if q in pairs), None)
        if finest is not None:
            path += f"/{finest}/{pairs[finest]}"
        return CANONICAL_DOMAIN + path
    return None

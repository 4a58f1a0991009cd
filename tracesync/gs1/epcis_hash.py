"""The EPCIS event hash (CBV 2.0, section 8.9): a syntax-independent id ``ni:///sha-256;…?ver=CBV2.0``.

The event's data elements are written in the canonical property order as ``key=value`` pairs
without separators (list children sorted, standard vocabulary as GS1 Web URIs, EPC URNs and
Digital Link URIs as constrained canonical Digital Link URIs, times in UTC with milliseconds,
numbers without trailing zeros, user extensions as ``{namespace}name=value`` sorted), and the
SHA-256 of that pre-hash string names the event. The GS1 reference implementation
(``epcis-event-hash-generator``) gives the same values for the example events in the tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tracesync.gs1.epc_urn import constrain_digital_link, epc_urn_to_digital_link

CBV = "https://ref.gs1.org/cbv/"
_VOCAB_PREFIX = {
    "bizStep": "BizStep-",
    "disposition": "Disp-",
    "set": "Disp-",
    "unset": "Disp-",
    "bizTransactionType": "BTT-",
    "sourceDestType": "SDT-",
    "reason": "ER-",
}
_URN_VOCAB = {
    "urn:epcglobal:cbv:bizstep:": CBV + "BizStep-",
    "urn:epcglobal:cbv:disp:": CBV + "Disp-",
    "urn:epcglobal:cbv:btt:": CBV + "BTT-",
    "urn:epcglobal:cbv:sdt:": CBV + "SDT-",
    "urn:epcglobal:cbv:er:": CBV + "ER-",
}
STANDARD_PREFIXES = {
    "gs1": "https://gs1.org/voc/",
    "cbv": CBV,
    "epcis": "https://ref.gs1.org/epcis/",
}
_QUANTITY = ("epcClass", "quantity", "uom")
_METADATA = (
    "time",
    "startTime",
    "endTime",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "bizRules",
)
_REPORT = (
    "type",
    "exception",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "time",
    "microorganism",
    "chemicalSubstance",
    "value",
    "component",
    "stringValue",
    "booleanValue",
    "hexBinaryValue",
    "uriValue",
    "minValue",
    "maxValue",
    "meanValue",
    "sDev",
    "percRank",
    "percValue",
    "uom",
    "coordinateReferenceSystem",
)
_EPC_LISTS = {"epcList", "inputEPCList", "childEPCs", "outputEPCList"}
_QTY_LISTS = {"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"}
_TYPED_LISTS = {"bizTransactionList": "bizTransaction", "sourceList": "source"}
_TYPED_LISTS["destinationList"] = "destination"
ORDER = (
    "eventTime",
    "eventTimeZoneOffset",
    "certificationInfo",
    "parentID",
    "epcList",
    "inputEPCList",
    "childEPCs",
    "quantityList",
    "childQuantityList",
    "inputQuantityList",
    "outputEPCList",
    "outputQuantityList",
    "action",
    "transformationID",
    "bizStep",
    "disposition",
    "persistentDisposition",
    "readPoint",
    "bizLocation",
    "sensorElementList",
)
# The reference implementation sorts the typed lists with the extensions and ILMD (the values it
# publishes were made that way), rather than at positions 20-22 of the table in the standard.
_IGNORED = {"type", "eventID", "recordTime", "errorDeclaration", "@context", "comment"}
_IGNORED.add("rdfs:comment")


def event_hash(event: Mapping[str, Any], prefixes: Mapping[str, str] | None = None) -> str:
    """The ``ni:///sha-256;…?ver=CBV2.0`` id of one event (a JSON-LD event object)."""
    digest = hashlib.sha256(pre_hash(event, prefixes).encode("utf-8")).hexdigest()
    return f"ni:///sha-256;{digest}?ver=CBV2.0"


def context_prefixes(context: Any) -> dict[str, str]:
    """Namespace prefixes declared in a JSON-LD ``@context`` (plus the EPCIS standard ones)."""
    found = dict(STANDARD_PREFIXES)
    items = context if isinstance(context, list) else [context]
    for item in items:
        if isinstance(item, Mapping):
            found.update({str(k): v for k, v in item.items() if isinstance(v, str)})
    return found


def pre_hash(event: Mapping[str, Any], prefixes: Mapping[str, str] | None = None) -> str:
    """The canonical pre-hash string of an event."""
    ns = context_prefixes(event.get("@context")) | dict(prefixes or {})
    parts = [f"eventType={event.get('type', '')}"]
    for name in ORDER:
        if name in event:
            parts.append(_element(name, event[name], ns))
    rest = [
        _element(k, v, ns) if k in _TYPED_LISTS else _generic(k, v, ns)
        for k, v in event.items()
        if k not in _IGNORED and k not in ORDER and k != "ilmd"
    ]
    if "ilmd" in event and isinstance(event["ilmd"], Mapping):
        rest.append("ilmd" + "".join(sorted(_generic(k, v, ns) for k, v in event["ilmd"].items())))
    return "".join(parts) + "".join(sorted(rest))


def _element(name: str, value: Any, ns: Mapping[str, str]) -> str:
    if name in _EPC_LISTS:
        items = sorted(f"epc={_value('epc', v, ns)}" for v in value or ())
        return name + "".join(items) if items else ""
    if name in _QTY_LISTS:
        items = sorted("quantityElement" + _ordered(q, _QUANTITY, ns) for q in value or ())
        return name + "".join(items) if items else ""
    if name in _TYPED_LISTS:
        items = sorted(_typed(_TYPED_LISTS[name], item, ns) for item in value or ())
        return name + "".join(items) if items else ""
    if name in ("readPoint", "bizLocation"):
        return name + _ordered(value, ("id",), ns) + _extensions(value, ("id",), ns)
    if name == "persistentDisposition":
        out = [
            "".join(sorted(f"{key}={_value(key, v, ns)}" for v in value.get(key, ())))
            for key in ("set", "unset")
        ]
        return name + "".join(out)
    if name == "sensorElementList":
        return name + "".join(sorted(_sensor_element(e, ns) for e in value or ()))
    return f"{name}={_value(name, value, ns)}"


def _typed(child: str, item: Mapping[str, Any], ns: Mapping[str, str]) -> str:
    kind = "bizTransactionType" if child == "bizTransaction" else "sourceDestType"
    head = f"type={_value(kind, item['type'], ns)}" if "type" in item else ""
    return head + f"{child}={_value(child, item.get(child, ''), ns)}"


def _ordered(obj: Mapping[str, Any], order: tuple[str, ...], ns: Mapping[str, str]) -> str:
    return "".join(f"{key}={_value(key, obj[key], ns)}" for key in order if key in obj)


def _extensions(obj: Mapping[str, Any], known: tuple[str, ...], ns: Mapping[str, str]) -> str:
    return "".join(sorted(_generic(k, v, ns) for k, v in obj.items() if k not in known))


def _sensor_element(element: Mapping[str, Any], ns: Mapping[str, str]) -> str:
    meta = element.get("sensorMetadata") or {}
    text = "sensorElement"
    if meta:
        text += "sensorMetadata" + _ordered(meta, _METADATA, ns) + _extensions(meta, _METADATA, ns)
    reports = sorted(
        "sensorReport" + _ordered(r, _REPORT, ns) + _extensions(r, _REPORT, ns)
        for r in element.get("sensorReport", ())
    )
    known = ("sensorMetadata", "sensorReport")
    return text + "".join(reports) + _extensions(element, known, ns)


def _expand_key(key: str, ns: Mapping[str, str]) -> str:
    prefix, sep, local = key.partition(":")
    if sep and prefix in ns:
        return "{" + ns[prefix] + "}" + local
    return key


def _generic(key: str, value: Any, ns: Mapping[str, str]) -> str:
    name = _expand_key(key, ns)
    if isinstance(value, Mapping):
        return name + "".join(sorted(_generic(k, v, ns) for k, v in value.items()))
    if isinstance(value, list):
        return "".join(sorted(_generic(key, item, ns) for item in value))
    text = _canonical(_scalar(value), ns)
    return f"{name}={text}" if text else name


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    return str(value).strip()


def _value(name: str, value: Any, ns: Mapping[str, str]) -> str:
    text = _scalar(value)
    lowered = name.lower()
    if "time" in lowered and "offset" not in lowered:
        return utc_millis(text)
    prefix = _VOCAB_PREFIX.get(name)
    if prefix is not None and text and ":" not in text:
        return CBV + prefix + text
    if name in ("type", "exception") and text and ":" not in text:  # sensor report vocabulary
        return STANDARD_PREFIXES["gs1"] + text
    return _canonical(text, ns)


def _canonical(text: str, ns: Mapping[str, str]) -> str:
    for urn, web in _URN_VOCAB.items():
        if text.startswith(urn):
            return web + text.removeprefix(urn)
    prefix, sep, local = text.partition(":")
    if sep and prefix in ns and not local.startswith("//"):
        text = ns[prefix] + local
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        return str(int(number)) if number.is_integer() else str(number)
    converted = epc_urn_to_digital_link(text)
    if converted is not None:
        return converted
    return constrain_digital_link(text) or text


def utc_millis(text: str) -> str:
    """An ISO 8601 time as UTC with millisecond precision (4th decimal rounds), ``Z`` suffix."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    millis = round(moment.microsecond / 1000)
    moment = moment.replace(microsecond=0) + timedelta(milliseconds=millis)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

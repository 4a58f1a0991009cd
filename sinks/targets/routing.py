"""Routing of chain changes to target systems: named predicates, templates, idempotency keys.

Pure and I/O-free. A route says *when* (a named predicate with parameters, plus optional field
matches) and *what* (a JSON payload template). A predicate does not answer yes/no: it lists the
**facts** of a record that call for a notice — the completion of a batch, each active hold, each
failed inspection — each with a stable id that does not depend on the chain's version. The
idempotency key is derived from route, batch code and fact id, so the same notice carries the same
key however often (and at whatever version) the chain is re-delivered, while a new fact (a second
hold, a corrected completion time) gets a new key.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tracesync.errors import ConfigurationError

Record = Mapping[str, Any]
JSONValue = Any


class Source(StrEnum):
    """Which topic a route reads: the chain topic or the alerts topic."""

    CHAIN = "chain"
    ALERTS = "alerts"

    @property
    def root(self) -> str:
        """The name templates and matches use for the record: ``chain`` or ``alert``."""
        return "chain" if self is Source.CHAIN else "alert"


@dataclass(frozen=True)
class Fact:
    """Something in a record that calls for a notice; ``id`` is stable across chain versions."""

    id: str
    data: Mapping[str, Any]


Params = Mapping[str, Any]
FactFinder = Callable[[Record, Params], list[Fact]]


@dataclass(frozen=True)
class Predicate:
    """A named condition: which source it reads, its parameters, and how it finds facts."""

    name: str
    source: Source
    params: frozenset[str]
    find: FactFinder
    doc: str


# -- predicates ---------------------------------------------------------------------------------


def _millis(value: Any) -> str:
    if isinstance(value, datetime):
        return str(int(value.timestamp() * 1000))
    return str(value)


def _batch_completed(chain: Record, _params: Params) -> list[Fact]:
    production = chain.get("production") or {}
    completed_at = production.get("completed_at")
    if completed_at is None:
        return []
    return [Fact(f"completed@{_millis(completed_at)}", production)]


def _holds(chain: Record, params: Params, *, active: bool) -> list[Fact]:
    inherited = params.get("inherited")
    state = "active" if active else "released"
    return [
        Fact(f"hold:{hold['origin_code']}/{hold['hold_id']}:{state}", hold)
        for hold in chain.get("holds") or ()
        if bool(hold["active"]) is active and (inherited is None or hold["inherited"] is inherited)
    ]


def _hold_active(chain: Record, params: Params) -> list[Fact]:
    return _holds(chain, params, active=True)


def _hold_released(chain: Record, params: Params) -> list[Fact]:
    return _holds(chain, params, active=False)


def _production_receipt(chain: Record, _params: Params) -> list[Fact]:
    quantity = chain.get("erp_received_quantity")
    if quantity is None:
        return []
    data = {
        "quantity": quantity,
        "cost": chain.get("production_cost"),
        "currency": chain.get("cost_currency"),
    }
    return [Fact(f"erp-receipt:{_plain(quantity)}", data)]


def _inspection_failed(chain: Record, params: Params) -> list[Fact]:
    plans = params.get("plans")
    return [
        Fact(f"inspection:{item['inspection_id']}:FAIL", item)
        for item in chain.get("inspections") or ()
        if item["verdict"] == "FAIL" and (plans is None or item["plan"] in plans)
    ]


def _reconciliation_status(chain: Record, params: Params) -> list[Fact]:
    rec = chain.get("reconciliation") or {}
    status = rec.get("status")
    if status is None or status not in params["statuses"]:
        return []
    deltas = f"{_plain(rec.get('wms_delta'))}/{_plain(rec.get('erp_delta'))}"
    return [Fact(f"reconciliation:{status}:{deltas}", rec)]


def _alert_kind(alert: Record, params: Params) -> list[Fact]:
    if alert.get("kind") not in params["kinds"]:
        return []
    return [Fact(f"alert:{alert['alert_id']}", alert)]


PREDICATES: dict[str, Predicate] = {
    p.name: p
    for p in (
        Predicate(
            "batch_completed",
            Source.CHAIN,
            frozenset(),
            _batch_completed,
            "production.completed_at is set; fact = the completion (production)",
        ),
        Predicate(
            "hold_active",
            Source.CHAIN,
            frozenset({"inherited"}),
            _hold_active,
            "one fact per active hold, own or inherited (inherited=true/false narrows)",
        ),
        Predicate(
            "hold_released",
            Source.CHAIN,
            frozenset({"inherited"}),
            _hold_released,
            "one fact per released hold (inherited=true/false narrows)",
        ),
        Predicate(
            "production_receipt",
            Source.CHAIN,
            frozenset(),
            _production_receipt,
            "erp_received_quantity is set; fact = quantity, cost, currency",
        ),
        Predicate(
            "inspection_failed",
            Source.CHAIN,
            frozenset({"plans"}),
            _inspection_failed,
            "one fact per inspection with verdict FAIL (plans=[...] narrows)",
        ),
        Predicate(
            "reconciliation_status",
            Source.CHAIN,
            frozenset({"statuses"}),
            _reconciliation_status,
            "reconciliation.status is one of statuses=[...]",
        ),
        Predicate(
            "alert_kind",
            Source.ALERTS,
            frozenset({"kinds"}),
            _alert_kind,
            "an alert whose kind is one of kinds=[...]; fact = the alert",
        ),
    )
}
_REQUIRED_PARAMS = {"reconciliation_status": {"statuses"}, "alert_kind": {"kinds"}}


# -- values and paths ---------------------------------------------------------------------------


def _plain(value: Any) -> str:
    """A stable text form of a fact value (Decimal without exponent noise)."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def to_json(value: Any) -> JSONValue:
    """A decoded Avro value as JSON: decimals as exact strings, times as ISO 8601."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


_MISSING = object()


def resolve(context: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (``chain.production.order_id``, ``chain.holds.0``), or None."""
    current: Any = context
    for part in path.split("."):
        if isinstance(current, Mapping):
            current = current.get(part, _MISSING)
        elif isinstance(current, list | tuple) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            current = _MISSING
        if current is _MISSING:
            return None
    return current


# -- templates ----------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.]+)\}")


def _placeholders(template: Any) -> Iterator[str]:
    if isinstance(template, str):
        yield from _PLACEHOLDER.findall(template)
    elif isinstance(template, Mapping):
        for value in template.values():
            yield from _placeholders(value)
    elif isinstance(template, list):
        for value in template:
            yield from _placeholders(value)


def render(template: Any, context: Mapping[str, Any]) -> JSONValue:
    """Fill a template: ``"${path}"`` alone keeps the value's type, inside text it is formatted."""
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole:
            return to_json(resolve(context, whole.group(1)))
        return _PLACEHOLDER.sub(lambda m: _text(resolve(context, m.group(1))), template)
    if isinstance(template, Mapping):
        return {key: render(value, context) for key, value in template.items()}
    if isinstance(template, list):
        return [render(value, context) for value in template]
    return template


def _text(value: Any) -> str:
    converted = to_json(value)
    return "" if converted is None else str(converted)


# -- routes -------------------------------------------------------------------------------------


def idempotency_key(route: str, batch_code: str, fact_id: str) -> str:
    """The key a notice carries wherever and however often it is sent (no chain version in it)."""
    digest = hashlib.sha256("\x1f".join((route, batch_code, fact_id)).encode("utf-8"))
    return digest.hexdigest()[:40]


@dataclass(frozen=True)
class Notice:
    """One message for one target: what a route made of one fact of one record."""

    route: str
    target: str
    batch_code: str
    fact_id: str
    key: str
    version: int
    payload: Mapping[str, JSONValue]


@dataclass(frozen=True)
class Route:
    """When to tell which target what."""

    name: str
    target: str
    predicate: Predicate
    params: Mapping[str, Any] = field(default_factory=dict)
    match: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    payload: Mapping[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> Source:
        return self.predicate.source

    def matches(self, record: Record) -> bool:
        """Whether every ``match`` condition holds (value at path, as text, is one listed)."""
        root = {self.source.root: record}
        return all(_text(resolve(root, path)) in allowed for path, allowed in self.match.items())

    def notices(self, record: Record) -> list[Notice]:
        """The notices this route makes of a decoded chain (or alert) record."""
        if not self.matches(record):
            return []
        batch_code = str(record["batch_code"])
        version = int(record.get("version", 0))
        out = []
        for fact in self.predicate.find(record, self.params):
            key = idempotency_key(self.name, batch_code, fact.id)
            context = {
                self.source.root: record,
                "fact": fact.data,
                "route": self.name,
                "key": key,
                "fact_id": fact.id,
            }
            payload = render(self.payload, context)
            out.append(Notice(self.name, self.target, batch_code, fact.id, key, version, payload))
        return out


def build_route(name: str, spec: Mapping[str, Any], targets: Sequence[str]) -> Route:
    """A route from its TOML table; ConfigurationError names what is wrong."""
    where = f"route {name!r}"
    unknown = set(spec) - {"name", "target", "when", "params", "match", "payload"}
    if unknown:
        raise ConfigurationError(f"{where}: unknown keys {sorted(unknown)}")
    target = spec.get("target")
    if target not in targets:
        raise ConfigurationError(f"{where}: target {target!r} is not one of {sorted(targets)}")
    predicate = PREDICATES.get(str(spec.get("when")))
    if predicate is None:
        raise ConfigurationError(
            f"{where}: when={spec.get('when')!r} is not one of {sorted(PREDICATES)}"
        )
    params = dict(spec.get("params") or {})
    _check_params(where, predicate, params)
    match = {
        str(path): tuple(str(v) for v in (wanted if isinstance(wanted, list) else [wanted]))
        for path, wanted in dict(spec.get("match") or {}).items()
    }
    payload = spec.get("payload")
    if not isinstance(payload, Mapping) or not payload:
        raise ConfigurationError(f"{where}: a payload table is required")
    _check_placeholders(where, predicate.source, payload)
    return Route(name, str(target), predicate, params, match, dict(payload))


def _check_params(where: str, predicate: Predicate, params: Mapping[str, Any]) -> None:
    unknown = set(params) - predicate.params
    if unknown:
        allowed = sorted(predicate.params) or "none"
        raise ConfigurationError(
            f"{where}: {predicate.name} takes params {allowed}, not {sorted(unknown)}"
        )
    missing = _REQUIRED_PARAMS.get(predicate.name, set()) - set(params)
    if missing:
        raise ConfigurationError(f"{where}: {predicate.name} needs params {sorted(missing)}")
    for name in ("plans", "statuses", "kinds"):
        if name in params and not isinstance(params[name], list):
            raise ConfigurationError(f"{where}: params.{name} must be a list")
    if "inherited" in params and not isinstance(params["inherited"], bool):
        raise ConfigurationError(f"{where}: params.inherited must be true or false")


def _check_placeholders(where: str, source: Source, payload: Mapping[str, Any]) -> None:
    roots = {source.root, "fact", "route", "key", "fact_id"}
    for path in _placeholders(payload):
        if path.split(".", 1)[0] not in roots:
            raise ConfigurationError(
                f"{where}: placeholder ${{{path}}} must start with one of {sorted(roots)}"
            )

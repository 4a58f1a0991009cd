"""Downstream: how the hub hands a flow's data to each target system (rules R1-R3, D1-D4).

A flow's data reaches a target as *notices* of ``tracesync sink targets``: a route (a predicate of
:mod:`sinks.targets.routing` plus a payload template) per kind of fact. Which routes a flow needs
follows from the source's kind and the scenario (R1: :data:`RECIPES`); compliance reports are
answered from the trace store (R2); a flow with no matching predicate is named (R3). The
transport follows from what the target offers: its REST API (D1, ``http``), an interface table in
its database (D2, ``table``), files it imports (D3, ``file``), or nothing (D4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from tracesync.assess.model import Scenario, SystemBase, SystemKind

Transport = Literal["http", "table", "file"]


@dataclass(frozen=True)
class Recipe:
    """One route of the routes file, before it is given a target."""

    name: str
    when: str
    what: str
    payload: Mapping[str, str]
    params: Mapping[str, Any] = field(default_factory=dict)
    for_kinds: frozenset[SystemKind] | None = None
    """The kinds of target this route is for (None: any)."""

    def applies_to(self, kind: SystemKind) -> bool:
        return self.for_kinds is None or kind in self.for_kinds


_INBOUND = Recipe(
    "inbound-notice",
    "batch_completed",
    "a notice for each completed batch",
    {
        "type": "INBOUND_NOTICE",
        "batch_code": "${chain.batch_code}",
        "plant": "${chain.plant}",
        "order_id": "${chain.production.order_id}",
        "product_code": "${chain.production.product_code}",
        "quantity": "${chain.production.produced_quantity}",
        "uom": "${chain.production.uom}",
        "completed_at": "${fact.completed_at}",
        "trace_codes": "${chain.production.trace_codes}",
    },
)
_HOLD_BLOCK = Recipe(
    "hold-block",
    "hold_active",
    "a block for each active hold, own or inherited from a lot",
    {
        "type": "BLOCK",
        "batch_code": "${chain.batch_code}",
        "hold_id": "${fact.hold_id}",
        "hold_origin": "${fact.origin_code}",
        "inherited": "${fact.inherited}",
        "reason": "${fact.reason}",
        "since": "${fact.changed_at}",
    },
)
_HOLD_UNBLOCK = Recipe(
    "hold-unblock",
    "hold_released",
    "an unblock for each released hold",
    {
        "type": "UNBLOCK",
        "batch_code": "${chain.batch_code}",
        "hold_id": "${fact.hold_id}",
        "hold_origin": "${fact.origin_code}",
        "disposition": "${fact.disposition}",
        "released_at": "${fact.changed_at}",
    },
)
_FAILED_INSPECTION = Recipe(
    "failed-inspection",
    "inspection_failed",
    "a request for each failed inspection (to MES, QMS or other systems, not to a WMS/ERP)",
    {
        "request": "INVESTIGATE",
        "batch_code": "${chain.batch_code}",
        "inspection_id": "${fact.inspection_id}",
        "plan": "${fact.plan}",
        "failed": "${fact.failed_characteristics}",
        "recorded_at": "${fact.recorded_at}",
        "line_id": "${chain.production.line_id}",
    },
    for_kinds=frozenset({"MES", "QMS", "OTHER"}),
)
_PRODUCTION_RECEIPT = Recipe(
    "production-receipt",
    "production_receipt",
    "the ERP's production receipt with cost, against the MES quantity",
    {
        "batch_code": "${chain.batch_code}",
        "order_id": "${chain.production.order_id}",
        "received_quantity": "${fact.quantity}",
        "mes_quantity": "${chain.production.produced_quantity}",
        "cost": "${fact.cost}",
        "currency": "${fact.currency}",
    },
)
_RECONCILIATION = Recipe(
    "reconciliation",
    "reconciliation_status",
    "each batch whose MES, WMS and ERP quantities disagree or stay missing",
    {
        "type": "RECONCILIATION",
        "batch_code": "${chain.batch_code}",
        "status": "${fact.status}",
        "mes_quantity": "${fact.mes_quantity}",
        "wms_quantity": "${fact.wms_quantity}",
        "erp_quantity": "${fact.erp_quantity}",
        "wms_delta": "${fact.wms_delta}",
        "erp_delta": "${fact.erp_delta}",
        "missing": "${fact.missing}",
    },
    {"statuses": ["MISMATCH", "MISSING_SIDE"]},
)


def _alerts(name: str, kinds: list[str], what: str) -> Recipe:
    payload = {
        "type": "ALERT",
        "alert_id": "${alert.alert_id}",
        "batch_code": "${alert.batch_code}",
        "kind": "${alert.kind}",
        "subject": "${alert.subject}",
        "message": "${alert.message}",
        "origin_code": "${alert.origin_code}",
        "occurred_at": "${alert.occurred_at}",
    }
    return Recipe(name, "alert_kind", what, payload, {"kinds": kinds})


_PARAMETER_ALERTS = _alerts(
    "parameter-alert", ["PARAMETER_OUT_OF_LIMIT"], "an alert for each out-of-limit parameter"
)
_COMPLAINT_ALERTS = _alerts(
    "complaint-alert", ["COMPLAINT_RECEIVED"], "an alert for each complaint on a batch"
)

RECIPES: dict[tuple[SystemKind, Scenario], tuple[Recipe, ...]] = {
    ("MES", "production_reporting"): (_INBOUND,),
    ("MES", "warehouse_scan"): (_INBOUND,),
    ("MES", "quality_alert"): (_PARAMETER_ALERTS,),
    ("MES", "management_report"): (_INBOUND,),
    ("MES", "financial_close"): (_INBOUND,),
    ("QMS", "quality_alert"): (_HOLD_BLOCK, _HOLD_UNBLOCK, _FAILED_INSPECTION),
    ("QMS", "quality_release"): (_HOLD_BLOCK, _HOLD_UNBLOCK),
    ("QMS", "complaint_trace"): (_COMPLAINT_ALERTS,),
    ("ERP", "production_reporting"): (_PRODUCTION_RECEIPT,),
    ("ERP", "financial_close"): (_PRODUCTION_RECEIPT,),
}
"""Rule R1: the routes a flow needs, by the source's kind and the scenario."""
_ANY_SOURCE: dict[Scenario, tuple[Recipe, ...]] = {"reconciliation": (_RECONCILIATION,)}
STORE_SCENARIOS: frozenset[Scenario] = frozenset({"compliance_report"})
"""Rule R2: answered from the trace store (``tracesync sink store``, ``tracesync trace``)."""


def recipes_for(kind: SystemKind, scenario: Scenario) -> tuple[Recipe, ...]:
    """Rule R1 (empty: rule R2 or R3 applies)."""
    return RECIPES.get((kind, scenario)) or _ANY_SOURCE.get(scenario, ())


@dataclass(frozen=True)
class Delivery:
    """How one target of a flow gets its notices."""

    target: str
    rule: str
    transport: Transport | None
    latency_s: float
    reason: str
    plant: str | None = None


def delivery_to(target: SystemBase) -> Delivery:
    """Rules D1-D4: the target's best way in; ``latency_s`` is its own reading cadence.

    D1 needs an API documented well enough (good or partial) to build the receiving end on.
    """
    if target.rest_api is not None and target.rest_api.docs != "poor":
        reason = "its REST API takes the notices (JSON, Idempotency-Key header)"
        return Delivery(target.id, "D1", "http", 0.0, reason, target.plant)
    if target.database is not None:
        reason = "the notices land in an interface table of its database"
        return Delivery(target.id, "D2", "table", 0.0, reason, target.plant)
    export = target.file_export
    if export is not None and export.imports:
        reason = "the notices are written to CSV files it imports"
        return Delivery(target.id, "D3", "file", export.every, reason, target.plant)
    reason = "it offers no way in (no REST API, no database, no file import)"
    return Delivery(target.id, "D4", None, 0.0, reason, target.plant)

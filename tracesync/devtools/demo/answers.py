"""The three questions the demo asks the trace store, each checked against the simulator's oracle.

* reconciliation: the batches whose MES, WMS and ERP quantities disagree (MISMATCH, MISSING_SIDE);
* a customer complaint on a trace code: the backward trace to line, team, equipment parameters,
  inspections, holds and every raw-material lot;
* a recall from a raw-material lot: every affected batch, its stock and the deliveries it reached.

Each :class:`Answer` carries the text to print and the differences from the oracle (none: the
answer matches).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from sinks.store import queries
from sinks.store import schema as s
from sinks.store.report import recall_text, trace_text
from tracesync.devtools.simulator.expected import ExpectedChain, ancestors
from tracesync.devtools.simulator.oracle import Oracle

Chains = Mapping[str, Mapping[str, Any]]
DISCREPANT = ("MISMATCH", "MISSING_SIDE")


@dataclass(frozen=True)
class Answer:
    title: str
    text: str
    differences: tuple[str, ...]

    @property
    def matches(self) -> bool:
        return not self.differences

    def verdict(self) -> str:
        if self.matches:
            return "=> matches the simulator's oracle"
        return "=> DIFFERS from the simulator's oracle:\n" + "\n".join(
            f"   {d}" for d in self.differences
        )


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _compare(what: str, expected: Any, got: Any) -> list[str]:
    return [] if expected == got else [f"{what}: oracle {expected!r}, store {got!r}"]


def load_chains(store: Engine) -> dict[str, Any]:
    """Every stored chain (the TraceChain JSON) by batch code."""
    with store.connect() as conn:
        rows = conn.execute(select(s.batches.c.batch_code, s.batches.c.chain)).all()
    return {code: chain for code, chain in rows}


# -- reconciliation ------------------------------------------------------------------------------

Recon = tuple[str, Decimal | None, Decimal | None, Decimal | None, tuple[str, ...]]


def stored_discrepancies(store: Engine) -> dict[str, Recon]:
    """Batches the store reports as MISMATCH or MISSING_SIDE, with the three quantities."""
    b = s.batches
    query = select(
        b.c.batch_code,
        b.c.reconciliation_status,
        b.c.mes_quantity,
        b.c.wms_quantity,
        b.c.erp_quantity,
        b.c.chain,
    ).where(b.c.reconciliation_status.in_(DISCREPANT))
    with store.connect() as conn:
        rows = conn.execute(query).all()
    return {
        r.batch_code: (
            r.reconciliation_status,
            _dec(r.mes_quantity),
            _dec(r.wms_quantity),
            _dec(r.erp_quantity),
            tuple(r.chain["reconciliation"]["missing"]),
        )
        for r in rows
    }


def oracle_discrepancies(oracle: Oracle) -> dict[str, Recon]:
    return {
        code: (r.status, r.mes_quantity, r.wms_quantity, r.erp_quantity, tuple(r.missing))
        for code, r in oracle.discrepancies().items()
    }


def _delta(side: Decimal | None, mes: Decimal | None) -> str:
    if side is None:
        return f"{'missing':>20}"
    if mes is None:
        return f"{side:>12}        "
    return f"{side:>12} ({side - mes:+.3f})"


def reconciliation(store: Engine, oracle: Oracle) -> Answer:
    found = stored_discrepancies(store)
    lines = [
        f"{len(found)} batches where MES, WMS and ERP disagree (tolerance {oracle.tolerance}):"
    ]
    lines.append(
        f"  {'batch':<10} {'status':<13} {'MES':>12} {'WMS (delta)':>22} {'ERP (delta)':>22}"
    )
    for code, (status, mes, wms, erp, _missing) in sorted(found.items()):
        lines.append(
            f"  {code:<10} {status:<13} {mes!s:>12} {_delta(wms, mes):>22} {_delta(erp, mes):>22}"
        )
    expected = oracle_discrepancies(oracle)
    differences = [
        f"{code}: oracle {expected.get(code)}, store {found.get(code)}"
        for code in sorted(set(expected) | set(found))
        if expected.get(code) != found.get(code)
    ]
    return Answer(
        "Reconciliation: where MES, WMS and ERP disagree", "\n".join(lines), tuple(differences)
    )


# -- complaint: backward trace ---------------------------------------------------------------


@dataclass(frozen=True)
class Complaint:
    trace_code: str
    batch: str
    story: str


def pick_complaint(oracle: Oracle) -> Complaint | None:
    """A real complaint with a trace code, else a shipped unit of the most interesting batch."""
    for chain in sorted(oracle.chains.values(), key=lambda c: c.code):
        for complaint_id, customer, trace_code, severity in chain.complaints:
            if trace_code:
                story = f"complaint {complaint_id} ({severity}) from {customer}"
                return Complaint(trace_code, chain.code, story)
    shipped = [c for c in oracle.chains.values() if c.shipments and c.trace_codes]
    if not shipped:
        return None
    chain = max(
        shipped,
        key=lambda c: (bool(c.inherited_active_holds), len(c.out_of_limit), len(c.parents), c.code),
    )
    delivery, customer, _qty = chain.shipments[0]
    story = f"no complaint in this run: {customer} calls about a unit of delivery {delivery}"
    return Complaint(chain.trace_codes[0], chain.code, story)


def _parents(oracle: Oracle) -> dict[str, tuple[str, ...]]:
    return {code: chain.parents for code, chain in oracle.chains.items()}


def _limit(value: float | None) -> str:
    return "-" if value is None else str(value)


def _parameter_lines(chain: Mapping[str, Any] | None) -> list[str]:
    if chain is None:
        return []
    lines = ["equipment parameters (from the stored chain):"]
    for p in sorted(chain["parameters"], key=lambda p: (p["equipment_id"], p["parameter"])):
        mark = "  <-- OUT OF LIMIT" if p["out_of_limit"] else ""
        lines.append(
            f"  {p['equipment_id']:<12} {p['parameter']:<18} {p['value']:>10} {p['unit']:<10}"
            f" limits {_limit(p['lower_limit'])}..{_limit(p['upper_limit'])}{mark}"
        )
    return lines


def _trace_differences(
    report: queries.TraceReport, expected: ExpectedChain, oracle: Oracle
) -> list[str]:
    diffs = _compare("batch of the trace code", (expected.code,), report.query.batch_codes)
    if not report.traces:
        return [*diffs, "the store has no trace for it"]
    one = report.traces[0]
    b = one.batch
    for name in ("order_id", "line_id", "shift", "team"):
        diffs += _compare(name, getattr(expected, name), getattr(b, name))
    diffs += _compare("equipment", tuple(expected.equipment), b.equipment)
    diffs += _compare(
        "out-of-limit parameters",
        sorted((e, p, float(v)) for e, p, v in expected.out_of_limit),
        sorted(
            (p["equipment_id"], p["parameter"], float(p["value"]))
            for p in b.parameters_out_of_limit
        ),
    )
    diffs += _compare(
        "inspections",
        sorted(expected.inspections),
        sorted((i["inspection_id"], i["verdict"]) for i in b.inspections),
    )
    diffs += _compare(
        "active holds (own)",
        sorted(expected.own_active_holds),
        sorted(h["hold_id"] for h in b.holds if h["active"] and not h["inherited"]),
    )
    diffs += _compare(
        "active holds (inherited)",
        sorted(expected.inherited_active_holds),
        sorted(
            {(h["hold_id"], h["origin_code"]) for h in b.holds if h["active"] and h["inherited"]}
        ),
    )
    parents = _parents(oracle)
    upstream = ancestors(parents, expected.code)
    diffs += _compare(
        "upstream lots", sorted(upstream), sorted({link.code for link in one.upstream})
    )
    raw = sorted(code for code in upstream if not parents.get(code))
    diffs += _compare("raw-material lots", raw, sorted(one.raw_materials))
    return diffs


def complaint_trace(store: Engine, oracle: Oracle, chains: Chains) -> Answer:
    title = "Customer complaint: backward trace from a trace code"
    complaint = pick_complaint(oracle)
    if complaint is None:
        return Answer(title, "no shipped batch with trace codes in this run", ())
    report = queries.trace(store, complaint.trace_code)
    if report is None:
        text = f"{complaint.story}\nthe store does not know trace code {complaint.trace_code}"
        return Answer(title, text, (f"trace code {complaint.trace_code} not found",))
    lines = [f"{complaint.story}: trace code {complaint.trace_code}", "", trace_text(report)]
    lines += ["", *_parameter_lines(chains.get(complaint.batch))]
    expected = oracle.chains[complaint.batch]
    return Answer(title, "\n".join(lines), tuple(_trace_differences(report, expected, oracle)))


# -- recall: forward trace -------------------------------------------------------------------


def descendants(oracle: Oracle) -> dict[str, set[str]]:
    """Every code made (at any depth) from each code."""
    children: dict[str, set[str]] = defaultdict(set)
    for code, chain in oracle.chains.items():
        for parent in chain.parents:
            children[parent].add(code)
    memo: dict[str, set[str]] = {}

    def below(code: str) -> set[str]:
        if code not in memo:
            memo[code] = set()
            found = set(children.get(code, ()))
            for child in list(found):
                found |= below(child)
            memo[code] = found
        return memo[code]

    return {code: below(code) for code in oracle.chains}


def pick_recall_lot(oracle: Oracle, below: Mapping[str, set[str]]) -> str | None:
    """A raw-material lot with the most descendants, one on hold when there is one."""
    raw = [c for c in oracle.chains.values() if c.kind == "raw" and below.get(c.code)]
    if not raw:
        return None
    return max(raw, key=lambda c: (bool(c.own_active_holds), len(below[c.code]), c.code)).code


def _recall_differences(
    report: queries.RecallReport, lot: str, affected: set[str], oracle: Oracle
) -> list[str]:
    diffs = _compare(
        "affected batches",
        sorted(affected - {lot}),
        sorted({link.code for link in report.downstream}),
    )
    everything = affected | {lot}
    diffs += _compare(
        "stock by location",
        sorted(
            (code, loc, qty)
            for code in everything
            for loc, qty in oracle.chains[code].stock_by_location
        ),
        sorted(
            (r["batch_code"], r["location"], Decimal(str(r["quantity"])))
            for r in report.stock
            if Decimal(str(r["quantity"])) != 0
        ),
    )
    diffs += _compare(
        "deliveries",
        sorted(
            (delivery, code, customer, qty)
            for code in everything
            for delivery, customer, qty in oracle.chains[code].shipments
        ),
        sorted(
            (r["delivery_id"], r["batch_code"], r["customer_id"], Decimal(str(r["quantity"])))
            for r in report.shipments
        ),
    )
    return diffs


def recall(store: Engine, oracle: Oracle) -> Answer:
    title = "Recall: forward trace from a raw-material lot"
    below = descendants(oracle)
    lot = pick_recall_lot(oracle, below)
    if lot is None:
        return Answer(title, "no raw-material lot went into a batch in this run", ())
    report = queries.recall(store, lot)
    chain = oracle.chains[lot]
    held = f", on hold ({', '.join(chain.own_active_holds)})" if chain.own_active_holds else ""
    lines = [
        f"lot {lot} ({chain.product_code} from {chain.supplier_id}{held}) went into "
        f"{len(below[lot])} batches",
        "",
        recall_text(report),
    ]
    return Answer(
        title, "\n".join(lines), tuple(_recall_differences(report, lot, below[lot], oracle))
    )

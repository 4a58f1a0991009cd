"""Which tracesync edge can carry a system's data into the hub, and which one should (rules E1-E6).

The edges are the three ways into the source topics:

* REST push, ``tracesync ingest api``: the system (E1, by webhook) or a small forwarder written
  against its API (E4) posts events; the answer comes after the broker acknowledged them.
* Database change capture, ``tracesync ingest db``: a transactional outbox (E2), a change sequence
  increasing in commit order (E3), or an outbox still to be added to the database (E5).
* File drop, ``tracesync ingest files``: the system's CSV or XML exports (E6).

The choice (:func:`choose_edge`) takes, among the options that meet the system's strictest flow,
the one that needs no change to the source, then no new code, then the fastest; when none meets
it, the fastest. Latencies are estimates from the edges' settings (:class:`EdgeTimings`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tracesync.assess.latency import describe
from tracesync.assess.model import SystemBase, Team
from tracesync.topics import SOURCE_SYSTEMS

EdgeKind = Literal["api", "db", "files"]
COMMANDS: dict[EdgeKind, str] = {
    "api": "tracesync ingest api",
    "db": "tracesync ingest db",
    "files": "tracesync ingest files",
}
EDGE_NAMES: dict[EdgeKind, str] = {
    "api": "REST push",
    "db": "database change capture",
    "files": "file drop",
}
RULE_ORDER = ("E1", "E2", "E3", "E4", "E5", "E6")
DRIVERS = {
    "postgresql": None,
    "sqlite": None,
    "mssql": "the SQLAlchemy driver pyodbc and Microsoft's ODBC driver",
    "oracle": "the SQLAlchemy driver oracledb",
    "mysql": "the SQLAlchemy driver PyMySQL",
    "other": "a SQLAlchemy dialect and driver for this database",
}


@dataclass(frozen=True)
class EdgeTimings:
    """Latency estimates of the edges (seconds), from the settings and the assumptions."""

    rest_push_s: float = 1.0
    forwarder_s: float = 5.0
    db_poll_s: float = 1.0
    files_poll_s: float = 1.0
    files_settle_s: float = 2.0
    pipeline_s: float = 1.0


@dataclass(frozen=True)
class EdgeOption:
    """One way a system's data can enter the hub."""

    rule: str
    kind: EdgeKind
    mode: str
    latency_s: float
    source_change: bool
    new_code: bool
    reason: str
    actions: tuple[str, ...] = ()

    @property
    def command(self) -> str:
        return COMMANDS[self.kind]

    def describe(self) -> str:
        return f"{EDGE_NAMES[self.kind]} ({self.mode}), ~{describe(self.latency_s)}"


@dataclass(frozen=True)
class Refusal:
    """An edge a system cannot use, and the rule that says why."""

    rule: str
    kind: EdgeKind | None
    reason: str


@dataclass(frozen=True)
class EdgeChoice:
    """The edge chosen for a system's outgoing flows."""

    system: str
    option: EdgeOption | None
    strictest_s: float | None
    options: tuple[EdgeOption, ...]
    refusals: tuple[Refusal, ...]

    @property
    def meets_strictest(self) -> bool:
        if self.option is None or self.strictest_s is None:
            return False
        return self.option.latency_s <= self.strictest_s


def edge_options(
    system: SystemBase, team: Team, timings: EdgeTimings
) -> tuple[list[EdgeOption], list[Refusal]]:
    """Every edge the system could use today (E1-E6), and those it cannot (with the rule)."""
    if system.kind not in SOURCE_SYSTEMS:
        reason = (
            f"{system.kind} is not a tracesync source system ({', '.join(SOURCE_SYSTEMS)}): "
            "its events have no source topic"
        )
        return [], [Refusal("1.6", None, reason)]
    options: list[EdgeOption] = []
    refusals: list[Refusal] = []
    _rest(system, team, timings, options, refusals)
    _database(system, timings, options)
    _files(system, timings, options, refusals)
    if not system.has_interface:
        refusals.append(Refusal("1.2", None, "no REST API, no database access, no file export"))
    return options, refusals


def _rest(
    system: SystemBase,
    team: Team,
    timings: EdgeTimings,
    options: list[EdgeOption],
    refusals: list[Refusal],
) -> None:
    api = system.rest_api
    if api is None:
        return
    if api.webhooks:
        reason = "the system calls out on each change (webhook): no code, schema-checked push"
        actions = (f"point the {system.kind}'s webhook at POST /v1/{system.kind.lower()}/events",)
        options.append(
            EdgeOption("E1", "api", "webhook", timings.rest_push_s, False, False, reason, actions)
        )
        return
    if api.docs == "poor":
        refusals.append(
            Refusal(
                "1.3",
                "api",
                "no webhooks, and a forwarder written against poorly documented APIs is guesswork",
            )
        )
        return
    if team.developers == 0:
        refusals.append(
            Refusal("3.2", "api", "no webhooks, and no developer to write and keep a forwarder")
        )
        return
    latency = timings.forwarder_s + timings.rest_push_s
    reason = f"no webhooks: a forwarder polls its API ({api.docs} docs) and pushes the changes"
    actions = (
        f"write a forwarder: read changes from the {system.kind} API, POST them to "
        f"/v1/{system.kind.lower()}/events",
    )
    options.append(EdgeOption("E4", "api", "forwarder", latency, False, True, reason, actions))


def _database(system: SystemBase, timings: EdgeTimings, options: list[EdgeOption]) -> None:
    db = system.database
    if db is None:
        return
    driver = DRIVERS[db.engine]
    driver_action = (f"install {driver}",) if driver else ()
    latency = timings.db_poll_s
    if db.change_tracking == "outbox":
        reason = "its transactional outbox is drained: each committed change once, in order"
        options.append(
            EdgeOption("E2", "db", "outbox", latency, False, False, reason, driver_action)
        )
    elif db.change_tracking == "sequence":
        reason = "rows above a change sequence that grows in commit order are read"
        options.append(
            EdgeOption("E3", "db", "sequence", latency, False, False, reason, driver_action)
        )
    else:
        why = (
            "an updated_at column is no safe watermark (a late commit with an older time is "
            "skipped)"
            if db.change_tracking == "timestamp"
            else "nothing in the database marks a change"
        )
        reason = f"{why}: an outbox table filled in the same transaction must be added"
        actions = (
            *driver_action,
            "add an outbox table written by the application or by "
            "triggers, in the same transaction as the change",
        )
        options.append(
            EdgeOption("E5", "db", "outbox to add", latency, True, False, reason, actions)
        )


def _files(
    system: SystemBase, timings: EdgeTimings, options: list[EdgeOption], refusals: list[Refusal]
) -> None:
    export = system.file_export
    if export is None:
        return
    readable = [f for f in ("csv", "xml") if f in export.formats]
    if not readable:
        refusals.append(
            Refusal(
                "1.4",
                "files",
                f"exports {', '.join(export.formats)}; tracesync ingest files reads CSV and XML",
            )
        )
        return
    latency = export.every + timings.files_settle_s + timings.files_poll_s
    reason = (
        f"{readable[0].upper()} export every {describe(export.every)}: each file published "
        "once, bad rows reported, a receipt per file"
    )
    actions = (
        f"have the {system.kind} write its {readable[0].upper()} exports into the "
        "watched drop folder",
    )
    options.append(EdgeOption("E6", "files", readable[0], latency, False, False, reason, actions))


def choose_edge(
    system: SystemBase, strictest_s: float | None, team: Team, timings: EdgeTimings
) -> EdgeChoice:
    """The edge for a system whose strictest outgoing flow needs ``strictest_s`` seconds."""
    options, refusals = edge_options(system, team, timings)
    if not options:
        return EdgeChoice(system.id, None, strictest_s, (), tuple(refusals))
    limit = strictest_s if strictest_s is not None else float("inf")
    meeting = [o for o in options if o.latency_s <= limit]
    if meeting:
        chosen = min(
            meeting,
            key=lambda o: (o.source_change, o.new_code, o.latency_s, RULE_ORDER.index(o.rule)),
        )
    else:
        chosen = min(options, key=lambda o: (o.latency_s, RULE_ORDER.index(o.rule)))
    return EdgeChoice(system.id, chosen, strictest_s, tuple(options), tuple(refusals))

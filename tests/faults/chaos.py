"""Seeded chaos for the fault runs: kills at drawn moments, restarts, and timed outages.

:func:`draw_plan` turns a seed into the moments at which each component (and a broker node) is
SIGKILLed, and when PostgreSQL and the registry go away; :class:`Chaos` carries the kills out in a
thread, restarting every victim after a drawn pause, and supervises: a component that exits on
its own is restarted too and counted as an unplanned exit (the report names them). One broker node
is down at a time, and only once every partition is back in full sync, so the cluster keeps its
``min.insync.replicas`` of 2. :class:`Outage` stops a service at a moment and starts it again.
"""

from __future__ import annotations

import random
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from confluent_kafka.admin import AdminClient

from tracesync.devtools.infra.kafka import KafkaCluster, KafkaNode, fetch_metadata
from tracesync.devtools.supervise import Component

BROKER = "broker"
_NAMES_AN_ERROR = re.compile(r"^(Error: |[\w.]*(Error|Exception|Timeout)\b)")
"""``Error: ...`` (the CLI's last word) or a traceback's final ``SomeError: ...`` line"""


@dataclass(frozen=True, order=True)
class Moment:
    """SIGKILL ``target`` (a component's name or :data:`BROKER`) ``at_s`` into the run, start it
    again ``pause_s`` later; for a broker, ``node`` picks the node (an index into the cluster's)."""

    at_s: float
    target: str
    pause_s: float
    node: int


@dataclass(frozen=True)
class Window:
    """A service away from ``at_s`` for ``for_s`` seconds."""

    at_s: float
    for_s: float


@dataclass(frozen=True)
class Plan:
    kills: tuple[Moment, ...]
    postgres: Window
    registry: Window


def draw_plan(
    rng: random.Random, kills: Mapping[str, int], span_s: float, pg_s: float, registry_s: float
) -> Plan:
    """Kill moments spread over ``(5 s, span_s)``; both outages end inside the span.

    Everything random is drawn here, so a seed always gives the same plan; a kill whose victim is
    still down (or, for a broker, whose cluster is not whole again) waits for it, and later kills
    of other victims do not wait behind it.
    """
    moments = sorted(
        Moment(
            round(rng.uniform(5.0, span_s), 1),
            name,
            round(rng.uniform(0.5, 3.0), 1),
            rng.randrange(3),
        )
        for name, times in kills.items()
        for _ in range(times)
    )
    postgres = Window(round(rng.uniform(10.0, max(10.0, span_s - pg_s)), 1), pg_s)
    registry = Window(round(rng.uniform(10.0, max(10.0, span_s - registry_s)), 1), registry_s)
    return Plan(tuple(moments), postgres, registry)


@dataclass
class Tally:
    """What was done to whom (JSON-ready through :meth:`as_dict`)."""

    kills: Counter[str] = field(default_factory=Counter)
    unplanned_exits: Counter[str] = field(default_factory=Counter)
    brokers_killed: Counter[str] = field(default_factory=Counter)
    outages_s: dict[str, float] = field(default_factory=dict)
    """stopped until answering again (the registry's own start-up included)"""
    phases_s: dict[str, float] = field(default_factory=dict)
    """seconds from the first moment: kills and outages over, store and target caught up"""
    exits: list[dict[str, object]] = field(default_factory=list)
    """every unplanned exit: component, when, and the last line of its log (the reason)"""

    def as_dict(self) -> dict[str, object]:
        return {
            "kills": dict(sorted(self.kills.items())),
            "kills_total": sum(self.kills.values()),
            "broker_nodes_killed": dict(sorted(self.brokers_killed.items())),
            "unplanned_exits": dict(sorted(self.unplanned_exits.items())),
            "outages_s": self.outages_s,
            "phases_s": self.phases_s,
            "exits": self.exits,
        }


def fully_replicated(admin: AdminClient, replicas: int) -> bool:
    """Whether every partition of every topic has ``replicas`` in sync (metadata's view)."""
    try:
        metadata = admin.list_topics(timeout=5)
    except Exception:  # a node fail-over in progress: not yet
        return False
    if len(metadata.brokers) < replicas:
        return False
    return all(
        len(p.isrs) >= min(replicas, len(p.replicas))
        for t in metadata.topics.values()
        for p in t.partitions.values()
    )


def _reason(component: Component) -> str:
    """The last line that names an error in the component's log (its exit reason)."""
    lines = [line.strip() for line in component.log_tail(60).splitlines() if line.strip()]
    named = [line for line in lines if _NAMES_AN_ERROR.match(line)]
    return (named or lines or ["(empty log)"])[-1][:300]


class Chaos(threading.Thread):
    """Carries out the kill moments of a plan against components and broker nodes."""

    def __init__(
        self,
        components: Mapping[str, Component],
        cluster: KafkaCluster,
        kills: tuple[Moment, ...],
        tally: Tally,
    ) -> None:
        super().__init__(name="chaos", daemon=True)
        self.components, self.cluster, self.tally = components, cluster, tally
        self.pending = list(kills)
        self.down: dict[str, float] = {}
        """victim -> when (run seconds) it is started again"""
        self.victim_node: int | None = None
        self.returning: KafkaNode | None = None
        """the node started again last, until it answers as a member of the cluster"""
        self.admin = AdminClient({"bootstrap.servers": cluster.bootstrap_servers})
        self.began = time.monotonic()
        self.stop = threading.Event()
        self.done = threading.Event()
        """every kill carried out and every victim started again"""
        self.error: BaseException | None = None

    def now(self) -> float:
        return time.monotonic() - self.began

    def run(self) -> None:
        """Carry out the plan, then go on supervising until :meth:`close` (the catch-up)."""
        try:
            while not self.stop.is_set():
                self.step()
                if not (self.pending or self.down):
                    self.done.set()
                self.stop.wait(0.2)
        except BaseException as exc:  # reported by the test
            self.error = exc
            self.done.set()

    def step(self) -> None:
        for victim, at in list(self.down.items()):
            if self.now() >= at:
                self.revive(victim)
        self.supervise()
        for moment in list(self.pending):
            if moment.at_s > self.now():
                break
            if self.ready(moment):
                self.pending.remove(moment)
                self.kill(moment)
                self.down[moment.target] = self.now() + moment.pause_s

    def ready(self, moment: Moment) -> bool:
        if moment.target in self.down:
            return False
        if moment.target == BROKER:
            return self.cluster_whole()
        return True

    def cluster_whole(self) -> bool:
        """The node killed last answers as a registered broker again and every partition is in
        full sync: only then may the next node go (two down would stop partitions at min ISR 2
        and the controller quorum)."""
        if self.returning is not None:
            try:
                metadata = fetch_metadata(self.returning.bootstrap_servers, timeout_s=3.0)
            except Exception:  # not answering yet
                return False
            if len(metadata.brokers) < len(self.cluster.nodes):
                return False
            self.returning = None
        return fully_replicated(self.admin, len(self.cluster.nodes))

    def kill(self, moment: Moment) -> None:
        target = moment.target
        self.tally.kills[target] += 1
        if target != BROKER:
            self.components[target].kill()
            return
        node = self.cluster.nodes[moment.node % len(self.cluster.nodes)]
        self.victim_node = node.spec.node_id
        self.tally.brokers_killed[f"node-{node.spec.node_id}"] += 1
        node.signal(signal.SIGKILL)
        if not node.wait_stopped(15.0):
            raise AssertionError(f"broker node {node.spec.node_id} survived SIGKILL")

    def revive(self, victim: str) -> None:
        del self.down[victim]
        if victim == BROKER:
            assert self.victim_node is not None
            self.returning = self.cluster.node(self.victim_node)
            self.returning.start()
            self.victim_node = None
        else:
            self.components[victim].start()

    def supervise(self) -> None:
        """Start again what died on its own, the way systemd's Restart= would."""
        for name, component in self.components.items():
            if name not in self.down and not component.alive():
                self.tally.unplanned_exits[name] += 1
                self.tally.exits.append(
                    {"component": name, "at_s": round(self.now(), 1), "reason": _reason(component)}
                )
                component.start()
        for node in self.cluster.nodes:
            if node.spec.node_id != self.victim_node and not node.is_running():
                self.tally.unplanned_exits[f"node-{node.spec.node_id}"] += 1
                node.start()

    def close(self) -> None:
        self.stop.set()
        self.join(timeout=60)


class Outage(threading.Thread):
    """Stops a service at ``window.at_s`` and starts it again ``window.for_s`` later."""

    def __init__(
        self,
        name: str,
        window: Window,
        stop: Callable[[], object],
        start: Callable[[], object],
        tally: Tally,
    ) -> None:
        super().__init__(name=f"outage-{name}", daemon=True)
        self.service, self.window = name, window
        self._stop_service, self._start_service = stop, start
        self.tally = tally
        self.began = time.monotonic()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            time.sleep(max(0.0, self.window.at_s - (time.monotonic() - self.began)))
            stopped = time.monotonic()
            self._stop_service()
            time.sleep(max(0.0, self.window.for_s - (time.monotonic() - stopped)))
            self._start_service()
            self.tally.outages_s[self.service] = round(time.monotonic() - stopped, 1)
        except BaseException as exc:  # reported by the test
            self.error = exc

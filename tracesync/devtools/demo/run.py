"""``tracesync demo`` from start to end: infrastructure, components, feed, watch, answers, stop."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from sqlalchemy import create_engine

from sinks.exports.demo import write_demo_exports
from tracesync import bootstrap
from tracesync.devtools.demo import answers, bad_input, console, recovery
from tracesync.devtools.demo.feed import PlantFeed, create_erp_database, rest_base_url
from tracesync.devtools.demo.plant_systems import WmsStandIn
from tracesync.devtools.demo.progress import ProgressProbe
from tracesync.devtools.demo.setup import ROUTES_TEMPLATE, DemoRun, demo_run, run_name
from tracesync.devtools.pipeline import LocalPipeline
from tracesync.devtools.simulator.faults import FaultRates
from tracesync.devtools.simulator.scenario import Simulation, SimulationConfig, simulate
from tracesync.devtools.simulator.verify import mismatches
from tracesync.errors import TracesyncError
from tracesync.settings import DEV_INGEST_KEYS, Settings

Echo = Callable[[str], None]

DEMO_RATES = FaultRates(
    duplicates=0.02, reorder=0.05, late=0.01, malformed=0.0, mismatch=0.03, missing=0.02
)
CHUNK_RECORDS = 200
CHUNK_PAUSE_S = 0.3


@dataclass(frozen=True)
class DemoOptions:
    batches: int = 300
    seed: int = 7
    keep_running: bool = False
    timeout_s: float = 600.0


class DemoFailedError(TracesyncError):
    """A component died or the pipeline did not reach the oracle in time."""


def heading(echo: Echo, title: str) -> None:
    echo("")
    echo(f"== {title} " + "=" * max(0, 76 - len(title)))


def _simulation(settings: Settings, options: DemoOptions) -> Simulation:
    return simulate(
        SimulationConfig(
            batches=options.batches,
            seed=options.seed,
            rates=DEMO_RATES,
            tolerance=settings.worker.tolerance,
            plant_id=settings.plant,
        )
    )


def _write_routes(run: DemoRun, wms_url: str) -> None:
    template = ROUTES_TEMPLATE.read_text()
    placeholder = 'url = "http://127.0.0.1:18190/wms/notices"'
    if placeholder not in template:
        raise DemoFailedError(f"{ROUTES_TEMPLATE} has no WMS url line to point at the stand-in")
    run.routes_file.write_text(template.replace(placeholder, f'url = "{wms_url}"'))


def _start_components(pipeline: LocalPipeline, run: DemoRun) -> None:
    db_maps = [a for path in run.db_mapping_files() for a in ("--mapping", str(path))]
    file_maps = [a for path in run.file_mapping_files() for a in ("--mapping", str(path))]
    pipeline.start("worker", ["worker", "--loglevel", "warning"])
    pipeline.start("sink-store", ["sink", "store"])
    pipeline.start(
        "sink-targets",
        ["sink", "targets", "--routes", str(run.routes_file), "--group", run.targets_group],
    )
    pipeline.start("ingest-api", ["ingest", "api"])
    pipeline.start("ingest-db", ["ingest", "db", *db_maps])
    pipeline.start("ingest-files", ["ingest", "files", *file_maps, "--watch", str(run.drop)])


def _check_alive(pipeline: LocalPipeline) -> None:
    dead = pipeline.dead()
    if dead:
        tails = "\n".join(f"--- {n}:\n{pipeline.components[n].log_tail(30)}" for n in dead)
        raise DemoFailedError(f"components died: {', '.join(dead)}\n{tails}")


def _wait_for_rest(pipeline: LocalPipeline, url: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        _check_alive(pipeline)
        try:
            if httpx.get(f"{url}/healthz", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise DemoFailedError(f"the REST ingest did not answer at {url} within {timeout_s:.0f} s")


class Feeder(threading.Thread):
    """Feeds the plant in the background while the main thread shows progress."""

    def __init__(self, feed: PlantFeed, sim: Simulation) -> None:
        super().__init__(name="demo-feed", daemon=True)
        self.feed, self.sim = feed, sim
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.feed.send(self.sim.records, CHUNK_RECORDS, CHUNK_PAUSE_S, self.stop)
        except BaseException as exc:  # reported by the main thread
            self.error = exc


def _show_rest_refusal(echo: Echo, feed: PlantFeed, sim: Simulation) -> bool:
    example = next(e for e in sim.events if e["event_type"] == "PRODUCTION_ORDER_RELEASED")
    refusal = bad_input.send_bad_rest_event(feed.http, feed.rest_url, feed.api_keys["MES"], example)
    echo(
        f"a bad REST request: POST /v1/mes/events with planned_quantity.value = "
        f"{bad_input.TYPO_QUANTITY!r}"
    )
    for line in refusal.lines():
        echo(line)
    return refusal.refused


def _show_typo_report(echo: Echo, run: DemoRun, feed: PlantFeed) -> bool:
    if feed.typo_file is None:
        echo("(no WMS export in this run to carry the mistyped row)")
        return True
    report = bad_input.wait_for_error_report(run.drop, feed.typo_file.name, 30.0)
    echo(
        f"a CSV file with one mistyped row: {feed.typo_file.name} (qty "
        f"{bad_input.TYPO_QUANTITY!r}); its good rows were published, its error report says:"
    )
    if report is None:
        echo("  NO error report was written")
        return False
    echo("\n".join(f"  {line}" for line in report.strip().splitlines()))
    return "qty" in report or "quantity" in report


def _show_targets(echo: Echo, wms: WmsStandIn, sim: Simulation) -> None:
    produced = sum(1 for c in sim.oracle.chains.values() if c.produced_quantity is not None)
    deadline = time.monotonic() + 15.0
    while wms.counts()["INBOUND_NOTICE"] < produced and time.monotonic() < deadline:
        time.sleep(0.5)
    counts = wms.counts()
    echo(
        f"the WMS stand-in received {counts['INBOUND_NOTICE']} inbound notices "
        f"(batches produced: {produced}), {counts['BLOCK']} blocks and {counts['UNBLOCK']} "
        f"unblocks; {len(wms.blocked_batches())} batches blocked now, "
        f"{wms.repeats} notices repeated (same idempotency key)"
    )


def _show_commands(echo: Echo, run: DemoRun, trace_code: str | None, lot: str | None) -> None:
    s = run.settings
    url = s.store_url
    env = (
        f"TRACESYNC_TOPIC_PREFIX={s.topic_prefix} "
        f"TRACESYNC_KAFKA__BOOTSTRAP_SERVERS={s.kafka.bootstrap_servers} "
        f"TRACESYNC_REGISTRY__PORT={s.registry.port}"
    )
    echo(f"  tracesync trace {trace_code or 'CODE'} --store-url {url}")
    echo(f"  tracesync recall {lot or 'LOT'} --store-url {url}")
    echo(f"  {env} tracesync dlq list --topic ingest")
    echo(f"  {env} tracesync dlq list --topic streams")
    echo(f"  logs of every component: {run.logs}")
    echo(f"  the oracle: {run.folder / 'oracle.json'};  files handled: {run.drop}")


def _faults(sim: Simulation) -> str:
    counts = Counter(f.kind for f in sim.faults)
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "none"


class DemoSession:
    """One demo run's moving parts; :meth:`run` goes through it step by step."""

    def __init__(self, base: Settings, options: DemoOptions, echo: Echo) -> None:
        self.began = time.monotonic()
        self.options = options
        self.echo = echo
        self.run_ = demo_run(base, run_name())
        self.settings = self.run_.settings
        self.sim = _simulation(self.settings, options)
        self.infra = LocalPipeline(self.run_.infra_settings, self.run_.logs, echo=echo)
        self.pipeline = LocalPipeline(self.settings, self.run_.logs, echo=echo)
        self.wms = WmsStandIn()
        self.store = create_engine(self.settings.store_url)

    def elapsed(self) -> float:
        return time.monotonic() - self.began

    def introduce(self) -> None:
        run, sim, options = self.run_, self.sim, self.options
        sim.oracle.save(run.folder / "oracle.json")
        heading(self.echo, f"tracesync demo {run.name}")
        self.echo(f"run folder {run.folder}; topics {self.settings.topic_prefix}*")
        self.echo(
            f"simulated plant: {options.batches} batches (seed {options.seed}), "
            f"{len(sim.oracle.chains)} lots and batches, {len(sim.records)} records to send; "
            f"faults: {_faults(sim)}"
        )

    def start(self) -> PlantFeed:
        heading(self.echo, "starting")
        self.wms.start()
        self.infra.up_infrastructure()
        if self.settings.registry.enabled:
            # set the global compatibility rule once: components starting together on a fresh
            # Apicurio race to create it, and the losers get 409 "rule already exists"
            bootstrap.schema_registry(self.settings)
        _write_routes(self.run_, self.wms.url)
        self.run_.drop.mkdir(parents=True, exist_ok=True)
        erp = create_erp_database(f"sqlite:///{self.run_.erp_db}")
        _start_components(self.pipeline, self.run_)
        rest_url = rest_base_url(self.settings.ingest.host, self.settings.ingest.port)
        _wait_for_rest(self.pipeline, rest_url)
        names = ", ".join(self.pipeline.components)
        ws = self.settings.worker
        self.echo(
            f"components up ({names}; worker on the {ws.engine} engine, {ws.processing_guarantee})"
            f"; WMS stand-in at {self.wms.url}"
        )
        # the demo command runs with demo_keys: the ingest accepts the demo's well-known keys
        return PlantFeed(rest_url, dict(DEV_INGEST_KEYS), erp, self.run_.drop, self.settings.plant)

    def feed_and_watch(self, feed: PlantFeed) -> dict[str, list[str]]:
        """Feed in the background; progress once a second until the store equals the oracle."""
        heading(self.echo, "feeding the plant: REST push, ERP outbox, file drops")
        feeder = Feeder(feed, self.sim)
        probe = ProgressProbe(self.settings, self.store)
        try:
            feeder.start()
            return self._watch(feeder, probe)
        finally:
            feeder.stop.set()
            probe.close()
            c = feed.counts
            self.echo(
                f"fed {c.rest_events} events in {c.rest_requests} REST requests, {c.db_rows} "
                f"ERP outbox rows, {c.file_rows} rows in {c.files} dropped files"
            )

    def _watch(self, feeder: Feeder, probe: ProgressProbe) -> dict[str, list[str]]:
        deadline = time.monotonic() + self.options.timeout_s
        wrong: dict[str, list[str]] = {"*": ["not checked yet"]}
        last_check = 0.0
        while time.monotonic() < deadline:
            began = time.monotonic()
            _check_alive(self.pipeline)
            if feeder.error is not None:
                raise DemoFailedError(f"feeding the plant failed: {feeder.error}") from feeder.error
            self.echo(probe.snapshot().line())
            if not feeder.is_alive() and began - last_check >= 2.0:
                last_check = began
                wrong = mismatches(self.sim.oracle, answers.load_chains(self.store))
                if not wrong:
                    self.echo(probe.snapshot().line())
                    return wrong
            time.sleep(max(0.0, 1.0 - (time.monotonic() - began)))
        return wrong

    def report_timeout(self, wrong: dict[str, list[str]]) -> None:
        heading(self.echo, f"TIMEOUT after {self.options.timeout_s:.0f} s: the store differs")
        self.echo(f"{len(wrong)} codes differ from the oracle, e.g.:")
        for diffs in list(wrong.values())[:10]:
            self.echo("\n".join(f"  {d}" for d in diffs[:5]))

    def ask(self) -> bool:
        """The three answers from the store; True when each matches the oracle."""
        oracle = self.sim.oracle
        chains = answers.load_chains(self.store)
        all_match = True
        for answer in (
            answers.reconciliation(self.store, oracle),
            answers.complaint_trace(self.store, oracle, chains),
            answers.recall(self.store, oracle),
        ):
            heading(self.echo, answer.title)
            self.echo(answer.text)
            self.echo(answer.verdict())
            all_match = all_match and answer.matches
        return all_match

    def write_exports(self) -> bool:
        """The compliance files of this run: FSMA 204 sheet, EPCIS document, the PDF report."""
        heading(self.echo, "compliance exports")
        complaint = answers.pick_complaint(self.sim.oracle)
        code = complaint.trace_code if complaint else next(iter(self.sim.oracle.chains))
        try:
            paths = write_demo_exports(self.store, self.run_.folder / "exports", code)
        except TracesyncError as exc:
            self.echo(f"exports failed: {exc}")
            return False
        for path in paths:
            self.echo(f"  {path}")
        return True

    def recover(self) -> bool:
        """The runbook's lost-store recovery, shown once: delete, rebuild, verify."""
        heading(self.echo, "recovery: the trace store is lost, rebuilt and verified")
        self.store.dispose()  # the demo's own connections go with the deleted file
        return recovery.show_recovery(self.echo, self.settings, self.pipeline, self.run_.store_path)

    def look_further(self) -> None:
        heading(self.echo, "look further")
        complaint = answers.pick_complaint(self.sim.oracle)
        lot = answers.pick_recall_lot(self.sim.oracle, answers.descendants(self.sim.oracle))
        _show_commands(self.echo, self.run_, complaint.trace_code if complaint else None, lot)

    def close(self) -> None:
        self.store.dispose()
        if self.options.keep_running:
            up = console.start_console(self.pipeline, self.settings)
            self.echo(
                f"--keep-running: components and infrastructure stay up (logs in "
                f"{self.run_.logs}); the WMS stand-in ends with this process"
            )
            for line in console.console_lines(self.settings):
                self.echo(line if up else f"{line} (NOT answering yet: see serve.log)")
            for name, component in self.pipeline.components.items():
                self.echo(f"  {name} pid {component.pid}")
        else:
            heading(self.echo, "stopping")
            self.pipeline.close()
            self.infra.close()
            self.echo("stopped every process the demo started")
        self.wms.stop()


def run_demo(base: Settings, options: DemoOptions, echo: Echo = print) -> int:
    """Run the demo; 0 when the pipeline and every answer match the oracle."""
    for chatty in ("httpx", "alembic"):  # their per-request INFO lines would drown the view
        logging.getLogger(chatty).setLevel(logging.WARNING)
    session = DemoSession(base, options, echo)
    session.introduce()
    try:
        feed = session.start()
        try:
            heading(echo, "bad input at the edge (shown once)")
            refused = _show_rest_refusal(echo, feed, session.sim)
            first = next(e for e in session.sim.events if e["event_type"] == "GOODS_RECEIVED")
            feed.typo_row = bad_input.typo_receipt_row(first)
            wrong = session.feed_and_watch(feed)
            if wrong:
                session.report_timeout(wrong)
                session.look_further()
                return 1
            echo(f"every lot and batch in the store matches the oracle ({session.elapsed():.0f} s)")
            reported = _show_typo_report(echo, session.run_, feed)
            _show_targets(echo, session.wms, session.sim)
            answered = session.ask() and session.write_exports()
        finally:
            feed.close()
        recovered = session.recover()
        session.look_further()
        ok = refused and reported and answered and recovered
        echo(f"demo took {session.elapsed():.0f} s: {'OK' if ok else 'FAILED'}")
        return 0 if ok else 1
    finally:
        session.close()

"""The local schema registry: Apicurio Registry 3 serving the Confluent-compatible API.

The distribution (a Quarkus app from Maven Central) is fetched by ``deploy/registry/pom.xml`` into
``<cache>/registry-<version>/``. One registry runs detached on ``settings.registry.host:port`` with
its pid file, log and data under ``settings.home/registry``. Schemas are stored durably in an H2
*file* database there (Apicurio's SQL storage), so the registry needs no broker and keeps schema ids
across restarts.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tracesync.errors import InfrastructureError
from tracesync.settings import Settings

APICURIO_VERSION = "3.0.9"
POM = Path(__file__).resolve().parents[3] / "deploy" / "registry" / "pom.xml"
RUNNER_JAR = f"apicurio-registry-app-{APICURIO_VERSION}-runner.jar"
_COMPLETE_MARKER = ".complete"
_FETCH_TIMEOUT_S = 1800.0  # ~109 MB from Maven Central on a slow line
_STOP_TIMEOUT_S = 60.0  # the first clean stop also writes the class-data archive
_KILL_TIMEOUT_S = 10.0
_PROBE_TIMEOUT_S = 2.0
_LOG_TAIL_LINES = 40


@dataclass(frozen=True)
class RegistryLayout:
    """Where one local registry keeps its pid file, log and database."""

    root: Path

    @classmethod
    def of(cls, settings: Settings) -> RegistryLayout:
        return cls(settings.home.resolve() / "registry")

    @property
    def pid_file(self) -> Path:
        return self.root / "registry.pid"

    @property
    def log_file(self) -> Path:
        return self.root / "registry.log"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    @property
    def class_archive(self) -> Path:
        return self.root / "classes.jsa"

    @property
    def jdbc_url(self) -> str:
        # WRITE_DELAY=0: H2 flushes each commit at once, so a killed registry loses no schema.
        return f"jdbc:h2:file:{self.data_dir / 'registry'};WRITE_DELAY=0"


@dataclass(frozen=True)
class RegistryStatus:
    """What :func:`status` found: our process, and whether the API answers."""

    url: str
    pid: int | None
    answering: bool

    @property
    def running(self) -> bool:
        return self.pid is not None


def default_cache_root(settings: Settings) -> Path:
    """The cache folder shared by fetched runtimes (``<home>/cache``)."""
    return settings.home.resolve() / "cache"


def dist_dir(cache_root: Path) -> Path:
    """The unpacked distribution of the pinned Apicurio version."""
    return cache_root.resolve() / f"registry-{APICURIO_VERSION}"


def is_fetched(cache_root: Path) -> bool:
    """Whether the distribution is unpacked completely (the marker is written last)."""
    dist = dist_dir(cache_root)
    return (dist / _COMPLETE_MARKER).is_file() and (dist / RUNNER_JAR).is_file()


def fetch(cache_root: Path) -> Path:
    """Fetch and unpack the distribution unless it is cached; returns its folder."""
    dist = dist_dir(cache_root)
    if is_fetched(cache_root):
        return dist
    mvn = shutil.which("mvn")
    if mvn is None:
        raise InfrastructureError("Maven (mvn) is needed to fetch the registry; install it")
    command = [mvn, "-B", "-q", "-f", str(POM), "package", f"-Dregistry.cache.dir={dist}"]
    try:
        done = subprocess.run(  # noqa: S603 - the mvn command above, no shell
            command, capture_output=True, text=True, timeout=_FETCH_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise InfrastructureError(
            f"fetching the registry took over {_FETCH_TIMEOUT_S:.0f}s"
        ) from exc
    if done.returncode != 0 or not (dist / RUNNER_JAR).is_file():
        output = _tail((done.stdout + done.stderr).splitlines())
        raise InfrastructureError(f"fetching the registry failed ({' '.join(command)}):\n{output}")
    (dist / _COMPLETE_MARKER).write_text(APICURIO_VERSION + "\n")
    return dist


def java_command(settings: Settings, dist: Path, layout: RegistryLayout) -> list[str]:
    """The java command line that runs the registry for these settings."""
    reg = settings.registry
    properties = {
        "quarkus.http.host": reg.host,
        "quarkus.http.port": str(reg.port),
        "apicurio.storage.kind": "sql",
        "apicurio.storage.sql.kind": "h2",
        "apicurio.datasource.url": layout.jdbc_url,
        # The defaults open 20 pooled connections at start; a few suffice for a local registry.
        "apicurio.datasource.jdbc.initial-size": "2",
        "apicurio.datasource.jdbc.min-size": "2",
        "apicurio.datasource.jdbc.max-size": "10",
        "apicurio.import.work-dir": str(layout.tmp_dir),
        "apicurio.storage.snapshot.location": str(layout.tmp_dir),
        # Serializers hit the API per new schema only; an access log line per call is just noise.
        "quarkus.http.access-log.enabled": "false",
        # Apicurio's default pattern prints dates like "2026-11+00-24".
        "quarkus.log.console.format": "%d{yyyy-MM-dd HH:mm:ss,SSS} %p [%c{3.}] (%t) %m%n",
        "java.io.tmpdir": str(layout.tmp_dir),
    }
    return [
        _java(),
        f"-Xmx{reg.heap}",
        "-Xms32m",  # the default initial heap is 1/64 of the machine's memory, far above our need
        # Small heap on a 2-core machine: serial GC and the C1 compiler only start fastest.
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-XX:+ExitOnOutOfMemoryError",
        _class_archive_option(layout),
        *(f"-D{key}={value}" for key, value in properties.items()),
        "-jar",
        str(dist / RUNNER_JAR),
    ]


def _class_archive_option(layout: RegistryLayout) -> str:
    """Use the class-data archive (AppCDS) if there is one, else write it at the next clean stop.

    With it, the registry starts about 3x faster on a loaded 2-core machine (measured 4s vs 11-18s).
    A stale or foreign archive is ignored by the JVM; delete it to have it written again.
    """
    if layout.class_archive.is_file():
        return f"-XX:SharedArchiveFile={layout.class_archive}"
    return f"-XX:ArchiveClassesAtExit={layout.class_archive}"


_DETACHED: list[subprocess.Popen[bytes]] = []
"""Handles of the registries started here. The server outlives its handle on purpose (own session,
pid file, found again by pid and reaped in :func:`_is_alive`); keeping the handle says so, as
dropping the handle of a running child is a ResourceWarning."""


def start(settings: Settings, cache_root: Path) -> RegistryStatus:
    """Start the registry detached and wait until its API answers; no-op if it already runs.

    Raises InfrastructureError, with the tail of the registry's log, when it does not come up
    within ``settings.registry.start_timeout_s`` (the process is then stopped).
    """
    layout = RegistryLayout.of(settings)
    current = status(settings)
    if current.pid is not None:
        if not current.answering:
            _wait_until_answering(settings, layout, current.pid)
        return status(settings)
    if _port_in_use(settings.registry.host, settings.registry.port):
        raise InfrastructureError(
            f"port {settings.registry.host}:{settings.registry.port} is taken by another process"
        )
    dist = fetch(cache_root)
    for folder in (layout.root, layout.data_dir, layout.tmp_dir):
        folder.mkdir(parents=True, exist_ok=True)
    _rotate_log(layout)
    with layout.log_file.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our java command line, no shell
            java_command(settings, dist, layout),
            cwd=layout.root,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # survives the CLI and is not hit by its Ctrl-C
        )
    layout.pid_file.write_text(f"{process.pid}\n")
    _DETACHED.append(process)
    try:
        _wait_until_answering(settings, layout, process.pid)
    except InfrastructureError:
        stop(settings)
        raise
    return status(settings)


def stop(settings: Settings, timeout_s: float = _STOP_TIMEOUT_S) -> bool:
    """Stop our registry (SIGTERM, then SIGKILL after ``timeout_s``); True if one was running."""
    return _end(RegistryLayout.of(settings), signal.SIGTERM, timeout_s)


def kill(settings: Settings) -> bool:
    """Kill our registry with SIGKILL, as a crash would; True if one was running."""
    return _end(RegistryLayout.of(settings), signal.SIGKILL, _KILL_TIMEOUT_S)


def status(settings: Settings) -> RegistryStatus:
    """Whether our registry process runs and whether its API answers."""
    layout = RegistryLayout.of(settings)
    pid = _running_pid(layout)
    url = settings.registry.url
    return RegistryStatus(url=url, pid=pid, answering=pid is not None and is_answering(url))


def is_answering(url: str) -> bool:
    """Whether ``GET {url}/subjects`` returns 200 right now."""
    try:
        # the registry URL of our own settings (http://127.0.0.1:...), never user input
        with urllib.request.urlopen(f"{url}/subjects", timeout=_PROBE_TIMEOUT_S) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def log_tail(settings: Settings, lines: int = _LOG_TAIL_LINES) -> str:
    """The last lines of the registry's log (empty when there is none)."""
    log_file = RegistryLayout.of(settings).log_file
    if not log_file.is_file():
        return ""
    return _tail(log_file.read_text(errors="replace").splitlines(), lines)


def _wait_until_answering(settings: Settings, layout: RegistryLayout, pid: int) -> None:
    timeout_s = settings.registry.start_timeout_s
    deadline = time.monotonic() + timeout_s
    while not is_answering(settings.registry.url):
        if not _is_alive(pid):
            layout.pid_file.unlink(missing_ok=True)
            raise InfrastructureError(
                f"registry exited during start; log {layout.log_file}:\n{log_tail(settings)}"
            )
        if time.monotonic() > deadline:
            raise InfrastructureError(
                f"registry not answering at {settings.registry.url} after {timeout_s:.0f}s;"
                f" log {layout.log_file}:\n{log_tail(settings)}"
            )
        time.sleep(0.25)


def _end(layout: RegistryLayout, first_signal: signal.Signals, timeout_s: float) -> bool:
    pid = _running_pid(layout)
    if pid is None:
        layout.pid_file.unlink(missing_ok=True)
        return False
    _signal(pid, first_signal)
    if not _wait_for_exit(pid, timeout_s):
        _signal(pid, signal.SIGKILL)
        if not _wait_for_exit(pid, _KILL_TIMEOUT_S):
            raise InfrastructureError(f"registry process {pid} survived SIGKILL")
    layout.pid_file.unlink(missing_ok=True)
    return True


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended on its own meanwhile
        os.kill(pid, sig)


def _running_pid(layout: RegistryLayout) -> int | None:
    """The pid in the pid file if that process lives and is our registry."""
    try:
        pid = int(layout.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    if not _is_alive(pid):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    # A recycled pid must not be taken for our registry (and then be killed).
    expected = f"jdbc:h2:file:{layout.data_dir}".encode()
    return pid if RUNNER_JAR.encode() in cmdline and expected in cmdline else None


def _is_alive(pid: int) -> bool:
    if _reaped_our_child(pid):
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            return True
        # A killed JVM's main thread turns zombie while its other threads (holding the port and
        # the database) are still exiting; it is gone only when the zombie is the last thread.
        return len(os.listdir(f"/proc/{pid}/task")) > 1
    except OSError:
        return False


def _reaped_our_child(pid: int) -> bool:
    """Reap ``pid`` if it is our own exited child (a test session), so it lingers as no zombie.

    A child started here is reaped through its handle, which then knows it ended.
    """
    handle = next((h for h in _DETACHED if h.pid == pid), None)
    if handle is not None:
        if handle.poll() is None:
            return False
        _DETACHED.remove(handle)
        return True
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return reaped == pid


def _wait_for_exit(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while _is_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(_PROBE_TIMEOUT_S)
        return probe.connect_ex((host, port)) == 0


def _rotate_log(layout: RegistryLayout) -> None:
    if layout.log_file.is_file():
        layout.log_file.replace(layout.log_file.with_suffix(".log.1"))


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        raise InfrastructureError("java (17 or newer) is needed to run the registry; install it")
    return java


def _tail(lines: Sequence[str], count: int = _LOG_TAIL_LINES) -> str:
    return "\n".join(lines[-count:])

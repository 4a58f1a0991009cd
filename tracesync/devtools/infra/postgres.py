"""The PostgreSQL server tracesync runs on: make sure it is up, stop and start it, manage databases.

The server is Debian's package, installed and started by ``deploy/postgres/setup.sh`` like a system
service; it is not owned by a test session. Outage tests use :func:`stop` and :func:`start`, which
drive the cluster through Debian's ``pg_ctlcluster`` (root only; without systemd it runs ``pg_ctl``
itself and the server detaches). The cluster is found by the port in :class:`PostgresSettings`.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL

from tracesync.errors import InfrastructureError
from tracesync.settings import PostgresSettings

SETUP_SCRIPT = Path(__file__).resolve().parents[3] / "deploy" / "postgres" / "setup.sh"
# The setup script gets a fixed environment: nothing below the entry point reads os.environ.
_SCRIPT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_SETUP_TIMEOUT_S = 900.0  # a fresh machine downloads and installs the packages
_CTL_TIMEOUT_S = 120.0
_CONNECT_TIMEOUT_S = 3


@dataclass(frozen=True)
class Cluster:
    """One Debian PostgreSQL cluster as listed by ``pg_lsclusters``."""

    version: str
    name: str
    port: int
    running: bool


def sqlalchemy_url(pg: PostgresSettings, database: str | None = None) -> str:
    """A ``postgresql+psycopg://`` URL for ``database`` (the settings' database by default)."""
    url = URL.create(
        "postgresql+psycopg",
        username=pg.user,
        password=pg.password.get_secret_value(),
        host=pg.host,
        port=pg.port,
        database=database or pg.database,
    )
    return url.render_as_string(hide_password=False)


def connect(
    pg: PostgresSettings, database: str | None = None
) -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit psycopg connection as the tracesync role; raises InfrastructureError."""
    try:
        return psycopg.connect(
            host=pg.host,
            port=pg.port,
            user=pg.user,
            password=pg.password.get_secret_value(),
            dbname=database or pg.database,
            connect_timeout=_CONNECT_TIMEOUT_S,
            autocommit=True,
        )
    except psycopg.Error as exc:
        raise InfrastructureError(
            f"cannot connect to PostgreSQL at {pg.host}:{pg.port} as {pg.user}: {exc}"
        ) from exc


def is_reachable(pg: PostgresSettings) -> bool:
    """Whether the tracesync role can log in to its database right now."""
    try:
        with connect(pg) as conn:
            conn.execute("SELECT 1")
    except InfrastructureError:
        return False
    return True


def wait_until_reachable(pg: PostgresSettings, timeout_s: float = 60.0) -> None:
    """Block until :func:`is_reachable`; raise InfrastructureError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not is_reachable(pg):
        if time.monotonic() > deadline:
            raise InfrastructureError(
                f"PostgreSQL at {pg.host}:{pg.port} not reachable after {timeout_s:.0f}s"
            )
        time.sleep(0.2)


def run_setup_script(pg: PostgresSettings) -> str:
    """Run ``deploy/postgres/setup.sh`` for these settings; returns its output."""
    if not SETUP_SCRIPT.is_file():
        raise InfrastructureError(f"setup script not found: {SETUP_SCRIPT}")
    env = {
        "PATH": _SCRIPT_PATH,
        "TRACESYNC_POSTGRES__PORT": str(pg.port),
        "TRACESYNC_POSTGRES__USER": pg.user,
        "TRACESYNC_POSTGRES__PASSWORD": pg.password.get_secret_value(),
        "TRACESYNC_POSTGRES__DATABASE": pg.database,
    }
    done = _run(["bash", str(SETUP_SCRIPT)], env=env, timeout_s=_SETUP_TIMEOUT_S)
    return done.stdout


def ensure_running(pg: PostgresSettings) -> bool:
    """Make sure the server is reachable, running the setup script if it is not.

    Returns True when the setup script had to run. Raises InfrastructureError with the reason
    (the script's output included) when the server cannot be brought up.
    """
    if is_reachable(pg):
        return False
    run_setup_script(pg)
    wait_until_reachable(pg, timeout_s=30.0)
    return True


def find_cluster(pg: PostgresSettings) -> Cluster:
    """The local cluster configured on ``pg.port``."""
    listing = _run(["pg_lsclusters", "--json"], timeout_s=_CTL_TIMEOUT_S).stdout
    for entry in json.loads(listing):
        if int(entry["port"]) == pg.port:
            return Cluster(
                version=str(entry["version"]),
                name=str(entry["cluster"]),
                port=int(entry["port"]),
                running=bool(entry["running"]),
            )
    raise InfrastructureError(f"no local PostgreSQL cluster on port {pg.port}")


def stop(pg: PostgresSettings) -> None:
    """Stop the cluster (pg_ctlcluster's default fast mode cuts open sessions); no-op if down."""
    cluster = find_cluster(pg)
    if cluster.running:
        _ctl(cluster, "stop")


def start(pg: PostgresSettings, timeout_s: float = 60.0) -> None:
    """Start the cluster and wait until the tracesync role can log in."""
    cluster = find_cluster(pg)
    if not cluster.running:
        _ctl(cluster, "start")
    wait_until_reachable(pg, timeout_s)


def create_database(pg: PostgresSettings, name: str) -> None:
    """Create an empty UTF-8 database owned by the tracesync role."""
    # template0 and not template1: cloning template1 fails while anyone is connected to it.
    statement = sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
        sql.Identifier(name)
    )
    _admin_execute(pg, statement, f"create database {name}")


def drop_database(pg: PostgresSettings, name: str) -> None:
    """Drop the database if it exists, cutting any sessions still connected to it.

    ``WITH (FORCE)`` refuses (without pg_signal_backend) while an autovacuum worker is in the
    database; then our own sessions are ended and a plain DROP, which stops autovacuum itself,
    is used.
    """
    statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    try:
        _admin_execute(pg, statement, f"drop database {name}")
    except InfrastructureError as exc:
        if not isinstance(exc.__cause__, psycopg.errors.InsufficientPrivilege):
            raise
        _drop_after_autovacuum(pg, name)


def _drop_after_autovacuum(pg: PostgresSettings, name: str) -> None:
    own = sql.SQL(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = {} AND usename = current_user AND pid <> pg_backend_pid()"
    ).format(sql.Literal(name))
    _admin_execute(pg, own, f"end the sessions on {name}")
    plain = sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
    _admin_execute(pg, plain, f"drop database {name}")


def _admin_execute(pg: PostgresSettings, statement: sql.Composed, what: str) -> None:
    with connect(pg) as conn:
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            raise InfrastructureError(f"cannot {what}: {exc}") from exc


def _ctl(cluster: Cluster, action: str) -> None:
    _run(["pg_ctlcluster", cluster.version, cluster.name, action], timeout_s=_CTL_TIMEOUT_S)


def _run(
    command: list[str], *, timeout_s: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(  # noqa: S603 - fixed PostgreSQL tool command lines, no shell
            command, capture_output=True, text=True, env=env, timeout=timeout_s, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InfrastructureError(f"`{' '.join(command)}` failed: {exc}") from exc
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        raise InfrastructureError(f"`{' '.join(command)}` exited with {done.returncode}:\n{output}")
    return done

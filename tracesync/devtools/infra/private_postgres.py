"""A private PostgreSQL server for one test session: its own data folder, port and processes.

The shared server (``deploy/postgres/setup.sh``, :mod:`tracesync.devtools.infra.postgres`) serves
every test session on the machine, so a test that takes PostgreSQL away for a while must not stop
that one. :class:`PrivatePostgres` runs Debian's own binaries (``initdb``, ``pg_ctl`` under
``/usr/lib/postgresql/<version>/bin``) on a folder and port of its own; the server listens on
127.0.0.1 only and its socket lives in its data folder. PostgreSQL refuses to run as root, so as
root the binaries run as the ``postgres`` system user (``runuser``) and the folder is theirs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tracesync.devtools.infra import postgres
from tracesync.errors import InfrastructureError
from tracesync.settings import PostgresSettings

DEBIAN_ROOT = Path("/usr/lib/postgresql")
SERVER_USER = "postgres"
"""The system user the server runs as when we are root (Debian's package creates it)."""
_TIMEOUT_S = 120.0


def debian_bin_dir(root: Path = DEBIAN_ROOT) -> Path:
    """The ``bin`` folder of the newest PostgreSQL version Debian installed."""
    versions = sorted(
        (p for p in root.glob("*/bin") if (p / "pg_ctl").is_file()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not versions:
        raise InfrastructureError(f"no PostgreSQL binaries under {root} (run `make postgres`)")
    return versions[-1]


@dataclass(frozen=True)
class PrivatePostgres:
    """One private server: ``folder`` holds its data, socket, log and password file."""

    folder: Path
    port: int
    role: PostgresSettings = field(default_factory=PostgresSettings)
    """the role (user, password) and database it is created with; its host and port are ours"""

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def log_file(self) -> Path:
        return self.folder / "server.log"

    @property
    def settings(self) -> PostgresSettings:
        return self.role.model_copy(update={"host": "127.0.0.1", "port": self.port})

    def url(self, database: str | None = None) -> str:
        return postgres.sqlalchemy_url(self.settings, database)

    def is_running(self) -> bool:
        if not (self.data_dir / "PG_VERSION").is_file():
            return False
        done = self._pg("pg_ctl", "status", "-D", str(self.data_dir), check=False)
        return done.returncode == 0

    def create(self) -> None:
        """A fresh cluster (an earlier one on the folder is stopped and wiped) and its database."""
        if self.is_running():
            self.stop(mode="immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        pwfile = self.folder / "pwfile"
        pwfile.write_text(f"{self.role.password.get_secret_value()}\n")
        self._hand_over(self.folder, pwfile)
        self._pg(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            self.role.user,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        pwfile.unlink()
        self.start()
        self._pg("createdb", "-h", str(self.data_dir), "-p", str(self.port), "-U",
                 self.role.user, self.role.database)  # fmt: skip
        postgres.wait_until_reachable(self.settings, 30.0)

    def start(self) -> None:
        """Start the server and wait until it accepts connections; no-op when it runs."""
        if not self.is_running():
            options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data_dir}"
            self._pg(
                "pg_ctl", "start", "-w", "-D", str(self.data_dir), "-l", str(self.log_file),
                "-o", options,
            )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast`` cuts open sessions, ``immediate`` crashes); no-op if down."""
        if self.is_running():
            self._pg("pg_ctl", "stop", "-w", "-m", mode, "-D", str(self.data_dir))

    def _hand_over(self, *paths: Path) -> None:
        """As root, give the server's user what it must own."""
        if os.geteuid() == 0:
            for path in paths:
                shutil.chown(path, SERVER_USER, SERVER_USER)

    def _pg(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(debian_bin_dir() / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        try:
            done = subprocess.run(  # noqa: S603 - Debian's PostgreSQL tools, no shell
                command,
                capture_output=True,
                text=True,
                timeout=_TIMEOUT_S,
                check=False,
                cwd=self.folder if self.folder.is_dir() else None,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InfrastructureError(f"`{' '.join(command)}` failed: {exc}") from exc
        if check and done.returncode != 0:
            output = (done.stdout + done.stderr).strip()
            raise InfrastructureError(
                f"`{' '.join(command)}` exited with {done.returncode}:\n{output}"
            )
        return done

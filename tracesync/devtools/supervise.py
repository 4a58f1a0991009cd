"""Run tracesync components as child processes, with the settings passed as environment.

The demo, the benchmark and the tests start components the way an operator does
(``tracesync worker`` …), so they can be watched, SIGKILLed and restarted. Whoever starts a
:class:`Component` stops it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pydantic import SecretStr

from tracesync.settings import Settings

TRACESYNC = str(Path(sys.executable).parent / "tracesync")
"""The console script of the running interpreter's environment."""


def settings_env(settings: Settings) -> dict[str, str]:
    """TRACESYNC_* variables that rebuild ``settings`` in a child process."""
    env: dict[str, str] = {}

    def walk(prefix: str, data: Mapping[str, object]) -> None:
        for key, raw in data.items():
            name = f"{prefix}{key.upper()}"
            value = raw.get_secret_value() if isinstance(raw, SecretStr) else raw
            if isinstance(value, Mapping):
                walk(f"{name}__", value)
            elif isinstance(value, bool):
                env[name] = str(value).lower()
            elif value is not None:
                env[name] = str(value)

    walk("TRACESYNC_", settings.model_dump())
    return env


class Component:
    """One tracesync command running as a child process, its output in a log file."""

    def __init__(self, args: list[str], settings: Settings, log_path: Path) -> None:
        self.args = args
        self.env = os.environ | settings_env(settings)
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Component:
        # the child writes through its own copy of the descriptor; ours closes at once
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - our own tracesync CLI, no shell
                [TRACESYNC, *self.args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout_s: float = 30.0) -> int | None:
        """SIGTERM and wait; SIGKILL when it does not stop in time."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def wait_for(
    predicate: Callable[[], bool],
    timeout_s: float,
    interval_s: float = 0.2,
    alive: Sequence[Component] = (),
) -> bool:
    """Poll ``predicate()`` until true or the time is up; fail at once if a component died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        for component in alive:
            if not component.alive():
                raise AssertionError(f"{component.args} died:\n{component.log_tail()}")
        time.sleep(interval_s)
    return bool(predicate())

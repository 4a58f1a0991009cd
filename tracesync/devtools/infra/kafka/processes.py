"""Finding local processes by command line and telling a live process from a zombie.

On this machine's init an exited child can stay a zombie (state ``Z`` in ``/proc/PID/stat``)
for seconds before it is reaped: it holds no port and no file any more, so it counts as stopped.
"""

from __future__ import annotations

import os
from pathlib import Path

_GONE_STATES = frozenset({"Z", "X"})  # zombie, dead: exited, waiting to be reaped


def process_state(pid: int) -> str | None:
    """The one-letter state of ``pid`` (``R``, ``S``, ``Z`` ...), None when there is no such pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # "pid (comm) state ...": comm may hold spaces and parentheses, so split after the last ")"
    fields = stat[stat.rfind(")") + 1 :].split()
    return fields[0] if fields else None


def is_alive(pid: int) -> bool:
    """True while ``pid`` runs; False once it is gone or a zombie."""
    state = process_state(pid)
    return state is not None and state not in _GONE_STATES


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace")


def pids_running(marker: str) -> list[int]:
    """Pids of live processes (zombies left out) whose command line contains ``marker``."""
    candidates = (int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit())
    return sorted(
        pid
        for pid in candidates
        if pid != os.getpid() and marker in _cmdline(pid) and is_alive(pid)
    )


def log_tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file, or a note that it does not exist."""
    if not path.exists():
        return f"<{path} does not exist>"
    content = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(content[-lines:])

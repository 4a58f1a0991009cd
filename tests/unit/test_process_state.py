"""A zombie counts as stopped: the process finders of the local infrastructure read /proc state."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tracesync.devtools.infra.kafka import is_alive, pids_running, process_state

FREE_PID = 2**22 + 1  # above Linux's largest pid_max (4194304): never a process


def test_this_process_is_alive_and_a_free_pid_is_not() -> None:
    assert process_state(os.getpid()) in {"R", "S"}
    assert is_alive(os.getpid())
    assert process_state(FREE_PID) is None
    assert not is_alive(FREE_PID)


def test_an_exited_child_not_yet_reaped_is_a_zombie_and_not_alive() -> None:
    marker = f"zombie-marker-{os.getpid()}"
    says_ready_then_reads_until_eof = "print('ready', flush=True); import sys; sys.stdin.read()"
    child = subprocess.Popen(
        [sys.executable, "-c", says_ready_then_reads_until_eof, marker],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n", f"the child exited: {child.wait()}"
        assert child.pid in pids_running(marker), (process_state(child.pid), child.args)
        assert is_alive(child.pid)
        assert child.stdin is not None
        child.stdin.close()  # the child exits
        deadline = time.monotonic() + 30
        while process_state(child.pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.05)  # not reaped: Popen only reaps in poll()/wait()

        assert process_state(child.pid) == "Z"
        assert not is_alive(child.pid)
        assert child.pid not in pids_running(marker)
    finally:
        if child.stdin is not None and not child.stdin.closed:
            child.stdin.close()
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    assert process_state(child.pid) is None

"""Waiting for dependencies at start-up (tracesync/startup.py): the backoff schedule, the wait's
readiness check, its log lines, its bound and its stop."""

from __future__ import annotations

import logging
import random
import threading

import click
import pytest

from tracesync.commands.observing import command_error, observing
from tracesync.observability.health import Health
from tracesync.settings import load_settings
from tracesync.startup import (
    Backoff,
    Dependency,
    DependencyUnavailableError,
    StartupInterruptedError,
    database,
    mask_url,
    wait_for,
)


def test_the_schedule_doubles_from_the_first_wait_up_to_the_cap() -> None:
    backoff = Backoff(initial_s=0.5, max_s=10.0, factor=2.0, jitter=0.0)
    delays = backoff.delays(random.Random(1))
    assert [next(delays) for _ in range(8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]


def test_jitter_shortens_each_wait_by_at_most_its_fraction() -> None:
    backoff = Backoff(initial_s=1.0, max_s=30.0, jitter=0.25)
    delays = backoff.delays(random.Random(7))
    drawn = [next(delays) for _ in range(12)]
    for attempt, delay in enumerate(drawn):
        assert 0.75 * backoff.base(attempt) <= delay <= backoff.base(attempt)
    assert len(set(drawn[6:])) > 1  # capped waits still differ: restarts do not move in step


def test_a_late_attempt_stays_at_the_cap() -> None:
    assert Backoff(initial_s=0.5, max_s=10.0).base(5000) == 10.0


class Flaky:
    """A dependency that fails ``failures`` times, then answers."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionRefusedError("postgresql://sink:s3cret@db:5432/trace refused")


FAST = Backoff(initial_s=0.001, max_s=0.002)


def test_readiness_names_the_dependency_while_it_waits_and_forgets_it_after() -> None:
    health = Health()
    health.add("own check", lambda: True)
    seen: list[dict[str, bool]] = []
    flaky = Flaky(3)

    def probe() -> None:
        seen.append(health.readiness().checks)
        flaky()

    attempts = wait_for(
        Dependency("trace store", probe), None, threading.Event(), health=health, backoff=FAST
    )
    assert attempts == 3
    assert seen[0] == {"own check": True}  # nothing said before the first failure
    assert seen[1:] == [{"own check": True, "waiting for trace store": False}] * 3
    assert health.readiness().checks == {"own check": True}


def test_each_failed_attempt_is_logged_once_without_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "tracesync.startup")
    wait_for(Dependency("trace store", Flaky(2)), None, threading.Event(), backoff=FAST)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert all("waiting for trace store" in line for line in lines)
    assert "attempt 1 failed" in lines[0] and "attempt 2 failed" in lines[1]
    assert not any("s3cret" in line for line in lines)
    assert "postgresql://sink:***@db:5432/trace" in lines[0]


def test_a_zero_timeout_fails_at_the_first_failed_attempt() -> None:
    flaky = Flaky(1)
    with pytest.raises(DependencyUnavailableError, match="trace store did not answer within 0 s"):
        wait_for(Dependency("trace store", flaky), 0.0, threading.Event(), backoff=FAST)
    assert flaky.calls == 1


def test_the_timeout_bounds_the_wait() -> None:
    now = [0.0]
    stop = threading.Event()

    def probe() -> None:
        now[0] += 1.0  # each attempt "takes" a second
        raise OSError("down")

    with pytest.raises(DependencyUnavailableError, match="within 5 s"):
        wait_for(Dependency("registry", probe), 5.0, stop, backoff=FAST, clock=lambda: now[0])
    assert 4.0 <= now[0] <= 6.0


def test_a_stop_ends_the_wait_and_clears_the_check() -> None:
    stop = threading.Event()
    health = Health()

    def probe() -> None:
        stop.set()  # SIGTERM arrives during the attempt
        raise OSError("down")

    with pytest.raises(StartupInterruptedError, match="waiting for registry"):
        wait_for(Dependency("registry", probe), None, stop, health=health, backoff=Backoff())
    assert health.readiness().checks == {}


def test_an_answering_dependency_costs_one_probe_and_says_nothing() -> None:
    health = Health()
    flaky = Flaky(0)
    assert wait_for(Dependency("broker", flaky), 0.0, threading.Event(), health=health) == 0
    assert flaky.calls == 1 and health.readiness().checks == {}


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("postgresql+psycopg://u:p%40ss@h:5432/d", "postgresql+psycopg://u:***@h:5432/d"),
        ("at http://127.0.0.1:18081/apis/ccompat/v7", "at http://127.0.0.1:18081/apis/ccompat/v7"),
        ("sqlite:////var/store/trace.db", "sqlite:////var/store/trace.db"),
        ("a://x:1@h and b://y:2@k", "a://x:***@h and b://y:***@k"),
    ],
)
def test_urls_are_masked(text: str, masked: str) -> None:
    assert mask_url(text) == masked


def test_a_database_dependency_is_named_without_its_password() -> None:
    named = database("trace store", "postgresql+psycopg://sink:s3cret@db:5432/trace").name
    assert named == "trace store at postgresql+psycopg://sink:***@db:5432/trace"


def test_the_timeout_comes_from_the_environment_and_the_flag_overrides_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    assert load_settings().startup_timeout_s is None  # default: wait forever
    monkeypatch.setenv("TRACESYNC_STARTUP_TIMEOUT_S", "0")
    settings = load_settings()
    assert settings.startup_timeout_s == 0
    flagged, _ = observing(settings, "sink-store", None, None, 30.0)
    assert flagged.startup_timeout_s == 30.0


def test_a_stop_while_waiting_is_a_clean_exit_of_the_command() -> None:

    stopped = command_error(StartupInterruptedError("stopped while waiting for registry"))
    assert isinstance(stopped, click.exceptions.Exit) and stopped.exit_code == 0
    failed = command_error(DependencyUnavailableError("registry did not answer within 1 s"))
    assert isinstance(failed, click.ClickException) and failed.exit_code == 1

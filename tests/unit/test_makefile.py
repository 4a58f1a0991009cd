"""``make help`` lists every target of the Makefile: each one carries a ``## description``."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"
RULE = re.compile(r"^([a-z][a-z0-9-]*):(?!=)")


def targets() -> list[str]:
    return [m.group(1) for line in MAKEFILE.read_text().splitlines() if (m := RULE.match(line))]


def test_every_target_is_documented_and_phony() -> None:
    lines = MAKEFILE.read_text().splitlines()
    undocumented = [line for line in lines if RULE.match(line) and " ## " not in line]
    phony = " ".join(line.removeprefix(".PHONY:") for line in lines if line.startswith(".PHONY"))

    assert targets(), "no target found: is the pattern still right?"
    assert undocumented == []
    assert [t for t in targets() if t not in phony.split()] == []


def test_make_help_lists_every_target() -> None:
    shown = subprocess.run(
        ["make", "--no-print-directory", "-f", str(MAKEFILE), "help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout

    listed = [line.split()[1] for line in shown.splitlines() if line.startswith("make ")]
    assert listed == targets()
    assert {"test-unit", "test-integration", "test-e2e"} <= set(listed)

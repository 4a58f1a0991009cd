"""What loading a module or starting the CLI brings in, seen in ``sys.modules`` of a fresh process.

The ingest edge must not load a stream engine, and the CLI loads its heavy dependencies only
inside the command that needs them: ``tracesync --help`` stays quick.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

ENGINES = ("faust", "mode", "aiokafka", "quixstreams", "rocksdict")
HEAVY_FOR_THE_CLI = (
    "fastapi",
    "uvicorn",
    "faust",
    "quixstreams",
    "sqlalchemy",
    "alembic",
    "confluent_kafka",
    "tracesync.devtools",
)

_LOADED = """
import json, sys
{body}
print(json.dumps(sorted(sys.modules)))
"""


def loaded_modules(body: str) -> set[str]:
    """The modules in ``sys.modules`` after running ``body`` in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", _LOADED.format(body=body)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def among(loaded: set[str], packages: tuple[str, ...]) -> list[str]:
    """The ``packages`` of which ``loaded`` holds the package or one of its modules."""
    return sorted(
        package
        for package in packages
        if any(name == package or name.startswith(f"{package}.") for name in loaded)
    )


def test_the_check_sees_what_a_module_loads() -> None:
    assert among(loaded_modules("import sqlalchemy"), HEAVY_FOR_THE_CLI) == ["sqlalchemy"]


@pytest.mark.parametrize("module", ["producers.rest", "producers.bootstrap"])
def test_the_ingest_edge_loads_no_stream_engine(module: str) -> None:
    loaded = loaded_modules(f"import {module}")

    assert among(loaded, ENGINES) == []
    assert among(loaded, ("streams", "tracesync.devtools")) == []


def test_the_sinks_load_no_stream_engine_and_no_web_framework() -> None:
    loaded = loaded_modules("import sinks.bootstrap")

    assert among(loaded, (*ENGINES, "fastapi", "uvicorn", "tracesync.devtools")) == []


def test_cli_help_loads_nothing_heavy() -> None:
    body = (
        "from tracesync.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as done:\n    assert done.code == 0\n"
    )

    assert among(loaded_modules(body), HEAVY_FOR_THE_CLI) == []


@pytest.mark.parametrize("command", ["trace", "recall", "ingest", "sink", "worker", "kafka"])
def test_a_command_help_loads_nothing_heavy(command: str) -> None:
    body = (
        "from tracesync.cli import main\n"
        f"try:\n    main([{command!r}, '--help'])\nexcept SystemExit as done:\n"
        "    assert done.code == 0\n"
    )

    assert among(loaded_modules(body), HEAVY_FOR_THE_CLI) == []

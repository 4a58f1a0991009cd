"""How the local registry is configured and launched (no process is started here)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tracesync.cli import main
from tracesync.contracts.registry_client import Compatibility, _compatibility_of
from tracesync.devtools.infra import registry as infra
from tracesync.settings import RegistrySettings, Settings


def _settings() -> Settings:
    return Settings(
        home=Path("/srv/ts"), registry=RegistrySettings(host="127.0.0.1", port=28999, heap="300m")
    )


def _properties(command: list[str]) -> dict[str, str]:
    pairs = (arg[2:].split("=", 1) for arg in command if arg.startswith("-D"))
    return dict(pairs)


def test_layout_lives_under_home():
    layout = infra.RegistryLayout.of(_settings())

    assert layout.root == Path("/srv/ts/registry")
    assert layout.pid_file.parent == layout.log_file.parent == layout.root
    assert layout.jdbc_url.startswith("jdbc:h2:file:/srv/ts/registry/data/registry;")


def test_java_command_binds_loopback_port_heap_and_file_database():
    settings = _settings()
    layout = infra.RegistryLayout.of(settings)
    command = infra.java_command(settings, Path("/cache/registry"), layout)
    properties = _properties(command)

    assert "-Xmx300m" in command
    assert f"-XX:ArchiveClassesAtExit={layout.class_archive}" in command  # no archive there yet
    assert command[-2:] == ["-jar", f"/cache/registry/{infra.RUNNER_JAR}"]
    assert properties["quarkus.http.host"] == "127.0.0.1"
    assert properties["quarkus.http.port"] == "28999"
    assert properties["apicurio.storage.kind"] == "sql"
    assert properties["apicurio.storage.sql.kind"] == "h2"
    assert properties["apicurio.datasource.url"] == layout.jdbc_url


def test_dist_dir_is_versioned_under_the_cache():
    assert infra.dist_dir(Path("/c")) == Path(f"/c/registry-{infra.APICURIO_VERSION}")


def test_registry_url_is_the_ccompat_api():
    assert _settings().registry.url == "http://127.0.0.1:28999/apis/ccompat/v7"


def test_compatibility_answers_in_both_shapes_are_read():
    assert Compatibility(_compatibility_of({"compatibility": "BACKWARD"})) is Compatibility.BACKWARD
    assert Compatibility(_compatibility_of({"compatibilityLevel": "FULL"})) is Compatibility.FULL
    assert Compatibility(_compatibility_of("NONE")) is Compatibility.NONE


def test_cli_has_the_registry_commands():
    result = CliRunner().invoke(main, ["registry", "--help"])

    assert result.exit_code == 0
    for command in ("fetch", "up", "down", "status"):
        assert command in result.output

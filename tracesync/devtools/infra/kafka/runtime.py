"""The jars of one Kafka version, fetched from Maven Central, and how to run a Java class.

``mvn dependency:copy-dependencies`` with ``deploy/kafka/pom.xml`` copies them into
``<home>/cache/kafka-<version>/libs``; a marker file remembers which pom and version they came
from, so a changed pom gets them fetched again.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tracesync.errors import ConfigurationError, InfrastructureError

REPO_ROOT = Path(__file__).resolve().parents[4]
DEPLOY_DIR = REPO_ROOT / "deploy" / "kafka"
"""The pom and log4j2 configs of the local Kafka runtime."""

TOOLS_HEAP = "256m"
_FETCH_MARKER = ".fetched"


@dataclass(frozen=True)
class KafkaRuntime:
    """The jars of one Kafka version in a cache folder, fetched with Maven from Maven Central."""

    version: str
    cache_dir: Path
    deploy_dir: Path = DEPLOY_DIR

    @property
    def libs_dir(self) -> Path:
        return self.cache_dir / "libs"

    @property
    def pom(self) -> Path:
        return self.deploy_dir / "pom.xml"

    @property
    def broker_log_config(self) -> Path:
        return self.deploy_dir / "log4j2.properties"

    @property
    def tools_log_config(self) -> Path:
        return self.deploy_dir / "tools-log4j2.properties"

    def _fingerprint(self) -> str:
        """Changes when the pom or the version changes, so a stale cache gets refetched."""
        digest = hashlib.sha256(self.pom.read_bytes())
        digest.update(self.version.encode())
        return digest.hexdigest()

    def is_fetched(self) -> bool:
        marker = self.libs_dir / _FETCH_MARKER
        return marker.exists() and marker.read_text().strip() == self._fingerprint()

    def fetch(self) -> bool:
        """Copy the runtime jars into :attr:`libs_dir`; False when they were already there."""
        if not self.pom.exists():
            raise ConfigurationError(f"Kafka pom not found: {self.pom}")
        if self.is_fetched():
            return False
        self.libs_dir.mkdir(parents=True, exist_ok=True)
        for old_jar in self.libs_dir.glob("*.jar"):
            old_jar.unlink()
        command = [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(self.pom),
            f"-Dkafka.version={self.version}",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={self.libs_dir.resolve()}",
        ]
        try:
            # a fixed argument list (no shell); mvn is looked up on PATH like any build tool
            # a fixed argument list, no shell; mvn is looked up on PATH like any build tool
            result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        except FileNotFoundError as exc:
            raise InfrastructureError("mvn (Apache Maven) is not installed") from exc
        if result.returncode != 0:
            output = (result.stdout + result.stderr)[-4000:]
            raise InfrastructureError(f"fetching Kafka {self.version} jars failed:\n{output}")
        (self.libs_dir / _FETCH_MARKER).write_text(self._fingerprint() + "\n")
        return True

    def classpath(self) -> str:
        if not self.is_fetched():
            raise ConfigurationError(
                f"Kafka {self.version} jars are missing in {self.libs_dir}; "
                "run `tracesync kafka fetch`"
            )
        return str(self.libs_dir.resolve() / "*")

    def java_command(
        self,
        main_class: str,
        args: Sequence[str],
        *,
        heap: str = TOOLS_HEAP,
        log_config: Path | None = None,
        jvm_options: Sequence[str] = (),
    ) -> list[str]:
        """``java`` with this runtime's classpath, a bounded heap and a log4j2 config."""
        config = log_config or self.tools_log_config
        return [
            "java",
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={config.resolve()}",
            *jvm_options,
            "-cp",
            self.classpath(),
            main_class,
            *args,
        ]

    def run_tool(
        self,
        main_class: str,
        args: Sequence[str],
        timeout_s: float = 300.0,
        shown_args: Sequence[str] | None = None,
    ) -> str:
        """Run a Kafka command-line class to completion; returns stdout, raises on failure.

        ``shown_args``: what an error message repeats instead of ``args`` (which may hold
        passwords).
        """
        command = self.java_command(main_class, args)
        try:
            result = subprocess.run(  # noqa: S603 - our java command line, no shell
                command, capture_output=True, text=True, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise InfrastructureError(f"{main_class} did not finish in {timeout_s}s") from exc
        if result.returncode != 0:
            raise InfrastructureError(
                f"{main_class} {' '.join(args if shown_args is None else shown_args)} "
                f"exited with {result.returncode}:\n"
                f"{(result.stdout + result.stderr)[-4000:]}"
            )
        return result.stdout

    def random_cluster_id(self) -> str:
        return self.run_tool("kafka.tools.StorageTool", ["random-uuid"]).strip()

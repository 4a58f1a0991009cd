"""TLS and SASL/SCRAM material of the local broker: a CA, the broker's certificate, the users.

Everything is made on this machine with ``openssl`` (no network): a CA key and certificate, a
broker key and a certificate signed by that CA for the broker's host (as DNS name and IP address),
and one random password per principal. The folder (``<home>/kafka/security`` by default) is
readable by its owner only; the CA key never leaves it. The broker reads its key and certificate
as a PEM keystore and the CA as a PEM truststore; clients get the CA as ``ssl_ca_location``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tracesync.errors import InfrastructureError

PRINCIPALS = ("admin", "ingest", "worker", "store-sink", "targets-sink", "serve")
"""One SCRAM user per component; ``admin`` is the broker's own (inter-broker) and the super user."""

MECHANISM = "SCRAM-SHA-512"
CERT_DAYS = 825


@dataclass(frozen=True)
class SecurityFiles:
    """Where one broker's CA, certificate and user passwords live."""

    root: Path

    @property
    def ca_key(self) -> Path:
        return self.root / "ca.key"

    @property
    def ca_cert(self) -> Path:
        """The CA certificate: what clients trust (``kafka.ssl_ca_location``)."""
        return self.root / "ca.pem"

    @property
    def broker_key(self) -> Path:
        return self.root / "broker.key"

    @property
    def broker_cert(self) -> Path:
        return self.root / "broker.crt"

    @property
    def keystore(self) -> Path:
        """The broker's PEM keystore: its private key, then its certificate and the CA."""
        return self.root / "broker-keystore.pem"

    @property
    def users(self) -> Path:
        """JSON ``{principal: password}``, mode 0600."""
        return self.root / "users.json"


@dataclass(frozen=True)
class BrokerSecurity:
    """What a node needs to run SASL_SSL listeners: its keystore, the CA, the users."""

    keystore: Path
    truststore: Path
    passwords: dict[str, str] = field(repr=False)

    @property
    def admin_password(self) -> str:
        return self.passwords["admin"]


def ensure_material(files: SecurityFiles, host: str) -> BrokerSecurity:
    """Create what is missing (CA, broker certificate for ``host``, passwords); keep the rest."""
    files.root.mkdir(parents=True, exist_ok=True)
    files.root.chmod(0o700)
    if not files.ca_cert.exists():
        _make_ca(files)
    if not files.keystore.exists():
        _make_broker_cert(files, host)
    return BrokerSecurity(files.keystore, files.ca_cert, ensure_users(files))


def ensure_users(files: SecurityFiles) -> dict[str, str]:
    """The password of every principal; new principals get a random one, written 0600."""
    known: dict[str, str] = {}
    if files.users.exists():
        known = json.loads(files.users.read_text(encoding="utf-8"))
    missing = [name for name in PRINCIPALS if name not in known]
    if missing:
        known |= {name: secrets.token_urlsafe(24) for name in missing}
        descriptor = os.open(files.users, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(known, out, indent=2, sort_keys=True)
    return known


def scram_format_args(passwords: dict[str, str]) -> list[str]:
    """``kafka-storage format`` arguments that create every user's SCRAM credential."""
    args: list[str] = []
    for name, password in sorted(passwords.items()):
        args += ["--add-scram", f"{MECHANISM}=[name={name},password={password}]"]
    return args


def _make_ca(files: SecurityFiles) -> None:
    _openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], files.ca_key)
    _openssl(
        [
            "req",
            "-x509",
            "-new",
            "-key",
            str(files.ca_key),
            "-sha256",
            "-days",
            str(CERT_DAYS),
            "-subj",
            "/CN=tracesync local CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
        files.ca_cert,
    )


def _make_broker_cert(files: SecurityFiles, host: str) -> None:
    # PKCS#8 without a passphrase: Kafka's PEM keystore reads it as is; the folder is 0700
    _openssl(
        ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], files.broker_key
    )
    request = files.root / "broker.csr"
    _openssl(["req", "-new", "-key", str(files.broker_key), "-subj", f"/CN={host}"], request)
    extensions = files.root / "broker.ext"
    extensions.write_text(
        f"subjectAltName={_subject_alt_names(host)}\n"
        "extendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\n",
        encoding="utf-8",
    )
    _openssl(
        [
            "x509",
            "-req",
            "-in",
            str(request),
            "-CA",
            str(files.ca_cert),
            "-CAkey",
            str(files.ca_key),
            "-CAcreateserial",
            "-sha256",
            "-days",
            str(CERT_DAYS),
            "-extfile",
            str(extensions),
        ],
        files.broker_cert,
    )
    request.unlink()
    extensions.unlink()
    parts = (files.broker_key, files.broker_cert, files.ca_cert)
    files.keystore.write_text("".join(p.read_text(encoding="utf-8") for p in parts))
    files.keystore.chmod(0o600)


def _subject_alt_names(host: str) -> str:
    names = {"DNS:localhost", "IP:127.0.0.1"}
    try:
        ipaddress.ip_address(host)
    except ValueError:
        names.add(f"DNS:{host}")
    else:
        names.add(f"IP:{host}")
    return ",".join(sorted(names))


def _openssl(args: list[str], out: Path) -> None:
    command = ["openssl", *args, "-out", str(out)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError as exc:
        raise InfrastructureError("openssl is not installed (deploy/system/setup.sh)") from exc
    if result.returncode != 0:
        raise InfrastructureError(f"openssl {args[0]} failed: {result.stderr[-2000:]}")
    out.chmod(0o600 if out.suffix == ".key" else 0o644)

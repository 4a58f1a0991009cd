"""Logs as JSON lines (``--log-format json``) or the usual text, for the long-running commands.

:class:`JsonFormatter` writes one object per line: ``time`` (ISO 8601 with the UTC offset),
``level``, ``logger``, ``message``, the exception if any, and what the log call passed with
``extra=`` (``batch_code``, ``origin``, ``stage``, ...). Extra fields whose name suggests a
secret (key, password, secret, token, credential) are written as ``"***"``; settings values
(``SecretStr``) print masked by themselves.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Literal

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_SECRET_WORDS = ("key", "password", "secret", "token", "credential", "authorization")


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).astimezone()
        document: dict[str, object] = {
            "time": when.isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                document[name] = _safe(name, value)
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            document["stack"] = self.formatStack(record.stack_info)
        return json.dumps(document, default=str, ensure_ascii=False)


def _safe(name: str, value: object) -> object:
    if any(word in name.lower() for word in _SECRET_WORDS):
        return "***"
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def formatter(log_format: LogFormat) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure_logging(log_format: LogFormat, level: int | None = None) -> None:
    """Give every handler of the root logger the format (adding one on stderr if none)."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        handler.setFormatter(formatter(log_format))
    if level is not None:
        root.setLevel(level)

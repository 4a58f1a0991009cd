"""Moved to :mod:`tracesync.supervise`; kept so tests written against the old path still import."""

from tracesync.supervise import Component, settings_env, wait_for

__all__ = ["Component", "settings_env", "wait_for"]

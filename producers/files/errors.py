"""The error of a dropped file that cannot be read as its mapping says."""

from __future__ import annotations

from tracesync.errors import TracesyncError


class UnreadableFileError(TracesyncError):
    """The file cannot be read as its mapping says (encoding, XML syntax, missing columns)."""

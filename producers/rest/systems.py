"""The source systems that may push events, as they appear in the path (lower case)."""

from __future__ import annotations

from enum import StrEnum


class SourceSystem(StrEnum):
    """Source systems that may push events (lower case in the path)."""

    mes = "mes"
    erp = "erp"
    wms = "wms"
    qms = "qms"

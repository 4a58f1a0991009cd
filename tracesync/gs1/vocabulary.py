"""The EPCIS 2.0 vocabulary tracesync uses: its JSON-LD context, the extension namespace, and how
source-system units, verdicts, dispositions and measurements map onto GS1 codes."""

from __future__ import annotations

from typing import Any

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
NAMESPACE = "https://ns.tracesync.dev/epcis/"
PREFIX = "tracesync"
CONTEXT: list[Any] = [EPCIS_CONTEXT, {PREFIX: NAMESPACE}]
UTC_OFFSET = "+00:00"

# UN/CEFACT Recommendation 20 codes (EPCIS uom) for the units source systems use
UNIT_CODES = {"KG": "KGM", "G": "GRM", "T": "TNE", "L": "LTR", "ML": "MLT", "M": "MTR"}
UNIT_CODES |= {"PC": "H87", "PCS": "H87", "EA": "EA", "LB": "LBR", "UNIT": "H87"}
VERDICT_DISPOSITION = {"PASS": "conformant", "FAIL": "non_conformant"}
VERDICT_DISPOSITION["CONDITIONAL"] = "conformant"
RELEASE_DISPOSITION = {"RELEASE": "sellable_accessible", "REWORK": "non_sellable_other"}
RELEASE_DISPOSITION["SCRAP"] = "disposed"
MEASUREMENT_TYPES = {
    "temperature": "Temperature",
    "pressure": "Pressure",
    "speed": "Speed",
    "humidity": "RelativeHumidity",
    "ambient_humidity": "RelativeHumidity",
    "fill_weight": "Mass",
    "weight": "Mass",
    "mass": "Mass",
    "line_speed": "Speed",
}

"""Static master data of the simulated plant: materials, products, lines, equipment, people.

Nothing here is random; the generator draws from these lists with its seeded ``random.Random``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ParameterSpec:
    """A process parameter an equipment type records, with its limits (``None``: no limit)."""

    name: str
    unit: str
    lower: float | None
    upper: float | None
    nominal: float


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    uom: str


SHIFTS = ("A", "B", "C")
LINE_IDS = ("L1", "L2", "L3", "L4")
EQUIPMENT_TYPES: dict[str, tuple[ParameterSpec, ...]] = {
    "MIX": (
        ParameterSpec("speed", "rpm", 120.0, 180.0, 150.0),
        ParameterSpec("temperature", "degC", 20.0, 35.0, 27.5),
    ),
    "RCT": (
        ParameterSpec("temperature", "degC", 60.0, 80.0, 70.0),
        ParameterSpec("pressure", "bar", 1.0, 2.5, 1.75),
        ParameterSpec("ambient_humidity", "%", None, 65.0, 45.0),
    ),
    "PCK": (
        ParameterSpec("fill_weight", "g", 495.0, 505.0, 500.0),
        ParameterSpec("line_speed", "units/min", None, None, 90.0),
    ),
}

SUPPLIERS = tuple(
    (f"SUP-{i:03d}", name)
    for i, name in enumerate(
        (
            "Acme Chemicals",
            "Borealis Raw",
            "Cathay Materials",
            "Delta Ingredients",
            "Evergreen Supply",
        ),
        start=1,
    )
)
RAW_MATERIALS = tuple(
    Product(f"RM-{i:03d}", name, "kg")
    for i, name in enumerate(
        (
            "Citric acid",
            "Sodium chloride",
            "Glucose syrup",
            "Purified water",
            "Starch",
            "Cellulose",
            "Magnesium stearate",
            "Colorant E171",
            "Flavor base",
            "Glycerol",
        ),
        start=1,
    )
)
INTERMEDIATES = tuple(
    Product(f"INT-{i:03d}", name, "kg")
    for i, name in enumerate(
        ("Base premix", "Granulate", "Coating solution", "Syrup base", "Blend"), start=101
    )
)
FINISHED = tuple(
    Product(f"FG-{i:03d}", name, "EA")
    for i, name in enumerate(
        (
            "Tablets 500mg x20",
            "Tablets 250mg x50",
            "Syrup 200ml",
            "Sachets x10",
            "Capsules x30",
            "Effervescent x12",
        ),
        start=201,
    )
)
CUSTOMERS = tuple(f"CUST-{i:04d}" for i in range(1, 25))
INSPECTION_CHARACTERISTICS = (
    ("assay", "%", 95.0, 105.0),
    ("moisture", "%", 0.5, 3.0),
    ("ph", "pH", 5.5, 7.5),
    ("viscosity", "mPa.s", 80.0, 120.0),
)
DEFECTS = ("broken seal", "discoloration", "foreign particle", "wrong label", "underfilled")
SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
INSPECTORS = tuple(f"QA-{i:02d}" for i in range(1, 7))
RAW_LOCATIONS = tuple(f"RM-A{i:02d}" for i in range(1, 9))
WIP_LOCATIONS = tuple(f"WIP-{i:02d}" for i in range(1, 5))
FG_LOCATIONS = tuple(f"FG-{i:02d}" for i in range(1, 9))


def equipment_of(line_id: str) -> tuple[str, ...]:
    """Equipment ids on a line, one per equipment type (``EQ-L1-MIX`` ...)."""
    return tuple(f"EQ-{line_id}-{kind}" for kind in EQUIPMENT_TYPES)


def parameters_of(equipment_id: str) -> tuple[ParameterSpec, ...]:
    return EQUIPMENT_TYPES[equipment_id.rsplit("-", 1)[1]]


def team_of(line_id: str, shift: str) -> str:
    return f"TEAM-{line_id}-{shift}"


def operators_of(team: str) -> tuple[str, ...]:
    """Four operators per team (``OP-L1A-1`` ...)."""
    _, line_id, shift = team.split("-")
    return tuple(f"OP-{line_id}{shift}-{i}" for i in range(1, 5))


def shift_at(hour: int) -> str:
    """Shift A 06-14, B 14-22, C 22-06."""
    if 6 <= hour < 14:
        return "A"
    if 14 <= hour < 22:
        return "B"
    return "C"

"""Shared colours and labels for the site pictures (3D scene and 2D map), so a building use,
way kind or device kind looks the same in every figure of a report. Colours are hex strings
that both matplotlib and pyvista accept."""

from __future__ import annotations

import math

from geometry.site import Building, BuildingUse, DeviceKind, Site

USE_COLORS: dict[BuildingUse, str] = {
    BuildingUse.WALKUP: "#e9c89b",
    BuildingUse.HIGHRISE: "#9db4cc",
    BuildingUse.KINDERGARTEN: "#f2a7c3",
    BuildingUse.COMMUNITY_CENTRE: "#b49ad6",
    BuildingUse.GARAGE: "#7d8c99",
    BuildingUse.OTHER: "#cfc6bd",
}
USE_LABELS: dict[BuildingUse, str] = {
    BuildingUse.WALKUP: "walk-up residential",
    BuildingUse.HIGHRISE: "high-rise residential",
    BuildingUse.KINDERGARTEN: "kindergarten",
    BuildingUse.COMMUNITY_CENTRE: "community centre",
    BuildingUse.GARAGE: "garage",
    BuildingUse.OTHER: "other building",
}
UNDERGROUND_LABEL = "underground garage"

WAY_COLORS: dict[str, str] = {
    "road": "#5b5f66",
    "fire_lane": "#a4543f",
    "ramp": "#6f5b8c",
    "walkway": "#e2d8c4",
}
WAY_LABELS: dict[str, str] = {
    "road": "road",
    "fire_lane": "fire lane",
    "ramp": "garage ramp",
    "walkway": "footpath",
}
WAY_ORDER = ("walkway", "road", "fire_lane", "ramp")

OPEN_COLORS: dict[str, str] = {
    "square": "#efe6d2",
    "green": "#b9d89a",
    "playground": "#d9e7a6",
    "parking": "#c9c9c9",
    "charging": "#b7d3e0",
    "other": "#e2e2d5",
}
ASSEMBLY_COLOR = "#2e9d3f"
ASSEMBLY_EDGE = "#1b5e20"
GATE_COLOR = "#e07000"
BOUNDARY_COLOR = "#3b3b3b"
GRID_COLOR = "#3949ab"
CAMERA_COLOR = "#1c2a4a"
CONE_COLOR = "#ffc933"

DEVICE_COLORS: dict[DeviceKind, str] = {
    DeviceKind.CAMERA: CAMERA_COLOR,
    DeviceKind.SMOKE_DETECTOR: "#e53935",
    DeviceKind.HEAT_DETECTOR: "#fb8c00",
    DeviceKind.DOOR_SENSOR: "#8e24aa",
    DeviceKind.WATER_LEVEL: "#1e88e5",
    DeviceKind.MANHOLE: "#6d4c41",
    DeviceKind.EMERGENCY_BUTTON: "#d81b60",
    DeviceKind.WRISTBAND: "#00897b",
}
DEVICE_LABELS: dict[DeviceKind, str] = {
    DeviceKind.CAMERA: "camera",
    DeviceKind.SMOKE_DETECTOR: "smoke detector",
    DeviceKind.HEAT_DETECTOR: "heat detector",
    DeviceKind.DOOR_SENSOR: "door sensor",
    DeviceKind.WATER_LEVEL: "water-level sensor",
    DeviceKind.MANHOLE: "manhole sensor",
    DeviceKind.EMERGENCY_BUTTON: "emergency button",
    DeviceKind.WRISTBAND: "wristband",
}
DEVICE_ABBREV: dict[DeviceKind, str] = {
    DeviceKind.CAMERA: "cam",
    DeviceKind.SMOKE_DETECTOR: "SD",
    DeviceKind.HEAT_DETECTOR: "HD",
    DeviceKind.DOOR_SENSOR: "door",
    DeviceKind.WATER_LEVEL: "WL",
    DeviceKind.MANHOLE: "MH",
    DeviceKind.EMERGENCY_BUTTON: "btn",
    DeviceKind.WRISTBAND: "WB",
}


def building_color(b: Building) -> str:
    return USE_COLORS.get(b.use, USE_COLORS[BuildingUse.OTHER])


def is_underground(b: Building) -> bool:
    """A building with no storeys above ground (a fully underground garage)."""
    return b.storeys == 0


def building_tag(b: Building) -> str:
    """Short label: ``B03 · 18F`` or ``B04 · B1`` for an underground building."""
    if is_underground(b):
        return f"{b.id} · B{b.basement_levels}"
    return f"{b.id} · {b.storeys}F"


def nice_length(span_m: float) -> float:
    """A round scale-bar length (1, 2, 2.5 or 5 x 10^k m) near a fifth of ``span_m``."""
    target = max(span_m / 5.0, 1e-6)
    k = math.floor(math.log10(target))
    best = 10.0**k
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * 10.0**k <= target:
            best = m * 10.0**k
    return best


def aggregate_household_devices(site: Site) -> dict[str, dict[DeviceKind, int]]:
    """Counts of per-household devices (those with a ``unit``) per building and kind."""
    out: dict[str, dict[DeviceKind, int]] = {}
    for d in site.devices:
        if d.unit is not None and d.building is not None:
            per = out.setdefault(d.building, {})
            per[d.kind] = per.get(d.kind, 0) + 1
    return out


_CHARMAP: set[int] | None = None


def plain_text(text: str) -> str:
    """``text`` without the characters that none of the available fonts (DejaVu Sans plus the
    CJK fallbacks of :mod:`viz._mpl` when installed) can draw, e.g. Chinese names on a machine
    without CJK fonts; empty brackets left behind go too."""
    global _CHARMAP
    if _CHARMAP is None:
        try:
            from matplotlib import font_manager
            from matplotlib.ft2font import FT2Font

            from viz._mpl import _families

            cm: set[int] = set()
            for fam in _families():
                path = font_manager.findfont(font_manager.FontProperties(family=fam), fallback_to_default=False)
                cm |= set(FT2Font(path).get_charmap())
            _CHARMAP = cm
        except Exception:  # pragma: no cover - matplotlib always ships DejaVu Sans
            _CHARMAP = set(range(0x250))
    kept = "".join(ch for ch in text if ord(ch) < 0x80 or ord(ch) in _CHARMAP)
    for empty in ("()", "( )", "[]", "（）"):
        kept = kept.replace(empty, "")
    return " ".join(kept.split())

"""The scenario file schema (YAML), as pydantic models.

A scenario says *where* (the built-in sample community, a site file, or free-form geometry for
validation cases), *who* (population), *what happens* (alarm, hazards, injects), *what we try*
(interventions), *how long* (duration and time step), *with which randomness* (seed,
replications) and *what to keep* (outputs). Every model forbids unknown keys, so a misspelled
key is an error, not a silently ignored setting. Units are SI; names carry the unit otherwise.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "AlarmSpec",
    "DoorSpec",
    "EvacuationSpec",
    "FreeGeometry",
    "HazardSpec",
    "InjectSpec",
    "InterventionSpec",
    "LevelSpec",
    "OutputSpec",
    "PopulationSpec",
    "PremovementSpec",
    "Scenario",
    "SiteRef",
    "StairSpec",
]

Point2 = tuple[float, float]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=True, allow_inf_nan=False)


class SiteRef(_Strict):
    """Which site: ``sample`` (the built-in community, optionally with its seed) or a file
    (``.gpkg``, ``.geojson``, ``.osm``, ``.city.json``), relative to the scenario file."""

    sample: bool = False
    sample_seed: int = 0
    file: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "SiteRef":
        if self.sample == (self.file is not None):
            raise ValueError("give exactly one of 'sample: true' or 'file: PATH'")
        return self


# --------------------------------------------------------------- free-form geometry
class DoorSpec(_Strict):
    """An opening in a wall (a segment from ``a`` to ``b``). ``exit: true`` marks a way out."""

    id: str
    a: Point2
    b: Point2
    exit: bool = False

    @property
    def width_m(self) -> float:
        return float(((self.a[0] - self.b[0]) ** 2 + (self.a[1] - self.b[1]) ** 2) ** 0.5)

    @field_validator("b")
    @classmethod
    def _not_degenerate(cls, b: Point2, info):  # type: ignore[no-untyped-def]
        a = info.data.get("a")
        if a is not None and a == b:
            raise ValueError("door end points 'a' and 'b' coincide (expected a segment of positive width)")
        return b


class LevelSpec(_Strict):
    """One level of free-form geometry: walkable polygons, wall polylines (obstacles),
    doors/exits and obstacle polygons."""

    level: int = 0
    walkable: list[list[Point2]] = Field(min_length=1)
    obstacles: list[list[Point2]] = Field(default_factory=list)
    walls: list[list[Point2]] = Field(default_factory=list)
    doors: list[DoorSpec] = Field(default_factory=list)

    @field_validator("walkable", "obstacles")
    @classmethod
    def _rings(cls, rings: list[list[Point2]]) -> list[list[Point2]]:
        for k, ring in enumerate(rings):
            if len(ring) < 3:
                raise ValueError(f"polygon {k} has {len(ring)} points (expected at least 3)")
        return rings

    @field_validator("walls")
    @classmethod
    def _lines(cls, lines: list[list[Point2]]) -> list[list[Point2]]:
        for k, line in enumerate(lines):
            if len(line) < 2:
                raise ValueError(f"wall {k} has {len(line)} point(s) (expected a polyline of at least 2)")
        return lines


class StairSpec(_Strict):
    """A stair between two levels of free-form geometry: it starts at ``from_at`` on
    ``from_level`` and ends at ``to_at`` on ``to_level``. ``length_m`` is along the slope."""

    id: str
    from_level: int
    to_level: int
    from_at: Point2
    to_at: Point2
    width_m: float = Field(gt=0)
    length_m: float = Field(gt=0)
    rise_m: float = Field(gt=0)


class FreeGeometry(_Strict):
    """Geometry that is not a Site, for validation cases (RiMEA, NIST TN 1822)."""

    levels: list[LevelSpec] = Field(min_length=1)
    stairs: list[StairSpec] = Field(default_factory=list)
    cell_size_m: float = Field(default=0.25, ge=0.1, le=1.0)

    @model_validator(mode="after")
    def _refs(self) -> "FreeGeometry":
        known = {lv.level for lv in self.levels}
        if len(known) != len(self.levels):
            raise ValueError("two levels share one 'level' number")
        for s in self.stairs:
            for end in (s.from_level, s.to_level):
                if end not in known:
                    raise ValueError(f"stair {s.id} refers to level {end}, which is not defined")
        if not any(d.exit for lv in self.levels for d in lv.doors):
            raise ValueError("free-form geometry needs at least one door with 'exit: true'")
        return self


# --------------------------------------------------------------- people and events
class PremovementSpec(_Strict):
    """Pre-movement time per household: lognormal with the given median and log-space sigma,
    shifted by ``min_s``. Defaults follow PD 7974-6:2019 Table C.1 categories for dwellings
    (awake vs asleep); see ``agents.population``."""

    median_s: float | None = Field(default=None, gt=0)
    sigma: float = Field(default=0.6, gt=0, le=3)
    min_s: float = Field(default=30.0, ge=0)

    @model_validator(mode="after")
    def _median_above_min(self) -> "PremovementSpec":
        if self.median_s is not None and self.median_s <= self.min_s:
            raise ValueError(
                f"'median_s' ({self.median_s:g} s) must exceed 'min_s' ({self.min_s:g} s): "
                "the lognormal part is shifted by min_s"
            )
        return self


class PopulationSpec(_Strict):
    """Who is in the buildings. ``time_of_day`` (HH:MM) sets the at-home fraction unless
    ``at_home_fraction`` overrides it."""

    residents_per_household: float = Field(default=2.83, gt=0, le=10)
    time_of_day: str = "15:00"
    at_home_fraction: float | None = Field(default=None, ge=0, le=1)
    buildings: list[str] | Literal["all"] = "all"
    premovement: PremovementSpec = Field(default_factory=PremovementSpec)

    @field_validator("time_of_day")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        try:
            hh, mm = v.split(":")
            h, m = int(hh), int(mm)
        except ValueError:
            raise ValueError(f"expected HH:MM, got {v!r}") from None
        if not (0 <= h < 24 and 0 <= m < 60):
            raise ValueError(f"expected HH:MM with 00 <= HH < 24 and 00 <= MM < 60, got {v!r}")
        return f"{h:02d}:{m:02d}"

    @property
    def hour(self) -> float:
        hh, mm = self.time_of_day.split(":")
        return int(hh) + int(mm) / 60.0


class AlarmSpec(_Strict):
    """When and where the alarm sounds. ``scope`` building: only the listed buildings;
    estate: every building."""

    at_s: float = Field(default=0.0, ge=0)
    scope: Literal["building", "estate"] = "estate"
    buildings: list[str] = Field(default_factory=list)
    severity: Literal["red", "orange", "yellow", "blue"] = "red"
    reason: str = "evacuation drill"

    @model_validator(mode="after")
    def _need_buildings(self) -> "AlarmSpec":
        if self.scope == "building" and not self.buildings:
            raise ValueError("scope 'building' needs a list of 'buildings'")
        if self.scope == "estate" and self.buildings:
            raise ValueError("scope 'estate' alarms every building; 'buildings' is only for scope 'building'")
        return self


class InjectSpec(_Strict):
    """A timed event: block or reopen a stair, exit, gate or way; raise or clear an alarm."""

    at_s: float = Field(ge=0)
    action: Literal["block", "reopen", "alarm", "clear_alarm"]
    target: str
    detail: str = ""


class HazardSpec(_Strict):
    """A hazard. Fire and flood models arrive with their own issues; the schema already
    carries where and when, so scenarios can be written against it."""

    type: Literal["fire", "flood"]
    at_s: float = Field(default=0.0, ge=0)
    building: str | None = None
    level: int | None = None
    unit: str | None = None
    params: dict[str, float | str] = Field(default_factory=dict)


#: Keys of an extra camera (``interventions.cameras``); the builder reads exactly these.
_CAMERA_REQUIRED: tuple[str, ...] = ("id", "x", "y")
_CAMERA_KEYS: tuple[str, ...] = (*_CAMERA_REQUIRED, "mount_height_m", "yaw_deg", "fov_deg", "range_m")


class InterventionSpec(_Strict):
    """What a plan adds: extra cameras (``id, x, y`` and optional optics as in the site format);
    ``camera_plans``: GeoJSON files written by ``shoumen optimize cameras`` whose cameras are
    added to the site; ``plans``: evacuation-plan GeoJSON files written by ``shoumen optimize
    plan`` (building or stair -> exit and assembly point), applied to the crowd evacuation.
    Paths are relative to the scenario file. Patrols are part of the schema for the optimizer's
    issue; this version refuses them rather than ignore them."""

    cameras: list[dict[str, float | str]] = Field(default_factory=list)
    camera_plans: list[str] = Field(default_factory=list)
    patrols: list[dict[str, float | str | list[str]]] = Field(default_factory=list)
    plans: list[str] = Field(default_factory=list)

    @field_validator("cameras")
    @classmethod
    def _camera_keys(cls, cameras: list[dict[str, float | str]]) -> list[dict[str, float | str]]:
        for k, cam in enumerate(cameras):
            missing = [key for key in _CAMERA_REQUIRED if key not in cam]
            unknown = sorted(key for key in cam if key not in _CAMERA_KEYS)
            if missing or unknown:
                what = [f"missing key(s) {', '.join(missing)}"] if missing else []
                what += [f"unknown key(s) {', '.join(unknown)}"] if unknown else []
                raise ValueError(f"camera {k}: {'; '.join(what)} (allowed: {', '.join(_CAMERA_KEYS)})")
        return cameras


class EvacuationSpec(_Strict):
    """The evacuation model. ``flow``: the SFPE hydraulic network-flow model (fast, coarse;
    agents.flow_evacuation). ``crowd``: the microscopic crowd model, every resident walking
    through the storeys, stairs and estate (agents.crowd_evacuation). Targets: assembly points
    (default) or gates. Crowd options: ``exit_choice`` (``nearest`` or ``quickest``, the least
    estimated time including queues), ``step_s`` the crowd model's time step (s),
    ``assistance_delay_s`` until a helper reaches a person who needs help and lives alone."""

    model: Literal["flow", "crowd"] = "flow"
    targets: Literal["assembly", "gates"] = "assembly"
    exit_choice: Literal["nearest", "quickest"] = "nearest"
    step_s: float = Field(default=0.05, gt=0, le=0.2)
    assistance_delay_s: float = Field(default=480.0, ge=0)


class OutputSpec(_Strict):
    """What a run writes besides ``metrics.json`` and ``events.parquet``. ``animation``: a GIF
    of the crowd in the most crowded building (crowd model only)."""

    snapshot_every_s: float | None = Field(default=60.0, gt=0)
    scene: bool = True
    site_map: bool = True
    fields: bool = True
    animation: bool = False


class Scenario(_Strict):
    """A whole scenario file. Exactly one of ``site`` and ``geometry`` is given."""

    name: str = Field(min_length=1)
    description: str = ""
    site: SiteRef | None = None
    geometry: FreeGeometry | None = None
    seed: int = Field(default=0, ge=0, strict=True)
    replications: int = Field(default=1, ge=1, le=10_000, strict=True)
    duration_s: float = Field(default=1800.0, gt=0, le=7 * 86400)
    dt_s: float = Field(default=1.0, gt=0, le=60)
    population: PopulationSpec = Field(default_factory=PopulationSpec)
    alarm: AlarmSpec | None = Field(default_factory=AlarmSpec)
    evacuation: EvacuationSpec | None = Field(default_factory=EvacuationSpec)
    hazards: list[HazardSpec] = Field(default_factory=list)
    interventions: InterventionSpec = Field(default_factory=InterventionSpec)
    injects: list[InjectSpec] = Field(default_factory=list)
    outputs: OutputSpec = Field(default_factory=OutputSpec)

    @model_validator(mode="after")
    def _where(self) -> "Scenario":
        if (self.site is None) == (self.geometry is None):
            raise ValueError("give exactly one of 'site' and 'geometry'")
        if self.dt_s > self.duration_s:
            raise ValueError("'dt_s' must not exceed 'duration_s'")
        late = [f"injects.{k}.at_s = {inj.at_s:g}" for k, inj in enumerate(self.injects) if inj.at_s > self.duration_s]
        if self.alarm is not None and self.alarm.at_s > self.duration_s:
            late.insert(0, f"alarm.at_s = {self.alarm.at_s:g}")
        if late:
            raise ValueError(
                f"{', '.join(late)} s after duration_s = {self.duration_s:g} s (it would never happen)"
            )
        return self


"""The compartment network of a building for a two-zone smoke model (CFAST-style).

A two-zone model (Jones et al., *CFAST - Consolidated Model of Fire Growth and Smoke Transport
(Version 7), Technical Reference Guide*, NIST TN 1889v1, 2021) needs *compartments* (floor
area, height, floor elevation) joined by *vents* (width, sill and soffit elevation, open
fraction). This module derives that network from the site model and the synthetic storey
plans of :func:`geometry.floorplan.storey_layout`; it computes nothing dynamic. All lengths in
metres, areas in m², elevations absolute (m above the site datum, ``Building.level_z``).

Compartments (``kind`` codes, :data:`KIND_NAMES`):

* ``0`` **unit** - a flat (``B03-L05-U02``) of an above-ground residential storey, or a room
  (``K01-L01-R03``) of a kindergarten / community centre storey: area = its plan polygon,
  height = the storey height.
* ``1`` **corridor** - the corridor / lift lobby of a ``corridor``-mode storey (``B03-L05-C``):
  area = corridor polygon (+ the entrance passages on the exit level). Walk-up storeys have no
  corridor: their flats open onto the landing, which is part of the stair shaft.
* ``2`` **stair shaft** - one compartment per :class:`~geometry.site.StairCore` over all the
  levels it serves (``B03-S1``): floor at the lowest served level's elevation, height = levels x
  storey height, area = the stair area on its lowest level with a plan. An enclosed stair is
  its own fire compartment in Chinese high-rise housing (GB 50016-2014 §5.5.27, 防烟楼梯间 /
  封闭楼梯间), so the whole shaft is one well-mixed-in-plan volume.
* ``3`` **open storey** - a basement / garage storey (``P01-L-1``, ``B03-L-1``): the footprint
  less the stair areas.

Vents (``vent_kind`` codes, :data:`VENT_KIND_NAMES`), each between compartments ``vent_a`` and
``vent_b`` (``-1`` = outside), default state ``vent_open`` (fraction 0..1):

* ``0`` **door** - a flat's / room's entrance door to its corridor (or, in a walk-up, to its
  stair shaft's landing): :data:`UNIT_DOOR_WIDTH_M` = 0.9 m (the repo's
  ``geometry.raster.UNIT_DOOR_WIDTH_M``; GB 50096-2011 §5.8.7: entrance door opening >= 1.0 m
  wide structurally, ~0.9 m clear leaf) x :data:`DOOR_HEIGHT_M` = 2.1 m (GB 50096 §5.8.7: door
  opening height >= 2.0 m). Closed by default (a Chinese flat's entrance door is a self-closing
  steel security door; the fire flat's door is a scenario choice).
* ``1`` **stair door** - the fire door between a corridor / open storey and a stair shaft at one
  level: :data:`STAIR_DOOR_WIDTH_M` = 1.0 m x 2.1 m (GB 50016-2014 §5.5.30: dwelling doors and
  safety exits >= 0.90 m clear, stairs >= 1.10 m, so 1.0 m is an assumed typical leaf;
  §6.4.2/§6.4.3: enclosed / smoke-proof stairs have Class B (乙级) self-closing fire doors,
  normally closed). Closed by default.
* ``2`` **exit door** - a :class:`~geometry.site.BuildingExit` to the outside: its site width x
  2.1 m, from the corridor (corridor storeys), the open storey (garage levels) or the stair
  shaft's ground landing (walk-ups, and an underground garage's surface stair kiosks).
  Closed by default.
* ``3`` **window** - one external window per flat / room: :data:`WINDOW_WIDTH_M` x
  :data:`WINDOW_HEIGHT_M` = 1.5 x 1.5 m at sill :data:`WINDOW_SILL_M` = 0.9 m (GB 50096-2011
  §5.8.1: windows with a sill below 0.9 m need guarding, so 0.9 m is the usual sill; 1.5 m
  square is a typical bedroom/living-room window - an assumption). Closed by default.
* ``4`` **leakage** - a small permanent opening to the outside per flat / room, corridor and
  open storey: a slot of :data:`LEAKAGE_AREA_M2` = 0.01 m² (0.005 m wide x 2.0 m high from the
  floor, clipped to the storey height). Justification (an assumption, order of magnitude only):
  typical leakage area ratios of exterior walls are ~0.7e-4 (tight) to ~2.1e-4 (average)
  m² per m² of wall (Klote, Milke, Turnbull, Kashef & Ferreira, *Handbook of Smoke Control
  Engineering*, ASHRAE 2012, table of typical leakage areas for walls; the same values are in
  NFPA 92 annex); a flat with ~45 m² of external wall thus leaks ~0.003-0.01 m². Open (1).

Simplifications: no flat-to-flat or floor-to-floor leakage, no lift shafts (lifts are not
used for evacuation), no stair-shaft ventilation openings (GB 50016 §6.4.2 natural smoke
venting of enclosed stairs) - add them as vents when a scenario needs them; no leakage of the
stair shafts themselves; closed doors are fully closed (a two-zone model may add door-gap
leakage itself, e.g. CFAST's closed-door leakage fraction).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np
from shapely.ops import unary_union

from geometry.floorplan import StoreyLayout, stair_level_range, storey_layout
from geometry.raster import UNIT_DOOR_WIDTH_M
from geometry.site import Building, BuildingExit, Site, SiteError, StairCore

__all__ = [
    "DOOR_HEIGHT_M",
    "KIND_CORRIDOR",
    "KIND_NAMES",
    "KIND_OPEN",
    "KIND_SHAFT",
    "KIND_UNIT",
    "LEAKAGE_AREA_M2",
    "LEAKAGE_SLOT_HEIGHT_M",
    "STAIR_DOOR_WIDTH_M",
    "VENT_DOOR",
    "VENT_EXIT",
    "VENT_KIND_NAMES",
    "VENT_LEAKAGE",
    "VENT_STAIR_DOOR",
    "VENT_WINDOW",
    "WINDOW_HEIGHT_M",
    "WINDOW_SILL_M",
    "WINDOW_WIDTH_M",
    "CompartmentNetwork",
    "building_network",
    "site_network",
]

KIND_UNIT, KIND_CORRIDOR, KIND_SHAFT, KIND_OPEN = 0, 1, 2, 3
KIND_NAMES = ("unit", "corridor", "shaft", "open")
VENT_DOOR, VENT_STAIR_DOOR, VENT_EXIT, VENT_WINDOW, VENT_LEAKAGE = 0, 1, 2, 3, 4
VENT_KIND_NAMES = ("door", "stair_door", "exit", "window", "leakage")

DOOR_HEIGHT_M = 2.1
STAIR_DOOR_WIDTH_M = 1.0
WINDOW_WIDTH_M = 1.5
WINDOW_HEIGHT_M = 1.5
WINDOW_SILL_M = 0.9
LEAKAGE_AREA_M2 = 0.01
LEAKAGE_SLOT_HEIGHT_M = 2.0
OUTSIDE = -1


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class CompartmentNetwork:
    """Compartments and vents of one building or a whole site (see the module docstring).

    Arrays are read-only; ``vent_open`` is the *default* state - copy it
    (``net.vent_open.copy()``) to hold a scenario's door/window states."""

    ids: list[str]
    kind: np.ndarray  # int8 [N], KIND_* codes
    building: list[str]
    level: np.ndarray  # int [N]; a shaft's lowest level
    area_m2: np.ndarray  # [N]
    height_m: np.ndarray  # [N]
    floor_z_m: np.ndarray  # [N], absolute
    vent_ids: list[str]
    vent_a: np.ndarray  # int [V], compartment index
    vent_b: np.ndarray  # int [V], compartment index or -1 (outside)
    vent_width_m: np.ndarray  # [V]
    vent_bottom_z_m: np.ndarray  # [V], absolute sill elevation
    vent_top_z_m: np.ndarray  # [V], absolute soffit elevation
    vent_kind: np.ndarray  # int8 [V], VENT_* codes
    vent_open: np.ndarray  # [V], default open fraction 0..1
    _index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    _vent_index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        n, v = len(self.ids), len(self.vent_ids)
        for name in ("kind", "level", "area_m2", "height_m", "floor_z_m"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"CompartmentNetwork: field '{name}' has {len(getattr(self, name))} entries, expected {n}")
        if len(self.building) != n:
            raise ValueError(f"CompartmentNetwork: field 'building' has {len(self.building)} entries, expected {n}")
        for name in ("vent_a", "vent_b", "vent_width_m", "vent_bottom_z_m", "vent_top_z_m", "vent_kind", "vent_open"):
            if len(getattr(self, name)) != v:
                raise ValueError(f"CompartmentNetwork: field '{name}' has {len(getattr(self, name))} entries, expected {v}")
        index = {c: i for i, c in enumerate(self.ids)}
        if len(index) != n:
            dup = sorted({c for c in self.ids if self.ids.count(c) > 1})
            raise ValueError(f"CompartmentNetwork: compartment ids must be unique; repeated: {', '.join(dup[:10])}")
        vindex = {c: i for i, c in enumerate(self.vent_ids)}
        if len(vindex) != v:
            dup = sorted({c for c in self.vent_ids if self.vent_ids.count(c) > 1})
            raise ValueError(f"CompartmentNetwork: vent ids must be unique; repeated: {', '.join(dup[:10])}")
        self._index.update(index)
        self._vent_index.update(vindex)
        for name in ("kind", "level", "area_m2", "height_m", "floor_z_m", "vent_a", "vent_b", "vent_width_m",
                     "vent_bottom_z_m", "vent_top_z_m", "vent_kind", "vent_open"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    # ----------------------------------------------------------------- sizes
    @property
    def n_compartments(self) -> int:
        return len(self.ids)

    @property
    def n_vents(self) -> int:
        return len(self.vent_ids)

    @property
    def vent_area_m2(self) -> np.ndarray:
        """Full-open area of each vent (m²)."""
        return self.vent_width_m * (self.vent_top_z_m - self.vent_bottom_z_m)

    @property
    def volume_m3(self) -> np.ndarray:
        return self.area_m2 * self.height_m

    # ----------------------------------------------------------------- look-ups
    def index(self, comp_id: str) -> int:
        """Index of compartment ``comp_id``; ``KeyError`` naming close matches otherwise."""
        try:
            return self._index[comp_id]
        except KeyError:
            raise KeyError(_missing("compartment", comp_id, self.ids)) from None

    def vent_index(self, vent_id: str) -> int:
        """Index of vent ``vent_id``; ``KeyError`` naming close matches otherwise."""
        try:
            return self._vent_index[vent_id]
        except KeyError:
            raise KeyError(_missing("vent", vent_id, self.vent_ids)) from None

    def vents_of(self, comp_id: str) -> np.ndarray:
        """Indices of the vents of compartment ``comp_id`` (either side), ascending."""
        i = self.index(comp_id)
        return np.flatnonzero((self.vent_a == i) | (self.vent_b == i))

    def of_building(self, building_id: str) -> np.ndarray:
        """Indices of the compartments of one building."""
        return np.array([i for i, b in enumerate(self.building) if b == building_id], dtype=np.int64)


def _missing(what: str, key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(str(key), known, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"no {what} {key!r} in the network ({len(known)} {what}s){hint}"


# --------------------------------------------------------------------- builder
class _Builder:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.kind: list[int] = []
        self.building: list[str] = []
        self.level: list[int] = []
        self.area: list[float] = []
        self.height: list[float] = []
        self.z: list[float] = []
        self.index: dict[str, int] = {}
        self.v_ids: list[str] = []
        self.v_a: list[int] = []
        self.v_b: list[int] = []
        self.v_w: list[float] = []
        self.v_lo: list[float] = []
        self.v_hi: list[float] = []
        self.v_kind: list[int] = []
        self.v_open: list[float] = []

    def comp(self, cid: str, kind: int, b: str, level: int, area: float, height: float, z: float) -> int:
        if cid in self.index:
            raise SiteError([f"building {b}: compartment id {cid!r} occurs twice (stair, exit or unit ids clash)"])
        i = len(self.ids)
        self.index[cid] = i
        self.ids.append(cid)
        self.kind.append(kind)
        self.building.append(b)
        self.level.append(level)
        self.area.append(float(area))
        self.height.append(float(height))
        self.z.append(float(z))
        return i

    def vent(self, vid: str, a: int, b: int, width: float, lo: float, hi: float, kind: int, open_: float) -> None:
        self.v_ids.append(vid)
        self.v_a.append(a)
        self.v_b.append(b)
        self.v_w.append(float(width))
        self.v_lo.append(float(lo))
        self.v_hi.append(float(hi))
        self.v_kind.append(kind)
        self.v_open.append(float(open_))

    def network(self) -> CompartmentNetwork:
        return CompartmentNetwork(
            ids=self.ids,
            kind=np.array(self.kind, dtype=np.int8),
            building=self.building,
            level=np.array(self.level, dtype=np.int64),
            area_m2=np.array(self.area, dtype=float),
            height_m=np.array(self.height, dtype=float),
            floor_z_m=np.array(self.z, dtype=float),
            vent_ids=self.v_ids,
            vent_a=np.array(self.v_a, dtype=np.int64),
            vent_b=np.array(self.v_b, dtype=np.int64),
            vent_width_m=np.array(self.v_w, dtype=float),
            vent_bottom_z_m=np.array(self.v_lo, dtype=float),
            vent_top_z_m=np.array(self.v_hi, dtype=float),
            vent_kind=np.array(self.v_kind, dtype=np.int8),
            vent_open=np.array(self.v_open, dtype=float),
        )


def _add_building(nb: _Builder, b: Building) -> None:
    h = float(b.storey_height_m)
    door_h = min(DOOR_HEIGHT_M, h)
    layouts: dict[int, StoreyLayout] = {lv: storey_layout(b, lv) for lv in b.levels}

    # stair shafts first: storeys refer to them
    shaft: dict[str, int] = {}
    shaft_levels: dict[str, range] = {}
    for s in b.stairs:
        levels = stair_level_range(b, s)
        if len(levels) == 0:
            continue
        area = 0.0
        for lv in levels:  # the stair area on its lowest level with a plan (unstretched in a basement)
            if lv in layouts:
                area = next((a.polygon.area for a in layouts[lv].stairs if a.id == s.id), 0.0)
                if area > 0:
                    break
        if area <= 0:
            raise SiteError([f"stair {s.id}: no stair area on any storey plan of building {b.id} (levels {levels.start}..{levels.stop - 1})"])
        shaft[s.id] = nb.comp(s.id, KIND_SHAFT, b.id, levels.start, area, len(levels) * h, b.level_z(levels.start))
        shaft_levels[s.id] = levels

    def outside_openings(ci: int, cid: str, z: float, *, window: bool) -> None:
        if window:
            lo = z + min(WINDOW_SILL_M, h)
            nb.vent(f"{cid}:window", ci, OUTSIDE, WINDOW_WIDTH_M, lo, min(lo + WINDOW_HEIGHT_M, z + h), VENT_WINDOW, 0.0)
        slot_h = min(LEAKAGE_SLOT_HEIGHT_M, h)
        nb.vent(f"{cid}:leak", ci, OUTSIDE, LEAKAGE_AREA_M2 / slot_h, z, z + slot_h, VENT_LEAKAGE, 1.0)

    def nearest_shaft(e: BuildingExit, level: int, layout: StoreyLayout | None) -> int:
        cands = [s for s in b.stairs if s.id in shaft and level in shaft_levels[s.id]]
        if not cands:
            msg = (f"exit {e.id}: level {level} of building {b.id} has no corridor, open storey or stair to "
                   f"put the exit door in (field 'level'; expected a level a stair of {b.id} serves)")
            raise SiteError([msg])
        areas = {a.id: a.polygon for a in layout.stairs} if layout is not None else {}

        def dist(s: StairCore) -> tuple[float, str]:
            geom = areas.get(s.id, s.position)
            return (float(geom.distance(e.position)), s.id)

        return shaft[min(cands, key=dist).id]

    def exit_door(e: BuildingExit, ci: int, z: float) -> None:
        nb.vent(e.id, ci, OUTSIDE, e.width_m, z, z + door_h, VENT_EXIT, 0.0)

    for lv, lay in layouts.items():
        z = b.level_z(lv)
        if lay.mode == "open":
            cid = f"{b.id}-L{lv:02d}"
            stairs_union = unary_union([a.polygon for a in lay.stairs]) if lay.stairs else None
            area = b.footprint.area if stairs_union is None else b.footprint.difference(stairs_union).area
            ci = nb.comp(cid, KIND_OPEN, b.id, lv, area, h, z)
            for a in lay.stairs:
                nb.vent(f"{cid}:{a.id}", ci, shaft[a.id], STAIR_DOOR_WIDTH_M, z, z + door_h, VENT_STAIR_DOOR, 0.0)
            for e in lay.exits:
                exit_door(e, ci, z)
            outside_openings(ci, cid, z, window=False)
            if lay.units:  # the floor-plan recipe gives open storeys no units
                raise SiteError([f"building {b.id} level {lv}: open storey has units ({lay.units[0].id}, ...), which the network cannot place"])
            continue

        corridor_i: int | None = None
        if lay.mode == "corridor" and lay.corridor is not None:
            cid = f"{b.id}-L{lv:02d}-C"
            area = lay.corridor.area + sum(p.area for p in lay.entrances)
            corridor_i = nb.comp(cid, KIND_CORRIDOR, b.id, lv, area, h, z)
            for a in lay.stairs:
                nb.vent(f"{cid}:{a.id}", corridor_i, shaft[a.id], STAIR_DOOR_WIDTH_M, z, z + door_h, VENT_STAIR_DOOR, 0.0)
            outside_openings(corridor_i, cid, z, window=False)

        for u in lay.units:
            ui = nb.comp(u.id, KIND_UNIT, b.id, lv, u.polygon.area, h, z)
            if corridor_i is not None:
                to = corridor_i
            elif u.stair is not None and u.stair in shaft:
                to = shaft[u.stair]
            else:
                raise SiteError([f"unit {u.id}: building {b.id} level {lv} has neither a corridor nor a stair for its door"])
            nb.vent(f"{u.id}:door", ui, to, UNIT_DOOR_WIDTH_M, z, z + door_h, VENT_DOOR, 0.0)
            outside_openings(ui, u.id, z, window=True)

        for e in lay.exits:
            exit_door(e, corridor_i if corridor_i is not None else nearest_shaft(e, lv, lay), z)

    # exits on levels without a storey plan: an underground garage's surface stair kiosks
    for e in b.exits:
        if e.level not in layouts:
            exit_door(e, nearest_shaft(e, e.level, None), b.level_z(e.level))


def _check_building(site: Site, building_id: str) -> Building:
    try:
        return site.building(building_id)
    except KeyError:
        known = [b.id for b in site.buildings]
        close = difflib.get_close_matches(str(building_id), known, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else f"; known: {', '.join(known[:20])}"
        raise KeyError(f"site {site.name!r} has no building {building_id!r}{hint}") from None


def building_network(site: Site, building_id: str) -> CompartmentNetwork:
    """The compartment network of one building (module docstring: compartments, vents, sizes).

    Raises ``KeyError`` (with close matches) for an unknown building id and
    :class:`~geometry.site.SiteError` when the building cannot be networked (an exit on a level
    with no corridor, open storey or stair)."""
    nb = _Builder()
    _add_building(nb, _check_building(site, building_id))
    return nb.network()


def site_network(site: Site, *, buildings: list[str] | None = None) -> CompartmentNetwork:
    """The compartment networks of all buildings (or of ``buildings``, in that order)
    concatenated into one; ids are unique because they carry the building id."""
    chosen = [b.id for b in site.buildings] if buildings is None else list(buildings)
    nb = _Builder()
    for bid in chosen:
        _add_building(nb, _check_building(site, bid))
    return nb.network()

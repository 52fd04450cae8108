"""Multi-level atlas of one building: all storeys and stair flights on one walkable grid.

The crowd model moves agents on a single 2-D grid. A building's storeys (from
:func:`geometry.raster.storey_raster`) are laid side by side on that grid as *tiles*, and every
stair flight between two storeys is an *unrolled strip*: a straight corridor of the stair's
clear width whose length is the walking length along the slope,

    band 0.75 m | flight (H/2) / sin(a) | half landing (w + 0.2 m) | flight | band 0.75 m,

H the storey height and a = atan(0.175 / 0.26) the slope of the steepest residential stair of
GB 50096-2011 §6.3 (riser 175 mm, tread 260 mm). Flight cells carry the downhill direction, so
agents there walk at their own stair descent or ascent speed (along the slope).

Levels and strips are joined by *portals* (:class:`Portals`): bands 0.75 m deep at the far end of
each storey's stair area (the landing; the end away from the building's centre) — the half
landing on one side of the stair well leads down, the other side is where people coming down
from above arrive and where the way up begins — and at both ends of every strip. Crossing a band
carries an agent rigidly (a rotation plus a shift) to just beyond the matching band, so a
storey's flow and the flow coming down the stair merge on the landing (see
:mod:`agents.crowd`).

World mapping: a storey tile keeps its storey's orientation, shifted by ``offset`` (atlas = world
+ offset); a strip has no world position (it is the stair core at ``stair_xy`` between two
levels). Cells outside tiles and strips are walls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from geometry.floorplan import stair_level_range, storey_layout
from geometry.raster import LevelRaster, _check_cell_size, storey_raster
from geometry.site import Site, SiteError

__all__ = [
    "BAND_DEPTH_M",
    "STAIR_RISER_M",
    "STAIR_TREAD_M",
    "AtlasRegion",
    "BuildingAtlas",
    "Portals",
    "building_atlas",
    "flight_length_m",
]

BAND_DEPTH_M = 0.75
STAIR_RISER_M = 0.175
STAIR_TREAD_M = 0.26
_GAP = 2  # wall cells between tiles and strips
_LANDING_DEPTH_M = 2 * BAND_DEPTH_M + 0.15  # where a carried agent lands: 0.9-1.65 m beyond the band's outer edge


@dataclass(frozen=True)
class Portals:
    """Portal bands of a multi-level grid (see :mod:`agents._crowd_kernel`): ``lab`` int
    [ny, nx] the portal index of each band cell (-1 elsewhere); ``A`` [P, 2, 2] and ``b``
    [P, 2] the affine maps carrying a walker from a band to the far side (``x' = A x + b``,
    ``A`` a rotation); ``ids`` the portals' names (e.g. ``B03-S1-L05-down``)."""

    lab: np.ndarray
    A: np.ndarray
    b: np.ndarray
    ids: tuple[str, ...]

    def __post_init__(self) -> None:
        p = len(self.ids)
        if self.A.shape != (p, 2, 2) or self.b.shape != (p, 2):
            raise ValueError(f"Portals: A must be [{p}, 2, 2] and b [{p}, 2], got {self.A.shape} and {self.b.shape}")
        if self.lab.ndim != 2 or (self.lab.size and (self.lab.max() >= p or self.lab.min() < -1)):
            raise ValueError(f"Portals: lab must be a 2-D grid of portal indices in [-1, {p})")

    @staticmethod
    def none(shape: tuple[int, int]) -> Portals:
        return Portals(np.full(shape, -1, dtype=np.int64), np.zeros((0, 2, 2)), np.zeros((0, 2)), ())


@dataclass(frozen=True)
class AtlasRegion:
    """A storey tile (``kind='storey'``, ``level``) or a flight strip (``kind='flight'``, from
    ``level`` down to ``level - 1``) of an atlas; ``cells`` = (i0, j0, i1, j1), end exclusive."""

    name: str
    kind: str
    level: int
    cells: tuple[int, int, int, int]
    offset: tuple[float, float] | None = None
    stair: str | None = None


@dataclass
class _Port:
    c: np.ndarray  # centre of the band's outer edge (atlas m)
    n: np.ndarray  # outward unit normal
    w: float


@dataclass
class BuildingAtlas:
    """A building on one grid (module docstring). ``raster``: walkable cells, exit mask and
    zones (exit ids; each stair id for the whole stair; ``<stair>-L05`` landings and
    ``<stair>-F05`` the flight below storey 5). ``stairs``: downhill unit vectors of flight
    cells. ``units``: unit id -> bool mask of its floor. ``region``: region index per cell
    (-1 walls)."""

    building: str
    raster: LevelRaster
    stairs: tuple[np.ndarray, np.ndarray]
    portals: Portals
    regions: list[AtlasRegion]
    region: np.ndarray
    unit_lab: np.ndarray
    unit_ids: list[str]
    exit_widths_m: dict[str, float]
    storey_height_m: float
    stair_xy: dict[str, tuple[float, float]] = field(default_factory=dict)

    def unit_cells(self, unit_id: str) -> tuple[np.ndarray, np.ndarray]:
        """Walkable cell centres (x, y, atlas m) of a dwelling unit."""
        try:
            k = self.unit_ids.index(unit_id)
        except ValueError:
            raise KeyError(f"{self.building}: no unit {unit_id!r} in the atlas") from None
        jj, ii = np.nonzero((self.unit_lab == k) & self.raster.walkable)
        return self.raster.cell_to_world(ii, jj)

    def locate(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(level, world x, world y, z above the building base) of atlas points; NaN outside
        tiles and strips. On a flight the level is fractional and (x, y) the stair core's."""
        r = self.raster
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        i, j = r.world_to_cell(x, y)
        ok = r.inside(i, j) & np.isfinite(x) & np.isfinite(y)
        reg = np.full(x.shape, -1, dtype=np.int64)
        reg[ok] = self.region[j[ok], i[ok]]
        lev = np.full(x.shape, np.nan)
        wx = np.full(x.shape, np.nan)
        wy = np.full(x.shape, np.nan)
        for k, rg in enumerate(self.regions):
            sel = reg == k
            if not sel.any():
                continue
            if rg.kind == "storey" and rg.offset is not None:
                lev[sel] = rg.level
                wx[sel] = x[sel] - rg.offset[0]
                wy[sel] = y[sel] - rg.offset[1]
            else:
                i0, _, i1, _ = rg.cells
                frac = np.clip((x[sel] - i0 * r.cell_size_m) / ((i1 - i0) * r.cell_size_m), 0, 1)
                lev[sel] = rg.level - frac
                sx, sy = self.stair_xy.get(rg.stair or "", (np.nan, np.nan))
                wx[sel] = sx
                wy[sel] = sy
        return lev, wx, wy, lev * self.storey_height_m


def _is_unit(zone_id: str) -> bool:
    last = zone_id.rsplit("-", 1)[-1]
    return len(last) > 1 and last[0] in "UR" and last[1:].isdigit()


def flight_length_m(storey_height_m: float, width_m: float) -> tuple[float, float]:
    """(slope length of one of the two flights, strip length) in m for one storey (module
    docstring)."""
    slope = math.hypot(STAIR_RISER_M, STAIR_TREAD_M) / STAIR_RISER_M
    fl = storey_height_m / 2.0 * slope
    return fl, 2 * BAND_DEPTH_M + 2 * fl + width_m + 0.2


def _rot(n1: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """Rotation R with R n1 = -n2."""
    th = math.atan2(-n2[1], -n2[0]) - math.atan2(n1[1], n1[0])
    c, s = math.cos(th), math.sin(th)
    return np.array([[c, -s], [s, c]])


def _map(p1: _Port, p2: _Port) -> tuple[np.ndarray, np.ndarray]:
    """Rigid map from band 1 (walking out along n1) to just inside port 2."""
    R = _rot(p1.n, p2.n)
    b = p2.c - _LANDING_DEPTH_M * p2.n - R @ p1.c
    return R, b


def building_atlas(site: Site, building_id: str, *, cell_size_m: float = 0.25, columns: int | None = None) -> BuildingAtlas:
    """Lay out ``building_id`` of ``site`` as a multi-level atlas (module docstring). Raises
    :class:`~geometry.site.SiteError` when a stair has no landing on a level it serves (its
    stair area holds no walkable cell at the far end) or a building has no exit."""
    _check_cell_size(cell_size_m)
    h = float(cell_size_m)
    b = site.building(building_id)
    levels = [L for L in b.levels]
    if not b.exits:
        raise SiteError([f"building {b.id}: no exits; an evacuation needs at least one"])
    tiles = {L: storey_raster(site, b.id, L, cell_size_m=h) for L in levels}
    tny, tnx = tiles[levels[0]].shape
    ncol = columns or max(1, int(math.ceil(math.sqrt(len(levels) * tny / max(tnx, 1)))))
    # stairs, flights
    flights: list[tuple[str, int, float]] = []  # (stair id, upper level, width)
    for s in b.stairs:
        rng_ = list(stair_level_range(b, s))
        for L in rng_[1:]:
            if L - 1 in tiles:  # L without a storey: the stair surfaces at an exit (garage kiosk)
                flights.append((s.id, L, s.width_m))
    strip_len = {}
    for sid, L, w in flights:
        strip_len[(sid, L)] = flight_length_m(b.storey_height_m, w)[1]
    slen_c = max([int(math.ceil(v / h)) for v in strip_len.values()], default=0)
    swid_c = max([int(math.ceil(w / h - 1e-9)) for _, _, w in flights], default=0)
    atlas_nx = max(ncol * (tnx + _GAP) + _GAP, slen_c + 2 * _GAP)
    per_row = max(1, (atlas_nx - _GAP) // (slen_c + _GAP)) if flights else 1
    nrow_t = int(math.ceil(len(levels) / ncol))
    nrow_s = int(math.ceil(len(flights) / per_row)) if flights else 0
    atlas_ny = _GAP + nrow_t * (tny + _GAP) + nrow_s * (swid_c + _GAP)
    walk = np.zeros((atlas_ny, atlas_nx), dtype=bool)
    exits = np.zeros_like(walk)
    region = np.full(walk.shape, -1, dtype=np.int32)
    unit_lab = np.full(walk.shape, -1, dtype=np.int32)
    sdx = np.zeros(walk.shape)
    sdy = np.zeros(walk.shape)
    zones: dict[str, np.ndarray] = {}
    regions: list[AtlasRegion] = []
    unit_ids: list[str] = []
    exit_w: dict[str, float] = {e.id: e.width_m for e in b.exits}
    problems: list[str] = []
    ports: dict[tuple[str, int, str], _Port] = {}  # (stair, level, 'down'|'up') on storeys
    band_cells: dict[tuple[str, int, str], tuple[np.ndarray, np.ndarray]] = {}

    for k, L in enumerate(levels):
        r = tiles[L]
        ti, tj = _GAP + (k % ncol) * (tnx + _GAP), _GAP + (k // ncol) * (tny + _GAP)
        sl = (slice(tj, tj + tny), slice(ti, ti + tnx))
        walk[sl] = r.walkable
        exits[sl] |= r.exits
        off = (ti * h - r.origin[0], tj * h - r.origin[1])
        region[sl][r.walkable] = len(regions)
        regions.append(AtlasRegion(f"{b.id}-L{L:02d}", "storey", L, (ti, tj, ti + tnx, tj + tny), off))
        lay = storey_layout(b, L)
        for zid, mk in r.zones.items():
            if zid in exit_w:
                zones.setdefault(zid, np.zeros_like(walk))[sl] |= mk
            elif _is_unit(zid):
                unit_lab[sl][mk] = len(unit_ids)
                unit_ids.append(zid)
        ux, uy = lay.axis
        u = np.array([ux, uy])
        v = np.array([-uy, ux])
        cx0, cy0 = lay.centre
        for sa in lay.stairs:
            mk = r.zones.get(sa.id)
            if mk is None or not mk.any():
                problems.append(f"building {b.id}: stair {sa.id} has no walkable landing on level {L}")
                continue
            zones.setdefault(sa.id, np.zeros_like(walk))[sl] |= mk
            lz = np.zeros_like(walk)
            lz[sl] = mk
            zones[f"{sa.id}-L{L:02d}"] = lz
            ps, pt = lay.to_local(sa.position.x, sa.position.y)
            ring = np.asarray(sa.polygon.exterior.coords if sa.polygon.geom_type == "Polygon"
                              else max(sa.polygon.geoms, key=lambda g: g.area).exterior.coords)
            loc = np.array([lay.to_local(float(px), float(py)) for px, py in ring])
            sign = 1.0 if pt >= 0 else -1.0
            t_far = float(loc[:, 1].max() if sign > 0 else loc[:, 1].min())
            jj, ii = np.nonzero(mk)
            wx, wy = r.cell_to_world(ii, jj)
            cs_, ct_ = (wx - cx0) * ux + (wy - cy0) * uy, -(wx - cx0) * uy + (wy - cy0) * ux
            depth = sign * (t_far - ct_)  # from the far edge inwards
            w = sa.width_m
            for side, lo, hi in (("down", ps - 0.1 - w, ps - 0.1), ("up", ps + 0.1, ps + 0.1 + w)):
                half = (cs_ >= lo) & (cs_ <= hi)
                # bands 0.75 m deep from the outermost walkable row: a wheelchair's centre (r = 0.35 m)
                # stops ~0.38 m short of a wall and must still reach the band
                sel = half & (depth - (depth[half].min() if half.any() else 0.0) <= BAND_DEPTH_M - 0.5 * h + 1e-9)
                if not sel.any():
                    problems.append(f"building {b.id}: stair {sa.id} on level {L} has no landing cells at the far "
                                    f"end of its stair area ('{side}' side); check its position and width")
                    continue
                # the outer edge: the farthest band cell row plus half a cell
                dmin = float(depth[sel].min()) - 0.5 * h
                smid = 0.5 * (lo + hi)
                cw = np.array([cx0, cy0]) + smid * u + (t_far - sign * dmin) * v
                ports[(sa.id, L, side)] = _Port(cw + np.array(off), sign * v, w)
                band_cells[(sa.id, L, side)] = (jj[sel] + tj, ii[sel] + ti)
    # strips
    pairs: list[tuple[str, _Port, _Port, tuple[np.ndarray, np.ndarray]]] = []
    stair_xy = {s.id: (s.position.x, s.position.y) for s in b.stairs}
    for k, (sid, L, w) in enumerate(flights):
        fl, ln = flight_length_m(b.storey_height_m, w)
        nl = int(math.ceil(ln / h))
        nw = max(1, int(math.ceil(w / h - 1e-9)))
        si = _GAP + (k % per_row) * (slen_c + _GAP)
        sj = _GAP + nrow_t * (tny + _GAP) + (k // per_row) * (swid_c + _GAP)
        walk[sj:sj + nw, si:si + nl] = True
        region[sj:sj + nw, si:si + nl] = len(regions)
        regions.append(AtlasRegion(f"{sid}-F{L:02d}", "flight", L, (si, sj, si + nl, sj + nw), None, sid))
        xs = (np.arange(nl) + 0.5) * h  # along the strip from its top end
        nb = int(round(BAND_DEPTH_M / h))
        fl1 = (xs >= BAND_DEPTH_M) & (xs < BAND_DEPTH_M + fl)
        fl2 = (xs >= ln - BAND_DEPTH_M - fl) & (xs < ln - BAND_DEPTH_M)
        steps = fl1 | fl2
        sdx[sj:sj + nw, si:si + nl][:, steps] = 1.0
        fz = np.zeros_like(walk)
        fz[sj:sj + nw, si:si + nl] = True
        zones[f"{sid}-F{L:02d}"] = fz
        zones.setdefault(sid, np.zeros_like(walk))
        zones[sid] |= fz
        ymid = (sj + nw / 2.0) * h
        top = _Port(np.array([si * h, ymid]), np.array([-1.0, 0.0]), nw * h)
        bot = _Port(np.array([(si + nl) * h, ymid]), np.array([1.0, 0.0]), nw * h)
        up_port = ports.get((sid, L, "down"))
        low_port = ports.get((sid, L - 1, "up"))
        if L not in tiles:  # surfaces: the top band is the exit at that level nearest the stair
            cand = [e for e in b.exits if e.level == L]
            if not cand:
                problems.append(f"building {b.id}: stair {sid} rises to level {L}, which has no storey and no exit")
                continue
            sx, sy = stair_xy[sid]
            e = min(cand, key=lambda e: math.hypot(e.position.x - sx, e.position.y - sy))
            exits[sj:sj + nw, si:si + nb] = True
            zones.setdefault(e.id, np.zeros_like(walk))[sj:sj + nw, si:si + nb] = True
            exit_w[e.id] = min(exit_w[e.id], w)
            up_port = None
            if low_port is None:
                continue
            pairs += [(f"{sid}-F{L:02d}-bottom", bot, low_port,
                       (np.arange(sj, sj + nw).repeat(nb), np.tile(np.arange(si + nl - nb, si + nl), nw))),
                      (f"{sid}-L{L - 1:02d}-up", low_port, bot, band_cells[(sid, L - 1, "up")])]
            continue
        if up_port is None or low_port is None:
            continue  # reported above
        pairs += [
            (f"{sid}-L{L:02d}-down", up_port, top, band_cells[(sid, L, "down")]),
            (f"{sid}-F{L:02d}-top", top, up_port, (np.arange(sj, sj + nw).repeat(nb), np.tile(np.arange(si, si + nb), nw))),
            (f"{sid}-F{L:02d}-bottom", bot, low_port,
             (np.arange(sj, sj + nw).repeat(nb), np.tile(np.arange(si + nl - nb, si + nl), nw))),
            (f"{sid}-L{L - 1:02d}-up", low_port, bot, band_cells[(sid, L - 1, "up")]),
        ]
    pid: list[str] = []
    A: list[np.ndarray] = []
    B: list[np.ndarray] = []
    plab = np.full(walk.shape, -1, dtype=np.int64)
    for name, p1, p2, (bj, bi) in pairs:
        R, bb = _map(p1, p2)
        # keep the band cells whose centre lands on a walkable cell (walls may trim a band)
        q = R @ np.vstack([(bi + 0.5) * h, (bj + 0.5) * h]) + bb[:, None]
        qi = np.floor(q[0] / h).astype(int)
        qj = np.floor(q[1] / h).astype(int)
        ok = (qi >= 0) & (qj >= 0) & (qi < walk.shape[1]) & (qj < walk.shape[0])
        ok[ok] = walk[qj[ok], qi[ok]]
        if not ok.any():
            problems.append(f"building {b.id}: portal {name} leads nowhere walkable (a stair without a landing?)")
            continue
        plab[bj[ok], bi[ok]] = len(pid)
        pid.append(name)
        A.append(R)
        B.append(bb)
    for e in b.exits:
        if e.id not in zones:
            problems.append(f"building {b.id}: exit {e.id} on level {e.level} is reached by no storey or stair")
    if problems:
        raise SiteError(problems)
    lr = LevelRaster(walk, (0.0, 0.0), h, level=0, building=b.id, exits=exits & walk, zones=zones)
    portals = Portals(plab, np.array(A).reshape(-1, 2, 2), np.array(B).reshape(-1, 2), tuple(pid))
    return BuildingAtlas(b.id, lr, (sdx, sdy), portals, regions, region, unit_lab, unit_ids, exit_w,
                         b.storey_height_m, stair_xy)

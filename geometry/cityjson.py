"""Import a site from CityJSON (1.0, 1.1, 2.0; https://www.cityjson.org/specs/).

Vertices are decoded with the file's ``transform`` (``x = i * scale + translate``; optional in
1.0). Coordinates stay in the file's CRS (e.g. RD New, x ~ 85 000 m), which is recorded on the
site: ``metadata.referenceSystem`` (``urn:ogc:def:crs:EPSG::7415`` or
``https://www.opengis.net/def/crs/EPSG/0/7415``) gives the EPSG code, and for a compound CRS
(7415 = RD New + NAP height) the horizontal part is kept (``EPSG:28992``); z stays in the
vertical datum (NAP metres).

Buildings (``Building`` city objects; a ``BuildingPart`` joins its parent, or stands alone when
it has none), using the geometry of the highest LoD:

* footprint: the ground surface, i.e. the union in plan of the faces whose vertices all lie
  within 0.3 m of the building's lowest z (or, when the geometry has semantics, its
  ``GroundSurface`` faces); the largest polygon of that union. When there is no floor, or it
  covers less than half the building's plan (3dfier LoD1 solids often have no floor; a sloping
  site leaves part of it higher), the footprint is the union in plan of all non-vertical faces
  (floor and roof, i.e. the plan outline including overhangs); if even that is empty (only
  vertical faces), the convex hull of all vertices in plan;
* height: the ``measuredHeight`` attribute, else max z - min z; ``base_z``: min z;
* storeys: ``storeysAboveGround``, else ``round(height / 3.0 m)`` at least 1; basements from
  ``storeysBelowGround``; storey height = height / storeys when that is 2-10 m, else 3.0 m;
* use: from ``function``/``usage`` text (residential/wonen -> walk-up or high-rise, garage/
  parking -> garage, kindergarten, community) else ``default_use``;
* stairs, exit and households: the shared rules of :mod:`geometry._synth`.

Roads (``Road`` objects) become ways: the union of the road's surfaces in plan is approximated by
its minimum rotated rectangle; the way's centre line is the rectangle's long axis and its width
the rectangle's short side (exact for straight road pieces, a rough stand-in for curved or
L-shaped ones). ``function`` text naming a footpath (voetpad, voetganger, fiets, foot,
pedestrian, cycle, path, trap/steps) gives a walkway, anything else a road. Parking bays
(``parkeervlak``) are paved, traversable road surface and become roads too.

The site boundary is the convex hull of buildings and road surfaces buffered by 5 m.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from shapely.geometry import LineString, MultiPoint, Polygon
from shapely.ops import unary_union

from geometry._synth import (
    DEFAULT_STOREY_HEIGHT_M,
    boundary_around,
    finish_building,
    largest_polygon,
    residential_use,
    storey_height_for,
    storeys_from_height,
    way_index,
)
from geometry.site import BuildingUse, Site, SiteError, Way

__all__ = ["import_cityjson", "crs_from_reference_system"]

GROUND_TOL_M = 0.3
_WALK_WORDS = ("voetpad", "voetganger", "fiets", "foot", "pedestrian", "cycle", "path", "trap", "steps")
_EPSG_RE = re.compile(r"EPSG(?:/0/|::|:|/)(\d+)", re.IGNORECASE)


def crs_from_reference_system(ref: str | None) -> str:
    """``"EPSG:<code>"`` of the horizontal CRS named by a CityJSON ``referenceSystem``
    (the first sub-CRS of a compound one); ``"LOCAL"`` when absent."""
    if not ref:
        return "LOCAL"
    m = _EPSG_RE.search(ref)
    if not m:
        return "LOCAL"
    code = int(m.group(1))
    try:
        from pyproj import CRS

        crs = CRS.from_epsg(code)
        if crs.is_compound and crs.sub_crs_list:
            sub = crs.sub_crs_list[0].to_epsg()
            if sub is not None:
                code = sub
    except Exception:  # unknown to the local PROJ database: keep the code as given
        pass
    return f"EPSG:{code}"


def _require_metric(crs: str, src: str) -> None:
    """Coordinates are used as metres: refuse a geographic or non-metre horizontal CRS."""
    if crs == "LOCAL":
        return
    try:
        from pyproj import CRS

        c = CRS.from_user_input(crs)
    except Exception:
        return  # unknown to the local PROJ database: trust the file
    units = {ax.unit_name.lower() for ax in c.axis_info[:2]}
    if not c.is_projected or not units <= {"metre", "meter"}:
        raise SiteError([f"field 'metadata.referenceSystem' is {crs} ({c.name}), but Shoumen needs a projected CRS in "
                         f"metres; reproject the file first (e.g. with cjio's 'crs_reproject')"], source=src)


def _faces(geom: dict[str, Any]) -> Iterator[tuple[list[list[int]], str | None]]:
    """(rings, semantic type) of every surface of a geometry object."""
    gtype = geom.get("type")
    b = geom.get("boundaries", [])
    sem = geom.get("semantics") or {}
    sem_surfaces = sem.get("surfaces") or []
    values = sem.get("values")

    def stype(v: Any) -> str | None:
        if isinstance(v, int) and 0 <= v < len(sem_surfaces):
            return sem_surfaces[v].get("type")
        return None

    def at(vals: Any, *idx: int) -> Any:
        for i in idx:
            if not isinstance(vals, list) or i >= len(vals):
                return None
            vals = vals[i]
        return vals

    if gtype in ("MultiSurface", "CompositeSurface"):
        for i, s in enumerate(b):
            yield s, stype(at(values, i))
    elif gtype == "Solid":
        for i, shell in enumerate(b):
            for j, s in enumerate(shell):
                yield s, stype(at(values, i, j))
    elif gtype in ("MultiSolid", "CompositeSolid"):
        for k, solid in enumerate(b):
            for i, shell in enumerate(solid):
                for j, s in enumerate(shell):
                    yield s, stype(at(values, k, i, j))


def _lod(g: dict[str, Any]) -> float:
    try:
        return float(g.get("lod", 0))
    except (TypeError, ValueError):
        return 0.0


def _best_geometry(obj: dict[str, Any]) -> dict[str, Any] | None:
    geoms = [g for g in obj.get("geometry", []) if isinstance(g, dict) and g.get("type") != "GeometryInstance"]
    return max(geoms, key=_lod) if geoms else None


def _use(attrs: dict[str, Any], storeys: int, default_use: BuildingUse) -> BuildingUse:
    text = " ".join(str(attrs.get(k, "")) for k in ("function", "usage", "use")).lower()
    if any(w in text for w in ("kindergarten", "kinderdagverblijf")):
        return BuildingUse.KINDERGARTEN
    if "community" in text:
        return BuildingUse.COMMUNITY_CENTRE
    if "garage" in text or "parking" in text:
        return BuildingUse.GARAGE
    if any(w in text for w in ("residential", "wonen", "woon", "apartment", "dwelling")) or default_use.residential:
        return residential_use(storeys)
    return default_use


def import_cityjson(
    path: str | Path,
    *,
    name: str | None = None,
    storey_height_m: float = DEFAULT_STOREY_HEIGHT_M,
    default_use: BuildingUse | str = BuildingUse.OTHER,
    boundary_margin_m: float = 5.0,
) -> Site:
    """Read a CityJSON file into a validated :class:`Site` (rules in the module docstring)."""
    src = str(path)
    default_use = BuildingUse(default_use)
    p = Path(path)
    if not p.is_file():
        raise SiteError(["file not found"], source=src)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise SiteError([f"not valid JSON at line {e.lineno}, column {e.colno}: {e.msg}"], source=src) from e
    except UnicodeDecodeError as e:
        raise SiteError([f"not UTF-8 text ({e.reason} at byte {e.start})"], source=src) from e
    if not isinstance(doc, dict) or doc.get("type") != "CityJSON":
        got = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        raise SiteError([f"not a CityJSON file: field 'type' is {got!r}, expected 'CityJSON'"], source=src)
    verts = doc.get("vertices")
    objs = doc.get("CityObjects")
    problems = []
    if not isinstance(verts, list) or not verts:
        problems.append("field 'vertices' must be a non-empty list of [x, y, z]")
    if not isinstance(objs, dict):
        problems.append("field 'CityObjects' must be an object")
    if problems:
        raise SiteError(problems, source=src)
    try:
        V = np.asarray(verts, dtype=np.float64)
    except (ValueError, TypeError):
        raise SiteError(["field 'vertices' must be a list of [x, y, z] numbers"], source=src) from None
    if V.ndim != 2 or V.shape[1] != 3:
        raise SiteError([f"field 'vertices' must be a list of [x, y, z] numbers, got shape {V.shape}"], source=src)
    meta = doc.get("metadata") or {}
    crs = crs_from_reference_system(meta.get("referenceSystem") if isinstance(meta, dict) else None)
    _require_metric(crs, src)
    tf = doc.get("transform")
    if tf is not None:
        try:
            V = V * np.asarray(tf["scale"], float) + np.asarray(tf["translate"], float)
        except (KeyError, TypeError, ValueError):
            raise SiteError(["field 'transform' must have 'scale' and 'translate' as [x, y, z] numbers"], source=src) from None
    nv = len(V)

    def rings_xyz(rings: list[list[int]], where: str) -> list[np.ndarray]:
        out = []
        for r in rings:
            idx = np.asarray(r, dtype=np.int64)
            if idx.ndim != 1:
                raise TypeError("a ring must be a flat list of vertex indices")
            if idx.size and (idx.min() < 0 or idx.max() >= nv):
                raise SiteError([f"{where}: field 'geometry' refers to vertex {int(idx.max())}, but there are only {nv} vertices"], source=src)
            out.append(V[idx])
        return out

    def plan_faces(obj_id: str, obj: dict[str, Any]) -> tuple[list[tuple[list[np.ndarray], str | None]], np.ndarray] | None:
        g = _best_geometry(obj)
        if g is None:
            return None
        try:
            faces = [(rings_xyz(r, f"city object {obj_id}"), t) for r, t in _faces(g)]
        except SiteError:
            raise
        except (IndexError, TypeError, ValueError):
            raise SiteError([f"city object {obj_id}: field 'geometry.boundaries' is not nested as its type "
                             f"{g.get('type')!r} requires (lists of rings of vertex indices)"], source=src) from None
        faces = [f for f in faces if f[0] and len(f[0][0]) >= 3]
        if not faces:
            return None
        allv = np.concatenate([r for f in faces for r in f[0]])
        return faces, allv

    def footprint_of(faces: list[tuple[list[np.ndarray], str | None]], allv: np.ndarray) -> Polygon | None:
        zmin = float(allv[:, 2].min())
        plan = _union_plan(faces)
        ground = [f for f in faces if f[1] == "GroundSurface"]
        if not ground:
            ground = [f for f in faces if float(f[0][0][:, 2].max()) <= zmin + GROUND_TOL_M]
        fp = _union_plan(ground)
        if fp is None or (plan is not None and fp.area < 0.5 * plan.area):
            fp = plan  # no (or a partial) floor: the plan outline of all non-vertical faces
        if fp is None or fp.area <= 0:
            hull = MultiPoint(allv[:, :2]).convex_hull
            fp = hull if isinstance(hull, Polygon) and hull.area > 0 else None
        return fp

    # ---- buildings: parent -> its own object plus its BuildingParts
    groups: dict[str, list[str]] = {}
    for oid, o in objs.items():
        if not isinstance(o, dict):
            continue
        t = o.get("type")
        if t == "Building":
            groups.setdefault(oid, []).insert(0, oid)
        elif t == "BuildingPart":
            parents = [pid for pid in (o.get("parents") or []) if isinstance(objs.get(pid), dict) and objs[pid].get("type") == "Building"]
            groups.setdefault(parents[0] if parents else oid, []).append(oid)
    # ---- roads first, so exits can face them
    ways: list[Way] = []
    road_polys = []
    for oid in sorted(k for k, o in objs.items() if isinstance(o, dict) and o.get("type") == "Road"):
        o = objs[oid]
        pf = plan_faces(oid, o)
        if pf is None:
            continue
        polys = [Polygon(f[0][0][:, :2]).buffer(0) for f in pf[0]]
        u = unary_union([q for q in polys if q.area > 0])
        if u.is_empty:
            continue
        line, width = _axis(u)
        if line is None or width <= 0:
            continue
        attrs = o.get("attributes") or {}
        text = str(attrs.get("function", "")).lower()
        kind = "walkway" if any(w in text for w in _WALK_WORDS) else "road"
        road_polys.append(u)
        ways.append(Way(id=f"W{len(ways) + 1:03d}", line=line, width_m=width, kind=kind, name=str(attrs.get("name") or oid)))
    index = way_index([w.line for w in ways])

    buildings = []
    skipped = []
    order = sorted(groups)
    digits = max(2, len(str(len(order))))
    for gid in order:
        faces: list[tuple[list[np.ndarray], str | None]] = []
        verts_parts = []
        fps = []
        for oid in groups[gid]:
            pf = plan_faces(oid, objs[oid])
            if pf is None:
                continue
            fp = footprint_of(*pf)
            if fp is not None:
                fps.append(fp)
            faces.extend(pf[0])
            verts_parts.append(pf[1])
        if not fps:
            skipped.append(gid)
            continue
        fp = largest_polygon(unary_union(fps)) if len(fps) > 1 else fps[0]
        if fp is None:
            skipped.append(gid)
            continue
        allv = np.concatenate(verts_parts)
        attrs = objs[gid].get("attributes") or {}
        zmin, zmax = float(allv[:, 2].min()), float(allv[:, 2].max())
        h = attrs.get("measuredHeight")
        height = float(h) if isinstance(h, (int, float)) and not isinstance(h, bool) and h > 0 else zmax - zmin
        sag = attrs.get("storeysAboveGround")
        storeys = int(sag) if isinstance(sag, (int, float)) and not isinstance(sag, bool) and sag >= 1 else storeys_from_height(height, storey_height_m=storey_height_m)
        sbg = attrs.get("storeysBelowGround")
        basements = int(sbg) if isinstance(sbg, (int, float)) and not isinstance(sbg, bool) and sbg >= 0 else 0
        bid = f"B{len(buildings) + 1:0{digits}d}"
        buildings.append(
            finish_building(
                bid, fp, use=_use(attrs, storeys, default_use), storeys=storeys,
                storey_height_m=storey_height_for(height, storeys, default_m=storey_height_m),
                basement_levels=basements, name=str(attrs.get("name") or gid), base_z=zmin, ways=index,
            )
        )
    if not buildings:
        raise SiteError(["no buildings found (expected CityObjects of type Building or BuildingPart with geometry)"], source=src)

    boundary = boundary_around([b.footprint for b in buildings] + road_polys, margin_m=boundary_margin_m)
    site = Site(
        name=name or p.name.split(".")[0],
        boundary=boundary,
        crs=crs,
        buildings=buildings,
        ways=ways,
        source=src,
    )
    return site.validate(source=src)


def _union_plan(faces: list[tuple[list[np.ndarray], str | None]]) -> Polygon | None:
    """The largest polygon of the union of the faces' plan projections (vertical faces, which
    project to nothing, drop out); hairline gaps between faces are closed with a 0.1 mm
    buffer-unbuffer."""
    polys = []
    for rings, _ in faces:
        poly = Polygon(rings[0][:, :2], [r[:, :2] for r in rings[1:] if len(r) >= 3])
        if not poly.is_valid:
            poly = poly.buffer(0)
        if poly.area > 1e-6:
            polys.append(poly)
    if not polys:
        return None
    u = unary_union(polys).buffer(1e-4, join_style="mitre").buffer(-1e-4, join_style="mitre")
    return largest_polygon(u)


def _axis(poly: Any) -> tuple[LineString | None, float]:
    """Long axis (through the centre) and short side of the minimum rotated rectangle."""
    rect = poly.minimum_rotated_rectangle
    if not isinstance(rect, Polygon) or rect.area <= 0:
        return None, 0.0
    xy = np.asarray(rect.exterior.coords)[:4]
    e0, e1 = xy[1] - xy[0], xy[2] - xy[1]
    l0, l1 = float(np.hypot(*e0)), float(np.hypot(*e1))
    c = xy.mean(axis=0)
    if l0 >= l1:
        a, w = e0, l1
    else:
        a, w = e1, l0
    line = LineString([tuple(c - a / 2), tuple(c + a / 2)])
    return (line if line.length > 0 else None), w

"""3D pictures of a site: an off-screen pyvista render of terrain, buildings, ways, gates, open
spaces, cameras with their view cones and field devices, written to a PNG for reports.

What is drawn (all lengths in metres, site CRS x east, y north, z up):

* terrain: the DEM as a surface coloured by elevation (muted blue-green low, sand high), or a
  flat ground plane at the datum when the site has none;
* buildings: footprints extruded from ``base_z`` to ``base_z + storeys * storey_height_m``,
  coloured by use, with a line around the footprint at every storey height; a fully
  underground building (``storeys == 0``, e.g. the garage) as a translucent box below
  ``base_z`` with its outline and a translucent patch on the ground above it;
* ways as flat ribbons of their width draped slightly above the terrain (roads darker than
  footpaths); a ramp next to an underground building descends to that building's level -1,
  and the terrain above it is cut open so it can be seen;
* gates as arches across the boundary, open spaces as draped patches, assembly points in green;
* cameras as small cones at mount height pointing along ``yaw_deg`` (degrees clockwise from
  north) with translucent view cones (``fov_deg`` wide, ``range_m`` long);
* other devices as small glyphs coloured by kind; devices inside a building are drawn on its
  facade (they would be hidden inside the box), devices below ground on the ground above them;
  per-household devices (thousands of smoke detectors) are aggregated: one dot per building,
  storey and kind on the facade facing the viewer, with the counts in the building's label;
* a legend, a title, an elevation colour bar, a scale bar and a north arrow on the ground.

Rendering happens in a local frame shifted by :func:`scene_origin` (a round number near the
site's south-west corner), because projected coordinates such as RD-New (~85,000, 447,000 m)
lose precision in the float32 graphics pipeline. :func:`site_meshes` returns the meshes (in
site coordinates by default) so that other pictures (fire smoke, flood water) can reuse and
recolour them; :func:`render_scene` accepts extra meshes in site coordinates.

pyvista/VTK are imported lazily inside the functions (no import-time side effects); the render
window is VTK's EGL window (headless).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import LinearRing, LineString, MultiPolygon, Point, Polygon

from geometry.site import Building, Device, DeviceKind, Site, Terrain
from viz import _style as st

if TYPE_CHECKING:  # pragma: no cover
    import pyvista as pv

__all__ = ["CAMERA_VIEWS", "render_scene", "scene_origin", "site_meshes"]

#: Named viewpoints: (compass bearing from the site centre to the camera, degrees clockwise
#: from north; elevation angle above the horizon, degrees).
CAMERA_VIEWS: dict[str, tuple[float, float]] = {
    "iso": (210.0, 38.0),
    "iso_sw": (225.0, 35.0),
    "iso_se": (135.0, 35.0),
    "iso_ne": (45.0, 35.0),
    "iso_nw": (315.0, 35.0),
    "top": (180.0, 90.0),
    "south": (180.0, 14.0),
    "north": (0.0, 14.0),
    "east": (90.0, 14.0),
    "west": (270.0, 14.0),
    # pyvista-style aliases
    "xy": (180.0, 90.0),
    "xz": (180.0, 14.0),
    "yz": (90.0, 14.0),
}

ZF = Callable[[np.ndarray, np.ndarray], np.ndarray]

# heights above the terrain (m) of draped layers, lowest first, to keep them apart in depth
_LIFT_OPEN = 0.06
_LIFT_WAY = {"walkway": 0.10, "road": 0.13, "fire_lane": 0.15, "ramp": 0.10}
_LIFT_LINE = 0.25


# --------------------------------------------------------------------------- frame
def scene_origin(site: Site) -> tuple[float, float]:
    """The local origin used for rendering: the boundary's south-west corner rounded down to
    100 m (0, 0 for sites already near the origin)."""
    x0, y0, _, _ = site.boundary.bounds
    if abs(x0) < 1000.0 and abs(y0) < 1000.0:
        return (0.0, 0.0)
    return (math.floor(x0 / 100.0) * 100.0, math.floor(y0 / 100.0) * 100.0)


def _datum_z(site: Site) -> float:
    above = [b.base_z for b in site.buildings if b.storeys > 0]
    return float(np.median(above)) if above else 0.0


def _ground_fn(site: Site, origin: tuple[float, float]) -> ZF:
    ox, oy = origin
    terrain = site.terrain
    if terrain is None:
        z0 = _datum_z(site)
        return lambda x, y: np.full(np.shape(np.asarray(x, float)), z0)
    return lambda x, y: np.asarray(terrain.elevation_at(np.asarray(x, float) + ox, np.asarray(y, float) + oy))


def _shift(geom: Any, origin: tuple[float, float]) -> Any:
    if origin == (0.0, 0.0):
        return geom
    return affinity.translate(geom, -origin[0], -origin[1])


def _polys(geom: Any) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [] if geom.is_empty else [geom]
    if isinstance(geom, MultiPolygon):
        return [g for g in geom.geoms if not g.is_empty]
    if hasattr(geom, "geoms"):
        return [g for g in geom.geoms if isinstance(g, Polygon) and not g.is_empty]
    return []


# --------------------------------------------------------------------------- mesh builders
def _faces(cells: Iterable[Sequence[int]]) -> np.ndarray:
    out: list[int] = []
    for c in cells:
        out.append(len(c))
        out.extend(int(i) for i in c)
    return np.asarray(out, dtype=np.int64)


def _triangulate(poly: Polygon) -> tuple[np.ndarray, np.ndarray]:
    """Constrained Delaunay triangulation of a polygon (holes respected): points (n, 2) and
    triangles (m, 3)."""
    tris = shapely.get_parts(shapely.constrained_delaunay_triangles(poly))
    if len(tris) == 0:
        return np.zeros((0, 2)), np.zeros((0, 3), dtype=np.int64)
    ring = shapely.get_coordinates(shapely.get_exterior_ring(tris)).reshape(-1, 4, 2)[:, :3, :]
    pts, inv = np.unique(np.round(ring.reshape(-1, 2), 6), axis=0, return_inverse=True)
    return pts, inv.reshape(-1, 3)


def _tri_mesh(points: np.ndarray, tris: np.ndarray) -> "pv.PolyData":
    import pyvista as pv

    tris = np.asarray(tris, dtype=np.int64).reshape(-1, 3)
    faces = np.hstack([np.full((len(tris), 1), 3, dtype=np.int64), tris]).ravel()
    return pv.PolyData(np.asarray(points, dtype=float), faces)


def _merge(meshes: Sequence["pv.PolyData"]) -> "pv.PolyData | None":
    import pyvista as pv

    meshes = [m for m in meshes if m is not None and m.n_points > 0]
    if not meshes:
        return None
    if len(meshes) == 1:
        return meshes[0]
    return pv.merge(meshes, merge_points=False)


def _extrude(poly: Polygon, z0: float, z1: float) -> "pv.PolyData":
    """A closed prism: the polygon (holes allowed) from z0 to z1."""
    import pyvista as pv

    pts2, tri = _triangulate(poly)
    n = len(pts2)
    pts = [np.c_[pts2, np.full(n, z0)], np.c_[pts2, np.full(n, z1)]]
    cells: list[Sequence[int]] = [t[::-1] for t in tri] + [t + n for t in tri]
    base = 2 * n
    for ring in [poly.exterior, *poly.interiors]:
        c = np.asarray(ring.coords)[:-1, :2]
        k = len(c)
        pts.append(np.c_[c, np.full(k, z0)])
        pts.append(np.c_[c, np.full(k, z1)])
        for i in range(k):
            j = (i + 1) % k
            cells.append((base + i, base + j, base + k + j, base + k + i))
        base += 2 * k
    return pv.PolyData(np.vstack(pts), _faces(cells))


def _drape(poly: Polygon, zfn: ZF, lift: float, *, spacing: float, flat: bool) -> "pv.PolyData | None":
    """A polygon laid on the surface ``zfn`` + ``lift``, refined to ``spacing`` so it follows
    the terrain."""
    if poly.is_empty or poly.area <= 0:
        return None
    if not flat:
        poly = shapely.segmentize(poly, spacing)
    pts2, tri = _triangulate(poly)
    if len(tri) == 0:
        return None
    mesh = _tri_mesh(np.c_[pts2, np.zeros(len(pts2))], tri)
    if not flat:
        mesh = mesh.subdivide_adaptive(max_edge_len=spacing, max_n_passes=8)
    p = np.asarray(mesh.points)
    p[:, 2] = zfn(p[:, 0], p[:, 1]) + lift
    mesh.points = p
    return mesh


def _polyline(coords: np.ndarray) -> "pv.PolyData":
    import pyvista as pv

    coords = np.asarray(coords, dtype=float)
    n = len(coords)
    return pv.PolyData(coords, lines=np.r_[n, np.arange(n)].astype(np.int64))


def _draped_ring(ring: LinearRing | LineString, zfn: ZF, lift: float, spacing: float) -> "pv.PolyData":
    c = shapely.get_coordinates(shapely.segmentize(ring, spacing))
    return _polyline(np.c_[c, zfn(c[:, 0], c[:, 1]) + lift])


def _obox(cx: float, cy: float, z0: float, z1: float, along: float, across: float, angle: float) -> "pv.PolyData":
    """An oriented box centred at (cx, cy), ``along`` long in direction ``angle`` (radians from
    +x), ``across`` wide, from z0 to z1."""
    import pyvista as pv

    ux, uy = math.cos(angle), math.sin(angle)
    vx, vy = -uy, ux
    a, b = along / 2.0, across / 2.0
    corners = [(-a, -b), (a, -b), (a, b), (-a, b)]
    xy = [(cx + s * ux + t * vx, cy + s * uy + t * vy) for s, t in corners]
    pts = np.array([(x, y, z0) for x, y in xy] + [(x, y, z1) for x, y in xy])
    cells = [(0, 3, 2, 1), (4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7)]
    return pv.PolyData(pts, _faces(cells))


def _glyphs(points: np.ndarray, geom: "pv.PolyData", vectors: np.ndarray | None = None) -> "pv.PolyData | None":
    import pyvista as pv

    if len(points) == 0:
        return None
    cloud = pv.PolyData(np.asarray(points, dtype=float))
    if vectors is not None:
        cloud["dir"] = np.asarray(vectors, dtype=float)
        return cloud.glyph(orient="dir", scale=False, geom=geom)
    return cloud.glyph(orient=False, scale=False, geom=geom)


def _outward_point(poly: Polygon, near: Point, offset: float) -> tuple[float, float]:
    """The point ``offset`` metres outside the footprint's exterior, nearest to ``near``."""
    ring = poly.exterior
    s = ring.project(near)
    q = ring.interpolate(s)
    q2 = ring.interpolate((s + 0.2) % ring.length)
    q0 = ring.interpolate((s - 0.2) % ring.length)
    tx, ty = q2.x - q0.x, q2.y - q0.y
    norm = math.hypot(tx, ty) or 1.0
    nx, ny = ty / norm, -tx / norm
    if poly.contains(Point(q.x + 0.05 * nx, q.y + 0.05 * ny)):
        nx, ny = -nx, -ny
    return (q.x + offset * nx, q.y + offset * ny)


def _facing_anchor(poly: Polygon, facing_deg: float) -> float:
    """Distance along the exterior ring of the vertex that faces compass bearing
    ``facing_deg`` most (the corner a viewer from that side sees)."""
    dx, dy = math.sin(math.radians(facing_deg)), math.cos(math.radians(facing_deg))
    c = np.asarray(poly.exterior.coords)[:-1]
    k = int(np.argmax(c[:, 0] * dx + c[:, 1] * dy))
    return float(poly.exterior.project(Point(c[k])))


def _ramp_target(way_line: LineString, site: Site, shifted: Mapping[str, Polygon]) -> tuple[Building, bool] | None:
    """The below-ground building a ramp leads into and whether the line *ends* there."""
    start, end = Point(way_line.coords[0]), Point(way_line.coords[-1])
    best: tuple[float, Building, bool] | None = None
    for b in site.buildings:
        if b.basement_levels < 1:
            continue
        fp = shifted[b.id]
        for d, at_end in ((fp.distance(start), False), (fp.distance(end), True)):
            if d <= 12.0 and (best is None or d < best[0]):
                best = (d, b, at_end)
    return None if best is None else (best[1], best[2])


# --------------------------------------------------------------------------- meshes
def site_meshes(
    site: Site,
    *,
    origin: tuple[float, float] = (0.0, 0.0),
    facing_deg: float = 210.0,
    glyph_scale: float | None = None,
) -> dict[str, "pv.PolyData"]:
    """The meshes of a site picture, by name, in site coordinates less ``origin`` (m).

    Names: ``terrain`` (point data ``elevation``, m) or ``ground``; ``building:<id>`` for every
    building (above ground: ``base_z`` to ``base_z + height_m``; fully underground: the box of
    its basement levels below ``base_z``); ``storey_lines``; ``underground_patch`` and
    ``underground_outline``; ``way:<kind>``; ``open_space:<kind>``; ``assembly_points`` and
    ``assembly_outline``; ``gates``; ``boundary``; ``cameras``, ``camera_poles``,
    ``view_cones`` (the 3D fans) and ``view_cone_ground``; ``devices:<kind>`` (glyphs; per-household
    devices aggregated to one dot per building, storey and kind on the facade facing compass
    bearing ``facing_deg``). ``glyph_scale`` (m) sizes cameras and device glyphs (default from
    the site's extent). Absent features have no entry.
    """
    import pyvista as pv

    origin = (float(origin[0]), float(origin[1]))
    ox, oy = origin
    zfn = _ground_fn(site, origin)
    bx0, by0, bx1, by1 = _shift(site.boundary, origin).bounds
    span = max(bx1 - bx0, by1 - by0, 1.0)
    gs = glyph_scale if glyph_scale is not None else max(0.8, span / 160.0)
    cell = site.terrain.cell_size_m if site.terrain is not None else None
    flat = site.terrain is None
    spacing = max(cell or 2.0, span / 400.0)
    out: dict[str, pv.PolyData] = {}

    fps = {b.id: _shift(b.footprint, origin) for b in site.buildings}

    # -- ways first: a ramp into a garage cuts the terrain
    way_meshes: dict[str, list[pv.PolyData]] = {}
    cuts: list[Polygon] = []
    for w in site.ways:
        line = _shift(w.line, origin)
        area = line.buffer(w.width_m / 2.0, cap_style="flat")
        fn = zfn
        if w.kind == "ramp":
            tgt = _ramp_target(line, site, fps)
            if tgt is not None:
                b, at_end = tgt
                L = line.length
                zb = b.level_z(-1)
                p_top = Point(line.coords[0] if at_end else line.coords[-1])
                z_top = float(zfn(np.array([p_top.x]), np.array([p_top.y]))[0])

                def fn(x: np.ndarray, y: np.ndarray, line: LineString = line, L: float = L,
                       z_top: float = z_top, zb: float = zb, at_end: bool = at_end) -> np.ndarray:
                    s = shapely.line_locate_point(line, shapely.points(np.c_[x, y])) / L
                    f = s if at_end else 1.0 - s
                    return z_top + (zb - z_top) * np.clip(f, 0.0, 1.0)

                cuts.append(area)
        for poly in _polys(area):
            m = _drape(poly, fn, _LIFT_WAY.get(w.kind, 0.1), spacing=spacing, flat=flat and w.kind != "ramp")
            if m is not None:
                way_meshes.setdefault(w.kind, []).append(m)
    for kind, ms in way_meshes.items():
        merged = _merge(ms)
        if merged is not None:
            out[f"way:{kind}"] = merged

    # -- terrain or ground plane
    if site.terrain is not None:
        t: Terrain = site.terrain
        z = np.asarray(t.z, dtype=float)
        stride = max(1, int(math.ceil(math.sqrt(z.size / 400_000.0))))
        z = z[::stride, ::stride]
        ny, nx = z.shape
        cs = t.cell_size_m * stride
        xs = t.origin[0] - ox + (np.arange(nx) * stride + stride / 2.0) * t.cell_size_m
        ys = t.origin[1] - oy + (np.arange(ny) * stride + stride / 2.0) * t.cell_size_m
        X, Y = np.meshgrid(xs, ys)
        grid = pv.StructuredGrid(X, Y, z)
        grid["elevation"] = z.ravel(order="F")
        surf = grid.extract_surface(algorithm="dataset_surface")
        if cuts:
            cut = shapely.union_all(cuts).buffer(cs * 0.5)
            cc = np.asarray(surf.cell_centers().points)
            inside = shapely.contains_xy(cut, cc[:, 0], cc[:, 1])
            if inside.any():
                surf = surf.extract_cells(np.flatnonzero(~inside)).extract_surface(algorithm="dataset_surface")
        out["terrain"] = surf
    else:
        m = 0.15 * span
        z0 = _datum_z(site)
        out["ground"] = pv.Plane(center=((bx0 + bx1) / 2, (by0 + by1) / 2, z0 - 0.02), direction=(0, 0, 1),
                                 i_size=bx1 - bx0 + 2 * m, j_size=by1 - by0 + 2 * m)

    # -- buildings
    storey_lines: list[pv.PolyData] = []
    ug_patch: list[pv.PolyData] = []
    ug_outline: list[pv.PolyData] = []
    for b in site.buildings:
        fp = fps[b.id]
        parts = _polys(fp)
        if st.is_underground(b):
            z_lo = b.base_z - b.basement_levels * b.storey_height_m
            mesh = _merge([_extrude(p, z_lo, b.base_z) for p in parts])
            for p in parts:
                ug_patch.append(_drape(p, zfn, _LIFT_OPEN + 0.02, spacing=spacing, flat=flat))
                ug_outline.append(_draped_ring(p.exterior, zfn, _LIFT_LINE, spacing))
        else:
            mesh = _merge([_extrude(p, b.base_z, b.base_z + b.height_m) for p in parts])
            for p in parts:
                ring = p.buffer(0.04, join_style="mitre").exterior
                c = np.asarray(ring.coords)[:, :2]
                for k in range(1, b.storeys):
                    storey_lines.append(_polyline(np.c_[c, np.full(len(c), b.level_z(k))]))
        if mesh is not None:
            mesh.field_data["building"] = np.array([b.id])
            out[f"building:{b.id}"] = mesh
    for name, ms in (("storey_lines", storey_lines), ("underground_patch", ug_patch),
                     ("underground_outline", ug_outline)):
        merged = _merge(ms)
        if merged is not None:
            out[name] = merged

    # -- open spaces and assembly points
    open_meshes: dict[str, list[pv.PolyData]] = {}
    ap_meshes: list[pv.PolyData] = []
    ap_lines: list[pv.PolyData] = []
    for o in site.open_spaces:
        for p in _polys(_shift(o.polygon, origin)):
            m = _drape(p, zfn, _LIFT_OPEN + (0.01 if o.assembly_point else 0.0), spacing=spacing, flat=flat)
            if o.assembly_point:
                ap_meshes.append(m)
                ap_lines.append(_draped_ring(p.exterior, zfn, _LIFT_LINE, spacing))
            else:
                open_meshes.setdefault(o.kind, []).append(m)
    for kind, ms in open_meshes.items():
        merged = _merge(ms)
        if merged is not None:
            out[f"open_space:{kind}"] = merged
    for name, ms in (("assembly_points", ap_meshes), ("assembly_outline", ap_lines)):
        merged = _merge(ms)
        if merged is not None:
            out[name] = merged

    # -- boundary and gates
    boundary = _shift(site.boundary, origin)
    out["boundary"] = _merge([_draped_ring(p.exterior, zfn, _LIFT_LINE, spacing) for p in _polys(boundary)])
    gate_meshes: list[pv.PolyData] = []
    ext = _polys(boundary)[0].exterior if _polys(boundary) else None
    for g in site.gates:
        p = _shift(g.position, origin)
        angle = 0.0
        if ext is not None:
            s = ext.project(p)
            a, c = ext.interpolate(s - 1.0), ext.interpolate(s + 1.0)
            angle = math.atan2(c.y - a.y, c.x - a.x)
        zg = float(zfn(np.array([p.x]), np.array([p.y]))[0])
        h = 4.5 if g.kind in ("vehicle", "mixed") else 3.0
        post = 0.5
        ux, uy = math.cos(angle), math.sin(angle)
        half = g.width_m / 2.0 + post / 2.0
        for sgn in (-1.0, 1.0):
            gate_meshes.append(_obox(p.x + sgn * half * ux, p.y + sgn * half * uy, zg, zg + h, post, post, angle))
        gate_meshes.append(_obox(p.x, p.y, zg + h - 0.6, zg + h, g.width_m + 2 * post, post, angle))
    merged = _merge(gate_meshes)
    if merged is not None:
        out["gates"] = merged

    # -- cameras and view cones
    cams = [d for d in site.devices if d.kind == DeviceKind.CAMERA and d.camera is not None]
    if cams:
        apex, dirs, poles, fans, grounds = [], [], [], [], []
        for d in cams:
            c = d.camera
            assert c is not None
            p = _shift(d.position, origin)
            floor = _device_floor(site, d, zfn, p)
            za = floor + c.mount_height_m
            yaw, tilt = math.radians(c.yaw_deg), math.radians(c.tilt_deg)
            apex.append((p.x, p.y, za))
            dirs.append((math.sin(yaw) * math.cos(tilt), math.cos(yaw) * math.cos(tilt), -math.sin(tilt)))
            if d.building is None:
                poles.append(_polyline(np.array([(p.x, p.y, floor), (p.x, p.y, za)])))
            sector = c.cone(p, segments=max(8, int(c.fov_deg / 6)))
            arc = np.asarray(sector.exterior.coords)[1:-1, :2]
            if d.building is None:
                az = zfn(arc[:, 0], arc[:, 1]) + _LIFT_OPEN + 0.03
                zc = float(zfn(np.array([p.x]), np.array([p.y]))[0]) + _LIFT_OPEN + 0.03
            else:
                az = np.full(len(arc), floor + 0.05)
                zc = floor + 0.05
            k = len(arc)
            pts = np.vstack([[p.x, p.y, za], np.c_[arc, az]])
            fans.append(_tri_mesh(pts, [(0, i + 1, i + 2) for i in range(k - 1)]))
            gpts = np.vstack([[p.x, p.y, zc], np.c_[arc, az]])
            grounds.append(_tri_mesh(gpts, [(0, i + 1, i + 2) for i in range(k - 1)]))
        cone = pv.Cone(center=(0.0, 0.0, 0.0), direction=(1.0, 0.0, 0.0), height=1.3 * gs, radius=0.5 * gs,
                       resolution=16)
        out["cameras"] = _glyphs(np.asarray(apex), cone, np.asarray(dirs))
        for name, ms in (("camera_poles", poles), ("view_cones", fans), ("view_cone_ground", grounds)):
            merged = _merge(ms)
            if merged is not None:
                out[name] = merged

    # -- other devices
    r = 0.45 * gs
    sphere = pv.Sphere(radius=r, theta_resolution=12, phi_resolution=8)
    disc = pv.Cylinder(center=(0, 0, 0), direction=(0, 0, 1), radius=0.9 * r * 1.6, height=0.15)
    pts_by_kind: dict[DeviceKind, list[tuple[float, float, float]]] = {}
    household: dict[tuple[str, int, DeviceKind], int] = {}
    for d in site.devices:
        if d.kind == DeviceKind.CAMERA:
            continue
        if d.unit is not None and d.building is not None and d.level is not None:
            household[(d.building, d.level, d.kind)] = household.get((d.building, d.level, d.kind), 0) + 1
            continue
        p = _shift(d.position, origin)
        if d.building is None:
            zg = float(zfn(np.array([p.x]), np.array([p.y]))[0])
            zz = zg + (0.1 if d.kind == DeviceKind.MANHOLE else max(d.z, 0.0) + r + 0.1)
            pts_by_kind.setdefault(d.kind, []).append((p.x, p.y, zz))
            continue
        b = site.building(d.building)
        level = d.level if d.level is not None else 0
        fp = _polys(fps[b.id])[0]
        if level < 0 or st.is_underground(b):
            zg = float(zfn(np.array([p.x]), np.array([p.y]))[0])
            pts_by_kind.setdefault(d.kind, []).append((p.x, p.y, zg + r + 0.15))
        else:
            qx, qy = _outward_point(fp, p, r * 1.3)
            pts_by_kind.setdefault(d.kind, []).append((qx, qy, b.level_z(level) + max(d.z, r)))
    # household devices: one dot per building, storey and kind on the facing facade corner
    kinds_per_building: dict[str, list[DeviceKind]] = {}
    for (bid, _lvl, kind) in household:
        ks = kinds_per_building.setdefault(bid, [])
        if kind not in ks:
            ks.append(kind)
    for (bid, lvl, kind), _n in household.items():
        b = site.building(bid)
        fp = _polys(fps[bid])[0]
        ks = sorted(kinds_per_building[bid], key=lambda k: k.value)
        s0 = _facing_anchor(fp, facing_deg)
        step = 3.0 * r
        s = (s0 + (ks.index(kind) - (len(ks) - 1) / 2.0) * step + 2.5 * r) % fp.exterior.length
        q = fp.exterior.interpolate(s)
        qx, qy = _outward_point(fp, q, r * 1.3)
        zl = b.level_z(lvl) + min(b.storey_height_m * 0.5, b.storey_height_m - r)
        pts_by_kind.setdefault(kind, []).append((qx, qy, zl))
    for kind, pts in pts_by_kind.items():
        g = _glyphs(np.asarray(pts), disc if kind == DeviceKind.MANHOLE else sphere)
        if g is not None:
            out[f"devices:{kind.value}"] = g
    return out


def _device_floor(site: Site, d: Device, zfn: ZF, p: Point) -> float:
    """Elevation (m) of the floor a device stands on."""
    if d.building is not None:
        try:
            b = site.building(d.building)
        except KeyError:
            b = None
        if b is not None:
            return b.level_z(d.level if d.level is not None else 0)
    return float(zfn(np.array([p.x]), np.array([p.y]))[0])


# --------------------------------------------------------------------------- render
def render_scene(
    site: Site,
    path: str | os.PathLike[str],
    *,
    window_size: tuple[int, int] = (1600, 1000),
    camera_position: str = "iso",
    show_devices: bool = True,
    show_view_cones: bool = True,
    building_colors: Mapping[str, str] | None = None,
    title: str | None = None,
    show_labels: bool | None = None,
    extra: Sequence[tuple["pv.DataSet", dict[str, Any]]] = (),
    extra_legend: Sequence[tuple[str, str]] = (),
    focus: Sequence[str] = (),
    building_opacity: Mapping[str, float] | None = None,
) -> Path:
    """Render the site off-screen to a PNG of ``window_size`` pixels at ``path``; return the path.

    The 3D view fills the left of the picture, the legend the right-hand panel. The title, the
    legend and the elevation colour bar are drawn with matplotlib over the pyvista render, so
    they read the same as the 2D site map.

    ``camera_position`` is one of :data:`CAMERA_VIEWS` (``iso``: from the south-south-west,
    38 degrees up; ``top``/``xy`` a plan view). ``building_colors`` maps building ids to colours
    (any matplotlib/pyvista colour) that replace the colour by use, e.g. to show smoke-logged
    buildings. ``show_labels`` puts building ids, storeys and per-household device counts on
    the roofs (default: when the site has at most 40 buildings). ``extra`` adds meshes *in site
    coordinates* with their ``add_mesh`` keyword arguments (they are moved into the render
    frame); ``extra_legend`` adds ``(label, colour)`` legend entries for them. ``focus`` names
    buildings to frame (with 15 m around them) instead of the whole site; ``building_opacity``
    makes named buildings see-through (0..1), e.g. to show the smoke inside.
    """
    if camera_position not in CAMERA_VIEWS:
        raise ValueError(
            f"render_scene: camera_position must be one of {', '.join(CAMERA_VIEWS)}; got {camera_position!r}"
        )
    w, h = (int(window_size[0]), int(window_size[1]))
    if w < 100 or h < 100:
        raise ValueError(f"render_scene: window_size must be at least 100 x 100 pixels, got {window_size!r}")
    if building_colors:
        known = {b.id for b in site.buildings}
        unknown = sorted(set(building_colors) - known)
        if unknown:
            raise ValueError(f"render_scene: building_colors names unknown building(s) {', '.join(unknown)}")
    unknown_focus = sorted(set(focus) - {b.id for b in site.buildings})
    if unknown_focus:
        raise ValueError(f"render_scene: focus names unknown building(s) {', '.join(unknown_focus)}")

    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    import pyvista as pv

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    origin = scene_origin(site)
    bearing, elev = CAMERA_VIEWS[camera_position]
    top_view = elev >= 89.0
    facing = bearing if not top_view else 200.0
    meshes = site_meshes(site, origin=origin, facing_deg=facing)
    zfn = _ground_fn(site, origin)
    bx0, by0, bx1, by1 = _shift(site.boundary, origin).bounds
    span = max(bx1 - bx0, by1 - by0, 1.0)
    scale = h / 1000.0
    fs_label = max(7, int(round(11 * scale)))
    lw = max(1.0, 1.6 * scale)
    panel = int(round(w * 0.2))
    w3 = w - panel

    legend: list[tuple[str, str, str]] = []  # (label, colour, marker: patch|line|dot|cone)
    terrain_clim: tuple[float, float] | None = None
    pl = pv.Plotter(off_screen=True, window_size=[w3, h], lighting="light_kit")
    try:
        pl.set_background("#f7f8fa", top="#dde6ee")

        def add(name: str, **kw: Any) -> bool:
            m = meshes.get(name)
            if m is None or m.n_points == 0:
                return False
            pl.add_mesh(m, **kw)
            return True

        if "terrain" in meshes:
            zt = np.asarray(meshes["terrain"]["elevation"])
            lo, hi = float(zt.min()), float(zt.max())
            if hi - lo < 0.1:
                hi = lo + 0.1
            terrain_clim = (lo, hi)
            pl.add_mesh(meshes["terrain"], scalars="elevation", cmap=_terrain_cmap(), clim=terrain_clim,
                        smooth_shading=True, ambient=0.3, diffuse=0.75, specular=0.0, show_scalar_bar=False)
        else:
            add("ground", color="#e3e7dc", ambient=0.3, diffuse=0.65)

        for kind in st.OPEN_COLORS:
            if add(f"open_space:{kind}", color=st.OPEN_COLORS[kind], ambient=0.35):
                legend.append((f"{kind} (open space)", st.OPEN_COLORS[kind], "patch"))
        if add("assembly_points", color=st.ASSEMBLY_COLOR, opacity=0.9, ambient=0.35):
            add("assembly_outline", color=st.ASSEMBLY_EDGE, line_width=3 * lw)
            legend.append(("assembly point", st.ASSEMBLY_COLOR, "patch"))
        for kind in st.WAY_ORDER:
            if add(f"way:{kind}", color=st.WAY_COLORS[kind], ambient=0.4):
                legend.append((st.WAY_LABELS[kind], st.WAY_COLORS[kind], "patch"))
        if add("boundary", color=st.BOUNDARY_COLOR, line_width=2 * lw):
            legend.append(("estate boundary", st.BOUNDARY_COLOR, "line"))

        uses_seen: list[Any] = []
        for b in site.buildings:
            name = f"building:{b.id}"
            if name not in meshes:
                continue
            override = (building_colors or {}).get(b.id)
            color = override or st.building_color(b)
            if st.is_underground(b):
                pl.add_mesh(meshes[name], color=color, opacity=0.3)
                key: Any = "underground"
            else:
                op = float((building_opacity or {}).get(b.id, 1.0))
                pl.add_mesh(meshes[name], color=color, ambient=0.3, diffuse=0.75, specular=0.05, opacity=op)
                key = b.use
            if override is None and key not in uses_seen:
                uses_seen.append(key)
        add("storey_lines", color="#5d5249", line_width=lw, opacity=0.5)
        add("underground_patch", color=st.USE_COLORS[st.BuildingUse.GARAGE], opacity=0.45, ambient=0.4)
        add("underground_outline", color="#37474f", line_width=2.5 * lw)
        for u in uses_seen:
            if u == "underground":
                legend.append((st.UNDERGROUND_LABEL + " (outline)", st.USE_COLORS[st.BuildingUse.GARAGE], "patch"))
            else:
                legend.append((st.USE_LABELS[u], st.USE_COLORS[u], "patch"))
        if add("gates", color=st.GATE_COLOR, ambient=0.35):
            legend.append(("gate", st.GATE_COLOR, "patch"))

        if show_devices and add("cameras", color=st.CAMERA_COLOR, ambient=0.3):
            add("camera_poles", color="#555555", line_width=lw)
            legend.append(("camera", st.CAMERA_COLOR, "cone"))
            if show_view_cones:
                add("view_cones", color=st.CONE_COLOR, opacity=0.07, ambient=0.6)
                add("view_cone_ground", color=st.CONE_COLOR, opacity=0.2, ambient=0.6)
                legend.append(("camera view cone", st.CONE_COLOR, "patch"))

        counts = st.aggregate_household_devices(site)
        if show_devices:
            for kind in st.DEVICE_COLORS:
                if kind == DeviceKind.CAMERA:
                    continue
                if add(f"devices:{kind.value}", color=st.DEVICE_COLORS[kind], ambient=0.45, smooth_shading=True):
                    label = st.DEVICE_LABELS[kind]
                    if any(kind in per for per in counts.values()):
                        label += "\n(per household: 1 dot per storey)"
                    legend.append((label, st.DEVICE_COLORS[kind], "dot"))

        for mesh, kw in extra:
            m = mesh.copy()
            if origin != (0.0, 0.0):
                m.translate((-origin[0], -origin[1], 0.0), inplace=True)
            pl.add_mesh(m, **dict(kw))
        legend.extend((lab, col, "patch") for lab, col in extra_legend)

        labels_on = show_labels if show_labels is not None else len(site.buildings) <= 40
        if labels_on:
            _add_labels(pl, site, origin, zfn, counts if show_devices else {}, fs_label)

        _add_scale_and_north(pl, zfn, (bx0, by0, bx1, by1), span, fs_label, top_view=top_view)

        # camera: look at the site centre from the named bearing and elevation, then fit
        zmin = float(np.min(zfn(np.array([bx0, bx1, bx0, bx1]), np.array([by0, by0, by1, by1]))))
        zmax = max([b.base_z + b.height_m for b in site.buildings if b.storeys > 0] + [zmin + 1.0])
        cx, cy = (bx0 + bx1) / 2.0, (by0 + by1) / 2.0 - 0.04 * span
        focal = np.array([cx, cy, zmin + 0.1 * (zmax - zmin)])
        br, el = math.radians(bearing), math.radians(elev)
        direction = np.array([math.sin(br) * math.cos(el), math.cos(br) * math.cos(el), math.sin(el)])
        view_up = (0.0, 1.0, 0.0) if top_view else (0.0, 0.0, 1.0)
        pl.camera_position = [tuple(focal + direction * span * 2.0), tuple(focal), view_up]
        if top_view:
            pl.enable_parallel_projection()
        pad = 0.03 * span
        pl.reset_camera(bounds=(bx0 - pad, bx1 + pad, by0 - 0.12 * span, by1 + pad, zmin, zmax))
        ring = np.asarray(_polys(_shift(site.boundary, origin))[0].exterior.coords)[:, :2]
        fit = [(x, y, float(zfn(np.array([x]), np.array([y]))[0])) for x, y in ring]
        ybar = by0 - 0.06 * span
        fit += [(bx0, ybar, zmin), (bx0 + st.nice_length(bx1 - bx0) + 0.12 * span, ybar, zmin)]
        for bld in site.buildings:
            if bld.storeys > 0:
                fx0, fy0, fx1, fy1 = _shift(bld.footprint, origin).bounds
                ztop = bld.base_z + bld.height_m + 2.0
                fit += [(x, y, ztop) for x in (fx0, fx1) for y in (fy0, fy1)]
        if focus:
            fit = []
            for bld in (site.building(b) for b in focus):
                fx0, fy0, fx1, fy1 = _shift(bld.footprint.buffer(15.0), origin).bounds
                z0 = bld.level_z(-bld.basement_levels) if bld.basement_levels else bld.base_z
                fit += [(x, y, z) for x in (fx0, fx1) for y in (fy0, fy1) for z in (z0, bld.base_z + bld.height_m + 2.0)]
        _fit_view(pl, np.asarray(fit), w3, h, margin=0.9)
        pl.reset_camera_clipping_range()

        pl.enable_depth_peeling(number_of_peels=6)
        pl.enable_anti_aliasing("ssaa")
        img = pl.screenshot(None, return_img=True, window_size=[w3, h])
    finally:
        pl.close()

    if title is None:
        n_cam = sum(1 for d in site.devices if d.kind == DeviceKind.CAMERA)
        title = (f"{site.name}: {len(site.buildings)} buildings, {site.households} households, "
                 f"{n_cam} cameras, {len(site.devices)} devices")
    foot = "x east, y north, z up; metres"
    if origin != (0.0, 0.0):
        foot += f"\nlocal origin ({origin[0]:.0f}, {origin[1]:.0f})\n{site.crs}"
    from viz._mpl import plot_style

    with plot_style():
        _compose(np.asarray(img)[:, :, :3], path, w=w, h=h, w3=w3, title=title, legend=legend,
                 terrain_clim=terrain_clim, footnote=foot)
    return path


def _fit_view(pl: Any, pts: np.ndarray, w: int, h: int, *, margin: float) -> None:
    """Pan and zoom the camera so the projections of ``pts`` fill ``margin`` of the viewport
    (a few fixed-point iterations on the projected extent)."""
    ren = pl.renderer
    cam = pl.camera
    for _ in range(5):
        ren.ResetCameraClippingRange()
        disp = []
        for x, y, z in pts:
            ren.SetWorldPoint(float(x), float(y), float(z), 1.0)
            ren.WorldToDisplay()
            disp.append(ren.GetDisplayPoint()[:2])
        d = np.asarray(disp)
        lo, hi = d.min(axis=0), d.max(axis=0)
        ext = np.maximum(hi - lo, 1.0)
        f = float(min(margin * w / ext[0], margin * h / ext[1]))
        # pan: move the focal point so the box centre lands on the viewport centre
        dx, dy = (lo + hi) / 2.0 - np.array([w / 2.0, h / 2.0])
        fp, pos = np.array(cam.GetFocalPoint()), np.array(cam.GetPosition())
        if cam.GetParallelProjection():
            wpp = 2.0 * cam.GetParallelScale() / h
        else:
            wpp = 2.0 * np.linalg.norm(pos - fp) * math.tan(math.radians(cam.GetViewAngle()) / 2.0) / h
        vup = np.array(cam.GetViewUp())
        vdir = (fp - pos) / np.linalg.norm(fp - pos)
        right = np.cross(vdir, vup)
        right /= np.linalg.norm(right)
        up = np.cross(right, vdir)
        shift = (dx * right + dy * up) * wpp
        cam.SetFocalPoint(*(fp + shift))
        cam.SetPosition(*(pos + shift))
        cam.Zoom(f)
        if abs(f - 1.0) < 0.01 and abs(dx) < 2 and abs(dy) < 2:
            break
    ren.ResetCameraClippingRange()


def _terrain_cmap() -> Any:
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list(
        "shoumen_terrain", ["#86aeb0", "#b3cba6", "#d4d9b0", "#e8dfc4", "#f1eadb"]
    )


def _add_labels(pl: Any, site: Site, origin: tuple[float, float], zfn: ZF,
                counts: Mapping[str, Mapping[DeviceKind, int]], font_size: int) -> None:
    """Building tags (id, storeys, per-household device counts) on the roofs, assembly points
    with their capacity, and gate ids."""
    pts, txt = [], []
    for b in site.buildings:
        fp = _polys(_shift(b.footprint, origin))
        if not fp:
            continue
        rp = max(fp, key=lambda p: p.area).representative_point()
        zg = float(zfn(np.array([rp.x]), np.array([rp.y]))[0])
        top = b.base_z + b.height_m if not st.is_underground(b) else zg
        t = st.building_tag(b)
        if b.id in counts:
            t += "\n" + ", ".join(f"{n} {st.DEVICE_ABBREV[k]}" for k, n in
                                  sorted(counts[b.id].items(), key=lambda kv: -kv[1]))
        pts.append((rp.x, rp.y, top + 0.5))
        txt.append(t)
    for ap in site.assembly_points:
        rp = _shift(ap.polygon, origin).representative_point()
        zg = float(zfn(np.array([rp.x]), np.array([rp.y]))[0])
        pts.append((rp.x, rp.y, zg + 0.5))
        txt.append(f"{ap.id}\n{ap.capacity} persons")
    if pts:
        pl.add_point_labels(
            np.asarray(pts), txt, font_size=font_size, show_points=False, shape="rounded_rect",
            shape_color="white", shape_opacity=0.72, text_color="#1e1e1e", always_visible=True, margin=2,
        )
    if site.gates and len(site.gates) <= 16:
        gp, gt = [], []
        for g in site.gates:
            p = _shift(g.position, origin)
            zg = float(zfn(np.array([p.x]), np.array([p.y]))[0])
            gp.append((p.x, p.y, zg + (4.8 if g.kind != "pedestrian" else 3.3)))
            gt.append(g.id)
        pl.add_point_labels(
            np.asarray(gp), gt, font_size=max(7, font_size - 1), show_points=False, shape="rounded_rect",
            shape_color="#fff3e0", shape_opacity=0.8, text_color="#8a3d00", always_visible=True, bold=True,
            margin=1,
        )


def _compose(img: np.ndarray, path: Path, *, w: int, h: int, w3: int, title: str,
             legend: Sequence[tuple[str, str, str]], terrain_clim: tuple[float, float] | None,
             footnote: str) -> None:
    """Put the 3D render on the left of a ``w`` x ``h`` picture, the legend in the right-hand
    panel, the title over the render and the elevation colour bar at its lower left."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colorbar import ColorbarBase
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from PIL import Image

    dpi = 100.0
    fig = Figure(figsize=(w / dpi, h / dpi), dpi=dpi, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    fx = w3 / w
    ax = fig.add_axes((0.0, 0.0, fx, 1.0))
    ax.imshow(img, aspect="auto", interpolation="none", extent=(0, img.shape[1], img.shape[0], 0))
    ax.set_axis_off()
    s = h / 1000.0
    head, _, sub = st.plain_text(title).partition(": ")
    fig.text(0.012, 0.985, head, ha="left", va="top", fontsize=max(6.0, 17 * s), color="#1a1a1a",
             fontweight="normal")
    if sub:
        fig.text(0.012, 0.985 - max(0.034, 9.0 * 1.39 * 1.25 / h), sub, ha="left", va="top",
                 fontsize=max(5.0, 12 * s), color="#333333")
    handles = []
    for label, color, marker in legend:
        if marker == "line":
            handles.append(Line2D([], [], color=color, lw=2, label=label))
        elif marker == "dot":
            handles.append(Line2D([], [], color=color, marker="o", ls="", markersize=7 * max(s, 0.5),
                                  label=label))
        elif marker == "cone":
            handles.append(Line2D([], [], color=color, marker=">", ls="", markersize=8 * max(s, 0.5),
                                  label=label))
        else:
            handles.append(Patch(facecolor=color, edgecolor="#555555", lw=0.5, label=label))
    fs = max(4.0, min(11.5 * s, 11.5 * s * 24 / max(len(handles), 24)))
    if handles:
        fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(fx + 0.004, 0.985), frameon=False,
                   fontsize=fs, handlelength=1.6, labelspacing=0.55, borderaxespad=0.2,
                   title="Legend", title_fontsize=fs * 1.1, alignment="left")
    fig.text(fx + 0.006, 0.012, footnote, ha="left", va="bottom", fontsize=max(4.0, 9 * s), color="#555555")
    fig.add_artist(Line2D([fx, fx], [0, 1], transform=fig.transFigure, color="#c8ced6", lw=1))
    if terrain_clim is not None:
        cax = fig.add_axes((0.02, 0.045, 0.2 * fx, 0.018))
        cb = ColorbarBase(cax, cmap=_terrain_cmap(), norm=Normalize(*terrain_clim), orientation="horizontal")
        cb.ax.tick_params(labelsize=max(4.0, 9 * s), length=2)
        cb.set_label("ground elevation (m)", fontsize=max(4.0, 9.5 * s), labelpad=1)
        cb.ax.xaxis.set_label_position("top")
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    out = np.full((h, w, 3), 255, dtype=np.uint8)
    hh, ww = min(h, rgba.shape[0]), min(w, rgba.shape[1])
    out[:hh, :ww] = rgba[:hh, :ww, :3]
    Image.fromarray(out).save(path)


def _add_scale_and_north(pl: Any, zfn: ZF, bounds: tuple[float, float, float, float], span: float,
                         font_size: int, *, top_view: bool) -> None:
    """A black-and-white scale bar of a round length and a north arrow, lying on the ground
    just south of the boundary's south-west corner."""
    import pyvista as pv

    bx0, by0, bx1, by1 = bounds
    length = st.nice_length(bx1 - bx0)
    y = by0 - 0.04 * span
    x0 = bx0
    width = max(0.8, 0.012 * span)
    segs = 4
    meshes_b, meshes_w = [], []
    for i in range(segs):
        xa = x0 + i * length / segs
        xm = xa + length / segs / 2.0
        zg = float(zfn(np.array([xm]), np.array([y]))[0])
        box = _obox(xm, y, zg + 0.2, zg + 0.2 + width * 0.3, length / segs, width, 0.0)
        (meshes_b if i % 2 == 0 else meshes_w).append(box)
    pl.add_mesh(_merge(meshes_b), color="#222222", ambient=0.6)
    pl.add_mesh(_merge(meshes_w), color="#fbfbfb", ambient=0.8)
    z0 = float(zfn(np.array([x0]), np.array([y]))[0])
    z1 = float(zfn(np.array([x0 + length]), np.array([y]))[0])
    pl.add_point_labels(
        np.array([(x0, y - width * 1.5, z0 + 0.5), (x0 + length, y - width * 1.5, z1 + 0.5)]),
        ["0", f"{length:g} m"], font_size=font_size, show_points=False, shape=None, text_color="#111111",
        always_visible=True, bold=True,
    )
    # north arrow: a flat arrow pointing +y
    ax = x0 + length + 0.08 * span
    al = 0.07 * span
    zg = float(zfn(np.array([ax]), np.array([y]))[0]) + 0.3
    hw = 0.18 * al
    pts = np.array([
        (ax - hw * 0.35, y - al / 2, zg), (ax + hw * 0.35, y - al / 2, zg), (ax + hw * 0.35, y + al * 0.1, zg),
        (ax + hw, y + al * 0.1, zg), (ax, y + al / 2, zg), (ax - hw, y + al * 0.1, zg), (ax - hw * 0.35, y + al * 0.1, zg),
    ])
    arrow = pv.PolyData(pts, _faces([(0, 1, 2, 6), (5, 3, 4)]))
    pl.add_mesh(arrow, color="#222222", ambient=0.6)
    pl.add_point_labels(
        np.array([(ax, y + al / 2 + 0.04 * span, zg + 0.5)]), ["N"], font_size=font_size + 2, show_points=False,
        shape=None, text_color="#111111", always_visible=True, bold=True,
    )

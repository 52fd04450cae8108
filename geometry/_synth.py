"""Shared rules for turning an imported building outline into a Shoumen building.

OpenStreetMap and CityJSON give a footprint and (sometimes) a height or storey count, but no
stairs, exits or households. Both importers (:mod:`geometry.osm`, :mod:`geometry.cityjson`) use
the same documented rules from this module, so a site imported from either source is built the
same way (docs/site-format.md, "Import rules"):

* storeys from a height (m): ``round(height / storey_height_m)``, at least 1 (default storey
  height 3.0 m, a typical floor-to-floor height of residential buildings);
* residential use: walk-up up to 7 storeys, high-rise above (the usual Chinese code threshold of
  a 27 m / 8+ storey building needing lifts and enclosed stairs, GB 50016-2014 5.1.1);
* households per storey for residential buildings: ``round(footprint area / 90 m²)``, at least 1
  (90 m² gross floor area per dwelling, a typical urban flat);
* stairs: buildings with more than one level get one stair core of width 1.2 m at the footprint's
  representative point; two cores, apart along the footprint's long axis, when the building has
  more than 10 storeys or a footprint over 1000 m²; single-level buildings get none;
* one exit (1.2 m, level 0) per stair core (one for a building without stairs) on the footprint
  boundary at the point nearest to the nearest way, or, with no ways, the representative point
  projected onto the exterior ring; with two cores each exit lies on the outline in its own
  core's half of the footprint (nearer to it than to the other core), so a walk-up's second
  section (单元) is not cut off;
* site boundary: the convex hull of all features, buffered by 5 m.

Pure shapely/numpy, no framework imports.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

from shapely import STRtree
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points, unary_union

from geometry.site import Building, BuildingExit, BuildingUse, StairCore

__all__ = [
    "DEFAULT_STOREY_HEIGHT_M",
    "M2_PER_HOUSEHOLD",
    "STAIR_WIDTH_M",
    "EXIT_WIDTH_M",
    "BOUNDARY_MARGIN_M",
    "storeys_from_height",
    "storey_height_for",
    "way_index",
    "finish_building",
    "residential_use",
    "households_per_storey",
    "synthesize_cores",
    "boundary_around",
    "largest_polygon",
]

DEFAULT_STOREY_HEIGHT_M = 3.0
M2_PER_HOUSEHOLD = 90.0
STAIR_WIDTH_M = 1.2
EXIT_WIDTH_M = 1.2
BOUNDARY_MARGIN_M = 5.0
HIGHRISE_ABOVE_STOREYS = 7
TWO_STAIRS_ABOVE_STOREYS = 10
TWO_STAIRS_ABOVE_AREA_M2 = 1000.0


def storeys_from_height(height_m: float, *, storey_height_m: float = DEFAULT_STOREY_HEIGHT_M) -> int:
    """Storeys of a building ``height_m`` tall: ``round(height / storey height)``, at least 1."""
    if not math.isfinite(height_m) or height_m <= 0:
        return 1
    return max(1, int(round(height_m / storey_height_m)))


def storey_height_for(height_m: float | None, storeys: int, *, default_m: float = DEFAULT_STOREY_HEIGHT_M) -> float:
    """The storey height that makes ``storeys`` storeys reach ``height_m``; the default when the
    height is unknown or the quotient is implausible (outside 2-10 m)."""
    if height_m is None or not math.isfinite(height_m) or storeys < 1:
        return default_m
    h = height_m / storeys
    return float(h) if 2.0 <= h <= 10.0 else default_m


def residential_use(storeys: int) -> BuildingUse:
    """Walk-up up to 7 storeys, high-rise above."""
    return BuildingUse.WALKUP if storeys <= HIGHRISE_ABOVE_STOREYS else BuildingUse.HIGHRISE


def households_per_storey(footprint: Polygon, use: BuildingUse) -> int:
    """``round(area / 90 m²)``, at least 1, for residential buildings; 0 otherwise."""
    if not use.residential:
        return 0
    return max(1, int(round(footprint.area / M2_PER_HOUSEHOLD)))


def largest_polygon(geom: BaseGeometry) -> Polygon | None:
    """The largest polygon of a (multi)polygon or collection; ``None`` when there is none."""
    if isinstance(geom, Polygon):
        return geom if not geom.is_empty else None
    polys = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon) and not g.is_empty]
    if not polys:
        return None
    return max(polys, key=lambda p: p.area)


def _inside(footprint: Polygon, p: Point) -> Point:
    """``p`` if it lies in the footprint, else the nearest point of the footprint's interior."""
    if footprint.contains(p):
        return p
    inner = footprint.buffer(-0.3)
    target = inner if not inner.is_empty else footprint
    return nearest_points(target, p)[0]


def _stair_positions(footprint: Polygon, n: int) -> list[Point]:
    rep = footprint.representative_point()
    if n == 1:
        return [rep]
    rect = footprint.minimum_rotated_rectangle
    if not isinstance(rect, Polygon):
        return [rep] * n
    xy = list(rect.exterior.coords)[:4]
    e0 = (xy[1][0] - xy[0][0], xy[1][1] - xy[0][1])
    e1 = (xy[2][0] - xy[1][0], xy[2][1] - xy[1][1])
    long = e0 if math.hypot(*e0) >= math.hypot(*e1) else e1
    c = rect.centroid
    # quarter points of the long axis
    pts = [Point(c.x + f * long[0], c.y + f * long[1]) for f in (-0.25, 0.25)]
    return [_inside(footprint, p) for p in pts]


def synthesize_cores(
    building_id: str,
    footprint: Polygon,
    *,
    storeys: int,
    basement_levels: int = 0,
    way_index: tuple[STRtree, Sequence[BaseGeometry]] | None = None,
) -> tuple[list[StairCore], list[BuildingExit]]:
    """Stairs and one exit for an imported building (rules in the module docstring).

    ``way_index`` is an STRtree over the site's way lines with the list of those lines, used to
    put the exit on the side facing the nearest way."""
    stairs: list[StairCore] = []
    if storeys + basement_levels > 1:
        n = 2 if (storeys > TWO_STAIRS_ABOVE_STOREYS or footprint.area > TWO_STAIRS_ABOVE_AREA_M2) else 1
        for k, p in enumerate(_stair_positions(footprint, n)):
            stairs.append(
                StairCore(
                    id=f"{building_id}-S{k + 1}",
                    building=building_id,
                    position=Point(p.x, p.y),
                    width_m=STAIR_WIDTH_M,
                    lowest_level=-basement_levels,
                    highest_level=storeys - 1,
                )
            )
    ring = footprint.exterior
    target: BaseGeometry
    if way_index is not None and len(way_index[1]) > 0:
        tree, lines = way_index
        j = int(tree.nearest(footprint))
        target = lines[j]
    else:
        target = footprint.representative_point()
    # one exit per stair core, each on the stretch of the outline in that core's half of the
    # footprint (its side of the perpendicular bisector between the cores, less 1 m), so every core - in a
    # walk-up every section (单元) - has its own door; the nearest stair of each exit is its own
    spans: list[BaseGeometry] = [ring]
    if len(stairs) == 2:
        spans = [ring.intersection(_half_plane(a.position, b.position, footprint)) for a, b in
                 ((stairs[0], stairs[1]), (stairs[1], stairs[0]))]
        if any(sp.is_empty for sp in spans) or stairs[0].position.distance(stairs[1].position) < 1e-6:
            spans = [ring]
    exits = []
    for k, span in enumerate(spans):
        p = nearest_points(span, target)[0]
        exits.append(BuildingExit(id=f"{building_id}-E{k + 1}", building=building_id, position=Point(p.x, p.y),
                                  width_m=EXIT_WIDTH_M, level=0))
    return stairs, exits


def _half_plane(a: Point, b: Point, around: BaseGeometry) -> Polygon:
    """The part of the plane nearer to ``a`` than to ``b`` (a rectangle large enough to cover
    ``around``, cut just on ``a``'s side of the perpendicular bisector of ``a``-``b``)."""
    dx, dy = b.x - a.x, b.y - a.y
    n = math.hypot(dx, dy) or 1.0
    dx, dy = dx / n, dy / n
    minx, miny, maxx, maxy = around.bounds
    big = 2.0 * (maxx - minx + maxy - miny) + 10.0
    # cut 1 m (at most a quarter of the spacing) on a's side of the bisector, so an exit at the
    # edge of the span is strictly nearer to a - no float tie with b
    off = min(1.0, 0.25 * n)
    mx, my = (a.x + b.x) / 2.0 - dx * off, (a.y + b.y) / 2.0 - dy * off
    return Polygon([(mx - dy * big, my + dx * big), (mx - dy * big - dx * big, my + dx * big - dy * big),
                    (mx + dy * big - dx * big, my - dx * big - dy * big), (mx + dy * big, my - dx * big)])


def way_index(lines: Sequence[LineString]) -> tuple[STRtree, Sequence[LineString]] | None:
    """An STRtree over way centre lines for :func:`synthesize_cores`; ``None`` for no ways."""
    if not lines:
        return None
    return STRtree(list(lines)), lines


def boundary_around(geoms: Iterable[BaseGeometry], *, margin_m: float = BOUNDARY_MARGIN_M) -> Polygon:
    """The convex hull of ``geoms`` buffered by ``margin_m`` (the imported site's boundary)."""
    hull = unary_union([g for g in geoms if g is not None and not g.is_empty]).convex_hull
    poly = hull.buffer(margin_m)
    out = largest_polygon(poly)
    if out is None:
        return Polygon()
    return out


def finish_building(
    building_id: str,
    footprint: Polygon,
    *,
    use: BuildingUse,
    storeys: int,
    storey_height_m: float,
    basement_levels: int,
    name: str,
    base_z: float = 0.0,
    ways: tuple[STRtree, Sequence[LineString]] | None = None,
) -> Building:
    """A complete :class:`Building` with households, stairs and an exit from the shared rules."""
    stairs, exits = synthesize_cores(
        building_id, footprint, storeys=storeys, basement_levels=basement_levels, way_index=ways
    )
    return Building(
        id=building_id,
        footprint=footprint,
        use=use,
        storeys=storeys,
        storey_height_m=storey_height_m,
        basement_levels=basement_levels,
        households_per_storey=households_per_storey(footprint, use),
        name=name,
        base_z=base_z,
        stairs=stairs,
        exits=exits,
    )

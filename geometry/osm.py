"""Import a site from OpenStreetMap XML (``.osm``).

The importer reads the OSM XML 0.6 format (https://wiki.openstreetmap.org/wiki/OSM_XML) with
:mod:`xml.etree.ElementTree` and builds a :class:`~geometry.site.Site` in true UTM coordinates
(metres): longitude/latitude are projected once, at load time, to the UTM zone of the data's
mean position (``EPSG:326zz`` north, ``EPSG:327zz`` south; the Norway/Svalbard zone exceptions
are ignored), and the CRS is recorded on the site so exports line up with GIS layers.

What is read (tag meanings from the OSM wiki "Key:building", "Key:highway", "Key:barrier"):

* buildings: closed ways and ``type=multipolygon`` relations tagged ``building=*`` (not ``no``);
  ids ``B01``.. in OSM order (ways by id, then relations by id); ``name`` is the ``name`` tag or
  ``way/<id>`` / ``relation/<id>``. A multipolygon whose members are not all in the file is
  skipped; one that yields several polygons keeps the largest.
* storeys: ``building:levels``; else ``height`` / ``building:height`` (units ``m``, ``ft`` or
  ``'`` parsed; bare numbers are metres) divided by the storey height (default 3.0 m); else
  :data:`DEFAULT_STOREYS` by building type. ``building:levels:underground`` gives basements.
* use: see :func:`building_use`; residential buildings get ``round(area / 90 m²)`` households per
  storey (at least 1). Stairs, exits (one per stair core) and the site boundary follow :mod:`geometry._synth`.
* ways: ``highway=*`` ways; :data:`WALKWAY_HIGHWAYS` become walkways 2 m wide, the other road
  classes roads whose width is the ``width`` tag, else ``lanes`` x 3.25 m, else
  :data:`DEFAULT_ROAD_WIDTH_M`. ``service=emergency_access`` / ``emergency=designated`` roads
  become fire lanes. Ids ``W001``..
* gates: nodes tagged ``barrier=gate|entrance|lift_gate|...`` (see :data:`GATE_BARRIERS`), kept
  only within 5 m of the synthesized boundary (the site model requires gates on the boundary), so
  a gate well inside the outline of the mapped features - e.g. where a road that runs on beyond
  the estate enters it - is dropped; access from ``access`` (:data:`ACCESS_MAP`).
* open spaces: closed ways tagged as parking, playground, park, garden, grass or square.

Unparseable optional tags (``height=tall``) fall back to the defaults; a file that is not XML,
not an ``<osm>`` document, or has no buildings raises :class:`~geometry.site.SiteError` naming
the file (and the line and column for XML errors).
"""

from __future__ import annotations

import logging
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, Point, Polygon
from shapely.ops import linemerge, polygonize, unary_union
from shapely.validation import make_valid

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
from geometry.site import ACCESS_TYPES, BuildingUse, Gate, OpenSpace, Site, SiteError, Way

__all__ = ["import_osm", "building_use", "parse_length", "utm_crs_for"]

log = logging.getLogger(__name__)

#: Storeys by ``building=*`` value when neither levels nor height are tagged.
DEFAULT_STOREYS: dict[str, int] = {
    "house": 2,
    "detached": 2,
    "semidetached_house": 2,
    "terrace": 2,
    "bungalow": 1,
    "apartments": 6,
    "residential": 6,
    "dormitory": 6,
    "garage": 1,
    "garages": 1,
    "carport": 1,
    "shed": 1,
    "parking": 3,
    "commercial": 2,
    "retail": 2,
    "supermarket": 1,
    "kindergarten": 2,
}
DEFAULT_STOREYS_OTHER = 3

#: ``building=*`` values that are dwellings.
RESIDENTIAL_BUILDINGS = frozenset(
    {"apartments", "residential", "house", "detached", "semidetached_house", "terrace", "bungalow", "dormitory"}
)
GARAGE_BUILDINGS = frozenset({"garage", "garages", "carport", "parking"})

#: ``highway=*`` values that become walkways (2 m wide).
WALKWAY_HIGHWAYS = frozenset({"footway", "path", "pedestrian", "steps", "cycleway", "bridleway", "corridor"})
WALKWAY_WIDTH_M = 2.0
#: Road widths (m) by ``highway=*`` when neither ``width`` nor ``lanes`` is tagged.
DEFAULT_ROAD_WIDTH_M: dict[str, float] = {
    "motorway": 12.0,
    "trunk": 10.0,
    "primary": 10.0,
    "secondary": 8.0,
    "tertiary": 7.0,
    "unclassified": 6.0,
    "residential": 6.0,
    "living_street": 5.0,
    "road": 6.0,
    "service": 4.0,
    "track": 3.0,
}
LANE_WIDTH_M = 3.25
#: ``highway=*`` values that are not traversable ways (or not ways at all).
SKIP_HIGHWAYS = frozenset(
    {"proposed", "construction", "abandoned", "disused", "platform", "raceway", "bus_stop", "elevator", "razed"}
)

#: ``barrier=*`` values that are gates, with the gate kind and default width (m).
GATE_BARRIERS: dict[str, tuple[str, float]] = {
    "gate": ("mixed", 3.0),
    "swing_gate": ("mixed", 3.0),
    "sliding_gate": ("vehicle", 4.0),
    "lift_gate": ("vehicle", 3.5),
    "entrance": ("pedestrian", 1.2),
    "kissing_gate": ("pedestrian", 1.0),
    "turnstile": ("pedestrian", 0.8),
    "full-height_turnstile": ("pedestrian", 0.8),
    "wicket_gate": ("pedestrian", 1.0),
}
#: OSM ``access=*`` -> gate access control ("none": open to all; "card": restricted entry).
ACCESS_MAP: dict[str, str] = {
    "yes": "none",
    "public": "none",
    "permissive": "none",
    "destination": "none",
    "private": "card",
    "residents": "card",
    "permit": "card",
    "customers": "card",
    "delivery": "card",
    "no": "card",
}

#: Closed-way tags that become open spaces: (key, value) -> kind.
OPEN_SPACE_TAGS: dict[tuple[str, str], str] = {
    ("amenity", "parking"): "parking",
    ("leisure", "playground"): "playground",
    ("leisure", "park"): "green",
    ("leisure", "garden"): "green",
    ("landuse", "grass"): "green",
    ("landuse", "village_green"): "green",
    ("place", "square"): "square",
    ("highway", "pedestrian"): "square",
}

_LENGTH_RE = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)\s*(m|metres|meters|ft|feet|'|)\s*$", re.IGNORECASE)


def parse_length(value: str | None) -> float | None:
    """A length tag in metres (``"12"``, ``"12 m"``, ``"12,5m"``, ``"40 ft"``, ``"40'"``; the
    first of ``;``-separated values); ``None`` if absent or unparseable."""
    if value is None:
        return None
    m = _LENGTH_RE.match(value.split(";")[0])
    if not m:
        return None
    v = float(m.group(1).replace(",", "."))
    unit = m.group(2).lower()
    if unit in ("ft", "feet", "'"):
        v *= 0.3048
    return v if math.isfinite(v) and v > 0 else None


def _parse_number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        v = float(value.split(";")[0].replace(",", "."))
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def utm_crs_for(lon: float, lat: float) -> str:
    """The UTM zone CRS (``EPSG:326zz`` north / ``EPSG:327zz`` south) containing lon/lat."""
    zone = int(math.floor((lon + 180.0) / 6.0)) % 60 + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def building_use(tags: dict[str, str], storeys: int, *, default_use: BuildingUse = BuildingUse.OTHER) -> BuildingUse:
    """Use of a building from its tags.

    ``kindergarten`` (building or amenity) -> kindergarten; ``community_centre`` -> community
    centre; ``garage``/``garages``/``carport``/``parking`` or ``amenity=parking`` -> garage;
    dwellings (``apartments``, ``residential``, ``house``, ``detached``, ``semidetached_house``,
    ``terrace``, ``bungalow``, ``dormitory``) -> walk-up up to 7 storeys, else high-rise; anything
    else -> ``default_use`` (``other`` unless told; a residential default also splits by storeys).
    """
    b = tags.get("building", "yes")
    amenity = tags.get("amenity", "")
    if b == "kindergarten" or amenity == "kindergarten":
        return BuildingUse.KINDERGARTEN
    if b == "community_centre" or amenity == "community_centre":
        return BuildingUse.COMMUNITY_CENTRE
    if b in GARAGE_BUILDINGS or amenity == "parking":
        return BuildingUse.GARAGE
    if b in RESIDENTIAL_BUILDINGS:
        return residential_use(storeys)
    if default_use.residential:
        return residential_use(storeys)
    return default_use


def _storeys(tags: dict[str, str], storey_height_m: float) -> tuple[int, float]:
    """(storeys, storey height) from ``building:levels``, height or the type default."""
    height = parse_length(tags.get("height")) or parse_length(tags.get("building:height"))
    levels = _parse_number(tags.get("building:levels"))
    if levels is not None and levels >= 1:
        n = max(1, int(round(levels)))
        return n, storey_height_for(height, n, default_m=storey_height_m)
    if height is not None:
        n = storeys_from_height(height, storey_height_m=storey_height_m)
        return n, storey_height_for(height, n, default_m=storey_height_m)
    return DEFAULT_STOREYS.get(tags.get("building", "yes"), DEFAULT_STOREYS_OTHER), storey_height_m


def _tags(el: ET.Element) -> dict[str, str]:
    return {t.get("k", ""): t.get("v", "") for t in el.findall("tag")}


def import_osm(
    path: str | Path,
    *,
    name: str | None = None,
    storey_height_m: float = DEFAULT_STOREY_HEIGHT_M,
    default_use: BuildingUse | str = BuildingUse.OTHER,
    boundary_margin_m: float = 5.0,
) -> Site:
    """Read an OSM XML file into a validated :class:`Site` (rules in the module docstring).

    ``default_use`` is the use of buildings whose tags say nothing more specific
    (``building=yes``); pass ``"residential_walkup"`` to treat them as dwellings."""
    src = str(path)
    default_use = BuildingUse(default_use)
    p = Path(path)
    if not p.is_file():
        raise SiteError(["file not found"], source=src)
    try:
        root = ET.parse(p).getroot()
    except ET.ParseError as e:
        line, col = e.position
        raise SiteError([f"not valid XML at line {line}, column {col}: {e.msg if hasattr(e, 'msg') else e}"], source=src) from e
    if root.tag != "osm":
        raise SiteError([f"not an OpenStreetMap XML file: root element is <{root.tag}>, expected <osm>"], source=src)

    # ---- nodes
    node_ids: list[str] = []
    lons: list[float] = []
    lats: list[float] = []
    node_tags: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    for n in root.iter("node"):
        nid = n.get("id", "")
        try:
            lon, lat = float(n.get("lon", "")), float(n.get("lat", ""))
        except ValueError:
            problems.append(f"node {nid}: fields 'lat'/'lon' must be numbers, got {n.get('lat')!r}/{n.get('lon')!r}")
            continue
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            problems.append(f"node {nid}: lat/lon ({lat}, {lon}) out of range")
            continue
        node_ids.append(nid)
        lons.append(lon)
        lats.append(lat)
        t = _tags(n)
        if t:
            node_tags[nid] = t
    if problems:
        raise SiteError(problems, source=src)
    if not node_ids:
        raise SiteError(["no buildings found (expected ways or relations tagged building=*); the file has no nodes"], source=src)
    lon_a, lat_a = np.asarray(lons), np.asarray(lats)
    crs = utm_crs_for(float(lon_a.mean()), float(lat_a.mean()))
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    xs, ys = tr.transform(lon_a, lat_a)
    xy: dict[str, tuple[float, float]] = {nid: (float(x), float(y)) for nid, x, y in zip(node_ids, xs, ys)}

    # ---- ways
    ways_el: dict[str, tuple[list[str], dict[str, str]]] = {}
    for w in root.iter("way"):
        ways_el[w.get("id", "")] = ([nd.get("ref", "") for nd in w.findall("nd")], _tags(w))

    def closed_ring(refs: list[str]) -> Polygon | None:
        if len(refs) < 4 or refs[0] != refs[-1] or any(r not in xy for r in refs):
            return None
        poly = Polygon([xy[r] for r in refs])
        if not poly.is_valid:
            poly = largest_polygon(make_valid(poly))  # type: ignore[assignment]
        return poly if poly is not None and poly.area > 0 else None

    # ---- building outlines: (sort key, name, tags, polygon)
    outlines: list[tuple[tuple[int, int], str, dict[str, str], Polygon]] = []
    skipped = 0
    for wid, (refs, tags) in ways_el.items():
        if tags.get("building", "no") == "no":
            continue
        poly = closed_ring(refs)
        if poly is None:
            skipped += 1
            continue
        outlines.append(((0, _int(wid)), tags.get("name") or f"way/{wid}", tags, poly))
    for rel in root.iter("relation"):
        tags = _tags(rel)
        if tags.get("building", "no") == "no" or tags.get("type") != "multipolygon":
            continue
        rid = rel.get("id", "")
        poly = _multipolygon(rel, ways_el, xy)
        if poly is None:
            skipped += 1
            continue
        outlines.append(((1, _int(rid)), tags.get("name") or f"relation/{rid}", tags, poly))
    if not outlines:
        raise SiteError(["no buildings found (expected ways or relations tagged building=*)"], source=src)
    if skipped:
        log.info("%s: skipped %d building outlines that are open, incomplete or degenerate", src, skipped)
    outlines.sort(key=lambda o: o[0])

    # ---- highways and open spaces
    ways: list[Way] = []
    open_spaces: list[OpenSpace] = []
    for wid, (refs, tags) in sorted(ways_el.items(), key=lambda kv: _int(kv[0])):
        if "building" in tags:
            continue
        os_kind = next((k for (key, val), k in OPEN_SPACE_TAGS.items() if tags.get(key) == val), None)
        hw = tags.get("highway")
        is_area = tags.get("area") == "yes" or (hw is None and os_kind is not None)
        if os_kind is not None and is_area:
            poly = closed_ring(refs)
            if poly is not None:
                cap = _parse_number(tags.get("capacity"))
                open_spaces.append(
                    OpenSpace(
                        id=f"O{len(open_spaces) + 1:02d}",
                        polygon=poly,
                        kind=os_kind,
                        capacity=int(cap) if cap is not None and cap >= 0 else 0,
                        name=tags.get("name") or f"way/{wid}",
                    )
                )
            continue
        if hw is None or hw in SKIP_HIGHWAYS or tags.get("area") == "yes":
            continue
        line = _longest_run(refs, xy)
        if line is None:
            continue
        kind, width = _way_kind_width(hw, tags)
        ways.append(Way(id="", line=line, width_m=width, kind=kind, name=tags.get("name") or f"way/{wid}"))
    digits = max(3, len(str(len(ways))))
    for k, w in enumerate(ways):
        w.id = f"W{k + 1:0{digits}d}"

    # ---- buildings
    index = way_index([w.line for w in ways])
    bdigits = max(2, len(str(len(outlines))))
    buildings = []
    for k, (_, bname, tags, poly) in enumerate(outlines):
        storeys, sh = _storeys(tags, storey_height_m)
        under = _parse_number(tags.get("building:levels:underground"))
        basements = max(0, int(round(under))) if under is not None else 0
        use = building_use(tags, storeys, default_use=default_use)
        buildings.append(
            finish_building(
                f"B{k + 1:0{bdigits}d}", poly, use=use, storeys=storeys, storey_height_m=sh,
                basement_levels=basements, name=bname, ways=index,
            )
        )

    # ---- boundary and gates
    geoms = [b.footprint for b in buildings] + [w.line for w in ways] + [o.polygon for o in open_spaces]
    boundary = boundary_around(geoms, margin_m=boundary_margin_m)
    gates: list[Gate] = []
    for nid in sorted(node_tags, key=_int):
        tags = node_tags[nid]
        barrier = tags.get("barrier")
        if barrier not in GATE_BARRIERS:
            continue
        pos = Point(xy[nid])
        if boundary.exterior.distance(pos) > 5.0:
            continue
        kind, width = GATE_BARRIERS[barrier]
        w_tag = parse_length(tags.get("width")) or parse_length(tags.get("maxwidth"))
        acc = tags.get("access", "")
        access = acc if acc in ACCESS_TYPES else ACCESS_MAP.get(acc, "none")
        gates.append(
            Gate(id=f"G{len(gates) + 1:02d}", position=pos, kind=kind, access=access,
                 width_m=w_tag or width, name=tags.get("name") or f"node/{nid}")
        )

    site = Site(
        name=name or p.name.split(".")[0],
        boundary=boundary,
        crs=crs,
        buildings=buildings,
        ways=ways,
        gates=gates,
        open_spaces=open_spaces,
        source=src,
    )
    return site.validate(source=src)


def _int(s: str) -> int:
    try:
        return int(s)
    except ValueError:
        return 0


def _way_kind_width(hw: str, tags: dict[str, str]) -> tuple[str, float]:
    if hw in WALKWAY_HIGHWAYS:
        return "walkway", parse_length(tags.get("width")) or WALKWAY_WIDTH_M
    kind = "road"
    if tags.get("service") == "emergency_access" or tags.get("emergency") == "designated":
        kind = "fire_lane"
    width = parse_length(tags.get("width"))
    if width is None:
        lanes = _parse_number(tags.get("lanes"))
        if lanes is not None and lanes >= 1:
            width = lanes * LANE_WIDTH_M
    if width is None:
        base = hw[:-5] if hw.endswith("_link") else hw
        width = DEFAULT_ROAD_WIDTH_M.get(base, 6.0)
    return kind, width


def _longest_run(refs: list[str], xy: dict[str, tuple[float, float]]) -> LineString | None:
    """The longest run of consecutive nodes present in the file (extracts clip ways)."""
    best: list[tuple[float, float]] = []
    cur: list[tuple[float, float]] = []
    for r in refs + [""]:
        if r in xy:
            if not cur or cur[-1] != xy[r]:
                cur.append(xy[r])
        else:
            if len(cur) > len(best):
                best = cur
            cur = []
    if len(best) < 2:
        return None
    line = LineString(best)
    return line if line.length > 0 else None


def _multipolygon(
    rel: ET.Element, ways_el: dict[str, tuple[list[str], dict[str, str]]], xy: dict[str, tuple[float, float]]
) -> Polygon | None:
    """Assemble a multipolygon relation; ``None`` if a member is missing or nothing closes."""
    rings: dict[str, list[LineString]] = {"outer": [], "inner": []}
    for m in rel.findall("member"):
        if m.get("type") != "way":
            continue
        role = m.get("role") or "outer"
        if role not in rings:
            continue
        ref = m.get("ref", "")
        if ref not in ways_el:
            return None
        refs = ways_el[ref][0]
        if len(refs) < 2 or any(r not in xy for r in refs):
            return None
        rings[role].append(LineString([xy[r] for r in refs]))
    if not rings["outer"]:
        return None
    outer = unary_union(list(polygonize(linemerge(MultiLineString(rings["outer"])))))
    if outer.is_empty:
        return None
    if rings["inner"]:
        inner = unary_union(list(polygonize(linemerge(MultiLineString(rings["inner"])))))
        outer = outer.difference(inner)
    poly = largest_polygon(make_valid(outer))
    return poly if poly is not None and poly.area > 0 else None

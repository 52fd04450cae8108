"""Read and write a :class:`~geometry.site.Site` as GeoJSON or GeoPackage.

The schema is documented in ``docs/site-format.md``. In short: one feature per entity, its kind in
the ``layer`` property (``site, building, stair, exit, elevator, way, gate, open_space, grid,
device``), the dataclass fields as properties (enums as their string values, camera optics as
flat ``mount_height_m, yaw_deg, fov_deg, range_m, tilt_deg, model`` properties, a grid's
``buildings`` as a list - in GeoPackage a JSON text column). Coordinates are the site's projected
CRS in metres, written 2-D (a device's height is its ``z`` property).

* GeoJSON (``.geojson``/``.json``): one FeatureCollection; the terrain is the foreign member
  ``"terrain": {"origin": [x, y], "cell_size_m": c, "shape": [ny, nx], "z": [row-major floats],
  "dtype": "float64"}``. Python's ``json`` writes floats with ``repr``, so numbers round-trip
  exactly. A legacy ``crs`` member names the EPSG code so GDAL/QGIS place the file.
* GeoPackage (``.gpkg``): one layer per entity kind (pyogrio), and the terrain in the attributes
  table ``terrain`` (one row: ``origin_x, origin_y, cell_size_m, ny, nx, dtype`` and ``z``, the
  raster as a little-endian BLOB of ``dtype`` - ``<f8`` for float64 - so it round-trips exactly),
  registered in ``gpkg_contents`` with ``data_type = 'attributes'``.

Reading validates at the boundary and raises :class:`~geometry.site.SiteError` (``source`` = the
path) listing every problem with the feature (its 0-based index in ``features`` and its id), the
field and what was expected; then the whole site is checked with :meth:`Site.validate`.
``read_site`` also accepts ``.osm`` (:func:`geometry.osm.import_osm`) and CityJSON files
(:func:`geometry.cityjson.import_cityjson`, recognised by ``"type": "CityJSON"``).
"""

from __future__ import annotations

import difflib
import json
import math
import sqlite3
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from geometry.site import (
    Building,
    BuildingExit,
    BuildingUse,
    CameraSpec,
    Device,
    DeviceKind,
    Elevator,
    Gate,
    Grid,
    OpenSpace,
    Site,
    SiteError,
    StairCore,
    Terrain,
    Way,
)

__all__ = ["read_site", "write_site", "LAYERS"]

LAYERS = ("site", "building", "stair", "exit", "elevator", "way", "gate", "open_space", "grid", "device")
GEOJSON_EXT = (".geojson", ".json")
GPKG_EXT = (".gpkg",)
CAMERA_FIELDS = ("mount_height_m", "yaw_deg", "fov_deg", "range_m", "tilt_deg", "model")
_MISSING = object()


# ------------------------------------------------------------------ schema
@dataclass(frozen=True)
class _F:
    """One property: name, type ('str', 'float', 'int', 'bool', 'strlist', 'use', 'kind'),
    whether it is required, whether null is allowed, the default when absent."""

    name: str
    type: str
    required: bool = False
    nullable: bool = False
    default: Any = None


_SCHEMA: dict[str, tuple[str, tuple[_F, ...]]] = {
    # layer: (geometry type, properties)
    "site": ("Polygon", (_F("name", "str", True), _F("crs", "str", default="LOCAL"))),
    "building": (
        "Polygon",
        (
            _F("id", "str", True),
            _F("use", "use", default=BuildingUse.WALKUP),
            _F("storeys", "int", default=6),
            _F("storey_height_m", "float", default=2.9),
            _F("basement_levels", "int", default=0),
            _F("households_per_storey", "int", default=0),
            _F("name", "str", default=""),
            _F("base_z", "float", default=0.0),
        ),
    ),
    "stair": (
        "Point",
        (
            _F("id", "str", True),
            _F("building", "str", True),
            _F("width_m", "float", default=1.2),
            _F("lowest_level", "int", nullable=True),
            _F("highest_level", "int", nullable=True),
        ),
    ),
    "exit": (
        "Point",
        (_F("id", "str", True), _F("building", "str", True), _F("width_m", "float", default=1.2), _F("level", "int", default=0)),
    ),
    "elevator": ("Point", (_F("id", "str", True), _F("building", "str", True), _F("fire_service", "bool", default=False))),
    "way": (
        "LineString",
        (_F("id", "str", True), _F("width_m", "float", True), _F("kind", "str", default="walkway"), _F("name", "str", default="")),
    ),
    "gate": (
        "Point",
        (
            _F("id", "str", True),
            _F("kind", "str", default="pedestrian"),
            _F("access", "str", default="none"),
            _F("width_m", "float", default=3.0),
            _F("name", "str", default=""),
        ),
    ),
    "open_space": (
        "Polygon",
        (
            _F("id", "str", True),
            _F("kind", "str", default="square"),
            _F("capacity", "int", default=0),
            _F("assembly_point", "bool", default=False),
            _F("name", "str", default=""),
        ),
    ),
    "grid": ("Polygon", (_F("id", "str", True), _F("worker", "str", True), _F("buildings", "strlist", default=()))),
    "device": (
        "Point",
        (
            _F("id", "str", True),
            _F("kind", "kind", True),
            _F("building", "str", nullable=True),
            _F("level", "int", nullable=True),
            _F("unit", "str", nullable=True),
            _F("z", "float", default=None, nullable=True),
            _F("mount_height_m", "float", nullable=True),
            _F("yaw_deg", "float", nullable=True),
            _F("fov_deg", "float", nullable=True),
            _F("range_m", "float", nullable=True),
            _F("tilt_deg", "float", nullable=True),
            _F("model", "str", nullable=True),
        ),
    ),
}


def _convert(value: Any, f: _F) -> Any:
    """Convert one property value; raise ValueError with 'expected ...' on a wrong type."""
    t = f.type
    if t == "str":
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {value!r}")
        return value
    if t == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"expected a number, got {value!r}")
        v = float(value)
        if not math.isfinite(v):
            raise ValueError(f"expected a finite number, got {value!r}")
        return v
    if t == "int":
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"expected an integer, got {value!r}")
        if isinstance(value, (float, np.floating)) and not float(value).is_integer():
            raise ValueError(f"expected an integer, got {value!r}")
        return int(value)
    if t == "bool":
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, (int, np.integer)) and value in (0, 1):  # GeoPackage stores booleans as 0/1
            return bool(value)
        raise ValueError(f"expected true or false, got {value!r}")
    if t == "strlist":
        if isinstance(value, str):  # GeoPackage: JSON text
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise ValueError(f"expected a list of strings (JSON text), got {value!r}") from None
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"expected a list of strings, got {value!r}")
        return list(value)
    if t == "use":
        try:
            return BuildingUse(value)
        except ValueError:
            raise ValueError(f"expected one of {', '.join(u.value for u in BuildingUse)}, got {value!r}") from None
    if t == "kind":
        try:
            return DeviceKind(value)
        except ValueError:
            raise ValueError(f"expected one of {', '.join(k.value for k in DeviceKind)}, got {value!r}") from None
    raise AssertionError(t)


def _is_null(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _props(where: str, layer: str, raw: dict[str, Any], problems: list[str]) -> dict[str, Any] | None:
    """Typed properties of one feature, or None after recording problems."""
    out: dict[str, Any] = {}
    ok = True
    known = [f.name for f in _SCHEMA[layer][1]]
    for key in raw:
        if key in known or key == "layer" or str(key).startswith("x_"):
            continue
        hint = difflib.get_close_matches(str(key), known, n=1)
        problems.append(f"{where}: unknown property '{key}'" + (f" (did you mean '{hint[0]}'?)" if hint else "")
                        + f"; a {layer} has {', '.join(known)} (prefix your own attributes with 'x_')")
        ok = False
    for f in _SCHEMA[layer][1]:
        v = raw.get(f.name, _MISSING)
        if v is _MISSING or _is_null(v):
            if f.required:
                problems.append(f"{where}: missing required property '{f.name}'")
                ok = False
            elif v is not _MISSING and not f.nullable:
                problems.append(f"{where}: property '{f.name}' is null; expected {_expect(f)} (or leave it out for the default)")
                ok = False
            else:
                out[f.name] = None if f.nullable else (list(f.default) if f.type == "strlist" else f.default)
            continue
        try:
            out[f.name] = _convert(v, f)
        except ValueError as e:
            problems.append(f"{where}: field '{f.name}' {e}")
            ok = False
    return out if ok else None


def _expect(f: _F) -> str:
    return {"str": "a string", "float": "a number", "int": "an integer", "bool": "true or false",
            "strlist": "a list of strings", "use": "a building use", "kind": "a device kind"}[f.type]


# ------------------------------------------------------------------ geometry checks (raw GeoJSON)
def _check_position(pos: Any) -> bool:
    return (
        isinstance(pos, (list, tuple))
        and 2 <= len(pos) <= 3
        and all(isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c) for c in pos)
    )


def _fmt(pos: Any) -> str:
    return ", ".join(repr(c) for c in pos)


def _raw_geometry_problems(where: str, geom: Any, expected: str) -> Iterator[str]:
    fld = "field 'geometry'"
    if not isinstance(geom, dict):
        yield f"{where}: {fld} must be a GeoJSON {expected}, got {type(geom).__name__ if geom is not None else 'null'}"
        return
    gtype = geom.get("type")
    if gtype != expected:
        yield f"{where}: {fld} must be a {expected}, got {gtype!r}"
        return
    coords = geom.get("coordinates")
    if expected == "Point":
        if not _check_position(coords):
            yield f"{where}: {fld} Point coordinates must be [x, y] or [x, y, z] numbers, got {coords!r}"
    elif expected == "LineString":
        if not isinstance(coords, list) or len(coords) < 2 or not all(_check_position(p) for p in coords):
            yield f"{where}: {fld} LineString coordinates must be a list of at least 2 [x, y] positions"
    else:  # Polygon
        if not isinstance(coords, list) or not coords:
            yield f"{where}: {fld} Polygon coordinates must be a non-empty list of rings"
            return
        for k, ring in enumerate(coords):
            if not isinstance(ring, list) or not all(_check_position(p) for p in ring):
                yield f"{where}: {fld} polygon ring {k} must be a list of [x, y] positions"
            elif len(ring) < 4:
                yield f"{where}: {fld} polygon ring {k} has {len(ring)} positions; a closed ring needs at least 4"
            elif list(ring[0][:2]) != list(ring[-1][:2]):
                yield (f"{where}: {fld} polygon ring {k} does not close: first point ({_fmt(ring[0])}) "
                       f"!= last point ({_fmt(ring[-1])})")


def _force_2d(g: BaseGeometry) -> BaseGeometry:
    import shapely

    return shapely.force_2d(g) if g.has_z else g


# ------------------------------------------------------------------ records -> Site
def _assemble(records: list[tuple[str, str, dict[str, Any], BaseGeometry, float | None]], src: str,
              terrain: Terrain | None) -> Site:
    """Build a Site from (where, layer, props, geometry, point z) records, checking references."""
    problems: list[str] = []
    sites = [r for r in records if r[1] == "site"]
    if not sites:
        raise SiteError(["no 'site' feature (expected one feature with properties.layer = 'site' carrying name, crs and the boundary)"], source=src)
    if len(sites) > 1:
        problems.append(f"{sites[1][0]}: a second 'site' feature (expected exactly one)")
    _, _, sp, sg, _ = sites[0]
    buildings: dict[str, Building] = {}
    site = Site(name=sp["name"], boundary=sg, crs=sp["crs"], terrain=terrain, source=src)  # type: ignore[arg-type]
    for where, layer, p, g, _ in records:
        if layer == "building":
            b = Building(footprint=g, **p)  # type: ignore[arg-type]
            if b.id in buildings:
                problems.append(f"{where}: field 'id' {b.id!r} is already used by another building")
                continue
            buildings[b.id] = b
            site.buildings.append(b)
    for where, layer, p, g, z in records:
        if layer in ("stair", "exit", "elevator"):
            b = buildings.get(p["building"])
            if b is None:
                problems.append(f"{where}: field 'building' refers to building {p['building']!r}, which does not exist")
                continue
            if layer == "stair":
                b.stairs.append(StairCore(position=g, **p))  # type: ignore[arg-type]
            elif layer == "exit":
                b.exits.append(BuildingExit(position=g, **p))  # type: ignore[arg-type]
            else:
                b.elevators.append(Elevator(position=g, **p))  # type: ignore[arg-type]
        elif layer == "way":
            site.ways.append(Way(line=g, **p))  # type: ignore[arg-type]
        elif layer == "gate":
            site.gates.append(Gate(position=g, **p))  # type: ignore[arg-type]
        elif layer == "open_space":
            site.open_spaces.append(OpenSpace(polygon=g, **p))  # type: ignore[arg-type]
        elif layer == "grid":
            for bid in p["buildings"]:
                if bid not in buildings:
                    problems.append(f"{where}: field 'buildings' refers to building {bid!r}, which does not exist")
            site.grids.append(Grid(polygon=g, **p))  # type: ignore[arg-type]
        elif layer == "device":
            optics = {k: p.pop(k) for k in CAMERA_FIELDS}
            cam = None
            if any(v is not None for v in optics.values()):
                cam = CameraSpec(**{k: v for k, v in optics.items() if v is not None})
            if p["z"] is None:
                p["z"] = z if z is not None else 0.0
            if p["building"] is not None and p["building"] not in buildings:
                problems.append(f"{where}: field 'building' refers to building {p['building']!r}, which does not exist")
            site.devices.append(Device(position=g, camera=cam, **p))  # type: ignore[arg-type]
    if problems:
        raise SiteError(problems, source=src)
    return site.validate(source=src)


def _name(index: int, layer: str, raw: dict[str, Any], *, prefix: str = "feature") -> str:
    ident = raw.get("id") if layer != "site" else raw.get("name")
    label = layer.replace("_", " ")
    return f"{prefix} {index} ({label} {ident})" if ident not in (None, "") else f"{prefix} {index} ({label})"


# ------------------------------------------------------------------ Site -> records
def _site_rows(site: Site) -> Iterator[tuple[str, dict[str, Any], BaseGeometry]]:
    """(layer, properties, geometry) for every entity, in a stable order."""
    yield "site", {"name": site.name, "crs": site.crs}, site.boundary
    for b in site.buildings:
        yield "building", {
            "id": b.id, "use": b.use.value, "storeys": b.storeys, "storey_height_m": b.storey_height_m,
            "basement_levels": b.basement_levels, "households_per_storey": b.households_per_storey,
            "name": b.name, "base_z": b.base_z,
        }, b.footprint
    for b in site.buildings:
        for s in b.stairs:
            yield "stair", {"id": s.id, "building": s.building, "width_m": s.width_m,
                            "lowest_level": s.lowest_level, "highest_level": s.highest_level}, s.position
        for e in b.exits:
            yield "exit", {"id": e.id, "building": e.building, "width_m": e.width_m, "level": e.level}, e.position
        for el in b.elevators:
            yield "elevator", {"id": el.id, "building": el.building, "fire_service": el.fire_service}, el.position
    for w in site.ways:
        yield "way", {"id": w.id, "width_m": w.width_m, "kind": w.kind, "name": w.name}, w.line
    for g in site.gates:
        yield "gate", {"id": g.id, "kind": g.kind, "access": g.access, "width_m": g.width_m, "name": g.name}, g.position
    for o in site.open_spaces:
        yield "open_space", {"id": o.id, "kind": o.kind, "capacity": o.capacity,
                             "assembly_point": o.assembly_point, "name": o.name}, o.polygon
    for gr in site.grids:
        yield "grid", {"id": gr.id, "worker": gr.worker, "buildings": list(gr.buildings)}, gr.polygon
    for d in site.devices:
        props: dict[str, Any] = {"id": d.id, "kind": d.kind.value, "building": d.building, "level": d.level,
                                 "unit": d.unit, "z": d.z}
        for k in CAMERA_FIELDS:
            props[k] = getattr(d.camera, k) if d.camera is not None else None
        yield "device", props, d.position


# ------------------------------------------------------------------ public API
def read_site(path: str | Path) -> Site:
    """Read a site file; the format follows the extension (``.geojson``/``.json``, ``.gpkg``;
    also ``.osm`` and CityJSON via the importers). Raises :class:`SiteError` on bad input."""
    src = str(path)
    p = Path(path)
    if not p.exists():
        raise SiteError(["file not found"], source=src)
    if not p.is_file():
        raise SiteError(["not a file"], source=src)
    ext = p.suffix.lower()
    if ext == ".osm":
        from geometry.osm import import_osm

        return import_osm(p)
    if ext in GEOJSON_EXT:
        return _read_geojson(p, src)
    if ext in GPKG_EXT:
        return _read_gpkg(p, src)
    raise SiteError([f"unsupported file extension {ext!r} (expected .geojson, .json, .gpkg or .osm)"], source=src)


def write_site(site: Site, path: str | Path, *, validate: bool = True) -> Path:
    """Write ``site`` to ``path`` (GeoJSON or GeoPackage by extension), replacing any file there.
    The site is validated first unless ``validate=False``. Returns the path."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in GEOJSON_EXT + GPKG_EXT:
        raise SiteError([f"unsupported file extension {ext!r} for writing (expected .geojson, .json or .gpkg)"], source=str(p))
    if validate:
        site.validate(source=str(p))
    if ext in GEOJSON_EXT:
        _write_geojson(site, p)
    else:
        _write_gpkg(site, p)
    return p


# ------------------------------------------------------------------ GeoJSON
def _write_geojson(site: Site, p: Path) -> None:
    feats = []
    for layer, props, geom in _site_rows(site):
        g = mapping(_force_2d(geom))
        feats.append({"type": "Feature", "properties": {"layer": layer, **props}, "geometry": _lists(g)})
    doc: dict[str, Any] = {"type": "FeatureCollection", "name": site.name}
    if site.crs.upper().startswith("EPSG:"):
        doc["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{site.crs.split(':', 1)[1]}"}}
    doc["features"] = feats
    if site.terrain is not None:
        t = site.terrain
        z = np.asarray(t.z)
        doc["terrain"] = {
            "origin": [float(t.origin[0]), float(t.origin[1])],
            "cell_size_m": float(t.cell_size_m),
            "shape": [int(z.shape[0]), int(z.shape[1])],
            "dtype": z.dtype.name,
            "z": [float(v) for v in z.ravel(order="C")],
        }
    tmp = p.with_name(p.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, allow_nan=False, ensure_ascii=False)
        fh.write("\n")
    tmp.replace(p)


def _lists(obj: Any) -> Any:
    if isinstance(obj, (list, tuple)):
        return [_lists(o) for o in obj]
    if isinstance(obj, dict):
        return {k: _lists(v) for k, v in obj.items()}
    return obj


def _read_geojson(p: Path, src: str) -> Site:
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise SiteError([f"not UTF-8 text ({e.reason} at byte {e.start})"], source=src) from e
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise SiteError([f"not valid JSON at line {e.lineno}, column {e.colno}: {e.msg}"], source=src) from e
    if isinstance(doc, dict) and doc.get("type") == "CityJSON":
        from geometry.cityjson import import_cityjson

        return import_cityjson(p)
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        got = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        raise SiteError([f"expected a GeoJSON FeatureCollection at the top level, got {got!r}"], source=src)
    feats = doc.get("features")
    if not isinstance(feats, list):
        raise SiteError(["field 'features' must be a list of GeoJSON features"], source=src)
    problems: list[str] = []
    records = []
    for i, f in enumerate(feats):
        if not isinstance(f, dict) or f.get("type") != "Feature":
            problems.append(f"feature {i}: expected a GeoJSON Feature object")
            continue
        raw = f.get("properties")
        if not isinstance(raw, dict):
            problems.append(f"feature {i}: field 'properties' must be an object")
            continue
        layer = raw.get("layer")
        if layer not in LAYERS:
            ident = f" (id {raw['id']})" if isinstance(raw.get("id"), str) else ""
            problems.append(f"feature {i}{ident}: unknown layer {layer!r} in property 'layer' (expected one of {', '.join(LAYERS)})"
                            if layer is not None else f"feature {i}: missing required property 'layer' (expected one of {', '.join(LAYERS)})")
            continue
        where = _name(i, layer, raw)
        gtype = _SCHEMA[layer][0]
        gp = list(_raw_geometry_problems(where, f.get("geometry"), gtype))
        props = _props(where, layer, raw, problems)
        if gp:
            problems.extend(gp)
            continue
        if props is None:
            continue
        g = shape(f["geometry"])
        z = float(f["geometry"]["coordinates"][2]) if gtype == "Point" and len(f["geometry"]["coordinates"]) == 3 else None
        records.append((where, layer, props, _force_2d(g), z))
    terrain = None
    if "terrain" in doc and doc["terrain"] is not None:
        terrain = _terrain_from_json(doc["terrain"], problems)
    if problems:
        raise SiteError(problems, source=src)
    return _assemble(records, src, terrain)


def _terrain_from_json(t: Any, problems: list[str]) -> Terrain | None:
    w = "terrain"
    if not isinstance(t, dict):
        problems.append(f"{w}: expected an object with origin, cell_size_m, shape and z")
        return None
    bad = len(problems)
    origin = t.get("origin")
    if not (isinstance(origin, list) and len(origin) == 2 and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in origin)):
        problems.append(f"{w}: field 'origin' expected [x, y] numbers, got {origin!r}")
    cs = t.get("cell_size_m")
    if isinstance(cs, bool) or not isinstance(cs, (int, float)):
        problems.append(f"{w}: field 'cell_size_m' expected a number, got {cs!r}")
    shp = t.get("shape")
    if not (isinstance(shp, list) and len(shp) == 2 and all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in shp)):
        problems.append(f"{w}: field 'shape' expected [ny, nx] positive integers, got {shp!r}")
    z = t.get("z")
    if not isinstance(z, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in z):
        problems.append(f"{w}: field 'z' expected a list of numbers (row-major)")
    elif isinstance(shp, list) and len(problems) == bad and len(z) != shp[0] * shp[1]:
        problems.append(f"{w}: field 'z' has {len(z)} values; shape {shp} needs {shp[0] * shp[1]}")
    dtype = t.get("dtype", "float64")
    if dtype not in ("float64", "float32"):
        problems.append(f"{w}: field 'dtype' expected 'float64' or 'float32', got {dtype!r}")
    if len(problems) > bad:
        return None
    arr = np.asarray(z, dtype=np.float64).reshape(shp[0], shp[1]).astype(dtype)
    return Terrain(origin=(float(origin[0]), float(origin[1])), cell_size_m=float(cs), z=arr)


# ------------------------------------------------------------------ GeoPackage
def _write_gpkg(site: Site, p: Path) -> None:
    import geopandas as gpd
    import pandas as pd

    crs = site.crs if site.crs.upper().startswith("EPSG:") else None
    rows: dict[str, list[tuple[dict[str, Any], BaseGeometry]]] = {}
    for layer, props, geom in _site_rows(site):
        if layer == "grid":
            props = {**props, "buildings": json.dumps(props["buildings"])}
        rows.setdefault(layer, []).append((props, _force_2d(geom)))
    tmp = p.with_name(p.name + ".tmp.gpkg")
    if tmp.exists():
        tmp.unlink()
    for layer in LAYERS:
        if layer not in rows:
            continue
        fields = _SCHEMA[layer][1]
        data: dict[str, Any] = {}
        for f in fields:
            col = [r[0][f.name] for r in rows[layer]]
            if f.type == "int":
                data[f.name] = pd.array(col, dtype="Int64")
            elif f.type == "float":
                data[f.name] = pd.array(col, dtype="Float64") if f.nullable else np.asarray(col, dtype=np.float64)
            elif f.type == "bool":
                data[f.name] = np.asarray(col, dtype=bool)
            else:
                data[f.name] = pd.array(col, dtype="string")
        gdf = gpd.GeoDataFrame(data, geometry=[r[1] for r in rows[layer]], crs=crs)
        with warnings.catch_warnings():
            # a LOCAL site has no EPSG code; the CRS name is kept in the 'site' layer instead
            warnings.filterwarnings("ignore", message="'crs' was not provided", category=UserWarning)
            gdf.to_file(tmp, layer=layer, driver="GPKG", engine="pyogrio")
    if site.terrain is not None:
        _write_terrain_table(tmp, site.terrain)
    tmp.replace(p)


def _write_terrain_table(path: Path, t: Terrain) -> None:
    z = np.asarray(t.z)
    dtype = z.dtype.newbyteorder("<")
    con = sqlite3.connect(path)
    try:
        con.execute(
            "CREATE TABLE terrain (id INTEGER PRIMARY KEY, origin_x REAL NOT NULL, origin_y REAL NOT NULL, "
            "cell_size_m REAL NOT NULL, ny INTEGER NOT NULL, nx INTEGER NOT NULL, dtype TEXT NOT NULL, z BLOB NOT NULL)"
        )
        con.execute(
            "INSERT INTO terrain (id, origin_x, origin_y, cell_size_m, ny, nx, dtype, z) VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
            (float(t.origin[0]), float(t.origin[1]), float(t.cell_size_m), int(z.shape[0]), int(z.shape[1]),
             dtype.str, np.ascontiguousarray(z, dtype=dtype).tobytes()),
        )
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        con.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
            "VALUES ('terrain', 'attributes', 'terrain', 'Shoumen DEM: z[j, i] row-major, row 0 south, little-endian', ?)",
            (now,),
        )
        con.commit()
    finally:
        con.close()


def _read_terrain_table(p: Path, src: str) -> Terrain:
    con = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT origin_x, origin_y, cell_size_m, ny, nx, dtype, z FROM terrain").fetchone()
    except sqlite3.Error as e:
        raise SiteError([f"table 'terrain': cannot read ({e}); expected columns origin_x, origin_y, cell_size_m, ny, nx, dtype, z"], source=src) from e
    finally:
        con.close()
    if row is None:
        raise SiteError(["table 'terrain' is empty (expected one row)"], source=src)
    ox, oy, cs, ny, nx, dtype, blob = row
    problems = []
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
        problems.append(f"table 'terrain': field 'dtype' expected a numpy dtype string such as '<f8', got {dtype!r}")
    if dt is not None and (not isinstance(blob, bytes) or len(blob) != int(ny) * int(nx) * dt.itemsize):
        problems.append(f"table 'terrain': field 'z' expected {ny} x {nx} values of {dtype} ({int(ny) * int(nx) * dt.itemsize} bytes), "
                        f"got {len(blob) if isinstance(blob, bytes) else type(blob).__name__}")
    if problems:
        raise SiteError(problems, source=src)
    z = np.frombuffer(blob, dtype=dt).reshape(int(ny), int(nx)).astype(dt.newbyteorder("="))  # type: ignore[union-attr]
    return Terrain(origin=(float(ox), float(oy)), cell_size_m=float(cs), z=z)


def _read_gpkg(p: Path, src: str) -> Site:
    import pyogrio

    try:
        listed = pyogrio.list_layers(p)
    except Exception as e:  # pyogrio raises DataSourceError subclasses
        raise SiteError([f"cannot open as a GeoPackage: {e}"], source=src) from e
    names = [str(n) for n in listed[:, 0]]
    problems: list[str] = []
    records = []
    terrain = None
    for name in names:
        if name == "terrain":
            continue
        if name not in LAYERS:
            problems.append(f"unknown layer {name!r} (expected one of {', '.join(LAYERS)}, or the table 'terrain')")
    if problems:
        raise SiteError(problems, source=src)
    for layer in LAYERS:
        if layer not in names:
            continue
        df = pyogrio.read_dataframe(p, layer=layer)
        gtype = _SCHEMA[layer][0]
        for i, row in enumerate(df.itertuples(index=False)):
            raw = {c: _py(getattr(row, c)) for c in df.columns if c != "geometry"}
            where = _name(i, layer, raw, prefix=f"layer '{layer}' feature")
            g = row.geometry
            if g is None or g.is_empty:
                problems.append(f"{where}: field 'geometry' is empty; expected a {gtype}")
                continue
            if g.geom_type != gtype:
                problems.append(f"{where}: field 'geometry' must be a {gtype}, got {g.geom_type}")
                continue
            props = _props(where, layer, raw, problems)
            if props is None:
                continue
            z = float(g.z) if gtype == "Point" and g.has_z else None
            records.append((where, layer, props, _force_2d(g), z))
    if "terrain" in names:
        terrain = _read_terrain_table(p, src)
    if problems:
        raise SiteError(problems, source=src)
    return _assemble(records, src, terrain)


def _py(v: Any) -> Any:
    """numpy/pandas scalars -> Python values (NA -> None)."""
    import pandas as pd

    if v is None or v is pd.NA:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return None if math.isnan(v) else float(v)
    return v

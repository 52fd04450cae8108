"""CityJSON import (geometry.cityjson): footprints, heights, roads, CRS, the Delft file and bad
files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from geometry.cityjson import crs_from_reference_system, import_cityjson
from geometry.io import read_site, write_site
from geometry.site import BuildingUse, SiteError

DATA = Path("/work/shared/data/sites")
SCALE = 0.001
TRANSLATE = [85000.0, 447000.0, -0.5]


class _Doc:
    """Builds a small CityJSON document with integer vertices and a transform."""

    def __init__(self) -> None:
        self.vertices: list[list[int]] = []
        self.objects: dict[str, Any] = {}

    def v(self, x: float, y: float, z: float) -> int:
        self.vertices.append([round((x - TRANSLATE[0] + 85000) / SCALE), round((y - TRANSLATE[1] + 447000) / SCALE),
                              round((z - TRANSLATE[2]) / SCALE)])
        return len(self.vertices) - 1

    def box(self, x: float, y: float, w: float, d: float, h: float, *, floor: bool = True, z0: float = 0.0) -> list[list[list[int]]]:
        """Faces of a box (rings of vertex indices), x, y relative to the translate origin."""
        b = [self.v(x, y, z0), self.v(x + w, y, z0), self.v(x + w, y + d, z0), self.v(x, y + d, z0)]
        t = [self.v(x, y, z0 + h), self.v(x + w, y, z0 + h), self.v(x + w, y + d, z0 + h), self.v(x, y + d, z0 + h)]
        faces = [[[b[0], b[3], b[2], b[1]]]] if floor else []
        faces.append([[t[0], t[1], t[2], t[3]]])
        for k in range(4):
            faces.append([[b[k], b[(k + 1) % 4], t[(k + 1) % 4], t[k]]])
        return faces

    def dump(self, path: Path, *, ref: str = "urn:ogc:def:crs:EPSG::7415", version: str = "1.1") -> Path:
        doc = {
            "type": "CityJSON", "version": version,
            "transform": {"scale": [SCALE] * 3, "translate": TRANSLATE},
            "metadata": {"referenceSystem": ref},
            "CityObjects": self.objects, "vertices": self.vertices,
        }
        path.write_text(json.dumps(doc))
        return path


@pytest.fixture
def city(tmp_path: Path) -> Path:
    d = _Doc()
    d.objects["bldg-a"] = {"type": "Building", "attributes": {"measuredHeight": 18.0, "function": "residential"},
                           "geometry": [{"type": "Solid", "lod": "1", "boundaries": [d.box(0, 0, 20, 10, 18)]}]}
    # no floor (like 3dfier LoD1): the plan outline is used
    d.objects["bldg-b"] = {"type": "Building", "attributes": {"storeysAboveGround": 4, "storeysBelowGround": 1},
                           "geometry": [{"type": "MultiSurface", "lod": "1.2", "boundaries": d.box(40, 0, 10, 10, 13, floor=False, z0=1.0)}]}
    # a building made of two parts; the parent has no geometry
    d.objects["bldg-c"] = {"type": "Building", "children": ["bldg-c-1", "bldg-c-2"], "attributes": {}}
    d.objects["bldg-c-1"] = {"type": "BuildingPart", "parents": ["bldg-c"],
                             "geometry": [{"type": "Solid", "lod": "1", "boundaries": [d.box(0, 30, 10, 10, 6)]}]}
    d.objects["bldg-c-2"] = {"type": "BuildingPart", "parents": ["bldg-c"],
                             "geometry": [{"type": "Solid", "lod": "1", "boundaries": [d.box(10, 30, 10, 10, 9)]}]}
    r = [d.v(-5, -10, 0), d.v(55, -10, 0), d.v(55, -6, 0), d.v(-5, -6, 0)]
    d.objects["road-1"] = {"type": "Road", "attributes": {"function": "rijbaan lokale weg"},
                           "geometry": [{"type": "MultiSurface", "lod": "1", "boundaries": [[[r[0], r[1], r[2]]], [[r[0], r[2], r[3]]]]}]}
    p = [d.v(-5, 20, 0), d.v(-3, 20, 0), d.v(-3, 45, 0), d.v(-5, 45, 0)]
    d.objects["path-1"] = {"type": "Road", "attributes": {"function": "voetpad"},
                           "geometry": [{"type": "MultiSurface", "lod": "1", "boundaries": [[[p[0], p[1], p[2], p[3]]]]}]}
    d.objects["tree-1"] = {"type": "SolitaryVegetationObject", "geometry": []}
    return d.dump(tmp_path / "small.city.json")


def test_buildings(city: Path) -> None:
    site = import_cityjson(city)
    assert site.crs == "EPSG:28992"
    assert [b.name for b in site.buildings] == ["bldg-a", "bldg-b", "bldg-c"]
    a, b, c = site.buildings
    assert a.footprint.area == pytest.approx(200.0) and a.footprint.bounds[0] == pytest.approx(85000.0)
    assert a.storeys == 6 and a.storey_height_m == pytest.approx(3.0) and a.base_z == pytest.approx(0.0)
    assert a.use == BuildingUse.WALKUP and a.households_per_storey == 2  # 200 m² / 90 m²
    assert len(a.stairs) == 1 and len(a.exits) == 1
    assert b.footprint.area == pytest.approx(100.0)  # roof outline, there is no floor
    assert b.storeys == 4 and b.basement_levels == 1 and b.base_z == pytest.approx(1.0)
    assert b.storey_height_m == pytest.approx(3.25)  # 13 m / 4
    assert b.use == BuildingUse.OTHER
    assert c.footprint.area == pytest.approx(200.0)  # the union of its two parts
    assert c.storeys == 3  # 9 m (max z - min z) / 3 m
    assert a.exits[0].position.y == pytest.approx(447000.0, abs=1e-6)  # faces the road to the south


def test_roads_become_ways(city: Path) -> None:
    site = import_cityjson(city)
    assert [(w.name, w.kind) for w in site.ways] == [("path-1", "walkway"), ("road-1", "road")]
    path, road = site.ways
    assert road.width_m == pytest.approx(4.0) and road.line.length == pytest.approx(60.0)
    assert road.line.centroid.y == pytest.approx(447000.0 - 8.0)
    assert path.width_m == pytest.approx(2.0) and path.line.length == pytest.approx(25.0)
    for b in site.buildings + []:
        assert site.boundary.contains(b.footprint)
    assert site.boundary.contains(road.area)


def test_ground_surface_semantics(tmp_path: Path) -> None:
    d = _Doc()
    faces = d.box(0, 0, 10, 10, 6)
    # an overhanging roof slab 12 x 12 on top, so the plan outline is larger than the ground
    faces += d.box(-1, -1, 12, 12, 0.5, z0=6.0)
    values = [[0] + [None] * (len(faces) - 1)]
    d.objects["x"] = {"type": "Building", "attributes": {}, "geometry": [
        {"type": "Solid", "lod": "2.2", "boundaries": [faces],
         "semantics": {"surfaces": [{"type": "GroundSurface"}], "values": values}}]}
    site = import_cityjson(d.dump(tmp_path / "s.json", ref="https://www.opengis.net/def/crs/EPSG/0/28992", version="2.0"))
    assert site.buildings[0].footprint.area == pytest.approx(100.0)
    assert site.crs == "EPSG:28992"


def test_crs_parsing() -> None:
    assert crs_from_reference_system("urn:ogc:def:crs:EPSG::7415") == "EPSG:28992"
    assert crs_from_reference_system("https://www.opengis.net/def/crs/EPSG/0/7415") == "EPSG:28992"
    assert crs_from_reference_system("urn:ogc:def:crs:EPSG::32650") == "EPSG:32650"
    assert crs_from_reference_system(None) == "LOCAL"


def test_delft() -> None:
    site = import_cityjson(DATA / "delft.city.json")
    assert len(site.buildings) == 160 and len(site.ways) == 143
    assert site.crs == "EPSG:28992"
    x0, y0, x1, y1 = site.boundary.bounds
    assert 84000 < x0 < x1 < 86000 and 447000 < y0 < y1 < 448000
    site.validate()
    # footprints are real outlines, not all convex hulls
    assert any(b.footprint.area < 0.9 * b.footprint.convex_hull.area for b in site.buildings)


def test_delft_round_trip_and_read_site_dispatch(tmp_path: Path) -> None:
    site = read_site(DATA / "delft.city.json")
    for ext in ("geojson", "gpkg"):
        back = read_site(write_site(site, tmp_path / f"delft.{ext}"))
        assert back.crs == "EPSG:28992"
        assert all(a.footprint.equals_exact(b.footprint, 0) for a, b in zip(site.buildings, back.buildings))
        assert [(w.id, w.width_m) for w in back.ways] == [(w.id, w.width_m) for w in site.ways]


# ------------------------------------------------------------------ bad input
def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(SiteError, match="file not found"):
        import_cityjson(tmp_path / "none.city.json")
    p = tmp_path / "a.json"
    p.write_text('{"type": "CityJSON",\n "vertices": [}')
    with pytest.raises(SiteError, match=r"a\.json: not valid JSON at line 2, column 15"):
        import_cityjson(p)
    p.write_text('{"type": "FeatureCollection"}')
    with pytest.raises(SiteError, match="not a CityJSON file: field 'type' is 'FeatureCollection'"):
        import_cityjson(p)
    d = _Doc()
    d.v(0, 0, 0)
    d.objects["t"] = {"type": "Road", "geometry": []}
    with pytest.raises(SiteError, match="no buildings found"):
        import_cityjson(d.dump(tmp_path / "b.json"))
    d.objects["q"] = {"type": "Building", "geometry": [{"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 99]]]}]}
    with pytest.raises(SiteError, match="city object q: field 'geometry' refers to vertex 99, but there are only 1 vertices"):
        import_cityjson(d.dump(tmp_path / "c.json"))


def _tiny_cityjson(tmp_path, *, ref: str = "urn:ogc:def:crs:EPSG::7415", boundaries=None) -> "Path":
    import json as _json

    doc = {
        "type": "CityJSON", "version": "1.1",
        "metadata": {"referenceSystem": ref},
        "transform": {"scale": [1, 1, 1], "translate": [0, 0, 0]},
        "vertices": [[0, 0, 0], [10, 0, 0], [10, 10, 0], [0, 10, 0], [0, 0, 9], [10, 0, 9], [10, 10, 9], [0, 10, 9]],
        "CityObjects": {"b1": {"type": "Building", "geometry": [{
            "type": "MultiSurface", "lod": "1",
            "boundaries": boundaries if boundaries is not None else [[[0, 1, 2, 3]], [[4, 5, 6, 7]]],
        }]}},
    }
    p = tmp_path / "tiny.city.json"
    p.write_text(_json.dumps(doc))
    return p


def test_geographic_crs_is_refused(tmp_path) -> None:
    import pytest as _pytest

    from geometry.cityjson import import_cityjson
    from geometry.site import SiteError

    import_cityjson(_tiny_cityjson(tmp_path))  # projected, metres: fine
    with _pytest.raises(SiteError, match="needs a projected CRS in metres"):
        import_cityjson(_tiny_cityjson(tmp_path, ref="urn:ogc:def:crs:EPSG::4326"))


def test_badly_nested_boundaries_are_named(tmp_path) -> None:
    import pytest as _pytest

    from geometry.cityjson import import_cityjson
    from geometry.site import SiteError

    with _pytest.raises(SiteError, match="city object b1: field 'geometry.boundaries' is not nested"):
        import_cityjson(_tiny_cityjson(tmp_path, boundaries=[[0, 1, 2, 3]]))

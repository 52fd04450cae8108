"""Site import/export (geometry.io): exact round trips through GeoJSON and GeoPackage, and clear
errors for bad files."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from geometry.io import read_site, write_site
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

DATA = Path("/work/shared/data/sites")


def assert_same(a: Any, b: Any, path: str = "site") -> None:
    """Deep, exact equality of two sites (geometries coordinate by coordinate, arrays with dtype)."""
    if isinstance(a, BaseGeometry):
        assert isinstance(b, BaseGeometry) and a.geom_type == b.geom_type, path
        assert a.equals_exact(b, 0.0), f"{path}: {a.wkt[:80]} != {b.wkt[:80]}"
        return
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b), path
        return
    if dataclasses.is_dataclass(a):
        assert type(a) is type(b), path
        for f in dataclasses.fields(a):
            if f.name == "source":
                continue
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
        return
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{path}: {len(a)} != {len(b)}"
        for k, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{k}]")
        return
    assert type(a) is type(b) and a == b, f"{path}: {a!r} ({type(a).__name__}) != {b!r} ({type(b).__name__})"


@pytest.fixture
def tiny_site() -> Site:
    """One of everything: a building with stair, exit and lift, a way, a gate, an open space, a
    grid, a camera and a smoke detector, and a 3 x 3 terrain."""
    fp = Polygon([(10, 10), (30.25, 10), (30.25, 22.5), (10, 22.5)])
    b = Building(
        id="B01", footprint=fp, use=BuildingUse.WALKUP, storeys=6, storey_height_m=2.9, basement_levels=1,
        households_per_storey=2, name="Block 1", base_z=0.35,
        stairs=[StairCore(id="B01-S1", building="B01", position=Point(20.1, 16.3), width_m=1.3, lowest_level=-1, highest_level=5)],
        exits=[BuildingExit(id="B01-E1", building="B01", position=Point(20.0, 10.0), width_m=1.5, level=0)],
        elevators=[Elevator(id="B01-L1", building="B01", position=Point(22.0, 16.0), fire_service=True)],
    )
    return Site(
        name="tiny",
        boundary=Polygon([(0, 0), (100, 0), (100, 80), (0, 80)]),
        crs="EPSG:32650",
        buildings=[b],
        ways=[Way(id="W001", line=LineString([(0, 5), (50.5, 5), (99.9, 40.0)]), width_m=3.5, kind="road", name="Ring road")],
        gates=[Gate(id="G01", position=Point(0.0, 5.0), kind="mixed", access="face", width_m=4.0, name="North gate")],
        open_spaces=[OpenSpace(id="O01", polygon=Polygon([(50, 50), (70, 50), (70, 70), (50, 70)]), kind="square",
                               capacity=800, assembly_point=True, name="Square")],
        grids=[Grid(id="GR1", polygon=Polygon([(0, 0), (50, 0), (50, 80), (0, 80)]), worker="Wang Li", buildings=["B01"])],
        devices=[
            Device(id="cam-gate-1", kind=DeviceKind.CAMERA, position=Point(1.0, 6.0), z=0.0,
                   camera=CameraSpec(mount_height_m=4.5, yaw_deg=90.0, fov_deg=78.5, range_m=25.0, tilt_deg=12.0, model="dome")),
            Device(id="smk-B01-L02-U01", kind=DeviceKind.SMOKE_DETECTOR, position=Point(12.0, 12.0), building="B01",
                   level=2, unit="B01-L02-U01", z=2.6),
        ],
        terrain=Terrain(origin=(-0.5, -1.25), cell_size_m=40.0, z=np.array([[0.0, 0.1, 0.25], [0.3, 0.35, 0.5], [1.0, 1.125, 1.2]])),
    )


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize("ext", ["geojson", "json", "gpkg"])
def test_round_trip_is_exact(tiny_site: Site, tmp_path: Path, ext: str) -> None:
    path = write_site(tiny_site, tmp_path / f"site.{ext}")
    back = read_site(path)
    assert_same(tiny_site, back)
    assert back.source == str(path)
    # and a second generation is identical too
    back2 = read_site(write_site(back, tmp_path / f"again.{ext}"))
    assert_same(tiny_site, back2)


def test_round_trip_float32_terrain_and_no_terrain(tiny_site: Site, tmp_path: Path) -> None:
    tiny_site.terrain = Terrain(origin=(0.0, 0.0), cell_size_m=0.5, z=np.arange(12, dtype=np.float32).reshape(3, 4) / 7)
    for ext in ("geojson", "gpkg"):
        assert_same(tiny_site, read_site(write_site(tiny_site, tmp_path / f"f32.{ext}")))
    tiny_site.terrain = None
    tiny_site.devices = []
    tiny_site.grids = []
    for ext in ("geojson", "gpkg"):
        back = read_site(write_site(tiny_site, tmp_path / f"none.{ext}"))
        assert back.terrain is None and back.devices == [] and back.grids == []
        assert_same(tiny_site, back)


def test_geojson_layout(tiny_site: Site, tmp_path: Path) -> None:
    doc = json.loads(write_site(tiny_site, tmp_path / "s.geojson").read_text())
    assert doc["type"] == "FeatureCollection"
    layers = [f["properties"]["layer"] for f in doc["features"]]
    assert layers == ["site", "building", "stair", "exit", "elevator", "way", "gate", "open_space", "grid", "device", "device"]
    site_f = doc["features"][0]
    assert site_f["properties"] == {"layer": "site", "name": "tiny", "crs": "EPSG:32650"}
    assert site_f["geometry"]["type"] == "Polygon"
    b = doc["features"][1]["properties"]
    assert b["use"] == "residential_walkup" and b["storeys"] == 6
    stair = doc["features"][2]["properties"]
    assert stair["building"] == "B01"
    cam = doc["features"][9]["properties"]
    assert cam["kind"] == "camera" and cam["mount_height_m"] == 4.5 and cam["model"] == "dome"
    assert doc["features"][10]["properties"]["mount_height_m"] is None
    assert doc["terrain"]["shape"] == [3, 3] and doc["terrain"]["origin"] == [-0.5, -1.25]
    assert doc["terrain"]["z"][3] == 0.3  # row-major
    assert doc["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::32650"


def test_gpkg_layout(tiny_site: Site, tmp_path: Path) -> None:
    import pyogrio

    path = write_site(tiny_site, tmp_path / "s.gpkg")
    names = set(pyogrio.list_layers(path)[:, 0])
    assert {"site", "building", "stair", "exit", "elevator", "way", "gate", "open_space", "grid", "device", "terrain"} <= names
    con = sqlite3.connect(path)
    try:
        dtype_row = con.execute("SELECT data_type FROM gpkg_contents WHERE table_name = 'terrain'").fetchone()
        ny, nx, dt, blob = con.execute("SELECT ny, nx, dtype, z FROM terrain").fetchone()
    finally:
        con.close()
    assert dtype_row == ("attributes",)
    assert (ny, nx, dt) == (3, 3, "<f8")
    assert np.array_equal(np.frombuffer(blob, "<f8").reshape(3, 3), tiny_site.terrain.z)  # type: ignore[union-attr]
    assert pyogrio.read_info(path, layer="building")["crs"] == "EPSG:32650"


def test_point_z_becomes_device_z(tiny_site: Site, tmp_path: Path) -> None:
    path = write_site(tiny_site, tmp_path / "s.geojson")
    doc = json.loads(path.read_text())
    dev = doc["features"][10]
    del dev["properties"]["z"]
    dev["geometry"]["coordinates"] = [12.0, 12.0, 1.75]
    path.write_text(json.dumps(doc))
    back = read_site(path)
    assert back.devices[1].z == 1.75
    assert back.devices[1].position.equals_exact(Point(12.0, 12.0), 0)


def test_optional_properties_take_defaults(tmp_path: Path) -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"layer": "site", "name": "min"},
             "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [50, 0], [50, 50], [0, 50], [0, 0]]]}},
            {"type": "Feature", "properties": {"layer": "building", "id": "B01", "use": "other", "storeys": 1},
             "geometry": {"type": "Polygon", "coordinates": [[[10, 10], [20, 10], [20, 20], [10, 20], [10, 10]]]}},
        ],
    }
    path = tmp_path / "min.geojson"
    path.write_text(json.dumps(doc))
    s = read_site(path)
    assert s.crs == "LOCAL" and s.buildings[0].storey_height_m == 2.9 and s.buildings[0].name == ""


# ------------------------------------------------------------------ real sites
@pytest.mark.parametrize("name", ["West-Oakland.osm", "munich-sample.osm", "delft.city.json"])
def test_real_sites_round_trip(name: str, tmp_path: Path) -> None:
    site = read_site(DATA / name)  # dispatches to the OSM / CityJSON importers
    assert site.buildings
    for ext in ("geojson", "gpkg"):
        assert_same(site, read_site(write_site(site, tmp_path / f"out.{ext}")))


def test_sample_community_round_trip(tmp_path: Path) -> None:
    sample = pytest.importorskip("geometry.sample")
    site = sample.sample_community()
    for ext in ("geojson", "gpkg"):
        assert_same(site, read_site(write_site(site, tmp_path / f"sample.{ext}")))


# ------------------------------------------------------------------ bad input
def _doc(site: Site, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    path = write_site(site, tmp_path / "bad.geojson")
    return path, json.loads(path.read_text())


def _errors(path: Path) -> SiteError:
    with pytest.raises(SiteError) as ei:
        read_site(path)
    assert ei.value.source == str(path)
    return ei.value


def test_missing_file(tmp_path: Path) -> None:
    e = _errors(tmp_path / "nope.geojson")
    assert "file not found" in str(e) and "nope.geojson" in str(e)


def test_not_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection",\n  "features": [,]}\n')
    e = _errors(path)
    assert "not valid JSON at line 2, column 16" in str(e)


def test_not_a_feature_collection(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[1, 2]")
    assert "expected a GeoJSON FeatureCollection" in str(_errors(path))


def test_unclosed_ring(tiny_site: Site, tmp_path: Path) -> None:
    path, doc = _doc(tiny_site, tmp_path)
    ring = doc["features"][1]["geometry"]["coordinates"][0]
    ring[-1] = [10.0, 10.5]
    path.write_text(json.dumps(doc))
    e = _errors(path)
    assert (f"{path}: feature 1 (building B01): field 'geometry' polygon ring 0 does not close: "
            "first point (10.0, 10.0) != last point (10.0, 10.5)") == str(e)


def test_missing_required_property(tiny_site: Site, tmp_path: Path) -> None:
    path, doc = _doc(tiny_site, tmp_path)
    del doc["features"][5]["properties"]["width_m"]
    path.write_text(json.dumps(doc))
    assert "feature 5 (way W001): missing required property 'width_m'" in str(_errors(path))


def test_wrong_type(tiny_site: Site, tmp_path: Path) -> None:
    path, doc = _doc(tiny_site, tmp_path)
    doc["features"][5]["properties"]["width_m"] = "abc"
    doc["features"][1]["properties"]["storeys"] = 5.5
    doc["features"][1]["properties"]["use"] = "castle"
    path.write_text(json.dumps(doc))
    e = _errors(path)
    assert len(e.problems) == 3
    text = str(e)
    assert "feature 5 (way W001): field 'width_m' expected a number, got 'abc'" in text
    assert "feature 1 (building B01): field 'storeys' expected an integer, got 5.5" in text
    assert "feature 1 (building B01): field 'use' expected one of residential_walkup" in text


def test_wrong_geometry_type(tiny_site: Site, tmp_path: Path) -> None:
    path, doc = _doc(tiny_site, tmp_path)
    doc["features"][2]["geometry"] = {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}
    path.write_text(json.dumps(doc))
    assert "feature 2 (stair B01-S1): field 'geometry' must be a Point, got 'LineString'" in str(_errors(path))


def test_unknown_layer(tiny_site: Site, tmp_path: Path) -> None:
    path, doc = _doc(tiny_site, tmp_path)
    doc["features"][6]["properties"]["layer"] = "fence"
    path.write_text(json.dumps(doc))
    assert "feature 6 (id G01): unknown layer 'fence' in property 'layer' (expected one of site, building" in str(_errors(path))


def test_negative_width_via_validate(tiny_site: Site, tmp_path: Path) -> None:
    path, doc = _doc(tiny_site, tmp_path)
    doc["features"][3]["properties"]["width_m"] = -1.0
    path.write_text(json.dumps(doc))
    assert "exit B01-E1: field 'width_m' must be a positive number, got -1.0" in str(_errors(path))


@pytest.mark.parametrize(("index", "label"), [(2, "stair B01-S1"), (3, "exit B01-E1"), (4, "elevator B01-L1"), (10, "device smk-B01-L02-U01")])
def test_reference_to_missing_building(tiny_site: Site, tmp_path: Path, index: int, label: str) -> None:
    path, doc = _doc(tiny_site, tmp_path)
    doc["features"][index]["properties"]["building"] = "B09"
    path.write_text(json.dumps(doc))
    assert f"feature {index} ({label}): field 'building' refers to building 'B09', which does not exist" in str(_errors(path))


def test_grid_refers_to_missing_building(tiny_site: Site, tmp_path: Path) -> None:
    path, doc = _doc(tiny_site, tmp_path)
    doc["features"][8]["properties"]["buildings"] = ["B01", "B07"]
    path.write_text(json.dumps(doc))
    assert "feature 8 (grid GR1): field 'buildings' refers to building 'B07', which does not exist" in str(_errors(path))


def test_no_site_feature_and_duplicate_building(tiny_site: Site, tmp_path: Path) -> None:
    path, doc = _doc(tiny_site, tmp_path)
    doc["features"] = doc["features"][1:]
    path.write_text(json.dumps(doc))
    assert "no 'site' feature" in str(_errors(path))
    path, doc = _doc(tiny_site, tmp_path)
    doc["features"].append(doc["features"][1])
    path.write_text(json.dumps(doc))
    assert "feature 11 (building B01): field 'id' 'B01' is already used by another building" in str(_errors(path))


def test_bad_terrain(tiny_site: Site, tmp_path: Path) -> None:
    path, doc = _doc(tiny_site, tmp_path)
    doc["terrain"]["z"] = doc["terrain"]["z"][:-1]
    path.write_text(json.dumps(doc))
    assert "terrain: field 'z' has 8 values; shape [3, 3] needs 9" in str(_errors(path))


def test_unsupported_extension(tiny_site: Site, tmp_path: Path) -> None:
    with pytest.raises(SiteError, match="unsupported file extension '.shp'"):
        write_site(tiny_site, tmp_path / "x.shp")
    (tmp_path / "x.txt").write_text("hi")
    assert "unsupported file extension '.txt'" in str(_errors(tmp_path / "x.txt"))


def test_write_validates_first(tiny_site: Site, tmp_path: Path) -> None:
    tiny_site.ways[0].width_m = 0.0
    with pytest.raises(SiteError, match="way W001: field 'width_m' must be a positive number"):
        write_site(tiny_site, tmp_path / "x.geojson")
    assert not (tmp_path / "x.geojson").exists()


def test_gpkg_unknown_layer_and_bad_value(tiny_site: Site, tmp_path: Path) -> None:
    import geopandas as gpd

    path = write_site(tiny_site, tmp_path / "s.gpkg")
    gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)], crs="EPSG:32650").to_file(path, layer="fences", driver="GPKG")
    assert "unknown layer 'fences'" in str(_errors(path))

    tiny_site.buildings[0].exits[0].width_m = -2.0
    path = write_site(tiny_site, tmp_path / "t.gpkg", validate=False)
    assert "exit B01-E1: field 'width_m' must be a positive number, got -2.0" in str(_errors(path))

    tiny_site.buildings[0].exits[0].width_m = 1.0
    tiny_site.buildings[0].stairs[0].building = "B77"
    path = write_site(tiny_site, tmp_path / "u.gpkg", validate=False)
    assert "layer 'stair' feature 0 (stair B01-S1): field 'building' refers to building 'B77', which does not exist" in str(_errors(path))


def test_gpkg_not_a_geopackage(tmp_path: Path) -> None:
    path = tmp_path / "junk.gpkg"
    path.write_bytes(b"this is not sqlite")
    assert "cannot open as a GeoPackage" in str(_errors(path))


def test_documented_example_reads(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "site-format.md").read_text()
    example = doc.split("## Example (GeoJSON)")[1].split("```json")[1].split("```")[0]
    path = tmp_path / "example.geojson"
    path.write_text(example)
    site = read_site(path)
    assert site.buildings[0].exits[0].width_m == 1.5 and site.devices[0].camera is not None
    assert site.terrain is not None and site.terrain.z.shape == (2, 3) and site.terrain.z[1, 0] == 0.3


def test_misspelled_property_is_named_and_x_attributes_are_allowed(tiny_site: Site, tmp_path: Path) -> None:
    path, doc = _doc(tiny_site, tmp_path)
    props = doc["features"][5]["properties"]
    props["widht_m"] = props.pop("width_m")
    doc["features"][1]["properties"]["x_owner"] = "property company"
    path.write_text(json.dumps(doc))
    e = _errors(path)
    text = str(e)
    assert "feature 5 (way W001): unknown property 'widht_m' (did you mean 'width_m'?)" in text
    assert "x_owner" not in text

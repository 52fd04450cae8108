"""The site model's rules: each broken rule is reported with its feature and field."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import LineString, Point, Polygon, box

from geometry.site import (
    Building,
    BuildingExit,
    BuildingUse,
    CameraSpec,
    Device,
    DeviceKind,
    Gate,
    Grid,
    OpenSpace,
    Site,
    SiteError,
    StairCore,
    Terrain,
    Way,
)


def small_site() -> Site:
    b = Building(id="B01", footprint=box(10, 10, 40, 22), use=BuildingUse.WALKUP, storeys=6,
                 households_per_storey=4,
                 stairs=[StairCore(id="B01-S1", building="B01", position=Point(25, 16), width_m=1.1)],
                 exits=[BuildingExit(id="B01-E1", building="B01", position=Point(25, 10), width_m=1.2)])
    g = Building(id="P01", footprint=box(50, 10, 90, 40), use=BuildingUse.GARAGE, storeys=0, basement_levels=1,
                 stairs=[StairCore(id="P01-S1", building="P01", position=Point(60, 20))],
                 exits=[BuildingExit(id="P01-E1", building="P01", position=Point(50, 20), level=-1)])
    return Site(
        name="t", boundary=box(0, 0, 100, 60), buildings=[b, g],
        ways=[Way(id="W1", line=LineString([(0, 5), (100, 5)]), width_m=6.0, kind="road")],
        gates=[Gate(id="G1", position=Point(0, 5), kind="vehicle", access="plate")],
        open_spaces=[OpenSpace(id="A1", polygon=box(10, 40, 40, 55), assembly_point=True, capacity=900)],
        grids=[Grid(id="GRID1", polygon=box(0, 0, 100, 60), worker="Wang Fang", buildings=["B01"])],
        devices=[
            Device(id="cam-1", kind=DeviceKind.CAMERA, position=Point(5, 8), camera=CameraSpec(yaw_deg=90)),
            Device(id="smk-1", kind=DeviceKind.SMOKE_DETECTOR, position=Point(12, 12), building="B01", level=2,
                   unit="B01-L02-U03"),
        ],
        terrain=Terrain(origin=(0.0, 0.0), cell_size_m=10.0, z=np.arange(60.0).reshape(6, 10)),
    )


def test_small_site_is_valid_and_summarised() -> None:
    s = small_site().validate()
    summary = s.summary()
    assert summary["households"] == 24 and summary["buildings"] == 2
    assert summary["devices"] == {"camera": 1, "smoke_detector": 1}
    # the garage is underground: its lawn counts as public area
    assert s.public_area_m2() == pytest.approx(6000 - 30 * 12)
    assert s.building("B01").unit_ids(5)[-1] == "B01-L05-U04"
    assert list(s.building("P01").levels) == [-1]


def _problems(site: Site) -> str:
    with pytest.raises(SiteError) as info:
        site.validate(source="estate.gpkg")
    return str(info.value)


def test_negative_width_is_named() -> None:
    s = small_site()
    s.ways[0].width_m = -2.0
    msg = _problems(s)
    assert msg.startswith("estate.gpkg: ")
    assert "way W1: field 'width_m' must be a positive number, got -2.0" in msg


def test_reference_to_missing_building() -> None:
    s = small_site()
    s.grids[0].buildings.append("B99")
    s.devices[1].building = "B98"
    msg = _problems(s)
    assert "grid GRID1: field 'buildings' refers to building 'B99', which does not exist" in msg
    assert "device smk-1: field 'building' refers to building 'B98', which does not exist" in msg
    assert "2 problems" in msg


def test_unit_and_level_must_exist() -> None:
    s = small_site()
    s.devices[1].unit = "B01-L02-U09"
    assert "field 'unit' 'B01-L02-U09' is not a dwelling unit of B01 level 2" in _problems(s)
    s = small_site()
    s.devices[1].level = 9
    assert "field 'level' 9 is not a level of building B01" in _problems(s)


def test_duplicate_ids_and_enums() -> None:
    s = small_site()
    s.gates.append(Gate(id="B01", position=Point(100, 30), kind="bridge", access="retina"))
    msg = _problems(s)
    assert "gate B01: id already used by a building" in msg
    assert "field 'kind' must be one of pedestrian, vehicle, mixed; got 'bridge'" in msg
    assert "field 'access' must be one of" in msg


def test_gate_must_sit_on_the_boundary() -> None:
    s = small_site()
    s.gates[0].position = Point(50, 30)
    assert "gate G1: position is 30.0 m from the site boundary" in _problems(s)


def test_building_rules() -> None:
    s = small_site()
    b = s.buildings[0]
    b.stairs.clear()
    b.storey_height_m = 0
    msg = _problems(s)
    assert "building B01: a residential building of 6 storeys needs at least one stair" in msg
    assert "building B01: field 'storey_height_m' must be a positive number, got 0" in msg
    s = small_site()
    s.buildings[1].basement_levels = 0
    assert "fully underground" in _problems(s)


def test_invalid_polygon_and_camera_optics() -> None:
    s = small_site()
    s.open_spaces[0].polygon = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])  # bow-tie
    s.devices[0].camera = None
    msg = _problems(s)
    assert "open space A1: field 'polygon' is not a valid polygon" in msg
    assert "device cam-1: a camera needs its optics" in msg


def test_terrain_bilinear_and_bad_raster() -> None:
    t = small_site().terrain
    assert t is not None
    # cell centres at 5, 15, ...; z = 10 j + i
    assert float(t.elevation_at(15.0, 25.0)) == pytest.approx(21.0)
    assert float(t.elevation_at(20.0, 25.0)) == pytest.approx(21.5)
    assert float(t.elevation_at(-50.0, -50.0)) == pytest.approx(0.0)  # clamped to the edge
    s = small_site()
    s.terrain = Terrain(origin=(0, 0), cell_size_m=1.0, z=np.array([[1.0, np.nan], [0.0, 0.0]]))
    assert "terrain: field 'z' contains NaN" in _problems(s)


def test_camera_cone_points_along_yaw() -> None:
    cone = CameraSpec(yaw_deg=90.0, fov_deg=60.0, range_m=20.0).cone(Point(0, 0))
    c = cone.centroid
    assert c.x > 5 and abs(c.y) < 1e-6  # yaw 90 = east


def test_wrong_types_are_reported_not_raised() -> None:
    s = small_site()
    b = s.buildings[0]
    b.storeys = "six"  # type: ignore[assignment]
    b.storey_height_m = "tall"  # type: ignore[assignment]
    s.ways[0].width_m = "wide"  # type: ignore[assignment]
    msg = _problems(s)
    assert "building B01: field 'storeys' must be an integer >= 0, got 'six'" in msg
    assert "building B01: field 'storey_height_m' must be a positive number, got 'tall'" in msg
    assert "way W1: field 'width_m' must be a positive number, got 'wide'" in msg


def test_stair_levels_must_lie_in_the_building() -> None:
    s = small_site()
    s.buildings[0].stairs[0].lowest_level = 3
    s.buildings[0].stairs[0].highest_level = 1
    assert "stair B01-S1: levels 3..1" in _problems(s)
    s = small_site()
    s.buildings[0].stairs[0].highest_level = 9
    assert "within building B01's levels 0..5" in _problems(s)

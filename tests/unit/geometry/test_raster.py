"""Level rasters (geometry.raster)."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from geometry.distance import distance_field
from geometry.raster import LevelRaster, outdoor_raster, rasterize_polygons, storey_raster
from geometry.site import Building, BuildingExit, BuildingUse, Gate, OpenSpace, Site, StairCore, Way


def small_site() -> Site:
    b = Building("B01", box(10, 10, 34, 22), use=BuildingUse.WALKUP, storeys=6, households_per_storey=4,
                 stairs=[StairCore("B01-S1", "B01", Point(16, 16)), StairCore("B01-S2", "B01", Point(28, 16))],
                 exits=[BuildingExit("B01-E1", "B01", Point(16, 22)), BuildingExit("B01-E2", "B01", Point(28, 22))])
    return Site("r", box(0, 0, 50, 40), buildings=[b],
                ways=[Way("W1", LineString([(0, 26), (50, 26)]), 3.0)],
                gates=[Gate("G1", Point(50, 26))],
                open_spaces=[OpenSpace("A1", box(38, 30, 48, 38), capacity=100, assembly_point=True)]).validate()


@pytest.mark.parametrize("h", [0.05, 1.5, 0.0, float("nan"), -0.5])
def test_cell_size_bounds(h: float) -> None:
    with pytest.raises(ValueError, match=r"cell_size_m must be a number in \[0.1, 1.0\]"):
        rasterize_polygons(box(0, 0, 5, 5), cell_size_m=h)
    with pytest.raises(ValueError, match="cell_size_m"):
        outdoor_raster(small_site(), cell_size_m=h)


def test_rasterize_room_with_obstacle_and_coordinates() -> None:
    r = rasterize_polygons(box(0, 0, 10, 5), obstacles=[box(4, 0, 5, 3)], cell_size_m=0.5)
    assert r.shape == (10, 20) and r.origin == (0.0, 0.0) and r.bounds == (0.0, 0.0, 10.0, 5.0)
    assert r.walkable.sum() == 200 - 2 * 6
    i, j = r.world_to_cell(4.6, 1.2)
    assert (int(i), int(j)) == (9, 2) and not r.walkable[j, i]
    x, y = r.cell_to_world(9, 2)
    assert (float(x), float(y)) == (4.75, 1.25)
    # row 0 is south: a polygon in the north-east corner marks the last row
    r2 = rasterize_polygons(box(0, 0, 10, 5), exits=[box(9, 4.5, 10, 5)], cell_size_m=0.5)
    assert r2.exits[-1, -2:].all() and r2.exits.sum() == 2


def test_wall_line_with_door_opening() -> None:
    wall = [LineString([(5, 0), (5, 2)]), LineString([(5, 3), (5, 5)])]
    r = rasterize_polygons(box(0, 0, 10, 5), obstacles=wall, cell_size_m=0.25)
    col = r.walkable[:, 19:21]  # cells with centres 4.875 and 5.125
    assert not col[:8].any() and col[8:12].all() and not col[12:].any()  # the 1 m gap stays 4 cells
    # an opening carved in a closed wall
    r2 = rasterize_polygons(box(0, 0, 10, 5), obstacles=[LineString([(5, 0), (5, 5)])],
                            openings=[box(4.5, 2, 5.5, 3)], cell_size_m=0.25)
    assert r2.walkable[8:12, 19:21].all() and r2.doors.sum() == 16
    with pytest.raises(ValueError, match="'walkable' is empty"):
        rasterize_polygons([], cell_size_m=0.25)


def test_outdoor_raster_buildings_blocked_exits_open() -> None:
    site = small_site()
    r = outdoor_raster(site, cell_size_m=0.5)
    assert isinstance(r, LevelRaster) and r.level == 0 and r.building is None
    X, Y = r.cell_centres()
    inside = (X > 10.5) & (X < 33.5) & (Y > 10.5) & (Y < 21)
    assert not r.walkable[inside].any()
    for e in site.iter_exits():
        m = r.zones[e.id]
        assert m.any() and r.walkable[m].all() and r.exits[m].all()
        i, j = r.world_to_cell(e.position.x, e.position.y - 0.25)
        assert r.walkable[j, i]
    assert r.walkable[r.zones["A1"]].all() and r.zones["G1"].any()
    # from the exits the assembly point is reachable around the building
    f = distance_field(r, targets=r.zones["A1"])
    assert np.isfinite(f[r.exits]).all()
    # far side of the building: the field goes around it
    i, j = r.world_to_cell(22, 5)
    assert f[j, i] > np.hypot(43 - 22, 34 - 5) - 5


def test_storey_raster_units_reach_stairs_through_doors() -> None:
    site = small_site()
    for level in (0, 3):
        r = storey_raster(site, "B01", level, cell_size_m=0.25)
        assert r.building == "B01" and r.level == level
        stairs = r.zones["B01-S1"] | r.zones["B01-S2"]
        f = distance_field(r, targets=stairs)
        for uid in site.building("B01").unit_ids(level):
            assert np.isfinite(f[r.zones[uid]]).all(), uid
        # walls: the two flats of a landing meet only through their doors and the landing; the
        # flats of the next 单元 (section) are not reachable on this storey at all
        u1, u2, u3 = (r.zones["B01-L%02d-U%02d" % (level, k)] for k in (1, 2, 3))
        f1 = distance_field(r, targets=u1)
        assert np.isfinite(f1[u2]).all() and np.isinf(f1[u3]).all()
        assert f1[u2].min() >= 2 * 1.2  # across the 2.4 m stair area at least
    r0 = storey_raster(site, "B01", 0)
    assert r0.exits.any()
    f = distance_field(r0, targets=r0.exits)
    for uid in site.building("B01").unit_ids(0):
        assert np.isfinite(f[r0.zones[uid]]).all()
    r3 = storey_raster(site, "B01", 3)
    assert not r3.exits.any()
    with pytest.raises(ValueError, match="cell_size_m"):
        storey_raster(site, "B01", 3, cell_size_m=2.0)


def test_sample_outdoor_and_storey_rasters() -> None:
    sample = pytest.importorskip("geometry.sample")
    site = sample.sample_community()
    r = outdoor_raster(site, cell_size_m=0.5)
    aps = np.zeros(r.shape, bool)
    for o in site.assembly_points:
        aps |= r.zones[o.id]
    f = distance_field(r, targets=aps)
    exits = [e.id for e in site.iter_exits() if e.id in r.zones]
    assert exits and all(np.isfinite(f[r.zones[e]]).any() for e in exits)
    s = storey_raster(site, site.buildings[0].id, 5)
    fs = distance_field(s, targets=np.logical_or.reduce([m for k, m in s.zones.items() if "-S" in k]))
    for u in site.buildings[0].unit_ids(5):
        assert np.isfinite(fs[s.zones[u]]).all()

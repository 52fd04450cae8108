"""Synthetic storey layouts (geometry.floorplan)."""

from __future__ import annotations

import pytest
from shapely.geometry import Point, box

from geometry.floorplan import stair_area_size, stair_level_range, storey_layout
from geometry.site import Building, BuildingExit, BuildingUse, StairCore


def walkup(n_stairs: int = 2, storeys: int = 6) -> Building:
    stairs = [StairCore(f"B01-S{k + 1}", "B01", Point(6 + 12 * k, 6)) for k in range(n_stairs)]
    exits = [BuildingExit(f"B01-E{k + 1}", "B01", Point(6 + 12 * k, 12)) for k in range(n_stairs)]
    return Building("B01", box(0, 0, 12 * n_stairs, 12), use=BuildingUse.WALKUP, storeys=storeys,
                    households_per_storey=2 * n_stairs, stairs=stairs, exits=exits)


def highrise() -> Building:
    return Building("H1", box(0, 0, 40, 16), use=BuildingUse.HIGHRISE, storeys=18, basement_levels=1,
                    households_per_storey=8,
                    stairs=[StairCore("H1-S1", "H1", Point(4, 8)), StairCore("H1-S2", "H1", Point(36, 12))],
                    exits=[BuildingExit("H1-E1", "H1", Point(20, 0), width_m=1.4)])


def test_walkup_sections_two_flats_per_landing() -> None:
    b = walkup(3)
    lay = storey_layout(b, 3)
    assert lay.mode == "walkup" and lay.walkup and lay.corridor is None
    assert [u.id for u in lay.units] == b.unit_ids(3)
    per_stair = {s.id: [u.id for u in lay.units if u.stair == s.id] for s in b.stairs}
    assert all(len(v) == 2 for v in per_stair.values())
    for u in lay.units:
        landing = lay.stair(u.stair).polygon
        assert u.polygon.distance(landing) < 1e-3  # the flat opens on its own landing
        assert u.door.distance(landing) < 1e-3 and u.polygon.exterior.distance(u.door) < 1e-6
        assert u.polygon.area > 40.0
    # flats do not overlap each other or the stairs, and stay in the footprint
    for i, a in enumerate(lay.units):
        assert b.footprint.buffer(1e-6).contains(a.polygon)
        for c in lay.units[i + 1:]:
            assert a.polygon.intersection(c.polygon).area < 1e-6
        for s in lay.stairs:
            assert a.polygon.intersection(s.polygon).area < 1e-6


def test_stair_area_size_and_clip() -> None:
    b = walkup(1)
    s = b.stairs[0]
    a, d = stair_area_size(s)
    assert a == pytest.approx(2 * 1.2 + 0.2) and d == 5.0
    lay = storey_layout(b, 2)
    assert lay.stairs[0].polygon.area == pytest.approx(a * d)
    # a stair at the footprint edge is clipped to it
    b.stairs[0].position = Point(6, 0.5)
    lay = storey_layout(b, 2)
    assert lay.stairs[0].polygon.area == pytest.approx(a * 3.0)


def test_ground_floor_entrance_links_exit_to_stair() -> None:
    lay = storey_layout(walkup(2), 0)
    assert len(lay.entrances) == 2
    circ = lay.circulation
    for e in lay.exits:
        assert circ.distance(e.position) < 1e-6
    for u in lay.units:
        for ent in lay.entrances:
            assert u.polygon.intersection(ent).area < 1e-6


def test_highrise_corridor_and_nearest_stair() -> None:
    b = highrise()
    lay = storey_layout(b, 7)
    assert lay.mode == "corridor" and lay.corridor is not None
    assert lay.axis == pytest.approx((1.0, 0.0))
    minx, miny, maxx, maxy = lay.corridor.bounds
    assert maxy - miny == pytest.approx(1.5) and (miny + maxy) / 2 == pytest.approx(8.0)
    assert maxx - minx == pytest.approx(40.0)
    assert len(lay.units) == 8
    for u in lay.units:
        assert u.polygon.distance(lay.corridor) < 1e-3
        nearest = min(b.stairs, key=lambda s: s.position.distance(u.door)).id
        assert u.stair == nearest
    # the stair off the corridor gets a lobby reaching it
    s2 = lay.stair("H1-S2")
    assert s2.polygon.intersects(lay.corridor)


def test_basement_is_open_floor_and_rooms_for_kindergarten() -> None:
    b = highrise()
    lay = storey_layout(b, -1)
    assert lay.mode == "open" and lay.units == [] and lay.corridor.equals(b.footprint)
    k = Building("K1", box(0, 0, 30, 12), use=BuildingUse.KINDERGARTEN, storeys=2,
                 stairs=[StairCore("K1-S1", "K1", Point(15, 6))], exits=[BuildingExit("K1-E1", "K1", Point(15, 0))])
    lay = storey_layout(k, 1)
    assert lay.mode == "corridor"
    assert lay.units and all(u.kind == "room" and u.id.startswith("K1-L01-R") for u in lay.units)


def test_stair_level_range_and_bad_level() -> None:
    b = highrise()
    b.stairs[1].lowest_level = 0
    assert stair_level_range(b, b.stairs[0]) == range(-1, 18)
    assert stair_level_range(b, b.stairs[1]) == range(0, 18)
    assert [s.id for s in storey_layout(b, -1).stairs] == ["H1-S1"]
    with pytest.raises(ValueError, match="level 18 is not one of its levels"):
        storey_layout(b, 18)


def test_deterministic() -> None:
    a, b = storey_layout(walkup(2), 1), storey_layout(walkup(2), 1)
    assert [(u.id, u.polygon.wkt, u.door.wkt) for u in a.units] == [(u.id, u.polygon.wkt, u.door.wkt) for u in b.units]

"""Tests for the built-in sample community (geometry/sample.py)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from shapely.geometry import Point, box
from shapely.ops import unary_union

from geometry.sample import (
    ASSEMBLY_M2_PER_PERSON,
    SAMPLE_ELDERLY_ALONE_SHARE,
    SAMPLE_RESIDENTS_PER_HOUSEHOLD,
    SAMPLE_WRISTBAND_SHARE,
    sample_community,
)
from geometry.site import Building, BuildingExit, BuildingUse, DeviceKind, Site, SiteError

PER_HOUSEHOLD = (DeviceKind.SMOKE_DETECTOR, DeviceKind.EMERGENCY_BUTTON, DeviceKind.WRISTBAND)


@pytest.fixture(scope="module")
def site() -> Site:
    return sample_community(seed=0)


def _device_key(d):  # everything about a device, comparable
    cam = None if d.camera is None else (d.camera.mount_height_m, d.camera.yaw_deg, d.camera.fov_deg,
                                         d.camera.range_m, d.camera.tilt_deg, d.camera.model)
    return (d.id, d.kind, d.position.wkb, d.building, d.level, d.unit, d.z, cam)


def _geometry_key(s: Site):
    return (
        s.boundary.wkb,
        [(b.id, b.use, b.footprint.wkb, b.storeys, b.storey_height_m, b.basement_levels,
          b.households_per_storey, b.base_z,
          [(st.id, st.position.wkb, st.width_m, st.lowest_level, st.highest_level) for st in b.stairs],
          [(e.id, e.position.wkb, e.width_m, e.level) for e in b.exits],
          [(el.id, el.position.wkb, el.fire_service) for el in b.elevators]) for b in s.buildings],
        [(w.id, w.line.wkb, w.width_m, w.kind) for w in s.ways],
        [(g.id, g.position.wkb, g.kind, g.access, g.width_m) for g in s.gates],
        [(o.id, o.polygon.wkb, o.kind, o.capacity, o.assembly_point) for o in s.open_spaces],
        [(g.id, g.polygon.wkb, g.worker, g.buildings) for g in s.grids],
        s.terrain.origin, s.terrain.cell_size_m, s.terrain.z.tobytes(),
    )


def test_validates_and_is_fast() -> None:
    t0 = time.perf_counter()
    s = sample_community(seed=3)
    elapsed = time.perf_counter() - t0
    assert s.validate() is s
    assert s.crs == "LOCAL"
    assert "Heping Garden" in s.name
    assert elapsed < 1.0, f"sample_community took {elapsed:.2f} s"


def test_same_seed_same_site() -> None:
    a, b = sample_community(seed=7), sample_community(seed=7)
    assert a.summary() == b.summary()
    assert [_device_key(d) for d in a.devices] == [_device_key(d) for d in b.devices]
    assert _geometry_key(a) == _geometry_key(b)


def test_geometry_identical_across_seeds_only_elderly_differ() -> None:
    a, b = sample_community(seed=0), sample_community(seed=1)
    assert _geometry_key(a) == _geometry_key(b)
    assert a.summary() == b.summary()  # counts do not depend on the seed
    fixed = lambda s: [_device_key(d) for d in s.devices  # noqa: E731
                       if d.kind not in (DeviceKind.EMERGENCY_BUTTON, DeviceKind.WRISTBAND)]
    assert fixed(a) == fixed(b)
    units = lambda s, k: {d.unit for d in s.devices_of(k)}  # noqa: E731
    assert units(a, DeviceKind.EMERGENCY_BUTTON) != units(b, DeviceKind.EMERGENCY_BUTTON)
    assert units(a, DeviceKind.WRISTBAND) != units(b, DeviceKind.WRISTBAND)


def test_bad_seed_is_rejected() -> None:
    for bad in (-1, 1.5, "0", True):
        with pytest.raises(ValueError, match="seed"):
            sample_community(seed=bad)  # type: ignore[arg-type]


def test_counts(site: Site) -> None:
    res = [b for b in site.buildings if b.use.residential]
    assert len(res) == 15
    assert [b.id for b in res] == [f"B{i:02d}" for i in range(1, 16)]
    assert sum(b.use == BuildingUse.HIGHRISE for b in res) == 9
    assert sum(b.use == BuildingUse.WALKUP for b in res) == 6
    assert 2800 <= site.households <= 3200
    assert site.households == 2856  # documented in the module docstring
    assert len(site.grids) == 5
    assert 2 <= len(site.gates) <= 3
    assert {(g.id, g.kind, g.access) for g in site.gates} == {
        ("G-N", "pedestrian", "face"), ("G-E", "vehicle", "plate"), ("G-S", "mixed", "qr")}
    aps = site.assembly_points
    assert len(aps) >= 2 and all(o.capacity > 0 for o in aps)
    sq = next(o for o in site.open_spaces if o.id == "SQ1")
    assert sq.assembly_point and sq.capacity == int(sq.polygon.area / ASSEMBLY_M2_PER_PERSON)
    assert {o.kind for o in site.open_spaces} >= {"square", "green", "playground", "charging", "parking"}
    assert {b.use for b in site.buildings} >= {BuildingUse.KINDERGARTEN, BuildingUse.COMMUNITY_CENTRE,
                                               BuildingUse.GARAGE}
    assert 8000 <= site.households * SAMPLE_RESIDENTS_PER_HOUSEHOLD <= 9000
    # documented device counts
    kinds = site.summary()["devices"]
    assert kinds == {"camera": 106, "smoke_detector": 2952, "heat_detector": 28, "door_sensor": 47,
                     "water_level": 4, "manhole": 54, "emergency_button": 143, "wristband": 114}


def test_building_types(site: Site) -> None:
    for b in site.buildings:
        if b.use == BuildingUse.WALKUP:
            assert b.storeys == 6 and b.storey_height_m == 2.9
            assert len(b.stairs) in (3, 4) and len(b.exits) == len(b.stairs)
            assert b.households_per_storey == 2 * len(b.stairs)
            assert all(s.width_m == 1.1 for s in b.stairs) and all(e.width_m == 1.2 for e in b.exits)
        elif b.use == BuildingUse.HIGHRISE:
            assert (b.storeys, b.households_per_storey, b.basement_levels) == (18, 16, 1)
            assert len(b.stairs) == 2 and len(b.exits) == 2 and len(b.elevators) == 2
            assert sum(el.fire_service for el in b.elevators) == 1
            xs = sorted(s.position.x for s in b.stairs)
            x0, _, x1, _ = b.footprint.bounds
            assert xs[0] - x0 < 10 and x1 - xs[1] < 10  # stairs near the ends
        elif b.use == BuildingUse.KINDERGARTEN:
            assert b.storeys == 3 and len(b.stairs) == 2 and len(b.exits) == 2 and b.households == 0
        elif b.use == BuildingUse.COMMUNITY_CENTRE:
            assert b.storeys == 2 and b.households == 0
    g = site.building("P01")
    assert g.use == BuildingUse.GARAGE and g.storeys == 0 and g.basement_levels == 1
    assert len(g.stairs) == 2 and all((s.lowest_level, s.highest_level) == (-1, 0) for s in g.stairs)
    assert sorted(e.level for e in g.exits) == [-1, 0, 0]


def test_garage_ramp_and_terrain(site: Site) -> None:
    t = site.terrain
    assert t is not None and t.z.dtype == np.float64 and t.cell_size_m == 2.0
    x0, y0, x1, y1 = t.bounds
    bx0, by0, bx1, by1 = site.boundary.bounds
    assert (x0, y0) == (bx0 - 10, by0 - 10) and (x1, y1) == (bx1 + 10, by1 + 10)
    centre = float(t.elevation_at(150.0, 120.0))
    low = float(t.z.min())
    assert centre - float(t.elevation_at(282.0, 20.0)) >= 1.0  # the low south-east corner
    assert float(t.elevation_at(5.0, 235.0)) > centre > float(t.elevation_at(295.0, 100.0))
    ramps = [w for w in site.ways if w.kind == "ramp"]
    assert len(ramps) == 1
    ramp = ramps[0]
    assert ramp.width_m == 6.0 and 25.0 <= ramp.line.length <= 40.0
    bottom = ramp.line.interpolate(ramp.line.length - 1.0)
    z_bottom = float(t.elevation_at(bottom.x, bottom.y))
    assert z_bottom <= -3.0
    garage = site.building("P01")
    assert abs(garage.level_z(-1) - z_bottom) < 0.2
    door = next(e for e in garage.exits if e.level == -1)
    assert door.position.distance(Point(ramp.line.coords[-1])) < 1e-6
    # the ramp descends monotonically from the road to the door
    zs = [float(t.elevation_at(*ramp.line.interpolate(s).coords[0])) for s in np.arange(4.0, 33.0, 2.0)]
    assert all(a >= b for a, b in zip(zs, zs[1:])) and zs[0] - zs[-1] > 2.5
    # the ramp starts on a road
    top = Point(ramp.line.coords[0])
    assert min(w.line.distance(top) for w in site.ways if w.kind == "road") < 1e-6
    assert low < centre - 1.0


def test_building_pads_flat_at_base_z(site: Site) -> None:
    t = site.terrain
    for b in site.buildings:
        if b.storeys == 0:
            continue
        c = b.footprint.centroid
        assert abs(float(t.elevation_at(c.x, c.y)) - b.base_z) < 1e-9, b.id
        minx, miny, maxx, maxy = b.footprint.bounds
        corners = [(minx + 1, miny + 1), (maxx - 1, maxy - 1)]
        for x, y in corners:
            assert abs(float(t.elevation_at(x, y)) - b.base_z) < 1e-9, b.id


def test_footprints_do_not_overlap(site: Site) -> None:
    bs = site.buildings
    for i, a in enumerate(bs):
        for b in bs[i + 1:]:
            assert a.footprint.intersection(b.footprint).area == 0, (a.id, b.id)
        assert site.boundary.contains(a.footprint), a.id


def test_exits_near_ways_and_network_connected(site: Site) -> None:
    lines = [w.line for w in site.ways]
    for e in site.iter_exits():
        assert min(line.distance(e.position) for line in lines) <= 30.0, e.id
    # union-find over shared vertices: the noded network is one piece reaching every gate/exit
    parent: dict[tuple[float, float], tuple[float, float]] = {}

    def find(p):
        parent.setdefault(p, p)
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    for line in lines:
        cs = [tuple(c) for c in line.coords]
        for a, b in zip(cs[:-1], cs[1:]):
            parent[find(a)] = find(b)
    roots = {find(p) for p in list(parent)}
    assert len(roots) == 1
    for g in site.gates:
        assert (g.position.x, g.position.y) in parent, g.id
    for e in site.iter_exits():
        assert (e.position.x, e.position.y) in parent, e.id


def test_ways_kinds_and_widths(site: Site) -> None:
    kinds = {w.kind for w in site.ways}
    assert kinds == {"road", "fire_lane", "walkway", "ramp"}
    for w in site.ways:
        if w.kind == "fire_lane":
            assert w.width_m >= 4.0
        if w.kind == "road":
            assert w.width_m >= 6.0
    ring = next(w for w in site.ways if w.id == "R01")
    assert ring.line.is_closed
    vehicle_gates = [g for g in site.gates if g.kind in ("vehicle", "mixed")]
    roads = [w.line for w in site.ways if w.kind == "road"]
    for g in vehicle_gates:
        assert min(r.distance(g.position) for r in roads) < 1e-6, g.id


def test_devices_inside_boundary_and_buildings(site: Site) -> None:
    for d in site.devices:
        assert site.boundary.contains(d.position), d.id
        if d.building is not None:
            assert d.level is not None, d.id
            b = site.building(d.building)
            assert b.footprint.buffer(0.01).contains(d.position), d.id
        if d.kind == DeviceKind.CAMERA:
            assert d.camera is not None and d.z == d.camera.mount_height_m
    for d in site.devices_of(DeviceKind.HEAT_DETECTOR):
        assert (d.building, d.level) == ("P01", -1)
    assert any(d.building == "P01" and d.level == -1 for d in site.devices_of(DeviceKind.CAMERA))
    garage_area = site.building("P01").footprint.area
    assert len(site.devices_of(DeviceKind.HEAT_DETECTOR)) >= garage_area / 300.0


def test_per_household_devices_reference_real_units(site: Site) -> None:
    all_units = {u for b in site.buildings for lv in range(b.storeys) for u in b.unit_ids(lv)}
    assert len(all_units) == site.households
    smoke_units = [d.unit for d in site.devices_of(DeviceKind.SMOKE_DETECTOR) if d.unit is not None]
    assert sorted(smoke_units) == sorted(all_units)  # exactly one per household
    for k in PER_HOUSEHOLD:
        for d in site.devices_of(k):
            if d.unit is None:
                assert k == DeviceKind.SMOKE_DETECTOR and not site.building(d.building).use.residential
                continue
            assert d.unit in all_units, d.id
            b = site.building(d.building)
            assert d.unit in b.unit_ids(d.level), d.id
            assert d.id.endswith(d.unit)
    buttons = {d.unit for d in site.devices_of(DeviceKind.EMERGENCY_BUTTON)}
    bands = {d.unit for d in site.devices_of(DeviceKind.WRISTBAND)}
    assert len(buttons) == round(SAMPLE_ELDERLY_ALONE_SHARE * site.households)
    assert bands <= buttons and len(bands) == round(SAMPLE_WRISTBAND_SHARE * len(buttons))


def test_site_devices_where_the_brief_puts_them(site: Site) -> None:
    ids = {d.id for d in site.devices}
    for name in ("north", "east", "south"):
        assert {f"cam-gate-{name}-1", f"cam-gate-{name}-2"} <= ids
    for e in site.iter_exits():
        assert f"cam-{e.id}" in ids and f"door-{e.id}" in ids, e.id
    for b in site.buildings:
        if b.use == BuildingUse.HIGHRISE:
            cam = next(d for d in site.devices if d.id == f"cam-{b.id}-lobby")
            assert (cam.building, cam.level) == (b.id, 0)
    walls = [d for d in site.devices if d.id.startswith("cam-wall-")]
    assert len(walls) == round(site.boundary.exterior.length / 50.0)
    for d in walls:
        assert site.boundary.exterior.distance(d.position) <= 1.5
    low = next(d for d in site.devices if d.id == "wl-SE-1")
    t = site.terrain
    assert float(t.elevation_at(low.position.x, low.position.y)) < float(t.elevation_at(150, 120)) - 1.0
    # manholes every ~40 m: one per 40 m of road and fire lane, give or take one per line
    road_len = sum(w.line.length for w in site.ways if w.kind in ("road", "fire_lane"))
    assert abs(len(site.devices_of(DeviceKind.MANHOLE)) - road_len / 40.0) <= 8


def test_grids_partition_and_list_buildings(site: Site) -> None:
    union = unary_union([g.polygon for g in site.grids])
    assert union.symmetric_difference(site.boundary).area < 1e-6
    assert sum(g.polygon.area for g in site.grids) == pytest.approx(site.boundary.area)
    listed = [bid for g in site.grids for bid in g.buildings]
    assert len(listed) == len(set(listed))
    res = {b.id for b in site.buildings if b.use.residential}
    assert res <= set(listed)
    for g in site.grids:
        assert g.worker and sum(site.building(b).use.residential for b in g.buildings) == 3
        for bid in g.buildings:
            assert g.polygon.contains(site.building(bid).footprint.centroid), (g.id, bid)


def test_open_spaces_clear_of_buildings(site: Site) -> None:
    above = [b.footprint for b in site.buildings if b.storeys > 0]
    for o in site.open_spaces:
        assert site.boundary.contains(o.polygon), o.id
        for fp in above:
            assert o.polygon.intersection(fp).area == 0, o.id
        if o.kind == "charging":
            assert min(fp.distance(o.polygon) for fp in above) >= 6.0, o.id
            assert o.capacity > 0


def test_underground_building_may_have_level0_exit_but_not_level1() -> None:
    def garage(level: int) -> Site:
        g = Building("P01", box(0, 0, 20, 20), BuildingUse.GARAGE, storeys=0, basement_levels=1,
                     exits=[BuildingExit("P01-E1", "P01", Point(5, 5), level=level)])
        return Site("t", box(-5, -5, 25, 25), buildings=[g])

    garage(0).validate()
    garage(-1).validate()
    with pytest.raises(SiteError, match="P01-E1: field 'level' 1"):
        garage(1).validate()
    with pytest.raises(SiteError, match="P01-E1: field 'level' -2"):
        garage(-2).validate()

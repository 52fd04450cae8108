"""Unit tests of twin.fire.compartments: compartment and vent counts on the sample community
(high-rise B03, walk-up B12, underground garage P01), geometric consistency of every vent,
areas, look-ups and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Point, box

from geometry.sample import sample_community
from geometry.site import (
    Building,
    BuildingExit,
    BuildingUse,
    Site,
    SiteError,
    StairCore,
)
from twin.fire.compartments import (
    DOOR_HEIGHT_M,
    KIND_CORRIDOR,
    KIND_OPEN,
    KIND_SHAFT,
    KIND_UNIT,
    LEAKAGE_AREA_M2,
    VENT_DOOR,
    VENT_EXIT,
    VENT_LEAKAGE,
    VENT_STAIR_DOOR,
    VENT_WINDOW,
    CompartmentNetwork,
    building_network,
    site_network,
)


@pytest.fixture(scope="module")
def site() -> Site:
    return sample_community()


@pytest.fixture(scope="module")
def b03(site: Site) -> CompartmentNetwork:
    return building_network(site, "B03")


@pytest.fixture(scope="module")
def whole(site: Site) -> CompartmentNetwork:
    return site_network(site)


def _counts(codes: np.ndarray, n: int) -> list[int]:
    return np.bincount(codes.astype(int), minlength=n).tolist()


def _check_consistent(net: CompartmentNetwork) -> None:
    n = net.n_compartments
    assert len(set(net.ids)) == n and len(set(net.vent_ids)) == net.n_vents
    assert np.all((net.vent_a >= 0) & (net.vent_a < n))
    assert np.all((net.vent_b >= -1) & (net.vent_b < n))
    assert np.all(net.vent_a != net.vent_b)
    assert np.all(net.area_m2 > 0) and np.all(net.height_m > 0)
    assert np.all(net.vent_width_m > 0)
    assert np.all(net.vent_top_z_m > net.vent_bottom_z_m)
    assert np.all((net.vent_open >= 0) & (net.vent_open <= 1))
    eps = 1e-9
    for side in (net.vent_a, net.vent_b):
        inside = side >= 0
        idx = side[inside]
        lo, hi = net.floor_z_m[idx], net.floor_z_m[idx] + net.height_m[idx]
        assert np.all(net.vent_bottom_z_m[inside] >= lo - eps), "vent below its compartment's floor"
        assert np.all(net.vent_top_z_m[inside] <= hi + eps), "vent above its compartment's ceiling"
    # outside openings only for windows, leakage and exit doors
    out = net.vent_b == -1
    assert set(np.unique(net.vent_kind[out]).tolist()) <= {VENT_EXIT, VENT_WINDOW, VENT_LEAKAGE}
    assert np.all(net.vent_b[np.isin(net.vent_kind, [VENT_EXIT, VENT_WINDOW, VENT_LEAKAGE])] == -1)


def test_highrise_counts(site: Site, b03: CompartmentNetwork) -> None:
    # 18 storeys x 16 flats, 18 corridors, 2 shafts, 1 basement
    assert _counts(b03.kind, 4) == [288, 18, 2, 1]
    assert b03.n_compartments == 309
    # doors 288; stair doors 2 per corridor + 2 in the basement; exits 2; windows 288;
    # leakage per flat, corridor and the basement
    assert _counts(b03.vent_kind, 5) == [288, 38, 2, 288, 288 + 18 + 1]
    assert set(b03.building) == {"B03"}
    assert b03.level.min() == -1 and b03.level.max() == 17
    _check_consistent(b03)


def test_highrise_shaft_and_doors(site: Site, b03: CompartmentNetwork) -> None:
    b = site.building("B03")
    i = b03.index("B03-S1")
    assert b03.kind[i] == KIND_SHAFT and b03.level[i] == -1
    assert b03.floor_z_m[i] == pytest.approx(b.level_z(-1))
    assert b03.height_m[i] == pytest.approx(19 * b.storey_height_m)
    assert 5.0 < b03.area_m2[i] < 30.0
    # one stair door per served level (19), all at their level's elevation
    sd = [v for v in b03.vents_of("B03-S1") if b03.vent_kind[v] == VENT_STAIR_DOOR]
    assert len(sd) == 19
    assert sorted(np.round(b03.vent_bottom_z_m[sd], 6)) == sorted(round(b.level_z(lv), 6) for lv in range(-1, 18))
    assert np.all(b03.vent_open[sd] == 0.0)
    # a flat: door to its corridor, a window and a leak to outside
    u = b03.index("B03-L05-U02")
    vs = b03.vents_of("B03-L05-U02")
    assert sorted(b03.vent_kind[vs].tolist()) == [VENT_DOOR, VENT_WINDOW, VENT_LEAKAGE]
    door = b03.vent_index("B03-L05-U02:door")
    assert b03.vent_a[door] == u and b03.vent_b[door] == b03.index("B03-L05-C")
    assert b03.vent_width_m[door] == pytest.approx(0.9)
    assert b03.vent_top_z_m[door] - b03.vent_bottom_z_m[door] == pytest.approx(DOOR_HEIGHT_M)
    leak = b03.vent_index("B03-L05-U02:leak")
    assert b03.vent_area_m2[leak] == pytest.approx(LEAKAGE_AREA_M2)
    assert b03.vent_open[leak] == 1.0 and b03.vent_open[door] == 0.0
    # ground floor corridor holds the two exits
    c0 = b03.index("B03-L00-C")
    exits = [v for v in b03.vents_of("B03-L00-C") if b03.vent_kind[v] == VENT_EXIT]
    assert sorted(b03.vent_ids[v] for v in exits) == ["B03-E1", "B03-E2"]
    assert np.all(b03.vent_a[exits] == c0)
    assert b03.vent_width_m[exits] == pytest.approx([1.4, 1.4])
    # basement: open storey with both stair doors, no windows
    bi = b03.index("B03-L-1")
    assert b03.kind[bi] == KIND_OPEN
    kinds = sorted(b03.vent_kind[b03.vents_of("B03-L-1")].tolist())
    assert kinds == [VENT_STAIR_DOOR, VENT_STAIR_DOOR, VENT_LEAKAGE]


def test_flat_areas_fill_the_footprint(site: Site, b03: CompartmentNetwork) -> None:
    b = site.building("B03")
    shafts = b03.area_m2[b03.kind == KIND_SHAFT].sum()
    for lv in (0, 5, 17):
        m = b03.level == lv
        flats = b03.area_m2[m & (b03.kind == KIND_UNIT)]
        corridor = b03.area_m2[m & (b03.kind == KIND_CORRIDOR)].sum()
        assert len(flats) == 16
        assert 0.75 * b.footprint.area < flats.sum() < b.footprint.area
        assert (flats.sum() + corridor + shafts) / b.footprint.area == pytest.approx(1.0, abs=0.06)
    assert 0.9 * b.footprint.area < b03.area_m2[b03.index("B03-L-1")] <= b.footprint.area


def test_walkup_counts(site: Site) -> None:
    net = building_network(site, "B12")
    b = site.building("B12")
    # 6 storeys x 8 flats; no corridors; 4 stair shafts (one per 单元)
    assert _counts(net.kind, 4) == [48, 0, 4, 0]
    # flat doors open onto the shafts' landings; exits leave from the ground landings
    assert _counts(net.vent_kind, 5) == [48, 0, 4, 48, 48]
    _check_consistent(net)
    shafts = np.flatnonzero(net.kind == KIND_SHAFT)
    doors = net.vent_kind == VENT_DOOR
    assert np.isin(net.vent_b[doors], shafts).all()
    assert np.bincount(net.vent_b[doors], minlength=net.n_compartments)[shafts].tolist() == [12, 12, 12, 12]
    for sid in ("B12-S1", "B12-S2", "B12-S3", "B12-S4"):
        i = net.index(sid)
        assert net.height_m[i] == pytest.approx(6 * b.storey_height_m)
        assert net.floor_z_m[i] == pytest.approx(b.level_z(0))
    # each exit goes to the shaft of its own section (the nearest stair)
    for k in range(1, 5):
        e = net.vent_index(f"B12-E{k}")
        assert net.ids[net.vent_a[e]] == f"B12-S{k}"
    flats = net.area_m2[(net.kind == KIND_UNIT) & (net.level == 3)].sum()
    assert 0.8 * b.footprint.area < flats < b.footprint.area


def test_garage(site: Site) -> None:
    net = building_network(site, "P01")
    assert net.ids == ["P01-S1", "P01-S2", "P01-L-1"]
    _check_consistent(net)
    g = net.index("P01-L-1")
    assert net.kind[g] == KIND_OPEN and net.level[g] == -1
    # the vehicle ramp (level -1) leaves the open storey; the level-0 kiosk doors leave the shafts
    e3 = net.vent_index("P01-E3")
    assert net.vent_a[e3] == g and net.vent_width_m[e3] == pytest.approx(6.0)
    for k in (1, 2):
        e = net.vent_index(f"P01-E{k}")
        assert net.kind[net.vent_a[e]] == KIND_SHAFT
        assert net.vent_bottom_z_m[e] == pytest.approx(site.building("P01").level_z(0))
    s1 = net.index("P01-S1")
    assert net.height_m[s1] == pytest.approx(2 * site.building("P01").storey_height_m)
    assert _counts(net.vent_kind, 5) == [0, 2, 3, 0, 1]


def test_non_residential_rooms(site: Site) -> None:
    net = building_network(site, "K01")
    _check_consistent(net)
    assert (net.kind == KIND_CORRIDOR).sum() == 3
    rooms = [c for c, k in zip(net.ids, net.kind) if k == KIND_UNIT]
    assert rooms and all("-R" in r for r in rooms)
    assert (net.vent_kind == VENT_WINDOW).sum() == len(rooms)


def test_site_network(site: Site, whole: CompartmentNetwork) -> None:
    _check_consistent(whole)
    parts = [building_network(site, b.id) for b in site.buildings]
    assert whole.n_compartments == sum(p.n_compartments for p in parts)
    assert whole.n_vents == sum(p.n_vents for p in parts)
    # vents never join two buildings
    both = whole.vent_b >= 0
    ba = np.array(whole.building)[whole.vent_a[both]]
    bb = np.array(whole.building)[whole.vent_b[both]]
    assert (ba == bb).all()
    # the B03 block is the same network, shifted
    sub = whole.of_building("B03")
    assert [whole.ids[i] for i in sub] == parts[[b.id for b in site.buildings].index("B03")].ids
    two = site_network(site, buildings=["B12", "P01"])
    assert set(two.building) == {"B12", "P01"}
    assert two.n_compartments == 52 + 3


def test_arrays_read_only(b03: CompartmentNetwork) -> None:
    with pytest.raises(ValueError):
        b03.vent_open[0] = 1.0
    state = b03.vent_open.copy()
    state[:] = 1.0
    assert b03.vent_open.min() == 0.0 and state.min() == 1.0
    with pytest.raises(AttributeError):
        b03.ids = []  # type: ignore[misc]


def test_lookup_errors(site: Site, b03: CompartmentNetwork) -> None:
    with pytest.raises(KeyError, match="did you mean.*B03-L05-U02"):
        b03.index("B03-L05-U2")
    with pytest.raises(KeyError, match="no vent"):
        b03.vent_index("nope")
    with pytest.raises(KeyError, match="no building 'B3'.*did you mean"):
        building_network(site, "B3")
    with pytest.raises(KeyError, match="B99"):
        site_network(site, buildings=["B03", "B99"])


def _small_site(**garage: object) -> Site:
    fp = box(0, 0, 40, 20)
    stair = StairCore("G-S1", "G", Point(10, 10), lowest_level=-1, highest_level=garage.get("stair_top", 0))  # type: ignore[arg-type]
    g = Building("G", fp, use=BuildingUse.GARAGE, storeys=0, basement_levels=1, storey_height_m=3.5,
                 stairs=[stair], exits=[BuildingExit("G-E1", "G", Point(10, 0), level=0)])
    low = Building("W", box(100, 0, 130, 12), use=BuildingUse.WALKUP, storeys=2, storey_height_m=2.0,
                   households_per_storey=2, stairs=[StairCore("W-S1", "W", Point(115, 6))],
                   exits=[BuildingExit("W-E1", "W", Point(115, 0))])
    return Site("t", box(-10, -10, 200, 50), buildings=[g, low]).validate()


def test_small_site_and_low_storeys() -> None:
    site = _small_site()
    net = site_network(site)
    _check_consistent(net)
    assert net.ids == ["G-S1", "G-L-1", "W-S1", "W-L00-U01", "W-L00-U02", "W-L01-U01", "W-L01-U02"]
    # a 2.0 m storey clips the 2.1 m door to the ceiling
    d = net.vent_index("W-L01-U01:door")
    assert net.vent_top_z_m[d] == pytest.approx(net.floor_z_m[net.index("W-L01-U01")] + 2.0)
    e = net.vent_index("G-E1")
    assert net.ids[net.vent_a[e]] == "G-S1"


def test_exit_without_stair_is_an_error() -> None:
    site = _small_site(stair_top=-1)
    with pytest.raises(SiteError, match="exit G-E1.*level 0"):
        building_network(site, "G")

"""Multi-level atlases: storeys and unrolled flights on one grid, joined by portals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import Point

from agents.crowd import CrowdModel
from geometry.atlas import BAND_DEPTH_M, building_atlas, flight_length_m
from geometry.sample import sample_community
from geometry.site import SiteError


@pytest.fixture(scope="module")
def site():  # type: ignore[no-untyped-def]
    return sample_community()


def test_flight_length_follows_the_stair_slope() -> None:
    fl, ln = flight_length_m(2.9, 1.2)
    # half a storey of rise at 175 mm risers and 260 mm treads, along the slope
    assert fl == pytest.approx(1.45 * math.hypot(0.175, 0.26) / 0.175)
    assert ln == pytest.approx(2 * BAND_DEPTH_M + 2 * fl + 1.4)


def test_walkup_atlas_regions_portals_and_reachability(site) -> None:  # type: ignore[no-untyped-def]
    a = building_atlas(site, "B12")
    b = site.building("B12")
    storeys = [r for r in a.regions if r.kind == "storey"]
    flights = [r for r in a.regions if r.kind == "flight"]
    assert [r.level for r in storeys] == list(b.levels)
    assert len(flights) == sum(len(list(range(-b.basement_levels, b.storeys))) - 1 for _ in b.stairs)
    # four portals per flight: down from the upper landing, the two strip ends, up from the lower landing
    assert len(a.portals.ids) == 4 * len(flights)
    assert set(a.exit_widths_m) == {e.id for e in b.exits}
    assert len(a.unit_ids) == b.households
    # every walkable cell reaches an exit through the portals
    m = CrowdModel(a.raster, exits={e: a.raster.zones[e] for e in a.exit_widths_m}, stairs=a.stairs, portals=a.portals)
    assert np.isfinite(m.dist[0][a.raster.walkable]).all()
    # flights are stair cells walked downhill along +x; landings are level
    sdx, _ = a.stairs
    assert (sdx[a.raster.zones[flights[0].name]] > 0).any()
    assert not (sdx[a.raster.zones[f"{b.stairs[0].id}-L01"]] != 0).any()


def test_locate_maps_storey_cells_back_to_the_world(site) -> None:  # type: ignore[no-untyped-def]
    a = building_atlas(site, "B12")
    u = a.unit_ids[5]
    x, y = a.unit_cells(u)
    lev, wx, wy, z = a.locate(x[:3], y[:3])
    level = int(u.split("-L")[1][:2])
    assert (lev == level).all()
    fp = site.building("B12").footprint
    assert all(fp.buffer(0.5).contains(Point(px, py)) for px, py in zip(wx, wy))
    assert np.allclose(z, level * a.storey_height_m)


def test_one_person_walks_down_a_walkup_at_stair_speed(site) -> None:  # type: ignore[no-untyped-def]
    a = building_atlas(site, "B12")
    m = CrowdModel(a.raster, exits={e: a.raster.zones[e] for e in a.exit_widths_m}, stairs=a.stairs,
                   portals=a.portals, rng=0)
    top = max(r.level for r in a.regions if r.kind == "storey")
    u = next(u for u in a.unit_ids if f"-L{top:02d}-" in u)
    x, y = a.unit_cells(u)
    k = len(x) // 2
    m.add_agents([x[k]], [y[k]], v0=1.2, v_down=0.6)
    m.run(600.0)
    assert m.remaining == 0
    _, strip = flight_length_m(a.storey_height_m, site.building("B12").stairs[0].width_m)
    # at least the flights at 0.6 m/s, at most that plus generous level walking
    flights = 2 * flight_length_m(a.storey_height_m, 1.2)[0] * top
    assert flights / 0.6 < m.exit_times[0] < flights / 0.6 + 120.0
    assert m.portal_count.sum() >= 2 * top


def test_stair_without_landing_is_a_clear_error(site) -> None:  # type: ignore[no-untyped-def]
    b = site.building("B12")
    s0 = b.stairs[0]
    moved = type(s0)(id=s0.id, building=s0.building, position=Point(s0.position.x + 500.0, s0.position.y),
                     width_m=s0.width_m, lowest_level=s0.lowest_level, highest_level=s0.highest_level)
    b.stairs[0] = moved
    try:
        with pytest.raises(SiteError, match=f"stair {s0.id}"):
            building_atlas(site, "B12")
    finally:
        b.stairs[0] = s0


def test_building_without_exits_is_a_clear_error(site) -> None:  # type: ignore[no-untyped-def]
    b = site.building("K01")
    saved = list(b.exits)
    b.exits.clear()
    try:
        with pytest.raises(SiteError, match="no exits"):
            building_atlas(site, "K01")
    finally:
        b.exits.extend(saved)

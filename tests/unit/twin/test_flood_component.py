"""The flood on the sample estate: grid from the site, garage filling, roads, sensors, doors,
volume account; and the site grid's geometry (kerbs, buildings, ramp)."""

from __future__ import annotations

import numpy as np
import pytest

from geometry.sample import sample_community
from twin.flood.component import FloodComponent, Rainstorm, zhengzhou_like_storm
from twin.flood.site_grid import KERB_M, site_flood_grid


@pytest.fixture(scope="module")
def site():  # type: ignore[no-untyped-def]
    return sample_community()


def test_site_grid_has_buildings_kerbs_and_a_ramp_down_to_the_garage(site) -> None:  # type: ignore[no-untyped-def]
    sg = site_flood_grid(site, cell_size_m=2.0)
    g = sg.grid
    b = site.building("B05").footprint.representative_point()
    assert g.closed[g.cell_of(b.x, b.y)]
    garage = site.building("P01")
    gp = garage.footprint.representative_point()
    assert not g.closed[g.cell_of(gp.x, gp.y)]  # the garage's roof is the estate's ground
    # a road cell lies a kerb below the terrain there
    kind, cells = sg.ways["R01"]
    j, i = cells[len(cells) // 2]
    x, y = g.origin[0] + (i + 0.5) * 2.0, g.origin[1] + (j + 0.5) * 2.0
    assert g.bed_m[j, i] == pytest.approx(float(site.terrain.elevation_at(x, y)) - KERB_M)
    # the ramp falls to the garage floor at its garage end
    (gs,) = sg.garages
    assert gs.building == "P01" and gs.floor_z_m == pytest.approx(garage.level_z(-1))
    r, c = gs.inlet_cells.T
    assert g.bed_m[r, c].max() < garage.level_z(-1) + 0.5
    assert sg.doors and sg.sensors
    with pytest.raises(ValueError, match="cell_size_m"):
        site_flood_grid(site, cell_size_m=0.0)


def test_heavy_rain_fills_the_low_corner_closes_a_road_and_keeps_the_books(site) -> None:  # type: ignore[no-untyped-def]
    storm = Rainstorm(times_s=(0.0, 1200.0), rain_mm_h=(250.0,), drainage_mm_h=30.0)
    fc = FloodComponent(site, storm, record_every_s=60.0, points={"corner": (280.0, 20.0), "square": (150.0, 130.0)})
    t = 0.0
    while t < 1800.0:
        fc.advance(t, 5.0)
        t += 5.0
    s = fc.summary()
    assert s["volumes_m3"]["relative_error"] < 1e-8
    v = s["volumes_m3"]
    assert v["rain"] == pytest.approx(250.0 / 1000.0 / 3.0 * fc.sg.grid.active.sum() * 4.0, rel=1e-9)
    # the garage holds exactly what went down its ramp
    (gs,) = fc.sg.garages
    assert gs.volume_m3 == pytest.approx(fc.garage_in_m3["P01"]) and gs.volume_m3 > 0
    assert s["garages"]["P01"]["depth_now_m"] == pytest.approx(gs.volume_m3 / gs.area_m2, abs=1e-3)
    # water collects in the south-east corner: its water-level sensor fires first
    assert next(iter(s["sensors"])) == "wl-SE-1"
    assert s["roads"] and all(r["closed_s"] > 0 for r in s["roads"])
    small = {r["road"]: r["closed_s"] for r in s["roads"] if r["vehicle"] == "small_car"}
    big = {r["road"]: r["closed_s"] for r in s["roads"] if r["vehicle"] == "emergency"}
    assert all(small[k] <= big[k] for k in big)  # fire engines get through longer than cars
    assert fc.depth_at(np.array([-1e6]), np.array([0.0]))[0] == 0.0
    # the chosen points: the low corner gets deep water before the square in the middle does
    pts = s["points"]
    assert pts["corner"]["max_depth_m"] > 0.15 > pts["square"]["max_depth_m"]
    assert pts["corner"]["first_over_0_15_m_s"] is not None and pts["square"]["first_over_0_15_m_s"] is None
    with pytest.raises(ValueError, match="inside a building"):
        b = site.building("B05").footprint.representative_point()
        FloodComponent(site, storm, points={"in": (b.x, b.y)})
    with pytest.raises(ValueError, match="asked to step from"):
        fc.advance(0.0, 5.0)


def test_storm_validation_and_the_zhengzhou_storm() -> None:
    z = zhengzhou_like_storm()
    assert z.total_mm == pytest.approx(65.0 + 201.9 + 70.0)
    # the peak hour holds the published 201.9 mm
    edges = np.array(z.times_s)
    mm = np.array(z.rain_mm_h) * np.diff(edges) / 3600.0
    assert mm[(edges[:-1] >= 3600) & (edges[:-1] < 7200)].sum() == pytest.approx(201.9)
    with pytest.raises(ValueError, match="one more time than intensities"):
        Rainstorm(times_s=(0.0,), rain_mm_h=(10.0,))
    with pytest.raises(ValueError, match="drainage_mm_h"):
        Rainstorm(times_s=(0.0, 60.0), rain_mm_h=(10.0,), drainage_mm_h=-1.0)


def test_evacuees_wade_through_the_flood(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A flood and a crowd evacuation in one scenario: people walking across the wet estate meet
    water (the depth is read at their positions), slow down in it, and the results say so."""
    import pandas as pd

    from scenarios.loader import parse_scenario
    from scenarios.run import run_scenario

    text = """
name: rain-evac
site: {sample: true}
seed: 7
duration_s: 1500
dt_s: 1.0
population: {time_of_day: "16:00", buildings: [B15]}
alarm: {at_s: 700}
hazards:
  - {type: flood, params: {rain_mm_h: "300, 300", drainage_mm_h: 30}}
evacuation: {model: crowd, targets: assembly}
outputs: {fields: false, scene: false, site_map: false}
"""
    res = run_scenario(parse_scenario(text, source="t.yaml"), out_dir=tmp_path)
    po = res.metrics["flood"]["people_outdoors"]
    assert po["walked_through_water"] > 0 and po["max_depth_m"] > 0.05
    assert po["swept"] == 0  # a few decimetres of slow water do not knock adults over
    people = pd.read_parquet(tmp_path / "people.parquet")
    assert (people["max_water_m"] > 0.01).sum() == po["walked_through_water"]
    assert res.metrics["flood"]["volumes_m3"]["relative_error"] < 1e-8

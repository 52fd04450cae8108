"""Building twins from scenarios: references checked, free-form geometry rasterised,
snapshot/restore through a whole evacuation."""

from __future__ import annotations

import numpy as np
import pytest

from scenarios.builder import build_run
from scenarios.loader import ScenarioError, parse_scenario
from scenarios.metrics import compute_metrics

SAMPLE = """\
name: t
site: {sample: true}
seed: 5
duration_s: 900
population: {time_of_day: "15:00", buildings: [B12]}
alarm: {scope: building, buildings: [B12]}
"""


def test_unknown_inject_target_is_named() -> None:
    s = parse_scenario(SAMPLE + "injects:\n  - {at_s: 10, action: block, target: B12-S9}\n")
    with pytest.raises(ScenarioError, match=r"injects\.0\.target.*'B12-S9' is not a stair, exit, gate"):
        build_run(s)


@pytest.mark.parametrize(("hazard", "msg"), [
    ("{type: flood, building: B12}", r"hazards\.0': a flood covers the estate"),
    ("{type: flood, at_s: 60}", r"hazards\.0\.at_s'.*expected 0"),
    ("{type: flood, params: {storm: monsoon}}", "storm 'monsoon'"),
    ("{type: flood, params: {rain_mm_h: '20, x'}}", "could not convert"),
    ("{type: flood, params: {rain_mm_h: '20', storm: zhengzhou}}", "not both"),
    ("{type: flood, params: {solver: magic}}", "solver"),
    ("{type: flood, params: {cell_size_m: -2}}", "cell_size_m"),
    ("{type: flood, params: {drainage: 40}}", "unknown key"),
])
def test_bad_flood_hazards_are_clear_errors(hazard: str, msg: str) -> None:
    s = parse_scenario(SAMPLE + f"hazards:\n  - {hazard}\n")
    with pytest.raises(ScenarioError, match=msg):
        build_run(s)


def test_one_flood_per_scenario() -> None:
    s = parse_scenario(SAMPLE + "hazards:\n  - {type: flood}\n  - {type: flood}\n")
    with pytest.raises(ScenarioError, match=r"hazards\.1': one flood per scenario"):
        build_run(s)


def test_fire_needs_a_room_or_a_storey() -> None:
    s = parse_scenario(SAMPLE + "hazards:\n  - {type: fire, building: B12}\n")
    with pytest.raises(ScenarioError, match=r"hazards\.0': give 'unit'"):
        build_run(s)


def test_extra_cameras_join_the_site_and_bad_ones_are_named() -> None:
    ok = parse_scenario(SAMPLE + "interventions:\n  cameras:\n    - {id: cam-x1, x: 100, y: 100, yaw_deg: 45}\n")
    run = build_run(ok)
    assert any(d.id == "cam-x1" for d in run.site.devices)
    # a missing key is caught when the file is read (with its line), a bad value when the site is validated
    with pytest.raises(ScenarioError, match=r"line 8: field 'interventions\.cameras': camera 0: missing key\(s\) x"):
        parse_scenario(SAMPLE + "interventions:\n  cameras:\n    - {id: cam-x1, y: 100}\n")
    bad = parse_scenario(SAMPLE + "interventions:\n  cameras:\n    - {id: cam-x1, x: 100, y: 100, fov_deg: 400}\n")
    with pytest.raises(ScenarioError, match=r"cam-x1.*fov_deg"):
        build_run(bad)


def test_one_building_alarm_moves_only_that_building() -> None:
    run = build_run(parse_scenario(SAMPLE))
    run.twin.run(until=900)
    m = compute_metrics(run.twin.recorder.events_frame())
    assert list(m["buildings"]) == ["B12"]
    assert m["estate"]["arrived"] == m["estate"]["occupants"] > 0


def test_snapshot_restore_reproduces_the_rest_of_the_run() -> None:
    s = parse_scenario(SAMPLE + "injects:\n  - {at_s: 200, action: block, target: B12-E1}\n")
    run = build_run(s)
    twin = run.twin
    twin.run(until=150)
    snap = twin.snapshot()
    twin.run(until=600)
    first = twin.recorder.events_frame()
    queue_first = twin.state["evacuation.queue"].copy()
    twin.restore(snap)
    twin.run(until=600)
    second = twin.recorder.events_frame()
    assert first[first.t > 150].reset_index(drop=True).equals(second[second.t > 150].reset_index(drop=True))
    assert np.array_equal(queue_first, twin.state["evacuation.queue"])


def test_free_form_geometry_builds_rasters() -> None:
    s = parse_scenario("""\
name: room with a wall
geometry:
  cell_size_m: 0.25
  levels:
    - walkable: [[[0, 0], [10, 0], [10, 5], [0, 5]]]
      walls: [[[5, 0], [5, 5]]]
      doors: [{id: d, a: [5, 2], b: [5, 3]}, {id: exit, a: [10, 2], b: [10, 3], exit: true}]
evacuation: null
alarm: null
duration_s: 10
""")
    run = build_run(s)
    r = run.rasters[0]
    assert r.walkable.shape == (20, 40)
    i_wall = int(5.0 / 0.25)
    column = r.walkable[:, i_wall - 1: i_wall + 1].any(axis=1)
    assert column[int(2.5 / 0.25)] and not column[int(0.5 / 0.25)], "the wall is closed except at its door"
    run.twin.run(until=10)


def test_free_form_geometry_with_flow_model_is_refused() -> None:
    s = parse_scenario("""\
name: room
geometry:
  levels:
    - walkable: [[[0, 0], [8, 0], [8, 5], [0, 5]]]
      doors: [{id: exit, a: [8, 2], b: [8, 3], exit: true}]
""")
    with pytest.raises(ScenarioError, match="free-form geometry has no navigation graph"):
        build_run(s)


def test_min_premovement_above_the_default_median_is_named() -> None:
    s = parse_scenario(SAMPLE.replace('time_of_day: "15:00"', 'time_of_day: "15:00", premovement: {min_s: 200}'))
    with pytest.raises(ScenarioError, match=r"population\.premovement\.min_s.*default median pre-movement time at 15:00"):
        build_run(s)


def test_resolved_scenario_loads_again_from_elsewhere(tmp_path) -> None:
    from geometry.io import write_site
    from geometry.sample import sample_community
    from scenarios.loader import load_scenario
    from scenarios.run import run_scenario

    site_dir = tmp_path / "inputs"
    site_dir.mkdir()
    write_site(sample_community(), site_dir / "estate.gpkg")
    (site_dir / "s.yaml").write_text(SAMPLE.replace("site: {sample: true}", "site: {file: estate.gpkg}"))
    s = load_scenario(site_dir / "s.yaml")
    out = tmp_path / "results"
    first = run_scenario(s, out_dir=out, base_dir=site_dir)
    again = load_scenario(out / "scenario.yaml")  # its site path must still resolve
    second = run_scenario(again, base_dir=out)
    assert second.metrics["estate"] == first.metrics["estate"]

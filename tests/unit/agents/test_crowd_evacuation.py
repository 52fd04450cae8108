"""The site-wide crowd evacuation: residents of real storeys, stairs and the estate."""

from __future__ import annotations

import numpy as np
import pytest

from agents.crowd_evacuation import CrowdEvacuation, CrowdEvacuationSettings
from agents.population import synthesize_households
from geometry.sample import sample_community
from scenarios.loader import ScenarioError, parse_scenario
from scenarios.run import run_scenario


@pytest.fixture(scope="module")
def site():  # type: ignore[no-untyped-def]
    return sample_community()


def _evac(site, seed: int, **kw):  # type: ignore[no-untyped-def]
    b = site.building("B12")
    units = [(u, b.id) for L in range(b.storeys) for u in b.unit_ids(L)]
    pop = synthesize_households(units, rng=np.random.default_rng(seed), hour=3.0)
    return CrowdEvacuation(site, pop, targets=["SQ1", "GR1"], rng=seed, settings=CrowdEvacuationSettings(**kw))


def test_walkup_at_night_everyone_reaches_an_assembly_point(site) -> None:  # type: ignore[no-untyped-def]
    ev = _evac(site, 1)
    t = ev.run(2400.0)
    assert ev.remaining() == 0, f"{ev.remaining()} people never arrived by {t:.0f} s"
    r = ev.rset()
    assert 0 < r["B12"]["rset95_s"] <= r["B12"]["rset100_s"] <= r["estate"]["arrival100_s"] < 2400
    # nobody leaves before their pre-movement is over, everybody arrives after leaving the building
    assert (ev.t_start >= ev.premovement_s - 1e-6).all()
    assert (ev.t_arrived > ev.t_building_out).all()
    # people who need help and live alone wait for the helper
    if ev.assisted_alone.any():
        assert (ev.t_start[ev.assisted_alone] >= ev.settings.assistance_delay_s - 1e-6).all()
    assert (ev.queue_times() >= 0).all()


def test_same_seed_same_evacuation(site) -> None:  # type: ignore[no-untyped-def]
    a = _evac(site, 2)
    b = _evac(site, 2)
    a.run(300.0)
    b.run(300.0)
    assert np.array_equal(a.t_building_out, b.t_building_out, equal_nan=True)
    assert np.array_equal(a.models["B12"].x, b.models["B12"].x)


def test_state_round_trip_continues_identically(site) -> None:  # type: ignore[no-untyped-def]
    a = _evac(site, 4)
    a.run(200.0)
    st = a.get_state()
    ref = _evac(site, 4)
    ref.run(200.0)
    ref.set_state(st)
    for k in range(200):
        t = 200.0 + k * a.settings.dt
        a.advance(t)
        ref.advance(t)
    assert np.array_equal(a.models["B12"].x, ref.models["B12"].x)
    assert np.array_equal(a.t_building_out, ref.t_building_out, equal_nan=True)


SCEN = """
name: crowd-walkup
site:
  sample: true
seed: 5
duration_s: 1800
dt_s: 1.0
population:
  time_of_day: "03:00"
  buildings: [B12]
alarm:
  at_s: 0
  scope: estate
evacuation:
  model: crowd
  targets: assembly
injects:
  - at_s: 60
    action: block
    target: {target}
outputs:
  scene: false
  site_map: false
"""


def test_scenario_with_the_crowd_model_writes_crowd_results(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sc = parse_scenario(SCEN.format(target="B12-S1-F03"), source="t.yaml")
    res = run_scenario(sc, out_dir=tmp_path)
    m = res.metrics
    assert m["estate"]["arrived"] == m["estate"]["occupants"] > 0
    assert m["crowd"]["people"] == m["estate"]["occupants"]
    assert m["crowd"]["buildings"]["B12"]["fruin_los"] in "ABCDEF"
    for name in ("people.parquet", "evacuation_by_profile.png", "density_B12.png", "density_estate.png"):
        assert (tmp_path / name).is_file(), name
    assert m["bottlenecks"], "a walk-up at night queues on its stairs"


def test_crowd_inject_target_must_be_a_stair_exit_or_landing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sc = parse_scenario(SCEN.format(target="J0001"), source="t.yaml")
    with pytest.raises(ScenarioError, match="injects.0.target"):
        run_scenario(sc, out_dir=tmp_path)

"""End to end: ``shoumen optimize cameras|patrols|posts|plan`` on the sample community, run as the
real console script; the plans it writes load back into scenarios that run; bad settings exit 2
with a specific message and no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOUMEN = Path(sys.executable).parent / "shoumen"

SMALL = """\
name: small-{name}
site:
  sample: true
seed: 5
duration_s: {duration}
population:
  time_of_day: "03:00"
  buildings: [B12, B14]
evacuation:
  model: {model}
  targets: assembly
interventions:
{interventions}
"""


def _shoumen(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SHOUMEN), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env={"COLUMNS": "160", "PATH": "/usr/bin:/bin", "HOME": str(Path.home())})


def _scenario(tmp: Path, name: str, *, model: str = "flow", duration: int = 300, interventions: str = "  {}") -> Path:
    p = tmp / f"{name}.yaml"
    p.write_text(SMALL.format(name=name, model=model, duration=duration, interventions=interventions), encoding="utf-8")
    return p


def _before_after(figures: dict) -> None:  # type: ignore[type-arg]
    assert figures
    for k, v in figures.items():
        assert set(v) == {"before", "after", "change"}, k


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("optimize")


def test_optimize_cameras_writes_plan_that_loads_back(tmp: Path) -> None:
    out = tmp / "cams"
    scen = _scenario(tmp, "cams")
    r = _shoumen("optimize", "cameras", str(scen), "--out", str(out), "--days", "5")
    assert r.returncode == 0, r.stderr
    for f in ("camera_plan.geojson", "camera_map.png", "metrics.json", "report.html"):
        assert (out / f).stat().st_size > 0, f
    m = json.loads((out / "metrics.json").read_text())
    _before_after(m["simulation"]["figures"])
    after = m["coverage"]["after"]
    assert after["entrance_coverage"] == 1.0 and after["gate_coverage"] == 1.0  # every entrance / gate seen twice
    assert m["coverage"]["before"]["entrance_coverage"] < 1.0
    assert after["density_per_200m2"] > 0
    gj = json.loads((out / "camera_plan.geojson").read_text())
    assert gj["shoumen"]["kind"] == "camera_plan" and len(gj["features"]) == after["n_cameras"]
    props = gj["features"][0]["properties"]
    assert {"yaw_deg", "fov_deg", "range_m", "type", "cost_cny"} <= set(props)
    # loads back: the plan's cameras join the site and the scenario runs
    back = _scenario(tmp, "cams-back", interventions=f"  camera_plans: [{out / 'camera_plan.geojson'}]")
    r2 = _shoumen("run", str(back), "--out", str(tmp / "cams-run"), "--no-pictures")
    assert r2.returncode == 0, r2.stderr
    assert json.loads((tmp / "cams-run" / "metrics.json").read_text())["estate"]["occupants"] > 0


def test_optimize_posts(tmp: Path) -> None:
    out = tmp / "posts"
    r = _shoumen("optimize", "posts", str(_scenario(tmp, "posts")), "--out", str(out), "--posts", "3", "--days", "10")
    assert r.returncode == 0, r.stderr
    for f in ("posts.geojson", "posts_map.png", "metrics.json", "report.html"):
        assert (out / f).stat().st_size > 0, f
    m = json.loads((out / "metrics.json").read_text())
    _before_after(m["simulation"]["figures"])
    assert "response_p50_s" in m["simulation"]["figures"] and "response_p90_s" in m["simulation"]["figures"]
    assert len(m["posts"]["p_median"]) == 3
    # p-median posts never serve the year's incidents worse on average than today's posts
    assert m["travel"]["p_median"]["mean_time_s"] <= m["travel"]["before"]["mean_time_s"] + 1e-9
    gj = json.loads((out / "posts.geojson").read_text())
    assert {f["properties"]["model"] for f in gj["features"]} == {"p-median", "max-covering"}


def test_optimize_patrols(tmp: Path) -> None:
    out = tmp / "patrols"
    r = _shoumen("optimize", "patrols", str(_scenario(tmp, "patrols")), "--out", str(out), "--patrols", "2",
                 "--shift-h", "2", "--days", "10")
    assert r.returncode == 0, r.stderr
    for f in ("patrol_routes.geojson", "patrol_map.png", "metrics.json", "report.html"):
        assert (out / f).stat().st_size > 0, f
    m = json.loads((out / "metrics.json").read_text())
    _before_after(m["simulation"]["figures"])
    _before_after(m["simulation"]["night"])
    gj = json.loads((out / "patrol_routes.geojson").read_text())
    lines = [f for f in gj["features"] if f["geometry"]["type"] == "LineString"]
    assert 1 <= len(lines) <= 2
    assert all(f["properties"]["time_s"] <= 2 * 3600 + 1e-6 for f in lines)
    assert any(f["properties"]["visit_times_s"] for f in lines)


def test_optimize_plan_and_apply_it(tmp: Path) -> None:
    out = tmp / "plan"
    scen = _scenario(tmp, "plan", model="crowd")
    r = _shoumen("optimize", "plan", str(scen), "--out", str(out), "--trials", "4")
    assert r.returncode == 0, r.stderr
    for f in ("evacuation_plan.geojson", "plan_map.png", "plan_convergence.png", "metrics.json", "report.html"):
        assert (out / f).stat().st_size > 0, f
    m = json.loads((out / "metrics.json").read_text())
    fig = m["simulation"]["figures"]
    _before_after(fig)
    assert fig["objective_s"]["after"] <= fig["objective_s"]["before"]  # baseline is among the candidates
    gj = json.loads((out / "evacuation_plan.geojson").read_text())
    assert {f["properties"]["building"] for f in gj["features"]} == {"B12", "B14"}
    assert all(f["geometry"]["type"] == "Polygon" for f in gj["features"])
    back = _scenario(tmp, "plan-back", model="crowd", duration=120,
                     interventions=f"  plans: [{out / 'evacuation_plan.geojson'}]")
    r2 = _shoumen("run", str(back), "--out", str(tmp / "plan-run"), "--no-pictures")
    assert r2.returncode == 0, r2.stderr
    # a plan with the flow model is refused with the field named
    bad = _scenario(tmp, "plan-flow", model="flow", interventions=f"  plans: [{out / 'evacuation_plan.geojson'}]")
    r3 = _shoumen("run", str(bad), "--out", str(tmp / "plan-flow"), "--no-pictures")
    assert r3.returncode == 2 and "interventions.plans" in r3.stderr and "Traceback" not in r3.stderr


@pytest.mark.parametrize("args, message", [
    (["cameras", "--budget", "500"], "below the cost of one camera"),
    (["cameras", "--k-entrance", "400"], "coverage requirement infeasible"),
    (["patrols", "--shift-h", "0.005"], "too short to leave gate"),
])
def test_bad_settings_exit_2_with_a_specific_message(tmp: Path, args: list[str], message: str) -> None:
    r = _shoumen("optimize", args[0], str(_scenario(tmp, "bad")), "--out", str(tmp / "bad"), *args[1:])
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("shoumen: error:")


def test_plan_files_of_the_wrong_kind_are_refused(tmp: Path) -> None:
    from scenarios.builder import site_with_interventions
    from scenarios.loader import ScenarioError, load_scenario

    wrong = tmp / "wrong.geojson"
    wrong.write_text(json.dumps({"type": "FeatureCollection", "shoumen": {"kind": "posts"}, "features": []}))
    scen = load_scenario(_scenario(tmp, "wrong", interventions=f"  camera_plans: [{wrong}]"))
    with pytest.raises(ScenarioError, match=r"interventions\.camera_plans\.0.*not a camera_plan GeoJSON"):
        site_with_interventions(scen, base_dir=tmp)
    scen = load_scenario(_scenario(tmp, "missing", interventions="  camera_plans: [nope.geojson]"))
    with pytest.raises(ScenarioError, match=r"interventions\.camera_plans\.0.*nope\.geojson not found"):
        site_with_interventions(scen, base_dir=tmp)
    pt = tmp / "line.geojson"
    pt.write_text(json.dumps({"type": "FeatureCollection", "shoumen": {"kind": "camera_plan"}, "features": [
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, "properties": {}}]}))
    scen = load_scenario(_scenario(tmp, "line", interventions=f"  camera_plans: [{pt}]"))
    with pytest.raises(ScenarioError, match=r"line\.geojson feature 0: geometry must be a Point"):
        site_with_interventions(scen, base_dir=tmp)

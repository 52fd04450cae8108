"""The ``shoumen`` command end to end, as a user runs it (in a temporary directory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.system

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "sites"


def shoumen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="160")
    return subprocess.run([sys.executable, "-m", "twin.cli", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=600)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    cwd = tmp_path_factory.mktemp("demo")
    return cwd, shoumen("demo", cwd=cwd)


def test_demo_prints_summary_and_writes_results(demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    cwd, proc = demo
    assert proc.returncode == 0, proc.stderr
    assert "RSET 95% s" in proc.stdout and "estate → targets" in proc.stdout
    out = cwd / "results" / "demo"
    for name in ("scenario.yaml", "metrics.json", "events.parquet", "scene.png", "site_map.png",
                 "evacuation_curve.png", "report.html"):
        assert (out / name).is_file(), name
    m = json.loads((out / "metrics.json").read_text())
    est = m["estate"]
    assert 5000 < est["occupants"] < 9500
    assert est["arrived"] == est["occupants"]
    assert 0 < est["rset_95_s"] <= est["rset_100_s"] < m["run"]["duration_s"]
    assert len(m["buildings"]) == 15
    assert m["bottlenecks"], "a night evacuation of 8,000 people must queue somewhere"
    events = pd.read_parquet(out / "events.parquet")
    assert {"RunStarted", "AlarmRaised", "PopulationPlaced", "AgentsEvacuated", "AgentsArrived", "RunFinished"} <= set(events["type"])
    resolved = yaml.safe_load((out / "scenario.yaml").read_text())
    assert resolved["seed"] == m["run"]["seed"]
    assert (out / "fields").is_dir() and any((out / "fields").glob("*.npz"))
    # the crowd model's own results: every person, the pictures planners look at
    people = pd.read_parquet(out / "people.parquet")
    assert len(people) == est["occupants"]
    assert people["t_arrived_s"].notna().all()
    assert (people["t_building_out_s"] >= people["t_start_s"]).all()
    assert (out / "evacuation_by_profile.png").is_file() and (out / "density_estate.png").is_file()
    assert len(list(out.glob("density_B*.png"))) == 3
    assert m["crowd"]["queue_s"]["p95"] > 0
    html = (out / "report.html").read_text()
    assert "RSET" in html and "data:image/png;base64" in html


SMALL_CROWD = """
name: small-crowd
site:
  sample: true
seed: 11
duration_s: 1500
population:
  time_of_day: "03:00"
  buildings: [B13]
alarm:
  scope: estate
evacuation:
  model: crowd
outputs:
  scene: false
  site_map: false
  fields: false
"""


def test_same_seed_same_metrics_different_seed_differs(tmp_path: Path) -> None:
    scen = tmp_path / "small.yaml"
    scen.write_text(SMALL_CROWD)
    first = shoumen("run", str(scen), "--out", "first", "--no-pictures", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = shoumen("run", str(scen), "--out", "again", "--no-pictures", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again" / "metrics.json").read_text() == (tmp_path / "first" / "metrics.json").read_text()
    other = shoumen("run", str(scen), "--out", "other", "--seed", "99", "--no-pictures", cwd=tmp_path)
    assert other.returncode == 0, other.stderr
    assert (tmp_path / "other" / "metrics.json").read_text() != (tmp_path / "first" / "metrics.json").read_text()


def test_every_library_scenario_runs(tmp_path: Path) -> None:
    lib = Path(__file__).resolve().parents[2] / "scenarios" / "library"
    for f in sorted(lib.glob("*.yaml")):
        if f.stem == "sample-evacuation":
            continue
        proc = shoumen("run", str(f), "--out", f.stem, "--no-pictures", cwd=tmp_path)
        assert proc.returncode == 0, f"{f.name}: {proc.stderr}"
        assert (tmp_path / f.stem / "metrics.json").is_file()


def test_help_teaches_with_examples(tmp_path: Path) -> None:
    top = shoumen("--help", cwd=tmp_path)
    assert top.returncode == 0 and "examples:" in top.stdout and "shoumen demo" in top.stdout
    for cmd in (["demo"], ["run"], ["site", "show"], ["site", "validate"], ["site", "import"], ["render"],
                ["serve"], ["replay"], ["optimize", "cameras"]):
        proc = shoumen(*cmd, "--help", cwd=tmp_path)
        assert proc.returncode == 0 and "example" in proc.stdout, cmd


def test_bad_scenario_gives_short_error_not_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsite:\n  sample: true\nduraton_s: 60\n")
    proc = shoumen("run", str(bad), "--out", "o", cwd=tmp_path)
    assert proc.returncode == 2
    assert "line 4" in proc.stderr and "did you mean 'duration_s'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_building_reference(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsite:\n  sample: true\nalarm:\n  scope: building\n  buildings: [B99]\n")
    proc = shoumen("run", str(bad), "--out", "o", cwd=tmp_path)
    assert proc.returncode == 2
    assert "alarm.buildings.0" in proc.stderr and "'B99' does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_not_yaml_scenario(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [x\n  y: z\n")
    proc = shoumen("run", str(bad), "--out", "o", cwd=tmp_path)
    assert proc.returncode == 2 and "not valid YAML" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("name", ["West-Oakland.osm", "munich-sample.osm", "delft.city.json"])
def test_import_validate_render_real_sites(tmp_path: Path, name: str) -> None:
    src = SHARED / name
    if not src.exists():
        pytest.fail(f"shared data file {src} is missing")
    out = tmp_path / (name.split(".")[0] + ".gpkg")
    proc = shoumen("site", "import", str(src), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert out.is_file()
    val = shoumen("site", "validate", str(out), cwd=tmp_path)
    assert val.returncode == 0, val.stderr
    assert "valid" in val.stdout and "navigation graph" in val.stdout
    png = tmp_path / "scene.png"
    rend = shoumen("render", str(out), "--out", str(png), "--width", "640", "--height", "400", cwd=tmp_path)
    assert rend.returncode == 0, rend.stderr
    assert png.stat().st_size > 10_000


def test_site_show_and_render_sample(tmp_path: Path) -> None:
    proc = shoumen("site", "show", "sample", "--graph", "--map", "map.png", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "households" in proc.stdout and (tmp_path / "map.png").is_file()


def test_invalid_site_file_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"layer": "site", '
                   '"name": "x"}, "geometry": {"type": "Polygon", "coordinates": [[[0,0],[10,0],[10,10],[0,10]]]}}]}')
    proc = shoumen("site", "validate", str(bad), cwd=tmp_path)
    assert proc.returncode == 2
    assert "does not close" in proc.stderr and "Traceback" not in proc.stderr


def test_connectivity_check_names_unreachable_dwellings(tmp_path: Path) -> None:
    out = tmp_path / "m.gpkg"
    proc = shoumen("site", "import", str(SHARED / "munich-sample.osm"), "--out", str(out),
                   "--default-use", "residential_walkup", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    val = shoumen("site", "validate", str(out), "--connectivity", cwd=tmp_path)
    assert val.returncode == 2
    assert "cannot reach a gate or assembly point" in val.stderr and "B01-L00-U01" in val.stderr
    assert "Traceback" not in val.stderr


def test_bad_seed_and_builder_errors_name_the_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from twin.cli import main

    assert main(["run", "highrise-stair-blocked", "--out", str(tmp_path / "o"), "--seed", "-3", "--no-pictures"]) == 2
    assert "--seed: expected a non-negative integer, got -3" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsite:\n  sample: true\ninjects:\n  - {at_s: 5, action: block, target: NOPE}\n")
    assert main(["run", str(bad), "--out", str(tmp_path / "o"), "--no-pictures"]) == 2
    assert f"{bad}: field 'injects.0.target': 'NOPE' is not a stair" in capsys.readouterr().err


def test_free_form_geometry_scenario_runs(tmp_path: Path) -> None:
    # the example of docs/scenario-format.md: no population, so metrics must cope without one
    sc = tmp_path / "door.yaml"
    sc.write_text(
        "name: RiMEA test 4 door flow\ngeometry:\n  cell_size_m: 0.25\n  levels:\n    - level: 0\n"
        "      walkable: [[[0, 0], [8, 0], [8, 5], [0, 5]]]\n"
        "      doors: [{id: exit, a: [8, 2], b: [8, 3], exit: true}]\nevacuation: null\nalarm: null\nduration_s: 10\n"
    )
    proc = shoumen("run", str(sc), "--out", "o", "--no-pictures", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    m = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert m["estate"]["occupants"] == 0 and m["simulated_s"] == 10.0


def test_realtime_run_is_paced_by_the_wall_clock(tmp_path: Path) -> None:
    import time

    sc = tmp_path / "short.yaml"
    sc.write_text("name: short drill\nsite: {sample: true}\nduration_s: 60\npopulation: {buildings: [B12]}\n"
                  "alarm: {scope: building, buildings: [B12]}\n")
    t0 = time.monotonic()
    proc = shoumen("run", str(sc), "--out", "rt", "--no-pictures", "--realtime", "--speed", "30", cwd=tmp_path)
    wall = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    assert wall >= 2.0, "60 simulated seconds at 30x must take at least 2 wall-clock seconds"
    bad = shoumen("run", str(sc), "--out", "rt2", "--speed", "30", cwd=tmp_path)
    assert bad.returncode == 2 and "--speed" in bad.stderr


def test_import_with_a_dem_for_flood_runs(tmp_path: Path) -> None:
    """A real site plus a surveyed DEM (here a GeoTIFF sloping east, in the site's CRS): the
    imported site carries the terrain; a DEM that misses the site is refused with the extents."""
    import numpy as np

    from geometry.dem import write_geotiff
    from geometry.io import read_site

    src = SHARED / "delft.city.json"
    first = tmp_path / "plain.gpkg"
    assert shoumen("site", "import", str(src), "--out", str(first), cwd=tmp_path).returncode == 0
    x0, y0, x1, y1 = read_site(first).boundary.bounds
    nx, ny = int((x1 - x0) / 2.0) + 12, int((y1 - y0) / 2.0) + 12
    z = np.tile(np.linspace(0.0, 3.0, nx), (ny, 1))
    write_geotiff(tmp_path / "dem.tif", z, origin=(x0 - 10.0, y0 - 10.0), cell_size_m=2.0)
    out = tmp_path / "delft.gpkg"
    proc = shoumen("site", "import", str(src), "--out", str(out), "--dem", str(tmp_path / "dem.tif"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    t = read_site(out).terrain
    assert t is not None and t.z.shape == (ny, nx) and t.z.max() == pytest.approx(3.0, abs=1e-5)
    write_geotiff(tmp_path / "far.tif", z, origin=(x0 + 1e5, y0), cell_size_m=2.0)
    bad = shoumen("site", "import", str(src), "--out", str(out), "--dem", str(tmp_path / "far.tif"), cwd=tmp_path)
    assert bad.returncode == 2 and "expected a DEM" in bad.stderr and "Traceback" not in bad.stderr

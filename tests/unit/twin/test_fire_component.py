"""Fire in the twin: detectors raise the building alarm, the crowd responds, ASET vs RSET."""

from __future__ import annotations

import pytest

from scenarios.loader import ScenarioError, parse_scenario
from scenarios.run import run_scenario

SCEN = """
name: fire-walkup
site:
  sample: true
seed: 2
duration_s: 900
population:
  time_of_day: "03:00"
  buildings: [B12]
alarm: null
hazards:
  - type: fire
    at_s: 0
    unit: {unit}
    params: {params}
evacuation:
  model: crowd
outputs:
  scene: false
  site_map: false
  fields: false
"""


def test_detector_alarm_starts_the_evacuation_and_metrics_compare_aset_rset(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sc = parse_scenario(SCEN.format(unit="B12-L02-U03", params="{growth: fast, peak_kw: 2000, fuel: kitchen}"),
                        source="t.yaml")
    res = run_scenario(sc, out_dir=tmp_path)
    ev = res.events
    det = ev[ev["type"] == "DetectorActivated"]
    alarm = ev[ev["type"] == "AlarmRaised"]
    assert len(det) >= 1 and len(alarm) == 1
    assert alarm["t"].iloc[0] == pytest.approx(det["t"].min() + 10.0)
    f = res.metrics["fire"]["B12"]
    assert f["first_detector"] and f["alarm_s"] == pytest.approx(det["t"].min() + 10.0)
    assert f["first_untenable"][0]["compartment"] == "B12-L02-U03"  # the room of origin goes first
    # nobody moved before the alarm: the fire's detector is the only alarm
    people = __import__("pandas").read_parquet(tmp_path / "people.parquet")
    assert (people["t_start_s"].dropna() >= f["alarm_s"] - 1e-6).all()
    assert (tmp_path / "fire_compartments.parquet").is_file()
    from PIL import Image

    with Image.open(tmp_path / "fire_layers.png") as im:
        assert im.size[0] > 500
    fp = res.metrics["fire_people"]
    assert set(fp) == {"exposed", "fed_over_0_3", "incapacitated", "max_fed", "max_extinction_per_m"}
    assert fp["incapacitated"] <= fp["fed_over_0_3"] <= fp["exposed"]


@pytest.mark.parametrize(("unit", "params", "msg"), [
    ("B12-L02-U99", "{growth: fast, peak_kw: 2000}", "B12-L02-U99"),
    ("B12-L02-U03", "{growth: -0.01, peak_kw: 2000}", "growth"),
    ("B12-L02-U03", "{growth: fast, peak_kw: 0}", "peak_kw"),
    ("B12-L02-U03", "{growth: fsat, peak_kw: 2000}", "fast"),
    ("B12-L02-U03", "{growth: fast, peak_kw: 2000, colour: red}", "unknown key"),
])
def test_bad_fire_inputs_are_clear_errors(tmp_path, unit: str, params: str, msg: str) -> None:  # type: ignore[no-untyped-def]
    sc = parse_scenario(SCEN.format(unit=unit, params=params), source="t.yaml")
    with pytest.raises(ScenarioError, match=msg):
        run_scenario(sc, out_dir=tmp_path)

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
    # per compartment: RSET = the last time somebody was in it, margin = ASET - RSET
    for c in f["first_untenable"]:
        assert set(c) == {"compartment", "aset_s", "rset_s", "margin_s"}
        if c["rset_s"] is not None:
            assert c["margin_s"] == pytest.approx(c["aset_s"] - c["rset_s"], abs=0.11)
    assert f["first_untenable"][0]["rset_s"] is not None  # the flat's family was at home
    # nobody moved before the alarm: the fire's detector is the only alarm
    people = __import__("pandas").read_parquet(tmp_path / "people.parquet")
    assert (people["t_start_s"].dropna() >= f["alarm_s"] - 1e-6).all()
    assert (tmp_path / "fire_compartments.parquet").is_file()
    from PIL import Image

    with Image.open(tmp_path / "fire_layers.png") as im:
        assert im.size[0] > 500
    fp = res.metrics["fire_people"]
    keys = {"exposed", "fed_over_0_3", "sensitive_fed_over_0_3", "incapacitated", "max_fed", "max_extinction_per_m"}
    assert set(fp) == keys | {"by_building"}
    assert fp["incapacitated"] <= fp["fed_over_0_3"] <= fp["exposed"]
    assert fp["sensitive_fed_over_0_3"] <= fp["fed_over_0_3"]
    assert set(fp["by_building"]) <= {"B12"} and all(set(v) == keys for v in fp["by_building"].values())


@pytest.mark.parametrize(("unit", "params", "msg"), [
    ("B12-L02-U99", "{growth: fast, peak_kw: 2000}", "B12-L02-U99"),
    ("B12-L02-U03", "{growth: -0.01, peak_kw: 2000}", "growth"),
    ("B12-L02-U03", "{growth: fast, peak_kw: 0}", "peak_kw"),
    ("B12-L02-U03", "{growth: fsat, peak_kw: 2000}", "fast"),
    ("B12-L02-U03", "{growth: fast, peak_kw: 2000, colour: red}", "unknown key"),
    ("B12-L02-U03", "{growth: fast, alarm: siren}", "alarm arrangement 'siren'"),
    ("B12-L02-U03", "{growth: fast, spread: maybe}", "expected 'on' or 'off'"),
    ("B12-L02-U03", "{growth: fast, lowrise_bare_wood: 2}", "bare_wood"),
    ("B12-L02-U03", "{growth: fast, phone_delay_s: -3}", "phone_delay_s"),
])
def test_bad_fire_inputs_are_clear_errors(tmp_path, unit: str, params: str, msg: str) -> None:  # type: ignore[no-untyped-def]
    sc = parse_scenario(SCEN.format(unit=unit, params=params), source="t.yaml")
    with pytest.raises(ScenarioError, match=msg):
        run_scenario(sc, out_dir=tmp_path)


def test_local_alarm_scenario_alerts_the_flat_first(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``alarm: local``: the flat's own smoke alarm starts its occupants; the rest of the building
    starts when the fire is phoned in (``phone_delay_s`` later)."""
    sc = parse_scenario(SCEN.format(unit="B12-L02-U03", params="{growth: fast, peak_kw: 2000, fuel: kitchen, "
                                    "alarm: local, phone_delay_s: 150}"), source="t.yaml")
    res = run_scenario(sc, out_dir=tmp_path)
    ev = res.events
    alarms = ev[ev["type"] == "AlarmRaised"].sort_values("t")
    assert list(alarms["subject"]) == ["B12-L02-U03", "B12"]
    assert alarms["t"].iloc[1] == pytest.approx(alarms["t"].iloc[0] + 150.0)
    f = res.metrics["fire"]["B12"]
    assert f["alarm_arrangement"] == "local" and f["unit_alarms"] == {"B12-L02-U03": pytest.approx(alarms["t"].iloc[0])}
    import pandas as pd

    people = pd.read_parquet(tmp_path / "people.parquet")
    flat = people[people["unit"] == "B12-L02-U03"]
    others = people[people["unit"] != "B12-L02-U03"]
    assert len(flat) >= 1
    # the flat's occupants hear their own alarm, everybody else the building's
    assert (flat["t_alarm_s"] == alarms["t"].iloc[0]).all()
    assert (others["t_alarm_s"] == alarms["t"].iloc[1]).all()
    started = people[people["t_start_s"].notna()]
    assert (started["t_start_s"] >= started["t_alarm_s"] + started["premovement_s"] - 1.0).all()


def test_two_fires_must_agree_on_the_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = SCEN.format(unit="B12-L02-U03", params="{growth: fast, alarm: local}").replace(
        "evacuation:", "  - {type: fire, unit: B12-L03-U01, params: {alarm: phone}}\nevacuation:")
    sc = parse_scenario(text, source="t.yaml")
    with pytest.raises(ScenarioError, match="same for every fire"):
        run_scenario(sc, out_dir=tmp_path)

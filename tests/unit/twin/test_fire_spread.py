"""Fire spread and alarm arrangements of the fire component (twin.fire.component,
twin.fire.spread), run on the sample community without a twin (``advance`` tick by tick)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geometry.sample import sample_community
from twin.fire.component import FireComponent
from twin.fire.sources import FireSource
from twin.fire.spread import HamadaShares, SpreadRules, hamada_arrival_s, hamada_ros_m_s


@pytest.fixture(scope="module")
def site():  # type: ignore[no-untyped-def]
    return sample_community()


def _run(fc: FireComponent, until: float, dt: float = 1.0) -> FireComponent:
    t = 0.0
    while t < until - 1e-9:
        fc.advance(t, dt)
        t += dt
    return fc


def _big(unit: str = "B10-L01-U03") -> FireSource:
    return FireSource(unit, "ultrafast", 6000.0, fuel="polyurethane_foam")


def test_flashover_leaps_to_the_flat_above_through_the_windows(site) -> None:  # type: ignore[no-untyped-def]
    fc = _run(FireComponent(site, [_big()], door_left_open_s=0.0), 700.0)
    rules = fc.spread
    assert fc.windows_broken["B10-L01-U03"] < fc.flashover["B10-L01-U03"]  # 340 °C before 600 °C
    when, origin, mech = fc.ignited["B10-L02-U03"]
    assert (origin, mech) == ("B10-L01-U03", "window")
    # the leap comes leap_delay_s after the flames outside reach the window above (after flashover)
    assert when >= fc.flashover["B10-L01-U03"] + rules.leap_delay_s - 1e-9
    assert when <= fc.flashover["B10-L01-U03"] + rules.leap_delay_s + 60.0
    # the new fire burns in the zone model: its flat heats up
    r = fc.result()
    assert r.temp_c[-1, r.column("B10-L02-U03")] > 300.0
    # through the walls, later: the flats beside are due at flashover + 2 h
    due = {c: w for c, w in fc._pending.items()}
    assert {"B10-L01-U02", "B10-L01-U04"} <= set(due)
    assert due["B10-L01-U02"] == (pytest.approx(fc.flashover["B10-L01-U03"] + rules.wall_rating_s), "B10-L01-U03", "wall")
    s = fc.summary()["B10"]
    assert [f["compartment"] for f in s["fires"]][:2] == ["B10-L01-U03", "B10-L02-U03"]


def test_spread_off_keeps_the_fire_in_its_flat(site) -> None:  # type: ignore[no-untyped-def]
    fc = _run(FireComponent(site, [_big()], door_left_open_s=0.0, spread=SpreadRules(enabled=False)), 600.0)
    assert list(fc.ignited) == ["B10-L01-U03"] and not fc._pending and not fc.windows_broken


def test_a_small_fire_breaks_no_window_and_does_not_flash_over(site) -> None:  # type: ignore[no-untyped-def]
    fc = _run(FireComponent(site, [FireSource("B10-L01-U03", "slow", 300.0, fuel="kitchen")]), 600.0)
    assert not fc.flashover and not fc.windows_broken and list(fc.ignited) == ["B10-L01-U03"]


def test_building_alarm_arrangement_raises_the_building_10_s_after_the_detector(site) -> None:  # type: ignore[no-untyped-def]
    fc = _run(FireComponent(site, [FireSource("B03-L07-U05", "fast", 3000.0, fuel="kitchen")]), 120.0)
    first = min(fc.activated.values())
    assert fc.alarmed["B03"] == pytest.approx(first + 10.0) and not fc.unit_alarms


def test_local_smoke_alarms_sound_in_the_flat_and_the_building_hears_by_phone(site) -> None:  # type: ignore[no-untyped-def]
    fc = _run(FireComponent(site, [FireSource("B03-L07-U05", "fast", 3000.0, fuel="kitchen")], alarm="local",
                            phone_delay_s=90.0), 200.0)
    first = min(fc.activated.values())
    assert fc.unit_alarms == {"B03-L07-U05": pytest.approx(first)}
    assert fc.alarmed["B03"] == pytest.approx(first + 90.0)


def test_phone_arrangement_waits_for_the_occupants_to_notice_smoke(site) -> None:  # type: ignore[no-untyped-def]
    fc = _run(FireComponent(site, [FireSource("B03-L07-U05", "fast", 3000.0, fuel="kitchen")], alarm="phone"), 300.0)
    r = fc.result()
    c = r.column("B03-L07-U05")
    notice = fc.unit_alarms["B03-L07-U05"]
    # the cue: the layer in the flat reaches head height (recorded every 5 s)
    below = r.t[r.interface_m[:, c] < 1.83]
    assert below.size and abs(notice - below[0]) <= 5.0 + 1e-9
    assert fc.alarmed["B03"] == pytest.approx(notice + 120.0)
    assert fc.activated  # detectors still sound, but nobody relies on them
    assert min(fc.activated.values()) < notice


@pytest.mark.parametrize(("kw", "msg"), [
    ({"alarm": "siren"}, "alarm arrangement 'siren'"),
    ({"phone_delay_s": -1.0}, "phone_delay_s"),
])
def test_bad_settings_are_refused(site, kw, msg) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=msg):
        FireComponent(site, [_big()], **kw)


def test_bad_spread_rules_and_shares_are_refused() -> None:
    with pytest.raises(ValueError, match="flashover_c"):
        SpreadRules(flashover_c=-5.0)
    with pytest.raises(ValueError, match="bare_wood"):
        HamadaShares(bare_wood=1.5)
    with pytest.raises(ValueError, match="side > 0"):
        hamada_ros_m_s(0.0, 5.0, 0.0, 1.0, HamadaShares())


def test_hamada_reaches_only_combustible_low_rise_buildings_downwind_first(site) -> None:  # type: ignore[no-untyped-def]
    old = HamadaShares(fire_resistant=0.2, bare_wood=0.4, mortar_wood=0.4)
    rules = SpreadRules(wind_speed_m_s=6.0, wind_from_deg=270.0, shares={"K01": old, "C01": old})  # from the west
    arr = hamada_arrival_s(site, {"K01": 0.0}, rules)
    assert set(arr) == {"K01", "C01"}  # concrete housing does not catch
    k, c = site.building("K01").footprint, site.building("C01").footprint
    d = math.hypot(c.centroid.x - k.centroid.x, c.centroid.y - k.centroid.y)
    side = 0.5 * (math.sqrt(k.area) + math.sqrt(c.area))
    cos_t = (c.centroid.x - k.centroid.x) / d  # downwind is +x (east)
    expect = d / hamada_ros_m_s(side, k.distance(c), 6.0, cos_t, old)
    assert arr["C01"] == pytest.approx(expect)
    calm = hamada_arrival_s(site, {"K01": 0.0}, SpreadRules(shares={"K01": old, "C01": old}))
    assert (arr["C01"] < calm["C01"]) == (cos_t > 0)
    with pytest.raises(KeyError, match="no building 'X9'"):
        hamada_arrival_s(site, {"X9": 0.0}, rules)


def test_component_plans_a_hamada_ignition_after_flashover(site) -> None:  # type: ignore[no-untyped-def]
    old = HamadaShares(fire_resistant=0.0, bare_wood=0.5, mortar_wood=0.5)
    rules = SpreadRules(shares={"C01": old, "K01": old})
    room = "K01-L00-R01"
    fc = FireComponent(site, [FireSource(room, "ultrafast", 8000.0)], door_left_open_s=0.0, spread=rules)
    assert "C01" in set(fc.net.building)  # reachable buildings are modelled from the start
    _run(fc, 400.0)
    assert room in fc.flashover
    hits = [(c, w) for c, w in fc._pending.items() if w[2] == "hamada"] + \
        [(c, w) for c, w in fc.ignited.items() if w[2] == "hamada"]
    assert hits and hits[0][0].startswith("C01-")
    expect = hamada_arrival_s(site, {"K01": fc.flashover[room]}, rules)["C01"]
    assert hits[0][1][0] == pytest.approx(expect)
    assert np.isfinite(expect)

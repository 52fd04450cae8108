"""Unit tests of twin.fire.detectors: input checks, the site look-up, incremental stepping,
gas override and the obscuration criterion."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geometry.sample import sample_community
from geometry.site import BuildingUse, DeviceKind, Site, SiteError
from twin.fire.detectors import (
    DEFAULT_HEAT_RTI,
    DEFAULT_HEAT_T_ACT_C,
    SOOT_MASS_EXTINCTION_M2_KG,
    DetectorBank,
    alpert_jet,
)


@pytest.fixture(scope="module")
def site() -> Site:
    return sample_community()


def _bank(**kw: object) -> DetectorBank:
    args: dict[str, object] = {"kinds": ["heat_detector", "smoke_detector"], "rti": [100.0, 0.0],
                                   "t_act_c": [57.0, np.nan], "h_m": [3.0, 3.0], "r_m": [1.0, 2.0], "ids": ["h1", "s1"]}
    args.update(kw)
    return DetectorBank(**args)  # type: ignore[arg-type]


# ----------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("field, kw", [
    ("rti", {"rti": [0.0, 0.0]}),
    ("rti", {"rti": [-5.0, 0.0]}),
    ("rti", {"rti": [100.0, -1.0]}),
    ("r_m", {"r_m": [-1.0, 2.0]}),
    ("h_m", {"h_m": [3.0, -2.0]}),
    ("h_m", {"h_m": [0.0, 3.0]}),
    ("t_act_c", {"t_act_c": [np.nan, np.nan]}),
    ("ids", {"ids": ["only-one"]}),
    ("r_m", {"r_m": [1.0, 2.0, 3.0]}),
    ("kinds", {"kinds": ["heat_detector", "camera"]}),
])
def test_bad_arrays_name_the_field(field: str, kw: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=f"'{field}'"):
        _bank(**kw)


def test_bad_field_message_names_the_detector() -> None:
    with pytest.raises(ValueError, match=r"'rti'.*h1=0\.0"):
        _bank(rti=[0.0, 0.0])


def test_activation_temperature_below_ambient() -> None:
    with pytest.raises(ValueError, match=r"'t_act_c' must be above the ambient temperature 20.0 °C; got h1=15\.0"):
        _bank(t_act_c=[15.0, np.nan])  # default ambient 20 °C
    bank = _bank(t_act_c=[15.0, np.nan], ambient_c=10.0)  # a cold garage: fine
    with pytest.raises(ValueError, match=r"'t_act_c' must be above the ambient temperature 20.0 °C; got h1=15\.0"):
        bank.simulate([0.0, 10.0], [0.0, 100.0], ambient_c=20.0)
    with pytest.raises(ValueError, match="'t_act_c'"):
        _bank().reset(ambient_c=60.0)  # 57 °C rating below a 60 °C ambient
    assert np.isnan(bank.simulate([0.0, 1.0], [0.0, 0.0], ambient_c=10.0)).all()


def test_bad_series_and_steps() -> None:
    bank = _bank()
    with pytest.raises(ValueError, match="'t_s'"):
        bank.simulate([0.0, 2.0, 1.0], [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="'q_kw'"):
        bank.simulate([0.0, 1.0, 2.0], [0.0, -1.0, 2.0])
    with pytest.raises(ValueError, match="'q_kw'"):
        bank.simulate([0.0, 1.0, 2.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="'dt'"):
        bank.advance(0.0, 0.0, 100.0)
    with pytest.raises(ValueError, match="'t'"):
        bank.advance(5.0, 1.0, 100.0)
    with pytest.raises(ValueError, match="'h_m'"):
        alpert_jet(100.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="'r_m'"):
        alpert_jet(100.0, 3.0, -1.0)


# ----------------------------------------------------------------- behaviour
def test_advance_matches_simulate_and_reports_new_activations() -> None:
    radii = np.array([0.0, 1.0, 2.5, 6.0])
    kinds = ["heat_detector", "heat_detector", "smoke_detector", "heat_detector"]
    bank = DetectorBank(kinds, [100.0, 50.0, 0.0, 100.0], [57.0, 68.0, np.nan, 57.0], 2.9, radii)
    t = np.arange(0.0, 400.0, 2.0)
    q = 0.01172 * t**2
    ref = bank.simulate(t, q)
    bank.reset()
    seen: list[int] = []
    for j in range(t.size - 1):
        new = bank.advance(t[j], t[j + 1] - t[j], (q[j], q[j + 1]))
        assert np.all(bank.activation_s[new] <= t[j + 1]) and np.all(bank.activation_s[new] >= t[j])
        seen += new.tolist()
    np.testing.assert_allclose(bank.activation_s, ref, rtol=0, atol=0, equal_nan=True)
    assert sorted(seen) == sorted(np.flatnonzero(np.isfinite(ref)).tolist())
    assert seen[0] == 2  # the lag-free smoke detector goes first
    assert bank.activated.sum() == len(seen) and bank.t == t[-1]


def test_gas_override_replaces_alpert() -> None:
    bank = DetectorBank(["heat_detector"] * 2, 100.0, 57.0, 3.0, [0.0, 8.0])
    # 80 K rise at 2 m/s at both detectors, whatever Alpert would say for 1 kW
    for k in range(100):
        bank.advance(k * 1.0, 1.0, 1.0, gas_override=(np.array([80.0, 80.0]), np.array([2.0, 2.0])))
    expect = 100.0 / math.sqrt(2.0) * math.log(80.0 / (100.0 - 57.0))
    np.testing.assert_allclose(bank.activation_s, expect, rtol=1e-12)
    bank.reset()
    bank.advance(0.0, 1000.0, 1.0)  # 1 kW: no alarm without the override
    assert not bank.activated.any()


def test_obscuration_criterion_for_smoke_detectors() -> None:
    bank = DetectorBank(["smoke_detector", "heat_detector"], [0.0, 100.0], [np.nan, 57.0], 3.0, [1.0, 1.0])
    # soot needed for 3.24 %/m: -ln(1 - 0.0324) / 8700 = 3.79e-6 kg/m³
    need = -math.log(1 - 0.0324) / SOOT_MASS_EXTINCTION_M2_KG
    assert need == pytest.approx(3.787e-6, rel=1e-3)
    t = np.array([0.0, 10.0, 20.0])
    soot = np.array([0.0, 0.5 * need, 2 * need])  # crosses in the second interval
    act = bank.simulate(t, np.zeros(3), soot_kg_m3=soot)
    o1 = 1 - math.exp(-SOOT_MASS_EXTINCTION_M2_KG * 0.5 * need)
    o2 = 1 - math.exp(-SOOT_MASS_EXTINCTION_M2_KG * 2 * need)
    assert act[0] == pytest.approx(10.0 + 10.0 * (0.0324 - o1) / (o2 - o1), rel=1e-12)
    assert np.isnan(act[1])  # no heat, no heat alarm
    # with soot given, a hot but clean jet does not set the smoke detector off
    hot = bank.simulate(10 * t, np.full(3, 500.0), soot_kg_m3=np.zeros(3))
    assert np.isnan(hot[0]) and np.isfinite(hot[1])


# ----------------------------------------------------------------- from_site
def test_from_site_high_rise_storey(site: Site) -> None:
    b = next(b for b in site.buildings if b.use == BuildingUse.HIGHRISE)
    level = 5
    units = b.unit_ids(level)
    mine = next(d for d in site.devices if d.kind == DeviceKind.SMOKE_DETECTOR and d.unit == units[2])
    fire = (mine.position.x + 1.0, mine.position.y + 1.5)
    bank = DetectorBank.from_site(site, fire_xy=fire, building=b.id, level=level)
    expect_ids = sorted(d.id for d in site.devices if d.building == b.id and d.level == level
                        and d.kind in (DeviceKind.SMOKE_DETECTOR, DeviceKind.HEAT_DETECTOR))
    assert sorted(bank.ids) == expect_ids and len(bank) == b.households_per_storey
    assert all(i.startswith(f"smk-{b.id}-L05-") for i in bank.ids)
    np.testing.assert_allclose(bank.h_m, b.storey_height_m)
    k = bank.ids.index(mine.id)
    assert bank.r_m[k] == pytest.approx(math.hypot(1.0, 1.5))
    # a growing fire sets the nearest detector off first
    t = np.arange(0.0, 600.0, 1.0)
    act = bank.simulate(t, 0.04689 * t**2)
    assert np.nanargmin(act) == k
    # one dwelling only
    one = DetectorBank.from_site(site, fire_xy=fire, building=b.id, level=level, unit=units[2])
    assert one.ids == [mine.id]
    # another storey's detectors are not in the bank
    other = DetectorBank.from_site(site, fire_xy=fire, building=b.id, level=level + 1)
    assert not set(other.ids) & set(bank.ids)


def test_from_site_garage_heat_detectors(site: Site) -> None:
    garage = next(b for b in site.buildings if b.use == BuildingUse.GARAGE)
    c = garage.footprint.centroid
    bank = DetectorBank.from_site(site, fire_xy=(c.x, c.y), building=garage.id, level=-1, fire_base_m=0.5)
    heat = [d for d in site.devices if d.kind == DeviceKind.HEAT_DETECTOR and d.building == garage.id]
    assert len(bank) == len(heat) > 0
    assert np.all(bank.kind == 0)
    np.testing.assert_allclose(bank.rti, DEFAULT_HEAT_RTI)
    np.testing.assert_allclose(bank.t_act_c, DEFAULT_HEAT_T_ACT_C)
    np.testing.assert_allclose(bank.h_m, garage.storey_height_m - 0.5)
    smoke_only = DetectorBank.from_site(site, fire_xy=(c.x, c.y), building=garage.id, level=-1,
                                        kinds=[DeviceKind.SMOKE_DETECTOR])
    assert len(smoke_only) == 0 and smoke_only.simulate([0.0, 1.0], [0.0, 1.0]).size == 0


def test_from_site_bad_arguments(site: Site) -> None:
    b = next(b for b in site.buildings if b.use == BuildingUse.HIGHRISE)
    c = b.footprint.centroid
    with pytest.raises(SiteError, match="'building'"):
        DetectorBank.from_site(site, fire_xy=(c.x, c.y), building="NOPE", level=0)
    with pytest.raises(SiteError, match="'level'"):
        DetectorBank.from_site(site, fire_xy=(c.x, c.y), building=b.id, level=b.storeys)
    with pytest.raises(SiteError, match="'unit'"):
        DetectorBank.from_site(site, fire_xy=(c.x, c.y), building=b.id, level=0, unit="X-L00-U01")
    with pytest.raises(SiteError, match="'fire_xy'"):
        DetectorBank.from_site(site, fire_xy=(c.x + 1e4, c.y), building=b.id, level=0)
    with pytest.raises(SiteError, match="'fire_base_m'"):
        DetectorBank.from_site(site, fire_xy=(c.x, c.y), building=b.id, level=0, fire_base_m=5.0)

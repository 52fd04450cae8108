"""Validation of twin.flood.hazard against the reference values and class limits of
/work/shared/data/validation/flood.md ("Hazard to people and vehicles"): FD2321 worked example
and classes (Defra/EA 2006), AIDR 2017 Guideline 7-3 classes H1-H6, Shand et al. (2011)
vehicle limits, Xia et al. (2014) human stability (1.71 m, 68.7 kg adult in 0.5 m: 2.04 m/s
sliding, 1.33 m/s toppling), Bernardini et al. (2020) walking speed (0.472 m/s at h = 0.5 m);
plus the physical property that deeper or faster water is never safer."""

from __future__ import annotations

import numpy as np
import pytest

from twin.flood.hazard import (
    AIDR_CLASS_DESCRIPTIONS,
    AIDR_CLASS_LIMITS,
    BODY_DEFAULTS,
    FD2321_CLASS_NAMES,
    FD2321_DEBRIS_FACTORS,
    VEHICLE_LIMITS,
    aidr_hazard_class,
    fd2321_debris_factor,
    fd2321_hazard,
    person_critical_velocity,
    person_stability,
    road_closure,
    vehicle_stable,
    walking_speed_in_water,
)

EPS = 1e-6
D_GRID = np.linspace(0.0, 5.0, 251)
V_GRID = np.linspace(0.0, 5.0, 251)


# ---------------------------------------------------------------- FD2321


def test_fd2321_worked_example() -> None:
    hz = fd2321_hazard(0.5, 1.0, debris_factor=0.5)
    assert hz.rating == pytest.approx(1.25, abs=1e-12)
    assert hz.code == 2 and hz.name == "danger for most"
    # the same DF from the land-use table (woodland, 0.25 <= d <= 0.75 m)
    assert fd2321_hazard(0.5, 1.0, land_use="woodland").rating == pytest.approx(1.25, abs=1e-12)
    # default urban: DF = 1 in that band
    assert fd2321_hazard(0.5, 1.0).rating == pytest.approx(1.75, abs=1e-12)


@pytest.mark.parametrize(("bound", "below", "above"), [(0.75, 0, 1), (1.25, 1, 2), (2.0, 2, 3)])
def test_fd2321_class_boundaries(bound: float, below: int, above: int) -> None:
    # d = 1 m, DF = 0: HR = v + 0.5
    lo = fd2321_hazard(1.0, bound - 0.5 - EPS, debris_factor=0.0)
    hi = fd2321_hazard(1.0, bound - 0.5 + EPS, debris_factor=0.0)
    assert lo.code == below and hi.code == above
    assert lo.name == FD2321_CLASS_NAMES[below] and hi.name == FD2321_CLASS_NAMES[above]


def test_fd2321_debris_factor_bands() -> None:
    urban = fd2321_debris_factor([0.0, 0.25 - EPS, 0.25, 0.5, 0.75, 0.75 + EPS, 3.0])
    np.testing.assert_array_equal(urban, [0, 0, 1, 1, 1, 1, 1])
    pasture = fd2321_debris_factor([0.1, 0.5, 0.75, 0.75 + EPS], land_use="pasture")
    np.testing.assert_array_equal(pasture, [0, 0, 0, 0.5])
    woodland = fd2321_debris_factor([0.1, 0.25, 0.75, 0.75 + EPS], land_use="woodland")
    np.testing.assert_array_equal(woodland, [0, 0.5, 0.5, 1.0])
    # velocity clause (v > 2 m/s) from d >= 0.25 m; not in the first band
    assert fd2321_debris_factor(0.5, 2.0 + EPS, land_use="pasture") == 0.5
    assert fd2321_debris_factor(0.5, 2.0, land_use="pasture") == 0.0
    assert fd2321_debris_factor(0.5, 2.0 + EPS, land_use="woodland") == 1.0
    assert fd2321_debris_factor(0.1, 3.0, land_use="urban") == 0.0
    cons = fd2321_debris_factor([0.1, 0.25, 0.25 + EPS], land_use="conservative")
    np.testing.assert_array_equal(cons, [0.5, 0.5, 1.0])
    # a hand value: urban, d = 1 m, v = 1.5 m/s -> 1 (1.5 + 0.5) + 1 = 3.0, danger for all
    hz = fd2321_hazard(1.0, 1.5)
    assert hz.rating == pytest.approx(3.0) and hz.code == 3


@pytest.mark.parametrize("land_use", sorted(FD2321_DEBRIS_FACTORS))
def test_fd2321_monotone(land_use: str) -> None:
    d, v = np.meshgrid(D_GRID, V_GRID, indexing="ij")
    hz = fd2321_hazard(d, v, land_use=land_use)
    assert np.all(np.diff(hz.rating, axis=0) >= 0) and np.all(np.diff(hz.rating, axis=1) >= 0)
    assert np.all(np.diff(hz.code, axis=0) >= 0) and np.all(np.diff(hz.code, axis=1) >= 0)
    assert set(np.unique(hz.code)) == {0, 1, 2, 3}


# ---------------------------------------------------------------- AIDR 7-3


def test_aidr_published_limits() -> None:
    assert AIDR_CLASS_LIMITS == (
        (0.3, 2.0, 0.3), (0.5, 2.0, 0.6), (1.2, 2.0, 0.6), (2.0, 2.0, 1.0), (4.0, 4.0, 4.0)
    )
    assert set(AIDR_CLASS_DESCRIPTIONS) == {1, 2, 3, 4, 5, 6}
    assert "small vehicles" in AIDR_CLASS_DESCRIPTIONS[2]
    assert "children and the elderly" in AIDR_CLASS_DESCRIPTIONS[3]


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_aidr_class_boundaries(k: int) -> None:
    dmax, vmax, dvmax = AIDR_CLASS_LIMITS[k - 1]
    # on each limit (others comfortably inside) -> class k at most, and exactly k at the
    # limit that is binding for it; just beyond -> a higher class
    d_small = 0.01
    v_small = 0.01
    assert aidr_hazard_class(dmax, min(v_small, dvmax / dmax)) <= k
    assert aidr_hazard_class(dmax + EPS, v_small) > k
    assert aidr_hazard_class(d_small, vmax) <= k
    assert aidr_hazard_class(d_small, vmax + EPS) > k
    # the dv limit, at a depth and a speed both inside their own limits
    d_mid = 0.5 * (dvmax / vmax + dmax)
    v_mid = dvmax / d_mid
    assert d_mid < dmax and v_mid < vmax
    assert aidr_hazard_class(d_mid, v_mid) == k
    assert aidr_hazard_class(d_mid, v_mid * (1 + 1e-6)) > k


def test_aidr_reference_points() -> None:
    d = [0.0, 0.3, 0.2, 0.5, 0.4, 1.2, 2.0, 1.0, 4.0, 1.0, 4.0 + EPS, 0.1]
    v = [0.0, 1.0, 1.5, 1.2, 1.0, 0.5, 0.5, 1.0, 1.0, 4.0, 0.0, 4.0 + EPS]
    np.testing.assert_array_equal(aidr_hazard_class(d, v), [1, 1, 1, 2, 2, 3, 4, 4, 5, 5, 6, 6])
    # H2 and H3 share dv <= 0.6 and v <= 2; they differ by depth
    assert aidr_hazard_class(0.5 + EPS, 0.5) == 3


def test_aidr_monotone() -> None:
    d, v = np.meshgrid(D_GRID, V_GRID, indexing="ij")
    c = aidr_hazard_class(d, v)
    assert np.all(np.diff(c, axis=0) >= 0) and np.all(np.diff(c, axis=1) >= 0)
    assert set(np.unique(c)) == {1, 2, 3, 4, 5, 6}


# ---------------------------------------------------------------- vehicles (Shand 2011)


@pytest.mark.parametrize(("vehicle", "d_max", "dv_max"),
                         [("small_car", 0.3, 0.3), ("large_car", 0.4, 0.45), ("large_4wd", 0.5, 0.6)])
def test_shand_limits(vehicle: str, d_max: float, dv_max: float) -> None:
    lim = VEHICLE_LIMITS[vehicle]
    assert (lim.d_max_m, lim.v_max_m_s, lim.dv_max_m2_s) == (d_max, 3.0, dv_max)
    # still water up to the limiting depth
    assert vehicle_stable(d_max, 0.0, vehicle=vehicle)
    assert not vehicle_stable(d_max + EPS, 0.0, vehicle=vehicle)
    # limiting high-velocity depth at 3 m/s = dv_max / 3
    assert vehicle_stable(dv_max / 3.0, 3.0, vehicle=vehicle)
    assert not vehicle_stable(dv_max / 3.0 + EPS, 3.0, vehicle=vehicle)
    # the velocity cap in shallow water
    assert vehicle_stable(0.01, 3.0, vehicle=vehicle)
    assert not vehicle_stable(0.01, 3.0 + EPS, vehicle=vehicle)
    # the dv limit in between
    d = 0.75 * d_max
    assert vehicle_stable(d, dv_max / d, vehicle=vehicle)
    assert not vehicle_stable(d, dv_max / d * (1 + 1e-6), vehicle=vehicle)


def test_vehicle_monotone_and_ordered() -> None:
    d, v = np.meshgrid(np.linspace(0, 0.8, 161), np.linspace(0, 4, 161), indexing="ij")
    prev = None
    for vehicle in ("small_car", "large_car", "large_4wd"):
        ok = vehicle_stable(d, v, vehicle=vehicle).astype(int)
        assert np.all(np.diff(ok, axis=0) <= 0) and np.all(np.diff(ok, axis=1) <= 0)
        if prev is not None:
            assert np.all(ok >= prev)  # larger vehicles are stable wherever smaller ones are
        prev = ok
    np.testing.assert_array_equal(vehicle_stable(d, v, vehicle="emergency"), prev.astype(bool))


def test_road_closure_small_car_vs_4wd() -> None:
    # a flood wave on a road: depth up to 0.45 m, 0.5 m/s
    t = np.arange(0.0, 601.0, 60.0)
    d = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.45, 0.4, 0.3, 0.2, 0.1, 0.0])
    v = np.full_like(d, 0.5)
    car = road_closure(t, d, v, vehicle="small_car")
    # ratio d / 0.3 crosses 1 exactly at the 0.3 m samples (t = 180 s rising, 420 s falling)
    assert car.closed_s == pytest.approx(180.0) and car.reopened_s == pytest.approx(420.0)
    big = road_closure(t, d, v, vehicle="large_car")  # 0.4 m
    assert big.closed_s == pytest.approx(240.0) and big.reopened_s == pytest.approx(360.0)
    fwd = road_closure(t, d, v, vehicle="emergency")  # 0.5 m: never closed
    assert fwd.closed_s is None and fwd.reopened_s is None and fwd.intervals_s.shape == (0, 2)


# ---------------------------------------------------------------- people (Xia 2014)


def test_xia_reference_adult() -> None:
    res = person_stability(0.5, 1.0, height_m=1.71, mass_kg=68.7)
    assert res.sliding_m_s == pytest.approx(2.04, abs=0.02)
    assert res.toppling_m_s == pytest.approx(1.33, abs=0.02)
    assert res.stable is True
    assert person_stability(0.5, 1.4, height_m=1.71, mass_kg=68.7).stable is False  # topples
    # the default adult is that reference body
    assert BODY_DEFAULTS["adult"] == (1.71, 68.7)
    assert person_critical_velocity(0.5, mode="sliding") == pytest.approx(2.04, abs=0.02)
    assert person_critical_velocity(0.5, mode="toppling") == pytest.approx(1.33, abs=0.02)


@pytest.mark.parametrize("group", sorted(BODY_DEFAULTS))
def test_xia_monotone_in_depth_and_speed(group: str) -> None:
    d = np.linspace(0.0, 2.0, 201)
    for mode in ("sliding", "toppling"):
        uc = person_critical_velocity(d, mode=mode, group=group)
        assert np.all(np.diff(uc) <= 1e-12)
    dd, vv = np.meshgrid(d, np.linspace(0, 4, 161), indexing="ij")
    ok = person_stability(dd, vv, group=group).stable.astype(int)
    assert np.all(np.diff(ok, axis=0) <= 0) and np.all(np.diff(ok, axis=1) <= 0)


def test_xia_smaller_bodies_are_less_stable() -> None:
    d = np.linspace(0.05, 1.0, 20)
    adult = person_critical_velocity(d, group="adult")
    child = person_critical_velocity(d, group="child")
    assert np.all(child < adult)
    heavier = person_critical_velocity(0.5, mass_kg=90.0, height_m=1.71)
    assert heavier > person_critical_velocity(0.5)


# ---------------------------------------------------------------- walking (Bernardini 2020)


def test_bernardini_reference() -> None:
    assert walking_speed_in_water(0.5, 0.0) == pytest.approx(0.472, abs=5e-4)
    m = 0.5**2 / 2
    assert walking_speed_in_water(0.5, relation="postacchini2018") == pytest.approx(0.53 * m**-0.19, rel=1e-12)
    # flowing water: M = u^2 h / g + h^2 / 2
    m_flow = 1.0**2 * 0.5 / 9.81 + 0.125
    assert walking_speed_in_water(0.5, 1.0) == pytest.approx(0.36 * m_flow**-0.13, rel=1e-12)


def test_walking_speed_range_and_monotone() -> None:
    h = np.linspace(0.0, 1.5, 151)
    v = walking_speed_in_water(h, 0.0, dry_speed_m_s=1.34)
    assert np.all(v[h < 0.2] == 1.34) and np.all(v <= 1.34)
    assert np.all(np.diff(v) <= 0)
    hh, uu = np.meshgrid(h, np.linspace(0, 2, 21), indexing="ij")
    vv = walking_speed_in_water(hh, uu)
    assert np.all(np.diff(vv, axis=0) <= 0) and np.all(np.diff(vv, axis=1) <= 0)
    # capped at a slow person's dry speed
    assert walking_speed_in_water(0.5, dry_speed_m_s=0.4) == 0.4

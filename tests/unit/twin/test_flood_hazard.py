"""Unit tests of twin.flood.hazard: bad inputs (negative, NaN, inf, unknown options, shapes),
scalar/array returns and broadcasting, road-closure bookkeeping, edge depths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twin.flood.hazard import (
    FD2321Hazard,
    aidr_hazard_class,
    fd2321_debris_factor,
    fd2321_hazard,
    person_critical_velocity,
    person_stability,
    road_closure,
    specific_force_m2,
    vehicle_stable,
    walking_speed_in_water,
)

DV_FUNCS = [
    ("fd2321_hazard", lambda d, v: fd2321_hazard(d, v)),
    ("fd2321_debris_factor", lambda d, v: fd2321_debris_factor(d, v)),
    ("aidr_hazard_class", aidr_hazard_class),
    ("vehicle_stable", vehicle_stable),
    ("person_stability", person_stability),
]


@pytest.mark.parametrize(("name", "func"), DV_FUNCS)
def test_negative_and_nan_depth_and_speed(name: str, func) -> None:
    with pytest.raises(ValueError, match=rf"{name}: d_m must be >= 0"):
        func(-0.1, 1.0)
    with pytest.raises(ValueError, match=rf"{name}: d_m contains NaN"):
        func(np.array([0.1, math.nan]), 1.0)
    with pytest.raises(ValueError, match=rf"{name}: v_m_s must be >= 0"):
        func(0.1, np.array([1.0, -2.0]))
    with pytest.raises(ValueError, match=rf"{name}: v_m_s contains NaN"):
        func(0.1, math.nan)
    with pytest.raises(ValueError, match=rf"{name}: d_m contains inf"):
        func(math.inf, 1.0)
    with pytest.raises(ValueError, match=rf"{name}: d_m must be numbers"):
        func("deep", 1.0)


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="fd2321_hazard: land_use must be one of"):
        fd2321_hazard(0.5, 1.0, land_use="forest")
    with pytest.raises(ValueError, match="fd2321_debris_factor: land_use"):
        fd2321_debris_factor(0.5, land_use="")
    with pytest.raises(ValueError, match="fd2321_hazard: debris_factor must be >= 0"):
        fd2321_hazard(0.5, 1.0, debris_factor=-0.5)
    with pytest.raises(ValueError, match="vehicle_stable: vehicle must be one of"):
        vehicle_stable(0.1, 1.0, vehicle="bus")
    with pytest.raises(ValueError, match="person_critical_velocity: mode"):
        person_critical_velocity(0.5, mode="floating")
    with pytest.raises(ValueError, match="person_stability: group must be one of"):
        person_stability(0.5, 1.0, group="teen")
    with pytest.raises(ValueError, match="person_stability: height_m must be > 0"):
        person_stability(0.5, 1.0, height_m=0.0)
    with pytest.raises(ValueError, match="person_stability: mass_kg contains NaN"):
        person_stability(0.5, 1.0, mass_kg=math.nan)
    with pytest.raises(ValueError, match="person_critical_velocity: body_density_kg_m3"):
        person_critical_velocity(0.5, body_density_kg_m3=-1.0)
    with pytest.raises(ValueError, match="walking_speed_in_water: relation"):
        walking_speed_in_water(0.5, relation="weidmann")
    with pytest.raises(ValueError, match="walking_speed_in_water: h_m must be >= 0"):
        walking_speed_in_water(-0.5)
    with pytest.raises(ValueError, match="walking_speed_in_water: u_m_s contains NaN"):
        walking_speed_in_water(0.5, math.nan)
    with pytest.raises(ValueError, match="walking_speed_in_water: dry_speed_m_s must be > 0"):
        walking_speed_in_water(0.5, dry_speed_m_s=0.0)
    with pytest.raises(ValueError, match="specific_force_m2: h_m"):
        specific_force_m2(-1.0)


def test_road_closure_bad_inputs() -> None:
    t = np.array([0.0, 10.0, 20.0])
    with pytest.raises(ValueError, match="road_closure: t_s must be finite and strictly increasing"):
        road_closure(np.array([0.0, 10.0, 10.0]), np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="road_closure: t_s must be a non-empty 1-D array"):
        road_closure(np.zeros((2, 2)), np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match=r"road_closure: d_m has shape \(2,\), expected \(3,\)"):
        road_closure(t, np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="road_closure: v_m_s must be >= 0"):
        road_closure(t, np.zeros(3), np.array([0.0, -1.0, 0.0]))
    with pytest.raises(ValueError, match="road_closure: d_m contains NaN"):
        road_closure(t, np.array([0.0, math.nan, 0.0]), np.zeros(3))
    with pytest.raises(ValueError, match="road_closure: vehicle"):
        road_closure(t, np.zeros(3), np.zeros(3), vehicle="tank")


def test_scalar_and_array_returns() -> None:
    hz = fd2321_hazard(0.3, 0.2)
    assert isinstance(hz, FD2321Hazard) and isinstance(hz.rating, float) and isinstance(hz.code, int)
    assert isinstance(hz.name, str)
    hz = fd2321_hazard(np.array([[0.1], [1.0]]), np.array([0.0, 1.0, 3.0]))
    assert hz.rating.shape == (2, 3) and hz.code.shape == (2, 3) and hz.name.shape == (2, 3)
    assert hz.name[1, 2] == "danger for all"
    assert isinstance(aidr_hazard_class(0.1, 0.1), int)
    assert aidr_hazard_class(np.zeros((3, 4)), 0.0).shape == (3, 4)
    assert isinstance(vehicle_stable(0.1, 0.1), bool)
    ps = person_stability(np.array([0.2, 0.5, 1.0]), 0.5)
    assert ps.sliding_m_s.shape == ps.toppling_m_s.shape == ps.stable.shape == (3,)
    # per-person bodies broadcast against depth
    ps = person_stability(0.5, 0.5, height_m=np.array([1.2, 1.7]), mass_kg=np.array([25.0, 70.0]))
    assert ps.stable.shape == (2,) and ps.toppling_m_s[0] < ps.toppling_m_s[1]
    assert isinstance(walking_speed_in_water(0.5), float)
    assert walking_speed_in_water(np.array([0.1, 0.5]), dry_speed_m_s=np.array([1.0, 1.2])).shape == (2,)


def test_person_edge_depths() -> None:
    dry = person_stability(0.0, 3.0)
    assert dry.sliding_m_s == math.inf and dry.toppling_m_s == math.inf and dry.stable
    over = person_stability(1.8, 0.0)  # deeper than the 1.71 m adult
    assert over.sliding_m_s == 0.0 and over.toppling_m_s == 0.0 and not over.stable
    # a child (1.27 m) is submerged at 1.3 m where an adult still stands
    assert person_critical_velocity(1.3, group="child") == 0.0
    assert person_critical_velocity(1.3, group="adult") > 0.0
    # a body lighter than water floats: no standing at any speed
    assert person_critical_velocity(1.65, body_density_kg_m3=900.0, mode="sliding") == 0.0
    assert person_critical_velocity(1.0, body_density_kg_m3=900.0, mode="sliding") > 0.0


def test_walking_speed_threshold_and_cap() -> None:
    assert walking_speed_in_water(0.19, dry_speed_m_s=1.1) == 1.1
    v20 = walking_speed_in_water(0.2)
    assert v20 == pytest.approx(0.36 * 0.02**-0.13) and v20 < 1.34
    assert specific_force_m2(0.5, 2.0) == pytest.approx(4.0 * 0.5 / 9.81 + 0.125)


def test_road_closure_bookkeeping() -> None:
    t = np.arange(0.0, 10.0)
    v = np.zeros(10)
    # closed from the start, reopens, closes again and stays closed
    d = np.array([0.5, 0.5, 0.2, 0.2, 0.2, 0.5, 0.5, 0.5, 0.5, 0.5])
    rc = road_closure(t, d, v, vehicle="small_car", interpolate=False)
    assert rc.closed_s == 0.0 and rc.reopened_s == 2.0
    np.testing.assert_array_equal(rc.intervals_s[0], [0.0, 2.0])
    assert rc.intervals_s[1, 0] == 5.0 and math.isnan(rc.intervals_s[1, 1])
    # interpolated crossing: ratio d/0.3 goes 0.2/0.3 -> 0.5/0.3 between t = 4 and 5
    rc = road_closure(t, d, v, vehicle="small_car")
    assert rc.intervals_s[1, 0] == pytest.approx(4.0 + (1 - 2 / 3) / (5 / 3 - 2 / 3))
    assert rc.reopened_s == pytest.approx(1.0 + (5 / 3 - 1) / (5 / 3 - 2 / 3))
    # never reopens
    rc = road_closure(t, np.linspace(0.0, 0.9, 10), v, vehicle="large_car", interpolate=False)
    assert rc.closed_s == 5.0 and rc.reopened_s is None
    # closure by speed alone (v > 3 m/s in shallow water)
    rc = road_closure(t, np.full(10, 0.05), np.linspace(0.0, 4.5, 10), vehicle="large_4wd", interpolate=False)
    assert rc.closed_s == 7.0 and rc.reopened_s is None
    # single sample
    rc = road_closure([0.0], [0.0], [0.0])
    assert rc.closed_s is None and rc.intervals_s.shape == (0, 2)

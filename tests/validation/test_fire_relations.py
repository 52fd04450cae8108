"""Validation of the fire relations against the reference values of
/work/shared/data/validation/fire.md (NFPA 92/204, Heskestad, Alpert, ISO 13571 as coded in
NIST FDS, FDS+Evac / Frantzich & Nilsson). Tolerance rel 1e-3 where fire.md gives 4
significant figures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twin.fire.correlations import (
    ceiling_jet,
    flame_height_m,
    layer_descent_valid,
    layer_height_steady_m,
    layer_height_t2_m,
    limiting_flame_height_m,
    plume_mass_flow_kg_s,
)
from twin.fire.sources import GROWTH_TIMES_S, FireSource, alpha_kw_s2
from twin.fire.tenability import (
    TENABILITY_LIMITS,
    aset_s,
    extinction_coefficient_per_m,
    fed_accumulate,
    fed_rate_per_min,
    heat_incapacitation_min,
    visibility_m,
    walking_speed_in_smoke,
)

REL = 1e-3


# --- Fire growth (NFPA 92 / NFPA 204) --------------------------------------------------------
@pytest.mark.parametrize(
    "growth, t_g, alpha",
    [("slow", 600, 0.00293), ("medium", 300, 0.01172), ("fast", 150, 0.04689), ("ultrafast", 75, 0.1876)],
)
def test_growth_alpha(growth: str, t_g: float, alpha: float) -> None:
    assert GROWTH_TIMES_S[growth] == t_g
    assert alpha_kw_s2(t_g) == pytest.approx(alpha, rel=REL)
    src = FireSource("room", growth, 5000.0)
    assert src.alpha_kw_s2 == pytest.approx(alpha, rel=REL)
    # the growth time is the time to reach 1055 kW
    assert src.hrr_kw(float(t_g)) == pytest.approx(1055.0, rel=1e-12)


# --- Smoke layer descent (NFPA 92, no exhaust) -----------------------------------------------
@pytest.mark.parametrize("t, z", [(60.0, 8.232), (120.0, 6.291), (300.0, 3.726)])
def test_layer_descent_steady(t: float, z: float) -> None:
    assert layer_height_steady_m(t, 1000.0, 10.0, 1000.0) == pytest.approx(z, rel=REL)


def test_layer_descent_steady_vectorised() -> None:
    z = layer_height_steady_m(np.array([60.0, 120.0, 300.0]), 1000.0, 10.0, 1000.0)
    np.testing.assert_allclose(z, [8.232, 6.291, 3.726], rtol=REL)
    assert np.all(layer_descent_valid(z, 10.0, 1000.0))


@pytest.mark.parametrize("t, z", [(120.0, 10.0), (300.0, 4.564), (600.0, 1.671)])
def test_layer_descent_t2(t: float, z: float) -> None:
    assert layer_height_t2_m(t, 150.0, 10.0, 1000.0) == pytest.approx(z, rel=REL)


def test_layer_descent_t2_clip_and_validity() -> None:
    t = np.array([0.0, 60.0, 120.0, 300.0, 600.0])
    z = layer_height_t2_m(t, 150.0, 10.0, 1000.0)
    assert z[0] == 10.0 and z[1] == 10.0 and z[2] == 10.0  # clipped at H before descent starts
    assert np.all(np.diff(z) <= 0.0)
    # 1.671 m is z/H = 0.167 < 0.2: outside the validity range
    np.testing.assert_array_equal(layer_descent_valid(z, 10.0, 1000.0), [True, True, True, True, False])
    # A/H^2 = 20 is outside 0.9-14 whatever z is
    assert not np.any(layer_descent_valid(np.array([9.0, 5.0]), 10.0, 2000.0))
    assert layer_height_steady_m(0.0, 1000.0, 10.0, 1000.0) == 10.0


# --- Plume (Heskestad, NFPA 92) --------------------------------------------------------------
def test_limiting_flame_height() -> None:
    assert limiting_flame_height_m(1000.0) == pytest.approx(2.281, rel=REL)


@pytest.mark.parametrize("z, m", [(1.0, 1.630), (3.0, 5.194), (10.0, 30.52)])
def test_plume_mass_flow(z: float, m: float) -> None:
    assert plume_mass_flow_kg_s(1000.0, z) == pytest.approx(m, rel=REL)


def test_plume_branches_hand_arithmetic() -> None:
    qc = 0.7 * 1000.0
    zl = 0.166 * qc**0.4
    below = zl * 0.999
    above = zl * 1.001
    assert plume_mass_flow_kg_s(1000.0, below) == pytest.approx(0.032 * qc**0.6 * below, rel=1e-12)
    assert plume_mass_flow_kg_s(1000.0, above) == pytest.approx(
        0.071 * qc ** (1 / 3) * above ** (5 / 3) + 0.0018 * qc, rel=1e-12
    )
    np.testing.assert_allclose(plume_mass_flow_kg_s(1000.0, np.array([1.0, 3.0, 10.0])), [1.630, 5.194, 30.52], rtol=REL)


def test_flame_height() -> None:
    assert flame_height_m(1000.0, 1.0) == pytest.approx(2.704, rel=REL)


# --- Ceiling jet (Alpert) --------------------------------------------------------------------
def test_ceiling_jet_branches() -> None:
    q, h = 1000.0, 5.0
    # r = 0: both near-field branches
    dt, u = ceiling_jet(q, h, 0.0)
    assert dt == pytest.approx(16.9 * 100.0 / 5.0 ** (5 / 3), rel=1e-12)  # 1000^(2/3) = 100
    assert dt == pytest.approx(115.59, rel=REL)
    assert u == pytest.approx(0.96 * 200.0 ** (1 / 3), rel=1e-12)
    assert u == pytest.approx(5.614, rel=REL)
    # r/H = 0.16: temperature still near-field, velocity far-field
    dt, u = ceiling_jet(q, h, 0.8)
    assert dt == pytest.approx(115.59, rel=REL)
    assert u == pytest.approx(0.195 * 10.0 * math.sqrt(5.0) / 0.8 ** (5 / 6), rel=1e-12)
    assert u == pytest.approx(5.251, rel=REL)
    # r/H = 0.2: both far-field; 5.38 (1000/1)^(2/3) / 5 = 107.6 exactly
    dt, u = ceiling_jet(q, h, 1.0)
    assert dt == pytest.approx(107.6, rel=1e-12)
    assert u == pytest.approx(0.195 * 10.0 * math.sqrt(5.0), rel=1e-12)
    # vectorised, and the branches nearly join at the switch points
    r = np.array([0.18 * h * 0.9999, 0.18 * h * 1.0001])
    dts, _ = ceiling_jet(q, h, r)
    assert dts[1] == pytest.approx(dts[0], rel=3e-3)
    r = np.array([0.15 * h * 0.9999, 0.15 * h * 1.0001])
    _, us = ceiling_jet(q, h, r)
    assert us[1] == pytest.approx(us[0], rel=3e-2)


# --- Tenability (ISO 13571 / FDS) ------------------------------------------------------------
def test_fed_co_30_min() -> None:
    assert fed_rate_per_min(1000.0, 0.0, 20.9) * 30.0 == pytest.approx(1.063, rel=REL)
    t = np.linspace(0.0, 1800.0, 61)
    fed = fed_accumulate(t, co_ppm=1000.0, co2_pct=0.0, o2_pct=20.9)
    assert fed[0] == 0.0
    assert fed[-1] == pytest.approx(1.063, rel=REL)
    fed_step = fed_accumulate(t, co_ppm=np.full(61, 1000.0), co2_pct=0.0, o2_pct=20.9, method="step")
    assert fed_step[-1] == pytest.approx(1.063, rel=REL)


def test_fed_co2_multiplier() -> None:
    base = fed_rate_per_min(1000.0, 0.0, 20.9)
    assert fed_rate_per_min(1000.0, 1.0, 20.9) / base == pytest.approx(1.2594, rel=REL)


def test_fed_o2_and_cn_terms() -> None:
    # O2 term only below 20 %
    assert fed_rate_per_min(0.0, 0.0, 20.0) == 0.0
    assert fed_rate_per_min(0.0, 0.0, 15.0) == pytest.approx(1.0 / math.exp(8.13 - 0.54 * 5.9), rel=1e-12)
    # HCN corrected by NOx, term only when positive; NOx term C/1500
    assert fed_rate_per_min(0.0, 0.0, 20.9, hcn_ppm=50.0) == pytest.approx(math.exp(50 / 43) / 220 - 0.0045, rel=1e-12)
    assert fed_rate_per_min(0.0, 0.0, 20.9, hcn_ppm=50.0, nox_ppm=60.0) == pytest.approx(60.0 / 1500.0, rel=1e-12)


@pytest.mark.parametrize("t_c, minutes", [(60.0, 45.0), (100.0, 7.9)])
def test_heat_incapacitation(t_c: float, minutes: float) -> None:
    # fire.md gives 2 significant figures
    assert heat_incapacitation_min(t_c) == pytest.approx(minutes, rel=5e-3)
    assert heat_incapacitation_min(t_c) == pytest.approx(5e7 * t_c**-3.4, rel=1e-12)


def test_visibility() -> None:
    # K = 8700 x soot; S = 3/K reflecting, 8/K lit
    soot = 0.3 / 8700.0  # K = 0.3 /m: the 10 m limit for reflecting signs
    assert extinction_coefficient_per_m(soot) == pytest.approx(0.3, rel=1e-12)
    assert visibility_m(soot) == pytest.approx(TENABILITY_LIMITS["visibility_m"], rel=1e-12)
    assert visibility_m(soot, lit=True) == pytest.approx(80.0 / 3.0, rel=1e-12)
    assert visibility_m(1e-4) == pytest.approx(3.0 / 0.87, rel=1e-12)
    assert visibility_m(0.0) == math.inf


def test_limits_values() -> None:
    assert TENABILITY_LIMITS["visibility_m"] == 10.0
    assert TENABILITY_LIMITS["gas_temperature_c"] == 60.0
    assert TENABILITY_LIMITS["radiant_kw_m2"] == 2.5
    assert TENABILITY_LIMITS["layer_height_m"] == 1.83
    assert TENABILITY_LIMITS["fed"] == 1.0
    assert TENABILITY_LIMITS["fed_sensitive"] == 0.3


def test_aset_first_limit() -> None:
    t = np.linspace(0.0, 1800.0, 61)
    fed = fed_accumulate(t, co_ppm=1000.0, co2_pct=0.0, o2_pct=20.9)
    # FED reaches 1 at 30/1.063 min = 1693 s; 0.3 at 508 s for sensitive occupants
    res = aset_s(t, {"fed": fed})
    assert res.limit == "fed" and res.time_s == pytest.approx(1800.0 / 1.0633, rel=2e-3)
    res = aset_s(t, {"fed": fed, "fed_sensitive": fed})
    assert res.limit == "fed_sensitive" and res.time_s == pytest.approx(0.3 * 1800.0 / 1.0633, rel=2e-3)
    # a descending layer crossing 1.83 m at 600 s beats the FED
    layer = np.interp(t, [0.0, 1200.0], [3.66, 0.0])
    res = aset_s(t, {"fed": fed, "layer_height_m": layer})
    assert res.limit == "layer_height_m" and res.time_s == pytest.approx(600.0, rel=1e-9)
    assert aset_s(t, {"gas_temperature_c": np.full(61, 20.0)}) == (math.inf, None)


# --- Walking in smoke (FDS+Evac, Frantzich & Nilsson) ----------------------------------------
@pytest.mark.parametrize("k, v", [(1.0, 1.379), (4.34, 0.974), (8.67, 0.450), (11.15, 0.15), (20.0, 0.15)])
def test_walking_speed_in_smoke(k: float, v: float) -> None:
    assert walking_speed_in_smoke(1.5, k) == pytest.approx(v, rel=REL)


def test_walking_speed_vectorised() -> None:
    np.testing.assert_allclose(
        walking_speed_in_smoke(1.5, np.array([1.0, 4.34, 8.67, 11.15])), [1.379, 0.974, 0.450, 0.15], rtol=REL
    )
    assert walking_speed_in_smoke(1.5, 0.0) == 1.5

"""Validation of twin.fire.detectors: DETACT heat-detector response under Alpert's ceiling jet
(Evans & Stroup 1986; Alpert 1972; fire.md "Ceiling jet and detectors") against an independent
tight-tolerance ODE integration, hand-computed correlation values and the steady-fire solution."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from twin.fire.detectors import DetectorBank, alpert_jet

ALPHA_FAST = 0.04689  # kW/s², fire.md (t_g = 150 s)
H = 3.0
RTI = 100.0
T_ACT = 57.0
T0 = 20.0


def _alpert_ref(q: float, h: float, r: float) -> tuple[float, float]:
    """fire.md's formulas, written out independently of the kernel."""
    dt = 16.9 * q ** (2 / 3) / h ** (5 / 3) if r / h <= 0.18 else 5.38 * (q / r) ** (2 / 3) / h
    u = 0.96 * (q / h) ** (1 / 3) if r / h <= 0.15 else 0.195 * q ** (1 / 3) * h ** 0.5 / r ** (5 / 6)
    return dt, u


def _ivp_activation(r: float, *, rti: float = RTI, t_end: float = 900.0) -> float:
    def rhs(t: float, y: np.ndarray) -> list[float]:
        dt, u = _alpert_ref(ALPHA_FAST * t * t, H, r) if t > 0 else (0.0, 0.0)
        return [math.sqrt(u) * (T0 + dt - y[0]) / rti]

    def hit(t: float, y: np.ndarray) -> float:
        return y[0] - T_ACT

    hit.terminal = True  # type: ignore[attr-defined]
    hit.direction = 1  # type: ignore[attr-defined]
    sol = solve_ivp(rhs, (0.0, t_end), [T0], method="DOP853", rtol=1e-10, atol=1e-10,
                    events=hit, max_step=1.0)
    assert sol.t_events[0].size == 1, f"reference detector at r = {r} never activated"
    return float(sol.t_events[0][0])


# r/H: 0 and 0.1 (both near-axis branches), 0.1667 (plume-branch dT, jet-branch u), 0.5, 1.5, 2.5
@pytest.mark.parametrize("dt_step", [5.0, 1.0, 0.25])
def test_t2_fast_fire_matches_solve_ivp(dt_step: float) -> None:
    radii = np.array([0.0, 0.3, 0.5, 1.5, 4.5, 7.5])
    assert np.any(radii / H <= 0.15) and np.any((radii / H > 0.15) & (radii / H <= 0.18))
    assert np.any(radii / H > 0.18)
    bank = DetectorBank(["heat_detector"] * radii.size, RTI, T_ACT, H, radii)
    t = np.arange(0.0, 900.0 + dt_step, dt_step)
    got = bank.simulate(t, ALPHA_FAST * t**2, ambient_c=T0)
    ref = np.array([_ivp_activation(r) for r in radii])
    assert np.all(np.isfinite(got))
    # asked: 1 % or one step; the mid-point exponential update does far better (second order:
    # ~2e-3 at 5 s, ~1e-4 at 1 s), so hold it to 0.5 %
    assert np.all(np.abs(got - ref) <= 0.005 * ref), (got, ref)
    # activation never gets earlier with distance (the near-axis region r/H <= 0.15 is uniform)
    assert got[0] == got[1] and np.all(np.diff(got)[1:] > 0)


def test_t2_fire_smoke_surrogate_is_the_13k_rise_instant() -> None:
    """An RTI-0 smoke detector alarms when Alpert's dT reaches 13 K: Q* from the correlation,
    t* = sqrt(Q*/alpha) for a t² fire (within a step for the piecewise-linear series)."""
    radii = np.array([0.2, 2.0, 6.0])
    bank = DetectorBank(["smoke_detector"] * 3, 0.0, np.nan, H, radii)
    t = np.arange(0.0, 300.0, 0.5)
    got = bank.simulate(t, ALPHA_FAST * t**2, ambient_c=T0)
    # invert dT = 13 K by hand: near axis Q = (13 H^(5/3)/16.9)^(3/2); jet Q = r (13 H / 5.38)^(3/2)
    q_star = np.array([(13 * H ** (5 / 3) / 16.9) ** 1.5, 2.0 * (13 * H / 5.38) ** 1.5,
                       6.0 * (13 * H / 5.38) ** 1.5])
    ref = np.sqrt(q_star / ALPHA_FAST)
    assert np.all(np.abs(got - ref) <= 0.5), (got, ref)
    # with a constant-in-step HRR the crossing is exact: a linear ramp Q = 10 t
    t = np.arange(0.0, 100.0, 3.0)
    got = bank.simulate(t, 10.0 * t, ambient_c=T0)
    np.testing.assert_allclose(got, q_star / 10.0, rtol=1e-12)


def test_alpert_values_by_hand() -> None:
    # Q = 1000 kW, H = 3 m; hand arithmetic on fire.md's formulas:
    # r = 0: dT = 16.9 * 100 / 3^(5/3) = 1690 / 6.24025 = 270.82 K; u = 0.96 * (333.33)^(1/3) = 6.656 m/s
    # r = 0.5 (0.167 H): dT as on axis; u = 0.195 * 10 * 1.7321 / 0.5^(5/6) = 3.3775 / 0.56123 = 6.018 m/s
    # r = 3 (H): dT = 5.38 * (333.33)^(2/3) / 3 = 5.38 * 48.075 / 3 = 86.21 K;
    #            u = 0.195 * 10 * 1.7321 / 3^(5/6) = 3.3775 / 2.4980 = 1.352 m/s
    # Q = 500 kW, H = 2.9 m, r = 0.5 (0.172 H): dT = 16.9 * 62.996 / 5.8974 = 180.52 K;
    #            u = 0.195 * 7.9370 * 1.7029 / 0.56123 = 4.696 m/s
    dt, u = alpert_jet(np.array([1000.0, 1000.0, 1000.0, 500.0]), np.array([3.0, 3.0, 3.0, 2.9]),
                       np.array([0.0, 0.5, 3.0, 0.5]))
    np.testing.assert_allclose(dt, [270.82, 270.82, 86.21, 180.52], rtol=2e-4)
    np.testing.assert_allclose(u, [6.656, 6.018, 1.352, 4.696], rtol=5e-4)
    # branch edges: r/H = 0.18 is the plume side for dT; both relations meet within 5 %
    inside, _ = alpert_jet(800.0, 4.0, 0.72)
    outside, _ = alpert_jet(800.0, 4.0, 0.7201)
    assert inside == pytest.approx(16.9 * 800 ** (2 / 3) / 4 ** (5 / 3), rel=1e-12)
    assert outside == pytest.approx(5.38 * (800 / 0.7201) ** (2 / 3) / 4, rel=1e-12)
    assert abs(outside / inside - 1) < 0.05
    zero_dt, zero_u = alpert_jet(0.0, 3.0, 1.0)
    assert zero_dt == 0.0 and zero_u == 0.0


@pytest.mark.parametrize("q, r, rti, t_act", [(300.0, 0.2, 100.0, 57.0), (300.0, 2.0, 50.0, 57.0),
                                               (1000.0, 5.0, 120.0, 74.0)])
def test_steady_fire_analytic(q: float, r: float, rti: float, t_act: float) -> None:
    dtg, u = _alpert_ref(q, H, r)
    tg = T0 + dtg
    assert tg > t_act
    t_exact = rti / math.sqrt(u) * math.log((tg - T0) / (tg - t_act))
    bank = DetectorBank(["heat_detector"], rti, t_act, H, r)
    # any step, even one far larger than the response time, gives the exact answer
    for step in (0.1, 7.0, 10 * t_exact):
        t = np.arange(0.0, 12 * t_exact, step)
        got = bank.simulate(t, np.full(t.size, q), ambient_c=T0)
        assert got[0] == pytest.approx(t_exact, rel=1e-10)
    # the element temperature follows T_g - (T_g - T_0) exp(-sqrt(u) t / RTI) step by step
    bank.reset(ambient_c=T0)
    for k in range(20):
        bank.advance(k * 3.3, 3.3, q)
        expect = tg - (tg - T0) * math.exp(-math.sqrt(u) * (k + 1) * 3.3 / rti)
        assert bank.td_c[0] == pytest.approx(expect, rel=1e-12)

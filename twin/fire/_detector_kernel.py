"""Numba kernels for detector response (private; imports numpy, numba and math only).

Struct of arrays, one entry per detector: ``kind`` (0 heat, 1 smoke), ``rti`` ((m s)^0.5; 0
means no thermal lag: the sensing element follows the gas), ``thr_c`` (activation temperature,
°C), ``h`` (ceiling height above the fuel, m), ``r`` (radial distance to the plume axis, m),
``td`` (sensing-element temperature, °C, updated in place) and ``t_act`` (activation time, s;
NaN while not activated, updated in place).

Gas at the detector: Alpert's quasi-steady ceiling-jet correlations (R. L. Alpert, "Calculation
of response time of ceiling-mounted fire detectors", Fire Technology 8 (1972) 181-195; as in the
SFPE Handbook chapter "Ceiling jet flows" and NFPA 72 Annex B), Q total HRR in kW, H and r in m:

    dT = 16.9 Q^(2/3) / H^(5/3)           r/H <= 0.18      (K)
    dT = 5.38 (Q/r)^(2/3) / H             r/H >  0.18
    u  = 0.96 (Q/H)^(1/3)                 r/H <= 0.15      (m/s)
    u  = 0.195 Q^(1/3) H^(1/2) / r^(5/6)  r/H >  0.15

Detector: DETACT (Evans & Stroup 1986), dT_d/dt = sqrt(u) (T_g - T_d) / RTI. Over one step the
gas is held at its value for the step's mid-point HRR, so the ODE is linear with constant
coefficients and is advanced exactly: T_d(t0 + s) = T_g - (T_g - T_d0) exp(-s sqrt(u) / RTI),
stable for any step; the activation instant inside the step is solved from the same expression.
"""

from __future__ import annotations

import math

import numba
import numpy as np

HEAT = 0
SMOKE = 1


@numba.njit(cache=True)
def alpert_gas(q_kw: float, h_m: float, r_m: float) -> tuple[float, float]:
    """Alpert ceiling-jet temperature rise (K) and velocity (m/s) at (H, r) for HRR q (kW)."""
    if q_kw <= 0.0:
        return 0.0, 0.0
    ratio = r_m / h_m
    if ratio <= 0.18:
        dt = 16.9 * q_kw ** (2.0 / 3.0) / h_m ** (5.0 / 3.0)
    else:
        dt = 5.38 * (q_kw / r_m) ** (2.0 / 3.0) / h_m
    if ratio <= 0.15:
        u = 0.96 * (q_kw / h_m) ** (1.0 / 3.0)
    else:
        u = 0.195 * q_kw ** (1.0 / 3.0) * math.sqrt(h_m) / r_m ** (5.0 / 6.0)
    return dt, u


@numba.njit(cache=True)
def alpert_arrays(q_kw: np.ndarray, h_m: np.ndarray, r_m: np.ndarray,
                  dt_out: np.ndarray, u_out: np.ndarray) -> None:
    """Element-wise :func:`alpert_gas` over equal-length arrays (writes into the outputs)."""
    for i in range(q_kw.shape[0]):
        dt, u = alpert_gas(q_kw[i], h_m[i], r_m[i])
        dt_out[i] = dt
        u_out[i] = u


@numba.njit(cache=True)
def advance_step(t0: float, dt: float, q0: float, q1: float,
                 kind: np.ndarray, rti: np.ndarray, thr_c: np.ndarray,
                 h: np.ndarray, r: np.ndarray, ambient_c: float,
                 td: np.ndarray, t_act: np.ndarray,
                 use_gas: bool, gas_rise: np.ndarray, gas_u: np.ndarray,
                 use_soot: bool, soot0: np.ndarray, soot1: np.ndarray,
                 obsc_thr: float, km: float) -> int:
    """Advance every detector from ``t0`` to ``t0 + dt`` with the HRR going linearly from
    ``q0`` to ``q1`` (kW). With ``use_gas`` the gas rise (K) and velocity (m/s) per detector
    are taken from ``gas_rise``/``gas_u`` instead of Alpert. With ``use_soot`` smoke detectors
    activate on obscuration 1 - exp(-km soot) >= obsc_thr (fraction per metre; soot kg/m³ going
    linearly from ``soot0`` to ``soot1``) instead of the temperature surrogate. Returns the
    number of detectors that activated in this step."""
    qm = 0.5 * (q0 + q1)
    fired = 0
    for i in range(td.shape[0]):
        td0 = td[i]
        instant = rti[i] <= 0.0
        if use_gas:
            rise = gas_rise[i]
            u = gas_u[i]
            rise0 = rise
        elif instant:
            rise0, _ = alpert_gas(q0, h[i], r[i])
            rise, u = alpert_gas(q1, h[i], r[i])
        else:
            rise, u = alpert_gas(qm, h[i], r[i])
            rise0 = rise
        tg = ambient_c + rise
        k = 0.0
        if instant:
            td1 = tg
        else:
            k = math.sqrt(max(u, 0.0)) / rti[i]
            td1 = tg - (tg - td0) * math.exp(-k * dt)
        td[i] = td1
        if not math.isnan(t_act[i]):
            continue
        if kind[i] == SMOKE and use_soot:
            o0 = 1.0 - math.exp(-km * soot0[i])
            o1 = 1.0 - math.exp(-km * soot1[i])
            if o1 >= obsc_thr:
                frac = 0.0
                if o0 < obsc_thr and o1 > o0:
                    frac = (obsc_thr - o0) / (o1 - o0)
                t_act[i] = t0 + frac * dt
                fired += 1
            continue
        thr = thr_c[i]
        if td1 < thr:
            continue
        if td0 >= thr:
            frac = 0.0
        elif not instant:
            # exact crossing of the exponential relaxation (td1 >= thr > td0, so tg >= thr)
            if tg <= thr or k * dt <= 0.0:  # reached only through exp() underflow: end of step
                frac = 1.0
            else:
                frac = math.log((tg - td0) / (tg - thr)) / (k * dt)
        elif use_gas:
            frac = (thr - td0) / (td1 - td0)  # linear between the two gas states
        else:
            # dT is c Q^(2/3) on a fixed branch, Q linear in the step: exact crossing
            g0 = ambient_c + rise0
            if g0 >= thr:
                frac = 0.0
            else:
                c = rise / q1 ** (2.0 / 3.0)  # q1 > 0 since rise > thr - ambient > 0
                q_star = ((thr - ambient_c) / c) ** 1.5
                frac = (q_star - q0) / (q1 - q0) if q1 > q0 else 0.0
        frac = min(max(frac, 0.0), 1.0)
        t_act[i] = t0 + frac * dt
        fired += 1
    return fired


@numba.njit(cache=True)
def run_series(t_s: np.ndarray, q_kw: np.ndarray,
               kind: np.ndarray, rti: np.ndarray, thr_c: np.ndarray,
               h: np.ndarray, r: np.ndarray, ambient_c: float,
               td: np.ndarray, t_act: np.ndarray,
               use_soot: bool, soot: np.ndarray,
               obsc_thr: float, km: float) -> None:
    """Integrate an HRR series (piecewise linear between samples ``t_s``) for all detectors;
    ``td`` ends at ``t_s[-1]``. ``soot`` is [nt, n] (kg/m³) when used."""
    n = td.shape[0]
    dummy = np.zeros(n)
    for j in range(t_s.shape[0] - 1):
        s0 = soot[j] if use_soot else dummy
        s1 = soot[j + 1] if use_soot else dummy
        advance_step(t_s[j], t_s[j + 1] - t_s[j], q_kw[j], q_kw[j + 1],
                                  kind, rti, thr_c, h, r, ambient_c, td, t_act,
                                  False, dummy, dummy, use_soot, s0, s1, obsc_thr, km)

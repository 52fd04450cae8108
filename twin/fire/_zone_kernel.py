"""Numba kernel of the two-zone smoke model (no framework imports: numpy, numba, math only).

One explicit step of every compartment of every building at once; the physics and its sources
are documented in :mod:`twin.fire.zone`. Units: kg, K, m, s, kW (energies kJ).

State per compartment c: upper-layer mass ``mu[c]`` (kg), enthalpy above ambient ``hu[c]``
(kJ, = mu cp (Tu - Ta)), and the layer's species masses ``sp[c, k]`` (kg; k = soot, CO, CO2,
O2 consumed). Ledgers per compartment (kg, kJ): ``out_m``, ``out_h`` what left the system
(to outside or by overflow), ``wall_h`` what the walls took, ``in_m``, ``in_h`` what plumes
brought in. Conservation: sum(mu) + sum(out_m) = sum(in_m) and
sum(hu) + sum(out_h) + sum(wall_h) = sum(in_h), to rounding.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

CP = 1.005  # kJ/(kg K), air
R_AIR = 0.287  # kJ/(kg K)
P_ATM = 101.325  # kPa
G = 9.81
CD = 0.7  # orifice coefficient of doors and windows
O2_AIR_KJ_PER_KG = 13_100.0 * 0.232  # heat released per kg of entrained air burnt to its O2 (Huggett 1980)


@nb.njit(cache=True, inline="always")
def _rho(t_k: float) -> float:
    return P_ATM / (R_AIR * t_k)


@nb.njit(cache=True, inline="always")
def _heskestad(qc: float, z: float) -> float:
    """Heskestad plume mass flow (kg/s) at height z (m) above the fire, convective HRR qc (kW)."""
    if qc <= 0.0 or z <= 0.0:
        return 0.0
    zl = 0.166 * qc ** 0.4
    if z > zl:
        return 0.071 * qc ** (1.0 / 3.0) * z ** (5.0 / 3.0) + 0.0018 * qc
    return 0.032 * qc ** 0.6 * z


@nb.njit(cache=True)
def layer_state(mu: np.ndarray, hu: np.ndarray, area: np.ndarray, height: np.ndarray, ta: float,
                tu: np.ndarray, zi: np.ndarray) -> None:
    """Upper-layer temperature (K) and interface height above the floor (m) from mass and
    enthalpy; an empty layer has the ambient temperature and its interface at the ceiling."""
    for c in range(mu.shape[0]):
        if mu[c] > 1e-9:
            t = ta + hu[c] / (mu[c] * CP)
            if t < ta:
                t = ta
            tu[c] = t
            d = mu[c] / _rho(t) / area[c]
            zi[c] = max(0.0, height[c] - d)
        else:
            tu[c] = ta
            zi[c] = height[c]


@nb.njit(cache=True)
def step(
    dt: float, ta: float,
    mu: np.ndarray, hu: np.ndarray, sp: np.ndarray,
    area: np.ndarray, height: np.ndarray, floor_z: np.ndarray, wall_area_per_m: np.ndarray, h_wall: float,
    fire_comp: np.ndarray, fire_q: np.ndarray, fire_base: np.ndarray, fire_yields: np.ndarray,
    conv_frac: float,
    va: np.ndarray, vb: np.ndarray, vw: np.ndarray, vbot: np.ndarray, vtop: np.ndarray, vopen: np.ndarray,
    tu: np.ndarray, zi: np.ndarray, dm: np.ndarray, dh: np.ndarray, dsp: np.ndarray,
    in_m: np.ndarray, in_h: np.ndarray, out_m: np.ndarray, out_h: np.ndarray, wall_h: np.ndarray,
    vflow: np.ndarray, q_eff: np.ndarray,
) -> None:
    """Advance all compartments by ``dt`` (s). Fires: compartment ``fire_comp[f]``, HRR
    ``fire_q[f]`` (kW, this step; burnt only as far as the oxygen of the air the plume entrains
    allows, ``q_eff[f]`` receives what burnt), base height ``fire_base[f]`` (m above the floor), yields
    ``fire_yields[f] = (soot, CO, CO2 per kg fuel, O2 consumed per kJ, 1 / heat of combustion
    kg/kJ)``. Vents: compartments ``va``/``vb`` (-1 outside), width, absolute bottom/top (m),
    open fraction. ``vflow[v]`` receives the hot-gas flow a->b minus b->a (kg/s)."""
    nc = mu.shape[0]
    layer_state(mu, hu, area, height, ta, tu, zi)
    dm[:] = 0.0
    dh[:] = 0.0
    dsp[:, :] = 0.0
    rho_a = _rho(ta)
    # 1. plumes: entrain lower-layer (ambient) air up to the interface
    for f in range(fire_comp.shape[0]):
        c = fire_comp[f]
        q = fire_q[f]
        q_eff[f] = 0.0
        if q <= 0.0:
            continue
        qc = conv_frac * q
        mp = _heskestad(qc, zi[c] - fire_base[f])
        if zi[c] - fire_base[f] <= 0.0:
            mp = 0.0
        # oxygen limit (CFAST's plume-entrainment limit, lower layer at ambient O2): a fire buried
        # in its own smoke layer in a closed room starves; it recovers when a vent lets the layer out
        if q > O2_AIR_KJ_PER_KG * mp:
            q = O2_AIR_KJ_PER_KG * mp
            qc = conv_frac * q
            mp = _heskestad(qc, zi[c] - fire_base[f])
            q = min(q, O2_AIR_KJ_PER_KG * mp)
            qc = conv_frac * q
            if q <= 0.0:
                continue
        q_eff[f] = q
        mf = q * fire_yields[f, 4]  # fuel burnt, kg/s
        dm[c] += mp + mf
        dh[c] += qc
        in_m[c] += (mp + mf) * dt
        in_h[c] += qc * dt
        dsp[c, 0] += fire_yields[f, 0] * mf
        dsp[c, 1] += fire_yields[f, 1] * mf
        dsp[c, 2] += fire_yields[f, 2] * mf
        dsp[c, 3] += fire_yields[f, 3] * q
    # 2. hot-layer flows through open vents (both directions)
    for v in range(va.shape[0]):
        vflow[v] = 0.0
        if vopen[v] <= 0.0 or vw[v] <= 0.0:
            continue
        for direction in range(2):
            s = va[v] if direction == 0 else vb[v]
            r = vb[v] if direction == 0 else va[v]
            if s < 0 or mu[s] <= 1e-9:
                continue
            z_int = floor_z[s] + zi[s]  # absolute interface of the source layer
            top = min(vtop[v], floor_z[s] + height[s])
            zn = max(z_int, vbot[v])
            if top <= zn:
                continue
            rho_s = _rho(tu[s])
            # density on the far side at the opening: the receiver's layer if it reaches down there
            rho_r = rho_a
            if r >= 0 and mu[r] > 1e-9 and floor_z[r] + zi[r] < 0.5 * (zn + top):
                rho_r = _rho(tu[r])
            drho = rho_r - rho_s
            if drho <= 0.0:
                continue
            m = (2.0 / 3.0) * CD * vw[v] * vopen[v] * math.sqrt(2.0 * G * rho_s * drho) * (top - zn) ** 1.5
            # never drain more than half the layer in one step
            m = min(m, 0.5 * mu[s] / dt)
            frac = m / mu[s]
            hflow = frac * hu[s]
            dm[s] -= m
            dh[s] -= hflow
            for k in range(sp.shape[1]):
                dsp[s, k] -= frac * sp[s, k]
            if r >= 0:
                dm[r] += m
                dh[r] += hflow
                for k in range(sp.shape[1]):
                    dsp[r, k] += frac * sp[s, k]
            else:
                out_m[s] += m * dt
                out_h[s] += hflow * dt
            vflow[v] += m if direction == 0 else -m
    # 3. convective losses of the layer to ceiling and walls it touches
    for c in range(nc):
        if mu[c] <= 1e-9:
            continue
        dT = tu[c] - ta
        if dT <= 0.0:
            continue
        aw = area[c] + wall_area_per_m[c] * (height[c] - zi[c])
        loss = h_wall * aw * dT  # kW
        loss = min(loss, 0.5 * hu[c] / dt + max(dh[c], 0.0))
        dh[c] -= loss
        wall_h[c] += loss * dt
    # 4. integrate; a layer that would overfill its compartment spills the excess outside
    for c in range(nc):
        mu[c] += dm[c] * dt
        hu[c] += dh[c] * dt
        for k in range(sp.shape[1]):
            sp[c, k] += dsp[c, k] * dt
            if sp[c, k] < 0.0:
                sp[c, k] = 0.0
        if mu[c] < 1e-9:
            out_m[c] += mu[c]
            out_h[c] += hu[c]
            mu[c] = 0.0
            hu[c] = 0.0
            for k in range(sp.shape[1]):
                sp[c, k] = 0.0
            continue
        if hu[c] < 0.0:
            wall_h[c] += hu[c]
            hu[c] = 0.0
        t = ta + hu[c] / (mu[c] * CP)
        vmax = area[c] * height[c]
        vol = mu[c] / _rho(t)
        if vol > vmax:
            keep = vmax / vol
            spill = mu[c] * (1.0 - keep)
            out_m[c] += spill
            out_h[c] += hu[c] * (1.0 - keep)
            mu[c] *= keep
            hu[c] *= keep
            for k in range(sp.shape[1]):
                sp[c, k] *= keep
    layer_state(mu, hu, area, height, ta, tu, zi)


@nb.njit(cache=True)
def run(
    n_steps: int, dt: float, ta: float, rec_every: int,
    mu: np.ndarray, hu: np.ndarray, sp: np.ndarray,
    area: np.ndarray, height: np.ndarray, floor_z: np.ndarray, wall_area_per_m: np.ndarray, h_wall: float,
    fire_comp: np.ndarray, fire_q_series: np.ndarray, fire_base: np.ndarray, fire_yields: np.ndarray,
    conv_frac: float,
    va: np.ndarray, vb: np.ndarray, vw: np.ndarray, vbot: np.ndarray, vtop: np.ndarray, vopen: np.ndarray,
    in_m: np.ndarray, in_h: np.ndarray, out_m: np.ndarray, out_h: np.ndarray, wall_h: np.ndarray,
    rec_zi: np.ndarray, rec_tu: np.ndarray, rec_sp: np.ndarray, rec_mu: np.ndarray,
    q_eff: np.ndarray, e_fire: np.ndarray,
) -> None:
    """``n_steps`` steps with the fires' HRR per step in ``fire_q_series[step, f]`` (kW),
    recording interface height, temperature, species and layer mass every ``rec_every`` steps
    (row 0 = the initial state). ``q_eff`` receives the HRR that burnt in the last step (kW),
    ``e_fire`` accumulates the heat each fire released (kJ)."""
    nc = mu.shape[0]
    tu = np.empty(nc)
    zi = np.empty(nc)
    dm = np.empty(nc)
    dh = np.empty(nc)
    dsp = np.empty_like(sp)
    vflow = np.empty(va.shape[0])
    layer_state(mu, hu, area, height, ta, tu, zi)
    rec_zi[0] = zi
    rec_tu[0] = tu
    rec_sp[0] = sp
    rec_mu[0] = mu
    r = 1
    for n in range(n_steps):
        step(dt, ta, mu, hu, sp, area, height, floor_z, wall_area_per_m, h_wall, fire_comp, fire_q_series[n],
             fire_base, fire_yields, conv_frac, va, vb, vw, vbot, vtop, vopen, tu, zi, dm, dh, dsp,
             in_m, in_h, out_m, out_h, wall_h, vflow, q_eff)
        for f in range(q_eff.shape[0]):
            e_fire[f] += q_eff[f] * dt
        if (n + 1) % rec_every == 0 and r < rec_zi.shape[0]:
            rec_zi[r] = zi
            rec_tu[r] = tu
            rec_sp[r] = sp
            rec_mu[r] = mu
            r += 1

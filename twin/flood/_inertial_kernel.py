"""Local inertial shallow-water kernel (private; imports numpy, numba and math only).

Model: Bates, Horritt & Fewtrell (2010), "A simple inertial formulation of the shallow water
equations for efficient two-dimensional flood inundation modelling", J. Hydrology 387, 33-45,
with the theta-weighted momentum of de Almeida, Bates, Freer & Souvignet (2012), "Improving the
stability of a simple formulation of the shallow water equations for 2-D flood modeling", Water
Resources Research 48, W05528. Per face, with the neighbouring faces' fluxes of the previous step:

    q_new = [theta q + (1 - theta)/2 (q_prev_face + q_next_face) - g h_f dt S]
            / [1 + g dt n^2 |q| / h_f^(7/3)]

q unit-width discharge (m2/s), S water-surface slope across the face, n Manning's n (s m^-1/3,
the mean of n^2 of the two cells), h_f = max(eta_l, eta_r) - max(z_l, z_r) the flow depth at the
face (the wet/dry front rule; no flow where h_f <= h_eps). Continuity is the finite-volume
balance of the four faces. Positivity: after the momentum step, the outgoing fluxes of any cell
that would lose more than it holds are scaled down so that it empties exactly (each face has a
single upstream cell, so the scaling is exact and conserves mass to round-off).

Grid: h, z, n2, active, drain [ny, nx] (row 0 south, column 0 west), qx [ny, nx+1] on x-faces
(positive east), qy [ny+1, nx] on y-faces (positive north), square cells of side dx (m).
Time step: dt = alpha dx / sqrt(g h_max) (capped by dt_max and the target time).
Boundaries per side (west, east, south, north): closed (q = 0); level (ghost water level at the
face, slope over dx/2); open (free outflow: the inertial update with the interior water-surface
slope, outflow only). Sources: rain (exact integral of the hyetograph), inflow hydrographs at
cells, drainage as a per-cell sink rate (m/s) limited by the water present. All volumes are
accumulated in ``acc`` (m3) for the mass balance.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from twin.flood._forcing_kernel import (
    ACC_BOUNDARY_IN,
    ACC_BOUNDARY_OUT,
    ACC_CLIPPED,
    ACC_DRAINED,
    ACC_INFLOW,
    ACC_RAIN,
    BC_CLOSED,
    BC_LEVEL,
    GRAVITY,
    add_inflows,
    fast_cbrt,
    interp_series,
    rain_depth,
)

# fastmath without nnan/ninf (comparisons stay IEEE-safe)
_FM = {"nsz", "arcp", "contract", "afn", "reassoc"}


@numba.njit(cache=True, fastmath=_FM, inline="always")
def _update(q: float, qa: float, qb: float, hf: float, slope: float, n2f: float, dt: float,
            theta: float) -> float:
    """de Almeida et al. (2012) theta-weighted inertial update of one face (m2/s)."""
    num = theta * q + 0.5 * (1.0 - theta) * (qa + qb) - GRAVITY * hf * dt * slope
    # h_f^(7/3) = h_f^2 * cbrt(h_f)
    den = 1.0 + GRAVITY * dt * n2f * abs(q) / (hf * hf * fast_cbrt(hf))
    return num / den


@numba.njit(cache=True, fastmath=_FM)
def advance_inertial(h: np.ndarray, qx: np.ndarray, qy: np.ndarray, z: np.ndarray,
                     n2: np.ndarray, active: np.ndarray, drain: np.ndarray, hmax: np.ndarray,
                     rain_edges: np.ndarray, rain_rate: np.ndarray,
                     src_cell: np.ndarray, src_line: np.ndarray, src_w: np.ndarray,
                     inf_t: np.ndarray, inf_q: np.ndarray, inf_off: np.ndarray,
                     bc_type: np.ndarray, lvl_t: np.ndarray, lvl_v: np.ndarray,
                     lvl_off: np.ndarray, zmin_side: np.ndarray,
                     dx: float, t: float, t_end: float, alpha: float, theta: float,
                     dt_max: float, h_eps: float, acc: np.ndarray,
                     rowbuf: np.ndarray) -> tuple[float, int, float]:
    """Advance (h, qx, qy) in place from ``t`` to ``t_end``; returns (t, steps, h_max)."""
    ny, nx = h.shape
    area = dx * dx
    g = GRAVITY
    lev = np.zeros(4)
    steps = 0
    # current maximum depth
    hm = 0.0
    for j in range(ny):
        for i in range(nx):
            if active[j, i] and h[j, i] > hm:
                hm = h[j, i]
    while t < t_end - 1e-12:
        # boundary levels at mid-step need dt; use levels at t for the dt choice
        hb = hm
        for s in range(4):
            if bc_type[s] == BC_LEVEL:
                lev[s] = interp_series(lvl_t, lvl_v, lvl_off[s], lvl_off[s + 1], t)
                if lev[s] - zmin_side[s] > hb:
                    hb = lev[s] - zmin_side[s]
        if hb > 0.0:
            dt = alpha * dx / math.sqrt(g * hb)
            if dt > dt_max:
                dt = dt_max
        else:
            dt = dt_max
        if t + dt > t_end:
            dt = t_end - t
        tm = t + 0.5 * dt
        for s in range(4):
            if bc_type[s] == BC_LEVEL:
                lev[s] = interp_series(lvl_t, lvl_v, lvl_off[s], lvl_off[s + 1], tm)
        # point sources
        if src_cell.shape[0] > 0:
            acc[ACC_INFLOW] += add_inflows(h, src_cell, src_line, src_w, inf_t, inf_q, inf_off,
                                           tm, dt, area)
        rain = rain_depth(rain_edges, rain_rate, t, t + dt)
        gdx = dt / dx
        # ---------------- momentum: x-faces row by row, y-faces (south faces of row j)
        for j in range(ny):
            # x-faces of row j; interior faces 1..nx-1, neighbours use old values
            q_prev_old = qx[j, 0]
            for i in range(1, nx):
                q_old = qx[j, i]
                qn = 0.0
                if active[j, i - 1] and active[j, i]:
                    el = h[j, i - 1] + z[j, i - 1]
                    er = h[j, i] + z[j, i]
                    hf = max(el, er) - max(z[j, i - 1], z[j, i])
                    if hf > h_eps:
                        qn = _update(q_old, q_prev_old, qx[j, i + 1], hf, (er - el) / dx,
                                     0.5 * (n2[j, i - 1] + n2[j, i]), dt, theta)
                qx[j, i] = qn
                q_prev_old = q_old
            # y-faces south of row j (j = 0 is the south boundary, handled below)
            if j > 0:
                for i in range(nx):
                    q_old = qy[j, i]
                    qn = 0.0
                    if active[j - 1, i] and active[j, i]:
                        el = h[j - 1, i] + z[j - 1, i]
                        er = h[j, i] + z[j, i]
                        hf = max(el, er) - max(z[j - 1, i], z[j, i])
                        if hf > h_eps:
                            qn = _update(q_old, rowbuf[i], qy[j + 1, i], hf, (er - el) / dx,
                                         0.5 * (n2[j - 1, i] + n2[j, i]), dt, theta)
                    rowbuf[i] = q_old
                    qy[j, i] = qn
            else:
                for i in range(nx):
                    rowbuf[i] = qy[0, i]
        # ---------------- boundary faces
        for s in range(4):
            kind = bc_type[s]
            nface = ny if s < 2 else nx
            for k in range(nface):
                if s == 0:
                    jc, ic, jn, inn, sign = k, 0, k, 1, -1.0
                    q = qx[k, 0]
                elif s == 1:
                    jc, ic, jn, inn, sign = k, nx - 1, k, nx - 2, 1.0
                    q = qx[k, nx]
                elif s == 2:
                    jc, ic, jn, inn, sign = 0, k, 1, k, -1.0
                    q = qy[0, k]
                else:
                    jc, ic, jn, inn, sign = ny - 1, k, ny - 2, k, 1.0
                    q = qy[ny, k]
                qn = 0.0
                if kind != BC_CLOSED and active[jc, ic]:
                    ec = h[jc, ic] + z[jc, ic]
                    # outward quantities: qo = sign * q, slope along the outward normal
                    qo = sign * q
                    if kind == BC_LEVEL:
                        hf = max(lev[s], ec) - z[jc, ic]
                        if hf > h_eps:
                            qo = _update(qo, qo, qo, hf, (lev[s] - ec) / (0.5 * dx), n2[jc, ic],
                                         dt, theta)
                        else:
                            qo = 0.0
                    else:  # open: interior water-surface slope, outflow only
                        hf = h[jc, ic]
                        slope = 0.0
                        has_n = (s < 2 and nx > 1) or (s >= 2 and ny > 1)
                        if has_n and active[jn, inn]:
                            slope = (ec - (h[jn, inn] + z[jn, inn])) / dx
                        if hf > h_eps:
                            qo = _update(qo, qo, qo, hf, slope, n2[jc, ic], dt, theta)
                            if qo < 0.0:
                                qo = 0.0
                        else:
                            qo = 0.0
                    qn = sign * qo
                if s == 0:
                    qx[k, 0] = qn
                elif s == 1:
                    qx[k, nx] = qn
                elif s == 2:
                    qy[0, k] = qn
                else:
                    qy[ny, k] = qn
        # ---------------- positivity: scale the outgoing fluxes of cells that would go negative
        for j in range(ny):
            for i in range(nx):
                if not active[j, i]:
                    continue
                qw = qx[j, i]
                qe = qx[j, i + 1]
                qs = qy[j, i]
                qn_ = qy[j + 1, i]
                out = (max(qe, 0.0) - min(qw, 0.0) + max(qn_, 0.0) - min(qs, 0.0)) * gdx
                avail = h[j, i]
                if out > avail:
                    f = avail / out if out > 0.0 else 0.0
                    if qe > 0.0:
                        qx[j, i + 1] = qe * f
                    if qw < 0.0:
                        qx[j, i] = qw * f
                    if qn_ > 0.0:
                        qy[j + 1, i] = qn_ * f
                    if qs < 0.0:
                        qy[j, i] = qs * f
        # ---------------- boundary accounting (after limiting)
        vin = 0.0
        vout = 0.0
        for j in range(ny):
            a = -qx[j, 0]
            b = qx[j, nx]
            vout += max(a, 0.0) + max(b, 0.0)
            vin += max(-a, 0.0) + max(-b, 0.0)
        for i in range(nx):
            a = -qy[0, i]
            b = qy[ny, i]
            vout += max(a, 0.0) + max(b, 0.0)
            vin += max(-a, 0.0) + max(-b, 0.0)
        acc[ACC_BOUNDARY_OUT] += vout * dt * dx
        acc[ACC_BOUNDARY_IN] += vin * dt * dx
        # ---------------- continuity, rain, drainage, maximum depth
        hm = 0.0
        rain_tot = 0.0
        drained = 0.0
        clipped = 0.0
        for j in range(ny):
            for i in range(nx):
                if not active[j, i]:
                    continue
                hn = h[j, i] + gdx * (qx[j, i] - qx[j, i + 1] + qy[j, i] - qy[j + 1, i]) + rain
                rain_tot += rain
                d = drain[j, i] * dt
                if d > 0.0:
                    if d > hn:
                        d = max(hn, 0.0)
                    hn -= d
                    drained += d
                if hn < 0.0:
                    clipped -= hn
                    hn = 0.0
                h[j, i] = hn
                if hn > hmax[j, i]:
                    hmax[j, i] = hn
                if hn > hm:
                    hm = hn
        acc[ACC_RAIN] += rain_tot * area
        acc[ACC_DRAINED] += drained * area
        acc[ACC_CLIPPED] += clipped * area
        t += dt
        steps += 1
    return t, steps, hm

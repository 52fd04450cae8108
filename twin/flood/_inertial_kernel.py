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
``ox`` [ny, nx+1] / ``oy`` [ny+1, nx] are 1.0 on interior faces between two active cells, else
0.0 (obstacle walls). Time step: dt = alpha dx / sqrt(g h_max) (capped by dt_max and the target time).
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
    interp_series,
    inv_cbrt,
    rain_depth,
)

# fastmath without nnan/ninf (comparisons stay IEEE-safe)
_FM = {"nsz", "arcp", "contract", "afn", "reassoc"}


@numba.njit(cache=True, fastmath=_FM, inline="always", error_model="numpy")
def _update(q: float, qa: float, qb: float, hf: float, slope: float, n2f: float, dt: float,
            theta: float) -> float:
    """de Almeida et al. (2012) theta-weighted inertial update of one face (m2/s); hf > 0."""
    num = theta * q + 0.5 * (1.0 - theta) * (qa + qb) - GRAVITY * hf * dt * slope
    y = inv_cbrt(hf)
    y2 = y * y
    den = 1.0 + GRAVITY * dt * n2f * abs(q) * (y * y2 * y2 * y2)  # hf^(-7/3) = y^7
    return num / den


@numba.njit(cache=True, fastmath=_FM, error_model="numpy")
def advance_inertial(h: np.ndarray, qx: np.ndarray, qy: np.ndarray, z: np.ndarray,
                     n2: np.ndarray, active: np.ndarray, drain: np.ndarray, hmax: np.ndarray,
                     rain_edges: np.ndarray, rain_rate: np.ndarray,
                     src_cell: np.ndarray, src_line: np.ndarray, src_w: np.ndarray,
                     inf_t: np.ndarray, inf_q: np.ndarray, inf_off: np.ndarray,
                     bc_type: np.ndarray, lvl_t: np.ndarray, lvl_v: np.ndarray,
                     lvl_off: np.ndarray, zmin_side: np.ndarray,
                     dx: float, t: float, t_end: float, alpha: float, theta: float,
                     dt_max: float, h_eps: float, acc: np.ndarray, ox: np.ndarray,
                     oy: np.ndarray) -> tuple[float, int, float]:
    """Advance (h, qx, qy) in place from ``t`` to ``t_end``; returns (t, steps, h_max)."""
    ny, nx = h.shape
    area = dx * dx
    g = GRAVITY
    lev = np.zeros(4)
    bx = np.zeros(nx + 1)
    wa = np.zeros((ny, nx))
    n_active = 0
    for j in range(ny):
        for i in range(nx):
            if active[j, i]:
                wa[j, i] = 1.0
                n_active += 1
    bout = np.zeros(nx + 1)
    bprev = np.zeros(nx)
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
                hb = max(hb, lev[s] - zmin_side[s])
        if hb > 0.0:
            dt = alpha * dx / math.sqrt(g * hb)
            dt = min(dt, dt_max)
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
        # ---------------- momentum. Inner loops are branch-free over row views and write to
        # row buffers first, so that LLVM vectorises them (measured ~2x faster). Old neighbour
        # fluxes (theta weighting) come from copies of the previous values.
        c1 = 0.5 * (1.0 - theta)
        gdt = g * dt
        rdx = 1.0 / dx
        for j in range(ny):
            hr = h[j]
            zr = z[j]
            nr = n2[j]
            orow = ox[j]
            qrow = qx[j]
            for i in range(nx + 1):
                bx[i] = qrow[i]
            for i in range(1, nx):
                zl = zr[i - 1]
                zc = zr[i]
                el = hr[i - 1] + zl
                ec = hr[i] + zc
                hf = max(el, ec) - max(zl, zc)
                hs = max(hf, h_eps)
                q = bx[i]
                num = theta * q + c1 * (bx[i - 1] + bx[i + 1]) - gdt * hs * (ec - el) * rdx
                y = inv_cbrt(hs)
                y2 = y * y
                den = 1.0 + gdt * 0.5 * (nr[i - 1] + nr[i]) * abs(q) * (y * y2 * y2 * y2)
                bout[i] = num / den * orow[i] if hf > h_eps else 0.0
            for i in range(1, nx):
                qrow[i] = bout[i]
            if j > 0:
                hs_ = h[j - 1]
                zs_ = z[j - 1]
                ns_ = n2[j - 1]
                oyr = oy[j]
                qyr = qy[j]
                qyn = qy[j + 1]
                for i in range(nx):
                    zl = zs_[i]
                    zc = zr[i]
                    el = hs_[i] + zl
                    ec = hr[i] + zc
                    hf = max(el, ec) - max(zl, zc)
                    hs = max(hf, h_eps)
                    q = qyr[i]
                    num = theta * q + c1 * (bprev[i] + qyn[i]) - gdt * hs * (ec - el) * rdx
                    y = inv_cbrt(hs)
                    y2 = y * y
                    den = 1.0 + gdt * 0.5 * (ns_[i] + nr[i]) * abs(q) * (y * y2 * y2 * y2)
                    bout[i] = num / den * oyr[i] if hf > h_eps else 0.0
                for i in range(nx):
                    bprev[i] = qyr[i]
                    qyr[i] = bout[i]
            else:
                for i in range(nx):
                    bprev[i] = qy[0, i]
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
                            qo = max(qo, 0.0)
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
        # ---------------- positivity: scale the outgoing fluxes of cells that would go negative.
        # A vectorised pass per row finds them (a face's flux is outgoing for one cell only, so
        # scaling one cell's outgoing faces never changes another cell's outgoing volume).
        for j in range(ny):
            hr = h[j]
            qxr = qx[j]
            qyr = qy[j]
            qyn = qy[j + 1]
            worst = 0.0
            for i in range(nx):
                out = (max(qxr[i + 1], 0.0) - min(qxr[i], 0.0) + max(qyn[i], 0.0)
                       - min(qyr[i], 0.0)) * gdx
                bout[i] = out
                worst = max(worst, out - hr[i])
            if worst <= 0.0:
                continue
            for i in range(nx):
                out = bout[i]
                avail = hr[i]
                if out > avail:
                    f = avail / out
                    if qxr[i + 1] > 0.0:
                        qxr[i + 1] *= f
                    if qxr[i] < 0.0:
                        qxr[i] *= f
                    if qyn[i] > 0.0:
                        qyn[i] *= f
                    if qyr[i] < 0.0:
                        qyr[i] *= f
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
        # ---------------- continuity, rain, drainage, maximum depth (branch-free; obstacle
        # cells have no flux, no rain (wa = 0) and no drainage, so they stay dry)
        hm = 0.0
        drained = 0.0
        clipped = 0.0
        for j in range(ny):
            for i in range(nx):
                hn = h[j, i] + gdx * (qx[j, i] - qx[j, i + 1] + qy[j, i] - qy[j + 1, i]) \
                    + rain * wa[j, i]
                d = min(max(hn, 0.0), drain[j, i] * dt)
                hn -= d
                drained += d
                clipped += max(-hn, 0.0)
                hn = max(hn, 0.0)
                h[j, i] = hn
                hmax[j, i] = max(hmax[j, i], hn)
                hm = max(hm, hn)
        rain_tot = rain * n_active
        acc[ACC_RAIN] += rain_tot * area
        acc[ACC_DRAINED] += drained * area
        acc[ACC_CLIPPED] += clipped * area
        t += dt
        steps += 1
    return t, steps, hm

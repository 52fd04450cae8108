"""Shock-capturing finite-volume shallow-water kernel (private; imports numpy, numba, math only).

Scheme: first-order Godunov-type finite volumes on a square grid with the HLL approximate
Riemann solver (Harten, Lax & van Leer 1983; wave speeds of Toro, "Shock-capturing methods for
free-surface shallow flows", Wiley 2001, ch. 10, with the dry-bed speeds u -/+ 2c) and the
hydrostatic reconstruction of Audusse, Bouchut, Bristeau, Klein & Perthame (2004), "A fast and
stable well-balanced scheme with hydrostatic reconstruction for shallow water flows", SIAM J.
Sci. Comput. 25, 2050-2065: at each face z* = max(z_l, z_r), h*_side = max(0, h_side + z_side -
z*); the HLL flux of the reconstructed states plus the correction g/2 (h_side^2 - h*_side^2) in
the normal momentum makes the scheme well-balanced (lake at rest exact) and depth-positive under
the CFL condition. The transverse momentum is upwinded with the mass flux (HLLC contact wave).

Friction: Manning, semi-implicit, (hu, hv) /= 1 + dt g n^2 |u| / h^(4/3). Time step: dt = CFL
dx / max(max(|u|, |v|) + sqrt(g h)), CFL 0.45 by default. Boundaries per side (west, east,
south, north): closed (reflecting wall, zero mass flux), open (transmissive ghost, outward
velocity only), level (ghost depth max(level - z, 0) with the interior velocity). Obstacle cells
(``active`` false) are walls. Sources as in the inertial kernel (rain, inflows, drainage sink).

Arrays: h, hu, hv, z, n2, active, drain, hmax [ny, nx] (row 0 south, column 0 west); work arrays
rh, ru, rv [ny, nx] (face-flux residuals, zero on entry and exit). Units SI (m, s, m2/s).
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
    BC_OPEN,
    GRAVITY,
    add_inflows,
    interp_series,
    inv_cbrt,
    rain_depth,
)

_FM = {"nsz", "arcp", "contract", "afn", "reassoc"}


@numba.njit(cache=True, fastmath=_FM, inline="always", error_model="numpy")
def hll(hl: float, ul: float, vl: float, hr: float, ur: float,
        vr: float) -> tuple[float, float, float]:
    """HLL flux (mass, normal momentum, transverse momentum) between two states; h in m, u
    normal and v transverse velocities in m/s."""
    if hl <= 0.0 and hr <= 0.0:
        return 0.0, 0.0, 0.0
    g = GRAVITY
    cl = math.sqrt(g * hl)
    cr = math.sqrt(g * hr)
    if hl <= 0.0:
        sl = ur - 2.0 * cr
        sr = ur + cr
    elif hr <= 0.0:
        sl = ul - cl
        sr = ul + 2.0 * cl
    else:
        us = 0.5 * (ul + ur) + cl - cr
        cs = 0.5 * (cl + cr) + 0.25 * (ul - ur)
        sl = min(ul - cl, us - cs)
        sr = max(ur + cr, us + cs)
    flh = hl * ul
    flu = flh * ul + 0.5 * g * hl * hl
    frh = hr * ur
    fru = frh * ur + 0.5 * g * hr * hr
    if sl >= 0.0:
        fh = flh
        fu = flu
    elif sr <= 0.0:
        fh = frh
        fu = fru
    else:
        inv = 1.0 / (sr - sl)
        fh = (sr * flh - sl * frh + sl * sr * (hr - hl)) * inv
        fu = (sr * flu - sl * fru + sl * sr * (frh - flh)) * inv
    fv = fh * vl if fh > 0.0 else fh * vr
    return fh, fu, fv


@numba.njit(cache=True, fastmath=_FM, inline="always", error_model="numpy")
def face_flux(hl: float, ul: float, vl: float, zl: float, hr: float, ur: float, vr: float,
              zr: float) -> tuple[float, float, float, float]:
    """Audusse hydrostatic reconstruction + HLL: (mass, left-side normal momentum, right-side
    normal momentum, transverse momentum) fluxes of one face."""
    zf = max(zl, zr)
    hls = max(0.0, hl + zl - zf)
    hrs = max(0.0, hr + zr - zf)
    fh, fu, fv = hll(hls, ul, vl, hrs, ur, vr)
    half_g = 0.5 * GRAVITY
    return fh, fu + half_g * (hl * hl - hls * hls), fu + half_g * (hr * hr - hrs * hrs), fv


@numba.njit(cache=True, fastmath=_FM, inline="always", error_model="numpy")
def _vel(h: float, m: float, h_dry: float) -> float:
    return m / h if h > h_dry else 0.0


@numba.njit(cache=True, fastmath=_FM, error_model="numpy")
def advance_fv(h: np.ndarray, hu: np.ndarray, hv: np.ndarray, z: np.ndarray, n2: np.ndarray,
               active: np.ndarray, drain: np.ndarray, hmax: np.ndarray,
               rain_edges: np.ndarray, rain_rate: np.ndarray,
               src_cell: np.ndarray, src_line: np.ndarray, src_w: np.ndarray,
               inf_t: np.ndarray, inf_q: np.ndarray, inf_off: np.ndarray,
               bc_type: np.ndarray, lvl_t: np.ndarray, lvl_v: np.ndarray, lvl_off: np.ndarray,
               dx: float, t: float, t_end: float, cfl: float, dt_max: float, h_dry: float,
               acc: np.ndarray, rh: np.ndarray, ru: np.ndarray,
               rv: np.ndarray) -> tuple[float, int, float]:
    """Advance (h, hu, hv) in place from ``t`` to ``t_end``; returns (t, steps, max speed)."""
    ny, nx = h.shape
    area = dx * dx
    g = GRAVITY
    lev = np.zeros(4)
    uu = np.zeros((ny, nx))
    vv = np.zeros((ny, nx))
    steps = 0
    smax = 0.0
    for j in range(ny):
        for i in range(nx):
            if active[j, i] and h[j, i] > h_dry:
                u = hu[j, i] / h[j, i]
                v = hv[j, i] / h[j, i]
                s = max(abs(u), abs(v)) + math.sqrt(g * h[j, i])
                smax = max(smax, s)
    while t < t_end - 1e-12:
        sb = smax
        for s_ in range(4):
            if bc_type[s_] == BC_LEVEL:
                lev[s_] = interp_series(lvl_t, lvl_v, lvl_off[s_], lvl_off[s_ + 1], t)
        # boundary ghost depths can exceed the interior: include them in the speed bound
        for s_ in range(4):
            if bc_type[s_] == BC_LEVEL:
                nface = ny if s_ < 2 else nx
                for k in range(nface):
                    if s_ == 0:
                        jc, ic = k, 0
                    elif s_ == 1:
                        jc, ic = k, nx - 1
                    elif s_ == 2:
                        jc, ic = 0, k
                    else:
                        jc, ic = ny - 1, k
                    hg = lev[s_] - z[jc, ic]
                    if hg > 0.0:
                        c = 2.0 * math.sqrt(g * hg) + abs(_vel(h[jc, ic], hu[jc, ic], h_dry)) \
                            + abs(_vel(h[jc, ic], hv[jc, ic], h_dry))
                        sb = max(sb, c)
        dt = cfl * dx / sb if sb > 0.0 else dt_max
        dt = min(dt, dt_max)
        if t + dt > t_end:
            dt = t_end - t
        tm = t + 0.5 * dt
        for s_ in range(4):
            if bc_type[s_] == BC_LEVEL:
                lev[s_] = interp_series(lvl_t, lvl_v, lvl_off[s_], lvl_off[s_ + 1], tm)
        if src_cell.shape[0] > 0:
            acc[ACC_INFLOW] += add_inflows(h, src_cell, src_line, src_w, inf_t, inf_q, inf_off,
                                           tm, dt, area)
        rain = rain_depth(rain_edges, rain_rate, t, t + dt)
        # ---------------- cell velocities once per step (vectorised divisions)
        for j in range(ny):
            for i in range(nx):
                hc = h[j, i]
                wet = hc > h_dry
                uu[j, i] = hu[j, i] / hc if wet else 0.0
                vv[j, i] = hv[j, i] / hc if wet else 0.0
        # ---------------- interior faces
        for j in range(ny):
            for i in range(nx):
                if not active[j, i]:
                    continue
                hc = h[j, i]
                uc = uu[j, i]
                vc = vv[j, i]
                zc = z[j, i]
                # east face
                if i + 1 < nx:
                    if active[j, i + 1]:
                        he = h[j, i + 1]
                        if hc > 0.0 or he > 0.0:
                            fh, ful, fur, fv = face_flux(hc, uc, vc, zc, he, uu[j, i + 1],
                                                         vv[j, i + 1], z[j, i + 1])
                            rh[j, i] -= fh
                            ru[j, i] -= ful
                            rv[j, i] -= fv
                            rh[j, i + 1] += fh
                            ru[j, i + 1] += fur
                            rv[j, i + 1] += fv
                    else:  # wall against an obstacle (mirror ghost)
                        fh, fw, fv = hll(hc, uc, vc, hc, -uc, vc)
                        ru[j, i] -= fw
                # north face (normal velocity v, transverse u)
                if j + 1 < ny:
                    if active[j + 1, i]:
                        hn = h[j + 1, i]
                        if hc > 0.0 or hn > 0.0:
                            fh, fvl, fvr, fu = face_flux(hc, vc, uc, zc, hn, vv[j + 1, i],
                                                         uu[j + 1, i], z[j + 1, i])
                            rh[j, i] -= fh
                            rv[j, i] -= fvl
                            ru[j, i] -= fu
                            rh[j + 1, i] += fh
                            rv[j + 1, i] += fvr
                            ru[j + 1, i] += fu
                    else:
                        fh, fw, fu = hll(hc, vc, uc, hc, -vc, uc)
                        rv[j, i] -= fw
                # west / south walls against obstacles
                if i > 0 and not active[j, i - 1]:
                    fh, fw, fv = hll(hc, -uc, vc, hc, uc, vc)  # mirror ghost on the left
                    ru[j, i] += fw
                if j > 0 and not active[j - 1, i]:
                    fh, fw, fu = hll(hc, -vc, uc, hc, vc, uc)
                    rv[j, i] += fw
        # ---------------- boundary faces
        vin = 0.0
        vout = 0.0
        for s_ in range(4):
            kind = bc_type[s_]
            nface = ny if s_ < 2 else nx
            for k in range(nface):
                if s_ == 0:
                    jc, ic, sign = k, 0, -1.0
                elif s_ == 1:
                    jc, ic, sign = k, nx - 1, 1.0
                elif s_ == 2:
                    jc, ic, sign = 0, k, -1.0
                else:
                    jc, ic, sign = ny - 1, k, 1.0
                if not active[jc, ic]:
                    continue
                hc = h[jc, ic]
                # outward normal velocity un, transverse ut
                if s_ < 2:
                    un = sign * _vel(hc, hu[jc, ic], h_dry)
                    ut = _vel(hc, hv[jc, ic], h_dry)
                else:
                    un = sign * _vel(hc, hv[jc, ic], h_dry)
                    ut = _vel(hc, hu[jc, ic], h_dry)
                zc = z[jc, ic]
                if kind == BC_CLOSED:
                    fh, fl, ft = hll(hc, un, ut, hc, -un, ut)
                    fh = 0.0
                    ft = 0.0
                elif kind == BC_OPEN:
                    ug = max(0.0, un)
                    fh, fl, _fr, ft = face_flux(hc, un, ut, zc, hc, ug, ut, zc)
                else:
                    hg = lev[s_] - zc
                    hg = max(hg, 0.0)
                    fh, fl, _fr, ft = face_flux(hc, un, ut, zc, hg, un, ut, zc)
                # fh, fl, ft are outward fluxes from the cell's point of view
                if fh > 0.0:
                    vout += fh
                else:
                    vin -= fh
                rh[jc, ic] -= fh
                if s_ < 2:
                    ru[jc, ic] -= sign * fl
                    rv[jc, ic] -= ft
                else:
                    rv[jc, ic] -= sign * fl
                    ru[jc, ic] -= ft
        acc[ACC_BOUNDARY_OUT] += vout * dt * dx
        acc[ACC_BOUNDARY_IN] += vin * dt * dx
        # ---------------- update, friction, rain, drainage
        gdx = dt / dx
        smax = 0.0
        rain_tot = 0.0
        drained = 0.0
        clipped = 0.0
        for j in range(ny):
            for i in range(nx):
                if not active[j, i]:
                    continue
                hn = h[j, i] + gdx * rh[j, i]
                mu = hu[j, i] + gdx * ru[j, i]
                mv = hv[j, i] + gdx * rv[j, i]
                rh[j, i] = 0.0
                ru[j, i] = 0.0
                rv[j, i] = 0.0
                if hn < 0.0:
                    clipped -= hn
                    hn = 0.0
                if hn > h_dry:
                    u = mu / hn
                    v = mv / hn
                    sp = math.sqrt(u * u + v * v)
                    nf = n2[j, i]
                    if nf > 0.0 and sp > 0.0:
                        y = inv_cbrt(hn)
                        y2 = y * y
                        f = 1.0 + dt * g * nf * sp * (y2 * y2)  # h^(-4/3)
                        mu /= f
                        mv /= f
                else:
                    mu = 0.0
                    mv = 0.0
                hn += rain
                rain_tot += rain
                d = drain[j, i] * dt
                if d > 0.0:
                    d = min(d, hn)
                    hn -= d
                    drained += d
                h[j, i] = hn
                hu[j, i] = mu
                hv[j, i] = mv
                hmax[j, i] = max(hmax[j, i], hn)
                if hn > h_dry:
                    s = max(abs(mu), abs(mv)) / hn + math.sqrt(g * hn)
                    smax = max(smax, s)
        acc[ACC_RAIN] += rain_tot * area
        acc[ACC_DRAINED] += drained * area
        acc[ACC_CLIPPED] += clipped * area
        t += dt
        steps += 1
    return t, steps, smax

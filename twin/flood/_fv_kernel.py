"""Shock-capturing finite-volume shallow-water kernel (private; imports numpy, numba, math only).

Two schemes: ``advance_fv`` (first order, below) and ``advance_fv2`` (second order: MUSCL
reconstruction + Heun, Audusse et al. 2004 section 4; see the block comment before it).
First-order scheme: Godunov-type finite volumes on a square grid with the HLL approximate
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


# ============================================================================ second order
# MUSCL reconstruction (van Leer 1979) of the depth h, the free-surface level eta = h + z and the
# velocities u, v, limited slope per cell and direction; the bed at a face is z = eta - h there
# (Audusse et al. 2004, section 4: "reconstruct h, u and h + z"), so a lake at rest (eta
# constant) keeps eta exact at every face; the hydrostatic reconstruction of the first-order
# scheme is applied to these face states and the centred source -g h_i (z_E- - z_W+) closes the
# well-balanced momentum budget of each cell. Limiter: minmod (Roe 1986; the most dissipative
# TVD limiter: no overshoot in h, so h_face stays within the neighbours' range and >= 0).
# Cells next to a domain edge or an obstacle (in that direction) keep a zero slope (first order
# there). Time: Heun / SSP-RK2 (Shu & Osher 1988, J. Comput. Phys. 77), each stage a forward
# Euler step; positivity of the stages needs CFL <= 1/4 with the speed max(|u|, |v|) + c in 2-D
# (half the first-order bound; Audusse et al. 2004 Thm 4.1 in 1-D, Kurganov & Petrova 2007,
# Commun. Math. Sci. 5, 133-160, Thm 2.1 for the 2-D Cartesian case).


@numba.njit(cache=True, fastmath=_FM, inline="always", error_model="numpy")
def minmod(a: float, b: float) -> float:
    """Minmod limited slope of the one-sided differences a, b."""
    if a * b <= 0.0:
        return 0.0
    return a if abs(a) < abs(b) else b


@numba.njit(cache=True, fastmath=_FM, error_model="numpy")
def _slopes(h: np.ndarray, z: np.ndarray, uu: np.ndarray, vv: np.ndarray, active: np.ndarray,
            sl: np.ndarray) -> None:
    """Limited undivided slopes of each cell into ``sl[8, ny, nx]``: x then y slopes of (h,
    eta, u, v); zero where a neighbour in that direction is missing or an obstacle."""
    ny, nx = h.shape
    for j in range(ny):
        for i in range(nx):
            hc = h[j, i]
            ec = hc + z[j, i]
            uc = uu[j, i]
            vc = vv[j, i]
            if i == 0 or i == nx - 1 or not active[j, i - 1] or not active[j, i + 1]:
                sl[0, j, i] = 0.0
                sl[1, j, i] = 0.0
                sl[2, j, i] = 0.0
                sl[3, j, i] = 0.0
            else:
                hm = h[j, i - 1]
                hp = h[j, i + 1]
                sl[0, j, i] = minmod(hc - hm, hp - hc)
                sl[1, j, i] = minmod(ec - hm - z[j, i - 1], hp + z[j, i + 1] - ec)
                sl[2, j, i] = minmod(uc - uu[j, i - 1], uu[j, i + 1] - uc)
                sl[3, j, i] = minmod(vc - vv[j, i - 1], vv[j, i + 1] - vc)
            if j == 0 or j == ny - 1 or not active[j - 1, i] or not active[j + 1, i]:
                sl[4, j, i] = 0.0
                sl[5, j, i] = 0.0
                sl[6, j, i] = 0.0
                sl[7, j, i] = 0.0
            else:
                hm = h[j - 1, i]
                hp = h[j + 1, i]
                sl[4, j, i] = minmod(hc - hm, hp - hc)
                sl[5, j, i] = minmod(ec - hm - z[j - 1, i], hp + z[j + 1, i] - ec)
                sl[6, j, i] = minmod(uc - uu[j - 1, i], uu[j + 1, i] - uc)
                sl[7, j, i] = minmod(vc - vv[j - 1, i], vv[j + 1, i] - vc)


@numba.njit(cache=True, fastmath=_FM, error_model="numpy")
def _residual2(h: np.ndarray, hu: np.ndarray, hv: np.ndarray, z: np.ndarray,
               active: np.ndarray, bc_type: np.ndarray, lev: np.ndarray, h_dry: float,
               uu: np.ndarray, vv: np.ndarray, sl: np.ndarray, rh: np.ndarray, ru: np.ndarray,
               rv: np.ndarray) -> tuple[float, float]:
    """Second-order face-flux residuals of (h, hu, hv) into rh, ru, rv (m2/s, m3/s2 per unit
    width; zero on entry); returns the (inflow, outflow) rates over the domain edges per unit
    face width summed over faces (m2/s)."""
    ny, nx = h.shape
    g = GRAVITY
    for j in range(ny):
        for i in range(nx):
            hc = h[j, i]
            wet = hc > h_dry
            uu[j, i] = hu[j, i] / hc if wet else 0.0
            vv[j, i] = hv[j, i] / hc if wet else 0.0
    _slopes(h, z, uu, vv, active, sl)
    for j in range(ny):
        for i in range(nx):
            if not active[j, i]:
                continue
            hc = h[j, i]
            uc = uu[j, i]
            vc = vv[j, i]
            ec = hc + z[j, i]
            sh = sl[0, j, i]
            se = sl[1, j, i]
            su = sl[2, j, i]
            sv = sl[3, j, i]
            if hc > 0.0:  # centred bed source, x: -g h (z_E- - z_W+)
                ru[j, i] -= g * hc * (se - sh)
            # east face
            if i + 1 < nx:
                if active[j, i + 1]:
                    he = h[j, i + 1]
                    if hc > 0.0 or he > 0.0:
                        th = sl[0, j, i + 1]
                        te = sl[1, j, i + 1]
                        tu = sl[2, j, i + 1]
                        tv = sl[3, j, i + 1]
                        hl = hc + 0.5 * sh
                        hr = he - 0.5 * th
                        fh, ful, fur, fv = face_flux(
                            hl, uc + 0.5 * su, vc + 0.5 * sv, ec + 0.5 * se - hl,
                            hr, uu[j, i + 1] - 0.5 * tu, vv[j, i + 1] - 0.5 * tv,
                            he + z[j, i + 1] - 0.5 * te - hr)
                        rh[j, i] -= fh
                        ru[j, i] -= ful
                        rv[j, i] -= fv
                        rh[j, i + 1] += fh
                        ru[j, i + 1] += fur
                        rv[j, i + 1] += fv
                else:  # wall against an obstacle (mirror ghost; zero slope here)
                    fh, fw, fv = hll(hc, uc, vc, hc, -uc, vc)
                    ru[j, i] -= fw
            sh = sl[4, j, i]
            se = sl[5, j, i]
            su = sl[6, j, i]
            sv = sl[7, j, i]
            if hc > 0.0:  # centred bed source, y
                rv[j, i] -= g * hc * (se - sh)
            # north face (normal velocity v, transverse u)
            if j + 1 < ny:
                if active[j + 1, i]:
                    hn = h[j + 1, i]
                    if hc > 0.0 or hn > 0.0:
                        th = sl[4, j + 1, i]
                        te = sl[5, j + 1, i]
                        tu = sl[6, j + 1, i]
                        tv = sl[7, j + 1, i]
                        hl = hc + 0.5 * sh
                        hr = hn - 0.5 * th
                        fh, fvl, fvr, fu = face_flux(
                            hl, vc + 0.5 * sv, uc + 0.5 * su, ec + 0.5 * se - hl,
                            hr, vv[j + 1, i] - 0.5 * tv, uu[j + 1, i] - 0.5 * tu,
                            hn + z[j + 1, i] - 0.5 * te - hr)
                        rh[j, i] -= fh
                        rv[j, i] -= fvl
                        ru[j, i] -= fu
                        rh[j + 1, i] += fh
                        rv[j + 1, i] += fvr
                        ru[j + 1, i] += fu
                else:
                    fh, fw, fu = hll(hc, vc, uc, hc, -vc, uc)
                    rv[j, i] -= fw
            if i > 0 and not active[j, i - 1]:
                fh, fw, fv = hll(hc, -uc, vc, hc, uc, vc)
                ru[j, i] += fw
            if j > 0 and not active[j - 1, i]:
                fh, fw, fu = hll(hc, -vc, uc, hc, vc, uc)
                rv[j, i] += fw
    # boundary faces: the edge cells have zero normal slope, so these are the first-order ones
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
            if s_ < 2:
                un = sign * uu[jc, ic]
                ut = vv[jc, ic]
            else:
                un = sign * vv[jc, ic]
                ut = uu[jc, ic]
            zc = z[jc, ic]
            if kind == BC_CLOSED:
                fh, fl, ft = hll(hc, un, ut, hc, -un, ut)
                fh = 0.0
                ft = 0.0
            elif kind == BC_OPEN:
                ug = max(0.0, un)
                fh, fl, _fr, ft = face_flux(hc, un, ut, zc, hc, ug, ut, zc)
            else:
                hg = max(lev[s_] - zc, 0.0)
                fh, fl, _fr, ft = face_flux(hc, un, ut, zc, hg, un, ut, zc)
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
    return vin, vout


@numba.njit(cache=True, fastmath=_FM, error_model="numpy")
def advance_fv2(h: np.ndarray, hu: np.ndarray, hv: np.ndarray, z: np.ndarray, n2: np.ndarray,
                active: np.ndarray, drain: np.ndarray, hmax: np.ndarray,
                rain_edges: np.ndarray, rain_rate: np.ndarray,
                src_cell: np.ndarray, src_line: np.ndarray, src_w: np.ndarray,
                inf_t: np.ndarray, inf_q: np.ndarray, inf_off: np.ndarray,
                bc_type: np.ndarray, lvl_t: np.ndarray, lvl_v: np.ndarray, lvl_off: np.ndarray,
                dx: float, t: float, t_end: float, cfl: float, dt_max: float, h_dry: float,
                acc: np.ndarray, rh: np.ndarray, ru: np.ndarray,
                rv: np.ndarray) -> tuple[float, int, float]:
    """Second-order (MUSCL + Heun) version of :func:`advance_fv`, same arguments and result.

    Heun: U1 = U + dt L(U), U2 = U1 + dt L(U1), U <- (U + U2) / 2, with the semi-implicit
    Manning friction in each stage (U1 and U2 divided by 1 + dt g n^2 |u| / h^(4/3), so a
    steady friction-balanced state is a fixed point); inflows enter before the step, rain and
    drainage after it (as in the first-order kernel). Boundary volumes are booked as the mean
    of the two stages' fluxes, the update's own, so the volume account closes to round-off."""
    ny, nx = h.shape
    area = dx * dx
    g = GRAVITY
    lev = np.zeros(4)
    uu = np.zeros((ny, nx))
    vv = np.zeros((ny, nx))
    h1 = np.zeros((ny, nx))
    hu1 = np.zeros((ny, nx))
    hv1 = np.zeros((ny, nx))
    sl = np.zeros((8, ny, nx))
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
        gdx = dt / dx
        clipped = 0.0
        # ---------------- stage 1: U1 = U + dt L(U), friction
        vin, vout = _residual2(h, hu, hv, z, active, bc_type, lev, h_dry, uu, vv, sl, rh, ru, rv)
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
                    clipped -= 0.5 * hn  # half of it survives into (U + U2) / 2
                    hn = 0.0
                if hn > h_dry:
                    u = mu / hn
                    v = mv / hn
                    sp = math.sqrt(u * u + v * v)
                    nf = n2[j, i]
                    if nf > 0.0 and sp > 0.0:
                        y = inv_cbrt(hn)
                        y2 = y * y
                        f = 1.0 + dt * g * nf * sp * (y2 * y2)
                        mu /= f
                        mv /= f
                else:
                    mu = 0.0
                    mv = 0.0
                h1[j, i] = hn
                hu1[j, i] = mu
                hv1[j, i] = mv
        # ---------------- stage 2: U2 = U1 + dt L(U1), friction; U <- (U + U2) / 2
        vin2, vout2 = _residual2(h1, hu1, hv1, z, active, bc_type, lev, h_dry, uu, vv, sl, rh,
                                 ru, rv)
        acc[ACC_BOUNDARY_OUT] += 0.5 * (vout + vout2) * dt * dx
        acc[ACC_BOUNDARY_IN] += 0.5 * (vin + vin2) * dt * dx
        smax = 0.0
        rain_tot = 0.0
        drained = 0.0
        for j in range(ny):
            for i in range(nx):
                if not active[j, i]:
                    continue
                hn = h1[j, i] + gdx * rh[j, i]
                mu = hu1[j, i] + gdx * ru[j, i]
                mv = hv1[j, i] + gdx * rv[j, i]
                rh[j, i] = 0.0
                ru[j, i] = 0.0
                rv[j, i] = 0.0
                if hn < 0.0:
                    clipped -= 0.5 * hn
                    hn = 0.0
                if hn > h_dry:
                    u = mu / hn
                    v = mv / hn
                    sp = math.sqrt(u * u + v * v)
                    nf = n2[j, i]
                    if nf > 0.0 and sp > 0.0:
                        y = inv_cbrt(hn)
                        y2 = y * y
                        f = 1.0 + dt * g * nf * sp * (y2 * y2)
                        mu /= f
                        mv /= f
                else:
                    mu = 0.0
                    mv = 0.0
                hn = 0.5 * (h[j, i] + hn)
                if hn > h_dry:
                    mu = 0.5 * (hu[j, i] + mu)
                    mv = 0.5 * (hv[j, i] + mv)
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

"""Numba kernel of the collision-free speed model (no framework imports: numpy, numba, math only).

One explicit-Euler step of the first-order model of Tordeux, Chraibi & Seyfried (2016),
"Collision-free speed model for pedestrian dynamics", Traffic and Granular Flow '15, 225-232
(arXiv:1512.05597), in the form JuPedSim implements as ``CollisionFreeSpeedModel``:

* direction  e_i = normalise( e0_i + sum_j  a exp((l_ij - d_ij)/D) (x_i - x_j)/d_ij
                                     + a_w exp((r_i - d_w)/D_w) n_w )
  over the neighbours j with d_ij < l_ij + ``reach`` (l_ij = r_i + r_j, d_ij centre distance;
  ``reach`` = 7 D by default, where the weight has fallen to a e^-7 < 1 % of |e0|); d_w the
  distance from the centre to the nearest non-walkable cell, n_w the unit vector away from it;
* speed      v_i = min(vmax_i, max(0, (s_i + tau_a v_l) / T)) with s_i = min_j (d_ij - l_ij)
  over the neighbours j ahead (e_i . (x_j - x_i) >= 0) whose centre lies in the agent's path
  (|e_i^perp . (x_j - x_i)| <= l_ij), s_i = inf without one, and v_l >= 0 the leader's speed
  along e_i (previous step): anticipation after Xu, Chraibi & Seyfried (2021). vmax_i is the free speed v0_i on
  level ground and the agent's own stair descent or ascent speed on stair cells (by the sign of
  e_i . the cell's downhill direction);
* move       x_i += v_i e_i dt.

Optional bounded acceleration (``tau`` > 0): v_i <= v_i(previous step) + vmax_i dt / tau,
braking unbounded, so the spacing rule still keeps the model collision-free.

Deviations, all to keep the model usable on grids and free of gridlock:

* e0 is the descent direction of the agent's own distance field (``target[i]`` picks one of the
  stacked fields: nearest exit, one exit, an assembly point ...) at its cell; where it is zero
  (unreachable cells) the agent keeps its previous direction.
* Symmetry breaking: e0 is turned by a small random angle (pre-drawn standard normals times
  ``noise_sigma`` rad, a new draw per agent and step), and a *mutual* block (i has j in its
  path and j has i in its path, the configuration that freezes CFS at narrow doors) is resolved
  by priority: the agent with the smaller priority key (distance to its target plus a random
  jitter, i.e. the one nearer) ignores the other when computing its spacing.
* A move whose end point lies in a non-walkable cell (or off the grid) is replaced by its x-only
  or y-only part if that ends on a walkable cell, else rejected (the agent stays), so a centre
  never enters a wall cell.

Multi-level atlases: ``portal_lab[j, i] = p >= 0`` marks the cells of a portal band (a stair
landing's edge joined to the flight it leads to). An agent whose move ends there is carried by
the affine map ``x' = A_p x + b_p`` when that is downhill on its own field: the far side's
distance plus the portal's cost ``portal_cost`` (m, also in the distance fields) below this
side's, up to ``portal_tol`` m for the grid's discretisation; a way back would cost the portal
twice, so nobody is carried back the way it came and the landing spot is free (no centre within 2 r); otherwise it waits
on its side. Waiting for a free spot is what merges a storey's flow into the stair flow coming
down from above (see :mod:`agents.crowd` for the rule and its source).

Periodic corridors (``period`` > 0): x wraps over [ox, ox + period); neighbours are found across
the seam. Used by the fundamental-diagram validation.

Agent states: 0 waiting (before its start time), 1 walking, 2 out (reached an open exit cell;
``t_out`` = end of the step, ``exit_used`` = the exit label), 3 dormant (not in this model, e.g.
still inside a building when this is the outdoor model). An agent is out once its centre lies on
an open exit cell. Non-walkable cells behind an exit repel like any wall, so make exit areas at
least 2 r (0.4 m) deep, or agents hesitate on the threshold.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

WAITING = 0
WALKING = 1
OUT = 2
DORMANT = 3


@nb.njit(cache=True, inline="always")
def _wrap(x: float, ox: float, period: float) -> float:
    if period > 0.0:
        u = (x - ox) % period
        return ox + u
    return x


@nb.njit(cache=True)
def _cell_ok(walk: np.ndarray, ox: float, oy: float, h: float, x: float, y: float) -> bool:
    ny, nx = walk.shape
    fi = (x - ox) / h
    fj = (y - oy) / h
    if fi < 0.0 or fj < 0.0:
        return False
    i = int(fi)
    j = int(fj)
    return i < nx and j < ny and walk[j, i]


@nb.njit(cache=True)
def wall_distance(walk: np.ndarray, wallf: np.ndarray, ox: float, oy: float, h: float,
                  x: float, y: float, reach: float, period: float = 0.0) -> tuple[float, float, float]:
    """Distance (m) from (x, y) to the nearest non-walkable cell (its square) or the grid's
    outside, and the unit vector pointing away from it; (inf, 0, 0) when none lies within
    ``reach``. ``wallf`` (cell-centre grid distance to the nearest non-walkable cell centre, an
    upper bound up to 2.75 %) lets open cells skip the local scan. With ``period`` > 0 the grid
    wraps in x (no wall at its west and east edges)."""
    ny, nx = walk.shape
    ci = int(math.floor((x - ox) / h))
    cj = int(math.floor((y - oy) / h))
    if 0 <= ci < nx and 0 <= cj < ny:
        if wallf[cj, ci] / 1.03 - 1.5 * h > reach:
            return np.inf, 0.0, 0.0
    k = int(math.ceil(reach / h)) + 1
    best = np.inf
    bx = 0.0
    by = 0.0
    for j in range(cj - k, cj + k + 1):
        for i in range(ci - k, ci + k + 1):
            iw = i % nx if period > 0.0 else i
            if 0 <= iw < nx and 0 <= j < ny and walk[j, iw]:
                continue
            x0 = ox + i * h
            y0 = oy + j * h
            px = min(max(x, x0), x0 + h)
            py = min(max(y, y0), y0 + h)
            dx = x - px
            dy = y - py
            d = math.sqrt(dx * dx + dy * dy)
            if d < best:
                best = d
                if d > 1e-12:
                    bx = dx / d
                    by = dy / d
                else:  # centre on the cell boundary: push away from the cell centre
                    cx = x - (x0 + 0.5 * h)
                    cy = y - (y0 + 0.5 * h)
                    c = math.sqrt(cx * cx + cy * cy)
                    bx = cx / c if c > 0 else 0.0
                    by = cy / c if c > 0 else 0.0
    if best > reach:
        return np.inf, 0.0, 0.0
    return best, bx, by


@nb.njit(cache=True)
def build_cells(x: np.ndarray, y: np.ndarray, state: np.ndarray, ox: float, oy: float, cs: float,
                ncx: int, ncy: int, cstart: np.ndarray, ccount: np.ndarray, order: np.ndarray,
                touched: np.ndarray, nt_prev: int) -> tuple[int, int]:
    """Cell lists of the walking agents by a counting sort over the *occupied* cells only: the
    agents of cell c are ``order[cstart[c]:cstart[c] + ccount[c]]`` (ascending agent index, so
    the result is deterministic). ``touched[:nt]`` lists the occupied cells; the previous
    step's (``nt_prev``) are cleared first, so a step costs O(agents), not O(cells) — large
    estate grids with few walkers stay cheap. Returns (walking agents, occupied cells)."""
    for k in range(nt_prev):
        ccount[touched[k]] = 0
    nt = 0
    m = 0
    for a in range(x.shape[0]):
        if state[a] != WALKING:
            continue
        ci = min(max(int((x[a] - ox) / cs), 0), ncx - 1)
        cj = min(max(int((y[a] - oy) / cs), 0), ncy - 1)
        c = cj * ncx + ci
        if ccount[c] == 0:
            touched[nt] = c
            nt += 1
        ccount[c] += 1
        m += 1
    run = 0
    for k in range(nt):
        c = touched[k]
        cstart[c] = run
        run += ccount[c]
        ccount[c] = 0  # refilled below
    for a in range(x.shape[0]):
        if state[a] != WALKING:
            continue
        ci = min(max(int((x[a] - ox) / cs), 0), ncx - 1)
        cj = min(max(int((y[a] - oy) / cs), 0), ncy - 1)
        c = cj * ncx + ci
        order[cstart[c] + ccount[c]] = a
        ccount[c] += 1
    return m, nt


@nb.njit(cache=True, inline="always")
def _col(ci2: int, ncx: int, period: float) -> tuple[int, float]:
    """Cell column ``ci2`` folded into the grid: (column, x shift of its agents) or (-1, 0)."""
    if period > 0.0:
        cw = ci2 % ncx
        return cw, ((ci2 - cw) // ncx) * period
    if 0 <= ci2 < ncx:
        return ci2, 0.0
    return -1, 0.0


@nb.njit(cache=True, fastmath={"contract", "arcp", "afn"})  # no nnan/ninf: inf is used
def step(
    x: np.ndarray, y: np.ndarray, ex: np.ndarray, ey: np.ndarray, speed: np.ndarray,
    radius: np.ndarray, v0: np.ndarray, vdown: np.ndarray, vup: np.ndarray, start: np.ndarray,
    state: np.ndarray, t_out: np.ndarray, exit_used: np.ndarray, target: np.ndarray,
    t_slow: np.ndarray, t: float, dt: float,
    e0x: np.ndarray, e0y: np.ndarray, dist: np.ndarray, walk: np.ndarray, exit_lab: np.ndarray,
    wallf: np.ndarray, sdx: np.ndarray, sdy: np.ndarray,
    portal_lab: np.ndarray, portal_A: np.ndarray, portal_b: np.ndarray, portal_count: np.ndarray,
    ox: float, oy: float, h: float,
    T: float, a_n: float, D_n: float, reach_n: float, a_w: float, D_w: float, r_max: float, look_max: float,
    noise_sigma: float, noise: np.ndarray, jitter: np.ndarray,
    cstart: np.ndarray, ccount: np.ndarray, touched: np.ndarray, nt_prev: np.ndarray,
    nxt: np.ndarray, ncx: int, ncy: int, cs: float,
    nex: np.ndarray, ney: np.ndarray, prio: np.ndarray, use_prio: bool, tau: float,
    period: float, slow_frac: float, portal_tol: float, portal_cost: float, tau_a: float, push_until: np.ndarray,
) -> int:
    """Advance all agents from ``t`` to ``t + dt``; returns how many left through an exit.

    Fields ``e0x, e0y, dist`` are stacked [F, ny, nx]; ``target[a]`` picks the agent's field.
    ``sdx, sdy`` [ny, nx]: downhill unit vector of stair cells (0 elsewhere). ``portal_*``: see
    the module docstring (``portal_count[p]`` counts the agents carried). ``noise``/``jitter``:
    per-agent standard normal / uniform [0, 1) draws for this step; ``cstart``, ``ccount``,
    ``touched`` [ncx * ncy] (``ccount`` zero at first) and ``nt_prev`` [2] (zeros at first: the
    occupied cells of the last step, and the walking agent-steps so far) kept between steps; ``nxt``, ``nex``, ``ney``, ``prio`` [n] are scratch; cells of ``cs`` >= the largest
    repulsion range. ``r_max``: the largest radius; ``look_max`` (m): the farthest centre
    distance that can limit a speed (2 r_max + vmax T). ``t_slow[a]`` accumulates the time walked below ``slow_frac`` of the
    agent's speed limit (queueing)."""
    n = x.shape[0]
    ny, nx = walk.shape
    # 1. start walking at the start time (pre-movement over)
    for a in range(n):
        if state[a] == WAITING and t >= start[a] - 1e-9:
            state[a] = WALKING
    m, nt = build_cells(x, y, state, ox, oy, cs, ncx, ncy, cstart, ccount, nxt, touched, nt_prev[0])
    nt_prev[0] = nt  # walking agents sorted by cell in nxt[:m]
    nt_prev[1] += m  # agent-steps so far (throughput figures)
    sx = np.empty(m)
    sy = np.empty(m)
    sr = np.empty(m)
    for k in range(m):
        b = nxt[k]
        sx[k] = x[b]
        sy[k] = y[b]
        sr[k] = radius[b]
    kmax = max(1, int(math.ceil(look_max / cs)))
    # 2. directions
    for a in range(n):
        if state[a] != WALKING:
            continue
        xa = x[a]
        ya = y[a]
        f = target[a]
        ci = min(max(int(math.floor((xa - ox) / h)), 0), nx - 1)
        cj = min(max(int(math.floor((ya - oy) / h)), 0), ny - 1)
        gx = e0x[f, cj, ci]
        gy = e0y[f, cj, ci]
        if gx == 0.0 and gy == 0.0:
            gx = ex[a]
            gy = ey[a]
        dv = dist[f, cj, ci]
        prio[a] = (dv if dv < np.inf else 1e9) + 0.05 * jitter[a]
        if noise_sigma > 0.0 and (gx != 0.0 or gy != 0.0):
            ang = noise_sigma * noise[a]
            c = math.cos(ang)
            s = math.sin(ang)
            gx, gy = c * gx - s * gy, s * gx + c * gy
        rx = 0.0
        ry = 0.0
        ra = radius[a]
        pci = min(max(int((xa - ox) / cs), 0), ncx - 1)
        pcj = min(max(int((ya - oy) / cs), 0), ncy - 1)
        pushing = t < push_until[a]  # gridlock breaking: neither turned nor slowed by others
        for cj2 in range(max(pcj - 1, 0), min(pcj + 2, ncy) if not pushing else -1):
            for ci2 in range(pci - 1, pci + 2):
                cw, shift = _col(ci2, ncx, period)
                if cw < 0:
                    continue
                c2 = cj2 * ncx + cw
                for k in range(cstart[c2], cstart[c2] + ccount[c2]):
                    b = nxt[k]
                    if b != a:
                        dx = xa - (sx[k] + shift)
                        dy = ya - sy[k]
                        d2 = dx * dx + dy * dy
                        l = ra + sr[k]
                        rr = l + reach_n
                        if d2 < rr * rr:
                            d = math.sqrt(d2)
                            w = a_n * math.exp((l - d) / D_n)
                            if d > 1e-9:
                                rx += w * dx / d
                                ry += w * dy / d
                            else:  # coincident centres: break the tie by index
                                rx += w if a < b else -w
        dw, wx, wy = wall_distance(walk, wallf, ox, oy, h, xa, ya, ra + 10.0 * D_w, period)
        if dw < np.inf:
            w = a_w * math.exp((ra - dw) / D_w)
            rx += w * wx
            ry += w * wy
        dx = gx + rx
        dy = gy + ry
        nrm = math.sqrt(dx * dx + dy * dy)
        if nrm > 1e-12:
            nex[a] = dx / nrm
            ney[a] = dy / nrm
        else:
            nex[a] = 0.0
            ney[a] = 0.0
    # 3. speeds from the spacing ahead (new directions of everybody)
    for a in range(n):
        if state[a] != WALKING:
            continue
        ex[a] = nex[a]
        ey[a] = ney[a]
    sex = np.empty(m)
    sey = np.empty(m)
    ssp = np.empty(m)
    for k in range(m):
        sex[k] = ex[nxt[k]]
        sey[k] = ey[nxt[k]]
        ssp[k] = speed[nxt[k]]  # speeds of the previous step (leaders' motion)
    for a in range(n):
        if state[a] != WALKING:
            continue
        xa = x[a]
        ya = y[a]
        ea = ex[a]
        fa = ey[a]
        if ea == 0.0 and fa == 0.0:
            speed[a] = 0.0
            continue
        ci = min(max(int(math.floor((xa - ox) / h)), 0), nx - 1)
        cj = min(max(int(math.floor((ya - oy) / h)), 0), ny - 1)
        vcap = v0[a]
        gdx = sdx[cj, ci]
        gdy = sdy[cj, ci]
        if gdx != 0.0 or gdy != 0.0:
            vcap = vdown[a] if ea * gdx + fa * gdy >= 0.0 else vup[a]
        sp = np.inf
        lead = -1
        ra = radius[a]
        pci = min(max(int((xa - ox) / cs), 0), ncx - 1)
        pcj = min(max(int((ya - oy) / cs), 0), ncy - 1)
        # scan rings of cells outwards until no unseen agent can limit the speed
        for ring in range(kmax + 1):
            for cj2 in range(max(pcj - ring, 0), min(pcj + ring + 1, ncy)):
                for ci2 in range(pci - ring, pci + ring + 1):
                    if ring > 0 and abs(cj2 - pcj) != ring and abs(ci2 - pci) != ring:
                        continue
                    cw, shift = _col(ci2, ncx, period)
                    if cw < 0:
                        continue
                    c2 = cj2 * ncx + cw
                    for k in range(cstart[c2], cstart[c2] + ccount[c2]):
                        b = nxt[k]
                        if b != a:
                            dx = sx[k] + shift - xa
                            dy = sy[k] - ya
                            if ea * dx + fa * dy >= 0.0:
                                l = ra + sr[k]
                                if abs(-fa * dx + ea * dy) <= l:
                                    # mutual block? b has a ahead in its path too
                                    mutual = (-(sex[k] * dx + sey[k] * dy) >= 0.0) and (
                                        abs(sey[k] * dx - sex[k] * dy) <= l)
                                    if not (use_prio and mutual and prio[a] < prio[b]):
                                        s = math.sqrt(dx * dx + dy * dy) - l
                                        if s < sp:
                                            sp = s
                                            lead = k
            # every centre nearer than ring * cs has been seen: an unseen one has s > bound
            bound = ring * cs - ra - r_max
            if ring >= 1 and (sp <= bound or bound >= vcap * T):
                break
        v = vcap
        if t < push_until[a]:
            sp = np.inf  # gridlock breaking: squeeze on regardless of those ahead (see agents.crowd)
        if sp < np.inf:
            if tau_a > 0.0 and lead >= 0:  # anticipation: the gap grows by what the leader walks on
                vl = max(0.0, ssp[lead] * (sex[lead] * ea + sey[lead] * fa))
                v = min(v, max(0.0, (sp + tau_a * vl) / T))
            else:
                v = min(v, max(0.0, sp / T))
        if tau > 0.0:  # bounded acceleration: at most vmax / tau per second (braking unbounded)
            v = min(v, speed[a] + vcap * dt / tau)
        speed[a] = v
        if v < slow_frac * vcap:
            t_slow[a] += dt
    # 4. move, never into a non-walkable cell; portals; leave through open exits
    out = 0
    npend = 0
    px_new = np.empty(64)
    py_new = np.empty(64)
    for a in range(n):
        if state[a] != WALKING:
            continue
        step_l = speed[a] * dt
        if step_l <= 0.0:
            continue
        nxp = _wrap(x[a] + step_l * ex[a], ox, period)
        nyp = y[a] + step_l * ey[a]
        if not _cell_ok(walk, ox, oy, h, nxp, nyp):
            if _cell_ok(walk, ox, oy, h, nxp, y[a]):
                nyp = y[a]
            elif _cell_ok(walk, ox, oy, h, x[a], nyp):
                nxp = x[a]
            else:
                continue
        ci = int((nxp - ox) / h)
        cj = int((nyp - oy) / h)
        p = portal_lab[cj, ci]
        if p >= 0:
            qx = portal_A[p, 0, 0] * nxp + portal_A[p, 0, 1] * nyp + portal_b[p, 0]
            qy = portal_A[p, 1, 0] * nxp + portal_A[p, 1, 1] * nyp + portal_b[p, 1]
            f = target[a]
            qok = _cell_ok(walk, ox, oy, h, qx, qy)
            dq = np.inf
            if qok:  # the far side's distance: least over its cell and the 8 around (off-centre landings)
                qi = int((qx - ox) / h)
                qj = int((qy - oy) / h)
                for jj in range(max(qj - 1, 0), min(qj + 2, ny)):
                    for ii in range(max(qi - 1, 0), min(qi + 2, nx)):
                        if walk[jj, ii] and dist[f, jj, ii] < dq:
                            dq = dist[f, jj, ii]
            if not qok or not (dq + portal_cost < dist[f, cj, ci] + portal_tol):
                # not on the way for this agent: it may stand on the band, not be carried
                x[a] = nxp
                y[a] = nyp
                continue
            # landing spot free? current centres near it, and those carried this step
            ra = radius[a]
            free = True
            qci = min(max(int((qx - ox) / cs), 0), ncx - 1)
            qcj = min(max(int((qy - oy) / cs), 0), ncy - 1)
            for cj2 in range(max(qcj - 1, 0), min(qcj + 2, ncy)):
                for ci2 in range(max(qci - 1, 0), min(qci + 2, ncx)):
                    c2 = cj2 * ncx + ci2
                    for k in range(cstart[c2], cstart[c2] + ccount[c2]):
                        b = nxt[k]
                        if b != a and state[b] == WALKING:
                            ddx = x[b] - qx
                            ddy = y[b] - qy
                            l = ra + radius[b]
                            if ddx * ddx + ddy * ddy < l * l:
                                free = False
            for k in range(min(npend, 64)):
                ddx = px_new[k] - qx
                ddy = py_new[k] - qy
                if ddx * ddx + ddy * ddy < 4.0 * ra * ra:
                    free = False
            if not free:
                continue  # wait on this side of the landing edge
            ex2 = portal_A[p, 0, 0] * ex[a] + portal_A[p, 0, 1] * ey[a]
            ey2 = portal_A[p, 1, 0] * ex[a] + portal_A[p, 1, 1] * ey[a]
            ex[a] = ex2
            ey[a] = ey2
            nxp = qx
            nyp = qy
            portal_count[p] += 1
            px_new[npend % 64] = qx
            py_new[npend % 64] = qy
            npend += 1
        x[a] = nxp
        y[a] = nyp
        lab = exit_lab[int((nyp - oy) / h), int((nxp - ox) / h)]
        if lab >= 0:
            state[a] = OUT
            t_out[a] = t + dt
            exit_used[a] = lab
            out += 1
    return out

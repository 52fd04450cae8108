"""Numba kernel of the network-flow (SFPE hydraulic) evacuation model.

Imports only numpy and numba. State lives in arrays owned by ``agents.flow_evacuation``:

* ``queue[n]``      people waiting at node n to leave along its current out-edge (persons)
* ``ring[n, s]``    people in transit who arrive at node n in time slot s (a delay line)
* ``nxt[n]``        next node toward the nearest target (-1: target or no route)
* ``cap[n]``        discharge capacity of n's out-edge (persons/s), ``steps[n]`` its travel time
                    in time steps
Flows are continuous (fractions of persons), as in the hydraulic model.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def release(start_s: np.ndarray, node_of: np.ndarray, count: np.ndarray, ptr: int, t: float,
            queue: np.ndarray) -> int:
    """Move households whose start time is <= t (sorted ascending) into their unit's queue;
    return the new pointer."""
    n = start_s.shape[0]
    while ptr < n and start_s[ptr] <= t:
        queue[node_of[ptr]] += count[ptr]
        ptr += 1
    return ptr


@njit(cache=True)
def step(k: int, dt: float, queue: np.ndarray, ring: np.ndarray, nxt: np.ndarray,
         cap: np.ndarray, steps: np.ndarray, is_target: np.ndarray, arrived: np.ndarray,
         outflow: np.ndarray, max_queue: np.ndarray, wait_ps: np.ndarray) -> None:
    """Advance one time step ``k`` of length ``dt`` (s).

    Arrivals due in this slot join their node's queue; targets absorb what reaches them; every
    other node discharges ``min(queue, cap * dt)`` into the delay line of its next node.
    ``outflow[n]`` accumulates what left node n, ``wait_ps[n]`` the person-seconds queued there
    and ``max_queue[n]`` the largest queue seen."""
    n_nodes = queue.shape[0]
    slots = ring.shape[1]
    slot = k % slots
    for n in range(n_nodes):
        a = ring[n, slot]
        if a != 0.0:
            queue[n] += a
            ring[n, slot] = 0.0
    for n in range(n_nodes):
        q = queue[n]
        if q <= 0.0:
            continue
        if is_target[n]:
            arrived[n] += q
            queue[n] = 0.0
            continue
        m = nxt[n]
        if m < 0:
            if q > max_queue[n]:
                max_queue[n] = q
            wait_ps[n] += q * dt
            continue
        out = cap[n] * dt
        if out > q:
            out = q
        ring[m, (k + steps[n]) % slots] += out
        outflow[n] += out
        rest = q - out
        queue[n] = rest
        if rest > max_queue[n]:
            max_queue[n] = rest
        wait_ps[n] += rest * dt

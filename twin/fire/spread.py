"""Fire spread: from the room of origin to the flats beside and above it, and between low-rise
buildings.

Inside a building (concrete residential construction, each flat its own fire compartment,
GB 50016-2014 §5.5.27 / Table 5.1.2) fire leaves the flat of origin three ways; each rule gives
an ignition time, and the earliest wins:

* **Window to window** (the storey above). The flat's window breaks when its smoke layer
  reaches :attr:`SpreadRules.window_break_c` (340 °C: single annealed glazing falls out at
  upper-layer temperatures of ~300-400 °C, Babrauskas, "Glass breakage in fires", 2004 —
  double glazing lasts longer; raise the value for it). After flashover (upper layer
  >= :attr:`~SpreadRules.flashover_c`, 600 °C, the usual criterion after Babrauskas 1980 and
  McCaffrey, Quintiere & Harkleroad 1981) flames leave the broken window; their height above
  the window top is EN 1991-1-2:2002 Annex B (no forced draught)
  ``L_L = H_w (2.37 (Q / (A_w rho_g sqrt(g H_w)))^(2/3) - 1)``, Q in MW, rho_g = 0.45 kg/m³.
  When the flame reaches the sill of the window above (the spandrel: storey height minus the
  window height; GB 50016 §6.2.5 asks >= 1.2 m), the flat above ignites
  :attr:`~SpreadRules.leap_delay_s` later (300 s: the time for the upper pane to fail under
  flame contact and its contents to ignite — an assumption of this model, not a code value).
* **Through the separating wall** to the flats beside it (plan polygons touching): flashover +
  the wall's fire resistance, :attr:`~SpreadRules.wall_rating_s` = 2.00 h (GB 50016-2014
  Table 5.1.2, walls between dwellings, fire-resistance grades I and II).
* **Through the floor** to the flat above: flashover + :attr:`~SpreadRules.floor_rating_s` =
  1.50 h (Table 5.1.2, floors, grade I).

The new fire copies the growth, peak and fuel of the fire that spread to it.

**Between buildings** (clusters of low-rise buildings, where a fire can jump the gap): Hamada's
empirical urban spread model (Hamada 1951, *On fire spreading velocity in disasters*, Sagami
Shobo, Tokyo), in the form with the shares of bare-wood, mortar-clad and fire-resistant
buildings and an elliptical front of firebench's ``Hamada_2`` (WIRC, San José State University):
downwind and side rates of spread (m/min)

``R_d = (b + m)(1 - f)(a + d)(1 + 0.1 V + 0.007 V²) / ((b + 5m/3)(3 + 3a/8 + 8d / (1.15 beta (5 + 0.5 V))))``
``R_s = (b + m)(1 - f)(a + d)(1 + 0.002 V²) / ((b + 5m/3)(3 + 3a/8 + 8d / (1.15 (5 + 0.5 V))))``

(a mean building side, d gap, V wind speed m/s, f fire-resistant share, b bare-wood share,
m mortar-clad share), and in direction theta from downwind the focal ellipse
``R = A (1 - e²) / (1 - e cos theta)``, ``e = (R_d - R_s) / R_d``, ``A = R_d² / (2 R_d - R_s)``.
A building's fire reaches a neighbour after (centroid distance) / R(theta). Concrete
residential, school and public buildings are fire-resistant (f = 1: no spread), so on a modern
estate this only acts where a scenario says some buildings are not (old low-rise districts,
sheds).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from geometry.site import BuildingUse, Site

__all__ = [
    "HamadaShares",
    "SpreadRules",
    "external_flame_height_m",
    "hamada_arrival_s",
    "hamada_ros_m_s",
]

G = 9.81
RHO_FLAME = 0.45  # kg/m³, EN 1991-1-2 Annex B


@dataclass(frozen=True)
class HamadaShares:
    """Hamada's building-stock shares around a building: ``fire_resistant`` f, ``bare_wood`` b,
    ``mortar_wood`` m (each 0..1), and the downwind factor ``beta``."""

    fire_resistant: float = 1.0
    bare_wood: float = 0.0
    mortar_wood: float = 0.0
    beta: float = 1.0

    def __post_init__(self) -> None:
        for name in ("fire_resistant", "bare_wood", "mortar_wood"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and 0.0 <= v <= 1.0):
                raise ValueError(f"HamadaShares.{name}: expected a share in [0, 1], got {v!r}")
        if not (self.beta > 0):
            raise ValueError(f"HamadaShares.beta: expected > 0, got {self.beta!r}")


#: Default stock by building use: the estate's concrete buildings are fire-resistant.
DEFAULT_SHARES: Mapping[BuildingUse, HamadaShares] = {
    BuildingUse.WALKUP: HamadaShares(),
    BuildingUse.HIGHRISE: HamadaShares(),
    BuildingUse.KINDERGARTEN: HamadaShares(),
    BuildingUse.COMMUNITY_CENTRE: HamadaShares(),
    BuildingUse.GARAGE: HamadaShares(),
    BuildingUse.OTHER: HamadaShares(),
}


@dataclass(frozen=True)
class SpreadRules:
    """Spread settings (module docstring for sources). Temperatures °C, times s, wind m/s and
    the direction it blows FROM in degrees clockwise from north; ``shares`` overrides Hamada's
    stock per building id."""

    flashover_c: float = 600.0
    window_break_c: float = 340.0
    leap_delay_s: float = 300.0
    wall_rating_s: float = 7200.0
    floor_rating_s: float = 5400.0
    wind_speed_m_s: float = 0.0
    wind_from_deg: float = 0.0
    shares: Mapping[str, HamadaShares] = field(default_factory=dict)
    enabled: bool = True

    def __post_init__(self) -> None:
        for name in ("flashover_c", "window_break_c", "leap_delay_s", "wall_rating_s", "floor_rating_s",
                     "wind_speed_m_s"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"SpreadRules.{name}: expected a finite number >= 0, got {v!r}")

    def shares_of(self, site: Site, building_id: str) -> HamadaShares:
        if building_id in self.shares:
            return self.shares[building_id]
        return DEFAULT_SHARES[site.building(building_id).use]


def external_flame_height_m(q_kw: float, window_w_m: float, window_h_m: float) -> float:
    """Height (m) of the flame above the top of a window of a flashed-over room releasing
    ``q_kw``: EN 1991-1-2:2002 Annex B (no forced draught), 0 when it does not emerge."""
    if window_w_m <= 0 or window_h_m <= 0 or q_kw <= 0:
        return 0.0
    a = window_w_m * window_h_m
    x = (q_kw / 1000.0) / (a * RHO_FLAME * math.sqrt(G * window_h_m))
    return max(0.0, window_h_m * (2.37 * x ** (2.0 / 3.0) - 1.0))


def hamada_ros_m_s(side_m: float, gap_m: float, wind_m_s: float, cos_theta: float, shares: HamadaShares
                   ) -> float:
    """Hamada's rate of spread (m/s) in a direction at angle theta from downwind
    (module docstring); 0 when the stock is all fire-resistant or has no wood."""
    if side_m <= 0 or gap_m < 0 or wind_m_s < 0 or not (-1.0 <= cos_theta <= 1.0):
        raise ValueError(f"hamada_ros_m_s: need side > 0, gap >= 0, wind >= 0, |cos theta| <= 1; got "
                         f"{side_m}, {gap_m}, {wind_m_s}, {cos_theta}")
    b, m, f, beta, v = shares.bare_wood, shares.mortar_wood, shares.fire_resistant, shares.beta, wind_m_s
    wood = (b + m) * (1.0 - f)
    if wood <= 0.0:
        return 0.0
    a, d = side_m, gap_m
    den = b + 5.0 * m / 3.0
    r_d = wood * (a + d) * (1 + 0.1 * v + 0.007 * v * v) / (den * (3 + 3 * a / 8 + 8 * d / (1.15 * beta * (5 + 0.5 * v))))
    r_s = wood * (a + d) * (1 + 0.002 * v * v) / (den * (3 + 3 * a / 8 + 8 * d / (1.15 * (5 + 0.5 * v))))
    e = (r_d - r_s) / r_d
    big_a = r_d * r_d / (2 * r_d - r_s)
    return big_a * (1 - e * e) / (1 - e * cos_theta) / 60.0


def hamada_arrival_s(site: Site, ignitions: Mapping[str, float], rules: SpreadRules, *,
                     horizon_s: float = math.inf) -> dict[str, float]:
    """Earliest time (s) each building catches fire from buildings burning fully from
    ``ignitions`` (building id -> time), by Hamada's spread between every pair of buildings
    (Dijkstra over pairs; a step from i to j takes centroid distance / R(theta) with a = the
    mean side sqrt(area) of the two, d their gap, the stock shares of j). Buildings never
    reached are absent."""
    bs = {b.id: b for b in site.buildings}
    for bid in ignitions:
        if bid not in bs:
            raise KeyError(f"hamada_arrival_s: no building {bid!r} in site {site.name!r}")
    wind = rules.wind_speed_m_s
    to_rad = math.radians(rules.wind_from_deg)
    # the wind blows FROM wind_from_deg (north = +y, clockwise): downwind unit vector
    dx, dy = -math.sin(to_rad), -math.cos(to_rad)
    cen = {k: b.footprint.centroid for k, b in bs.items()}
    best = dict(ignitions)
    heap = [(t, k) for k, t in ignitions.items()]
    heapq.heapify(heap)
    done: set[str] = set()
    while heap:
        t, i = heapq.heappop(heap)
        if i in done or t > best.get(i, math.inf):
            continue
        done.add(i)
        for j, bj in bs.items():
            if j in done:
                continue
            sh = rules.shares_of(site, j)
            if (sh.bare_wood + sh.mortar_wood) * (1.0 - sh.fire_resistant) <= 0:
                continue
            vx, vy = cen[j].x - cen[i].x, cen[j].y - cen[i].y
            dist = math.hypot(vx, vy)
            if dist <= 0:
                continue
            cos_t = (vx * dx + vy * dy) / dist if wind > 0 else 1.0
            side = 0.5 * (math.sqrt(bs[i].footprint.area) + math.sqrt(bj.footprint.area))
            gap = float(bs[i].footprint.distance(bj.footprint))
            ros = hamada_ros_m_s(side, gap, wind, float(np.clip(cos_t, -1.0, 1.0)), sh)
            if ros <= 0:
                continue
            tj = t + dist / ros
            if tj < best.get(j, math.inf) and tj <= horizon_s:
                best[j] = tj
                heapq.heappush(heap, (tj, j))
    return best

"""Flood hazard to people and vehicles: hazard ratings, hazard classes, stability limits and
walking speed in water, as pure vectorised numpy relations of depth and velocity.

What and why: the flood solvers give a water depth ``d`` (m) and a depth-averaged speed ``v``
(m/s, a magnitude) per cell and time. Planners, the crowd model and responders need to know
what that water means for a person on foot, a child, an elderly resident or a car: whether
they can stand, how fast they can wade, and when a road is closed and reopens. Every relation
takes arrays (any broadcastable shapes), returns arrays (a float for scalar input), validates
its inputs (negative or NaN depth/speed -> ``ValueError`` naming the function and argument) and
cites its source below. No loops, so no numba kernel is needed.

Sources
-------
* **UK hazard rating** (Defra/Environment Agency R&D outputs FD2321/TR1 and TR2, Ramsbottom,
  Wade, Bain, Hassan, Penning-Rowsell, Wilson, Fernandez, Floyd & Tapsell 2006, *Flood risks to
  people, Phase 2*; and the May 2008 *Supplementary note on flood hazard ratings and
  thresholds for development planning and control purpose*): ``HR = d (v + 0.5) + DF``.
  Debris factor DF (TR2 Table 3.1) by land use for 0 <= d < 0.25 m / 0.25 <= d <= 0.75 m /
  d > 0.75 m and/or v > 2 m/s: pasture/arable 0 / 0 / 0.5, woodland 0 / 0.5 / 1,
  urban 0 / 1 / 1; the supplementary note's conservative choice is DF = 0.5 for d <= 0.25 m
  and 1 above (``land_use="conservative"``). Choices made here: the velocity clause of the
  last row applies from d >= 0.25 m (the first row, d < 0.25 m, gives DF = 0 whatever the
  speed, as ``flood.md`` states); d = 0.25 m belongs to the middle row. Classes (TR2):
  HR < 0.75 "low" (caution), 0.75 <= HR < 1.25 "danger for some" (children, the elderly, the
  infirm), 1.25 <= HR <= 2.0 "danger for most" (the general public), HR > 2.0 "danger for all"
  (incl. the emergency services). Worked example (``flood.md``): d = 0.5, v = 1.0, DF = 0.5
  -> 1.25.
* **Australian combined hazard classes H1-H6** (AIDR 2017, *Managing the floodplain: a guide to
  best practice in flood risk management in Australia*, Handbook 7, Guideline 7-3 *Flood hazard*,
  Table 7.3.2 "combined hazard curves - vulnerability thresholds classification limits", after
  Smith, Davey & Cox 2014, WRL Technical Report 2014/07): class limits (dv in m^2/s, d in m,
  v in m/s): H1 dv <= 0.3, d <= 0.3, v <= 2.0; H2 dv <= 0.6, d <= 0.5, v <= 2.0; H3
  dv <= 0.6, d <= 1.2, v <= 2.0; H4 dv <= 1.0, d <= 2.0, v <= 2.0; H5 dv <= 4.0, d <= 4.0,
  v <= 4.0; H6 unconstrained. A point gets the lowest class all three of whose limits hold.
* **Vehicle stability** (Shand, Cox, Blacka & Smith 2011, *Australian Rainfall and Runoff
  Revision Project 10: Appropriate safety criteria for vehicles*, Stage 2 report P10/S2/020,
  WRL Technical Report 2010/17; adopted in ARR 2019 Book 6 Ch. 7): safe if d <= limiting
  still-water depth, v <= 3.0 m/s and dv <= limit: small passenger car 0.3 m, 0.3 m^2/s;
  large passenger car 0.4 m, 0.45 m^2/s; large 4WD 0.5 m, 0.6 m^2/s (the limiting
  high-velocity depths 0.1 / 0.15 / 0.2 m follow at 3 m/s). Emergency vehicles: Shand et al.
  give no fire-truck criterion; ``"emergency"`` uses the large 4WD limits, the largest class
  they tested (this module's choice, conservative for high-clearance trucks).
* **Person stability** (Xia, Falconer, Wang & Xiao 2014, *New criterion for the stability of a
  human body in floodwaters*, J. Hydraulic Research 52(1):93-104; applied in Xia, Falconer,
  Lin & Wang 2011, *Numerical assessment of flood hazard risk to people and vehicles in flash
  floods*, Environ. Modell. Softw. 26:987-998): incipient (critical) velocities, with h_f the
  water depth, h_p the body height, m_p the body mass, rho_f water and rho_b body density::

      sliding:  U_c = a_s (h_f/h_p)^b_s sqrt( m_p/(rho_f h_p h_f) - (a1 h_f/h_p + b1) m_p/(rho_b h_p^2) )
      toppling: U_c = a_t (h_f/h_p)^b_t sqrt( m_p/(rho_f h_f^2) - (a1/h_p^2 + b1/(h_p h_f)) m_p/rho_b )

  with the submerged body volume V = (m_p/rho_b)(a1 (h_f/h_p)^2 + b1 h_f/h_p), a1 = 0.633,
  b1 = 0.367 (Chinese body-segment data), and the coefficients calibrated on the flume
  experiments a_s = 7.975, b_s = 0.018 (sliding), a_t = 3.472, b_t = 0.188 (toppling). The
  ground friction coefficient and drag coefficient are lumped into a_s / a_t by the
  calibration. rho_b = 1062 kg/m^3 (mean human body density); with it a 1.71 m, 68.7 kg adult
  in 0.5 m of water gets 2.04 m/s (sliding) and 1.33 m/s (toppling), the values of
  ``flood.md`` (rho_b = 1000 would give 2.02 and 1.32). A person is stable if v is below both
  critical velocities. The relation is for partial submergence: from h_f >= h_p (or where
  the square root's argument is <= 0, i.e. the body floats) the critical velocity is 0.
  Body sizes by group (:data:`BODY_DEFAULTS`): adult 1.71 m / 68.7 kg (Xia et al.'s reference
  adult); child 1.27 m / 25.5 kg (8-year-old, WHO 2007 growth reference medians; assumption
  for "a school child"); elderly 1.60 m / 60.0 kg (assumption of this module: order of the
  60-69 y means of Chinese national physique monitoring). Xia's criterion has no age term;
  age enters only through the body size.
* **Walking speed in water** (Bernardini, Quagliarini, D'Orazio & Brocchini 2020, *Towards the
  simulation of flood evacuation in urban scenarios: experiments to estimate human motion
  speed in floodwaters*, Safety Science 123:104563): ``v = a M^b`` with the specific force per
  unit width ``M = u^2 h / g + h^2 / 2`` (m^2; u flow speed, h depth); age 21-28 y:
  a = 0.36, b = -0.13 (0.472 m/s at h = 0.5 m, u = 0). Alternative relation quoted by
  ``flood.md`` as Postacchini et al. 2018: v = 0.53 M^-0.19. Applied from h >= 0.2 m (the
  experiments covered 0.2-0.7 m); below it the dry speed; the result is capped at the dry
  speed. Only the 21-28 y group is provided: the other age groups' coefficients could not be
  checked against the paper here, so they are not guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "AIDR_CLASS_DESCRIPTIONS",
    "AIDR_CLASS_LIMITS",
    "BODY_DEFAULTS",
    "FD2321_CLASS_NAMES",
    "FD2321_DEBRIS_FACTORS",
    "G_M_S2",
    "RHO_BODY_KG_M3",
    "RHO_WATER_KG_M3",
    "VEHICLE_LIMITS",
    "WALKING_IN_WATER",
    "XIA_COEFFICIENTS",
    "FD2321Hazard",
    "PersonStability",
    "RoadClosure",
    "VehicleLimit",
    "aidr_hazard_class",
    "fd2321_debris_factor",
    "fd2321_hazard",
    "person_critical_velocity",
    "person_stability",
    "road_closure",
    "specific_force_m2",
    "vehicle_stable",
    "walking_speed_in_water",
]

G_M_S2 = 9.81
RHO_WATER_KG_M3 = 1000.0
#: Mean density of the human body, kg/m^3 (see module docstring, Xia et al. 2014).
RHO_BODY_KG_M3 = 1062.0
#: Relative tolerance on published limits, so that e.g. d = 0.1 m, v = 3.0 m/s (dv = 0.3 in
#: decimal, 0.30000000000000004 in binary) counts as on the limit, not above it.
_LIMIT_RTOL = 1e-9

# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------


def _out(x: np.ndarray) -> float | np.ndarray:
    return float(x) if np.ndim(x) == 0 else x


def _nonneg(func: str, name: str, value: ArrayLike) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{func}: {name} must be numbers (m or m/s), got {value!r}") from exc
    if np.any(np.isnan(a)):
        raise ValueError(f"{func}: {name} contains NaN; expected finite values >= 0")
    if np.any(~np.isfinite(a)):
        raise ValueError(f"{func}: {name} contains inf; expected finite values >= 0")
    if np.any(a < 0.0):
        raise ValueError(f"{func}: {name} must be >= 0, got minimum {float(np.min(a))!r}")
    return a


def _positive(func: str, name: str, value: ArrayLike) -> np.ndarray:
    a = _nonneg(func, name, value)
    if np.any(a <= 0.0):
        raise ValueError(f"{func}: {name} must be > 0, got minimum {float(np.min(a))!r}")
    return a


def _choice(func: str, name: str, value: str, options: Mapping[str, object]) -> None:
    if value not in options:
        raise ValueError(f"{func}: {name} must be one of {sorted(options)}, got {value!r}")


# --------------------------------------------------------------------------------------------
# UK FD2321 hazard rating
# --------------------------------------------------------------------------------------------

#: Debris factor per land use for the depth bands d < 0.25 / 0.25 <= d <= 0.75 /
#: d > 0.75 m or v > 2 m/s (FD2321/TR2 Table 3.1); "conservative" is the 2008 supplementary
#: note's DF = 0.5 for d <= 0.25 m and 1 above (handled separately, see fd2321_debris_factor).
FD2321_DEBRIS_FACTORS: Mapping[str, tuple[float, float, float]] = MappingProxyType({
    "pasture": (0.0, 0.0, 0.5),
    "arable": (0.0, 0.0, 0.5),
    "woodland": (0.0, 0.5, 1.0),
    "urban": (0.0, 1.0, 1.0),
    "conservative": (0.5, 1.0, 1.0),
})

#: Class names for codes 0..3 (FD2321/TR2).
FD2321_CLASS_NAMES: tuple[str, ...] = ("low", "danger for some", "danger for most", "danger for all")
_FD2321_BOUNDS = (0.75, 1.25, 2.0)


class FD2321Hazard(NamedTuple):
    """Hazard rating (dimensionless), class code 0..3 and class name (FD2321)."""

    rating: float | np.ndarray
    code: int | np.ndarray
    name: str | np.ndarray


def fd2321_debris_factor(d_m: ArrayLike, v_m_s: ArrayLike = 0.0, *, land_use: str = "urban") -> float | np.ndarray:
    """Debris factor DF of FD2321/TR2 Table 3.1 for depth ``d_m`` (m), speed ``v_m_s`` (m/s)
    and ``land_use`` ("pasture", "arable", "woodland", "urban" (default), or "conservative":
    0.5 for d <= 0.25 m, 1 above, the 2008 supplementary note)."""
    f = "fd2321_debris_factor"
    _choice(f, "land_use", land_use, FD2321_DEBRIS_FACTORS)
    d = _nonneg(f, "d_m", d_m)
    v = _nonneg(f, "v_m_s", v_m_s)
    low, mid, high = FD2321_DEBRIS_FACTORS[land_use]
    if land_use == "conservative":
        df = np.where(d <= 0.25, low, high) + 0.0 * v
    else:
        top = (d > 0.75) | ((d >= 0.25) & (v > 2.0))
        df = np.where(d < 0.25, low, np.where(top, high, mid))
    return _out(np.asarray(df, dtype=float))


def fd2321_hazard(
    d_m: ArrayLike,
    v_m_s: ArrayLike,
    *,
    land_use: str = "urban",
    debris_factor: ArrayLike | None = None,
) -> FD2321Hazard:
    """UK hazard rating ``HR = d (v + 0.5) + DF`` and its class (FD2321/TR2, see module doc).

    ``d_m`` depth (m), ``v_m_s`` speed (m/s), broadcastable. DF from ``land_use`` unless
    ``debris_factor`` (>= 0, broadcastable) is given. Classes: code 0 "low" (HR < 0.75),
    1 "danger for some" (0.75 <= HR < 1.25), 2 "danger for most" (1.25 <= HR <= 2.0),
    3 "danger for all" (HR > 2.0); names in :data:`FD2321_CLASS_NAMES`.
    """
    f = "fd2321_hazard"
    d = _nonneg(f, "d_m", d_m)
    v = _nonneg(f, "v_m_s", v_m_s)
    if debris_factor is None:
        _choice(f, "land_use", land_use, FD2321_DEBRIS_FACTORS)
        df = np.asarray(fd2321_debris_factor(d, v, land_use=land_use), dtype=float)
    else:
        df = _nonneg(f, "debris_factor", debris_factor)
    hr = d * (v + 0.5) + df
    lo, mid, hi = _FD2321_BOUNDS
    code = np.where(hr < lo, 0, np.where(hr < mid, 1, np.where(hr <= hi, 2, 3))).astype(np.int64)
    names = np.asarray(FD2321_CLASS_NAMES, dtype=object)[code]
    if np.ndim(hr) == 0:
        return FD2321Hazard(float(hr), int(code), str(names))
    return FD2321Hazard(hr, code, names)


# --------------------------------------------------------------------------------------------
# Australian combined hazard classes (AIDR 2017 Guideline 7-3)
# --------------------------------------------------------------------------------------------

#: (d_max m, v_max m/s, dv_max m^2/s) for H1..H5 (AIDR 2017 Guideline 7-3 Table 7.3.2); H6 open.
AIDR_CLASS_LIMITS: tuple[tuple[float, float, float], ...] = (
    (0.3, 2.0, 0.3),
    (0.5, 2.0, 0.6),
    (1.2, 2.0, 0.6),
    (2.0, 2.0, 1.0),
    (4.0, 4.0, 4.0),
)

#: Vulnerability description of H1..H6 (AIDR 2017 Guideline 7-3 Table 7.3.1, Smith et al. 2014).
AIDR_CLASS_DESCRIPTIONS: Mapping[int, str] = MappingProxyType({
    1: "generally safe for vehicles, people and buildings",
    2: "unsafe for small vehicles",
    3: "unsafe for vehicles, children and the elderly",
    4: "unsafe for vehicles and people",
    5: "unsafe for vehicles and people; all buildings vulnerable to structural damage, "
       "some less robust buildings subject to failure (buildings need special engineering design)",
    6: "unsafe for vehicles and people; all building types considered vulnerable to failure",
})


def aidr_hazard_class(d_m: ArrayLike, v_m_s: ArrayLike) -> int | np.ndarray:
    """Australian combined flood hazard class 1..6 (H1..H6; AIDR 2017 Guideline 7-3).

    The lowest class whose depth, speed and depth x speed limits (:data:`AIDR_CLASS_LIMITS`,
    all inclusive) hold; 6 when none does. Descriptions in :data:`AIDR_CLASS_DESCRIPTIONS`.
    """
    f = "aidr_hazard_class"
    d = _nonneg(f, "d_m", d_m)
    v = _nonneg(f, "v_m_s", v_m_s)
    d, v = np.broadcast_arrays(d, v)
    dv = d * v
    cls = np.full(d.shape, 6, dtype=np.int64)
    for k in range(len(AIDR_CLASS_LIMITS) - 1, -1, -1):  # 5 fixed classes, not a data loop
        dmax, vmax, dvmax = AIDR_CLASS_LIMITS[k]
        t = 1.0 + _LIMIT_RTOL
        cls = np.where((d <= dmax * t) & (v <= vmax * t) & (dv <= dvmax * t), k + 1, cls)
    return int(cls) if cls.ndim == 0 else cls


# --------------------------------------------------------------------------------------------
# vehicles (Shand et al. 2011) and road closure
# --------------------------------------------------------------------------------------------


class VehicleLimit(NamedTuple):
    """Stability limits of a vehicle class: still-water depth (m), speed (m/s), dv (m^2/s)."""

    d_max_m: float
    v_max_m_s: float
    dv_max_m2_s: float


#: Shand et al. (2011) limits; "emergency" = large 4WD (this module's choice, see module doc).
VEHICLE_LIMITS: Mapping[str, VehicleLimit] = MappingProxyType({
    "small_car": VehicleLimit(0.3, 3.0, 0.3),
    "large_car": VehicleLimit(0.4, 3.0, 0.45),
    "large_4wd": VehicleLimit(0.5, 3.0, 0.6),
    "emergency": VehicleLimit(0.5, 3.0, 0.6),
})


def _vehicle_ratio(d: np.ndarray, v: np.ndarray, lim: VehicleLimit) -> np.ndarray:
    """Governing ratio max(d/d_max, v/v_max, dv/dv_max): stable where <= 1."""
    return np.maximum(np.maximum(d / lim.d_max_m, v / lim.v_max_m_s), d * v / lim.dv_max_m2_s)


def vehicle_stable(d_m: ArrayLike, v_m_s: ArrayLike, *, vehicle: str = "small_car") -> bool | np.ndarray:
    """True where a vehicle of class ``vehicle`` stays stable (Shand et al. 2011): d <= d_max,
    v <= 3.0 m/s and dv <= dv_max (:data:`VEHICLE_LIMITS`: "small_car", "large_car",
    "large_4wd", "emergency")."""
    f = "vehicle_stable"
    _choice(f, "vehicle", vehicle, VEHICLE_LIMITS)
    d = _nonneg(f, "d_m", d_m)
    v = _nonneg(f, "v_m_s", v_m_s)
    ok = _vehicle_ratio(d, v, VEHICLE_LIMITS[vehicle]) <= 1.0 + _LIMIT_RTOL
    return bool(ok) if np.ndim(ok) == 0 else ok


class RoadClosure(NamedTuple):
    """When a road cell becomes impassable for a vehicle class and when it reopens (s).

    ``closed_s``: first time the road is impassable (None if never); ``reopened_s``: end of that
    first closure (None if it never closes or is still closed at the end of the series);
    ``intervals_s``: every closed interval as rows [start, end], end = nan if still closed.
    """

    closed_s: float | None
    reopened_s: float | None
    intervals_s: np.ndarray


def road_closure(
    t_s: ArrayLike,
    d_m: ArrayLike,
    v_m_s: ArrayLike,
    *,
    vehicle: str = "small_car",
    interpolate: bool = True,
) -> RoadClosure:
    """Closure and reopening times of a road cell for ``vehicle`` from its depth and speed
    time series (``t_s``, ``d_m``, ``v_m_s``: 1-D, same length, t strictly increasing).

    Passable means :func:`vehicle_stable` (Shand et al. 2011). With ``interpolate`` (default)
    a crossing time is placed where the governing ratio max(d/d_max, v/v_max, dv/dv_max),
    taken linear between samples, crosses 1; otherwise it is the first sample on the other side.
    """
    f = "road_closure"
    _choice(f, "vehicle", vehicle, VEHICLE_LIMITS)
    t = np.asarray(t_s, dtype=float)
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"{f}: t_s must be a non-empty 1-D array, got shape {t.shape}")
    if np.any(~np.isfinite(t)) or np.any(np.diff(t) <= 0.0):
        raise ValueError(f"{f}: t_s must be finite and strictly increasing")
    d = _nonneg(f, "d_m", d_m)
    v = _nonneg(f, "v_m_s", v_m_s)
    for name, a in (("d_m", d), ("v_m_s", v)):
        if a.shape != t.shape:
            raise ValueError(f"{f}: {name} has shape {a.shape}, expected {t.shape} like t_s")
    r = _vehicle_ratio(d, v, VEHICLE_LIMITS[vehicle])
    closed = r > 1.0 + _LIMIT_RTOL
    change = np.flatnonzero(np.diff(closed.astype(np.int8)))  # sample i -> i+1 changes state
    times = t[change + 1].copy()
    if interpolate and change.size:
        r0, r1 = r[change], r[change + 1]
        frac = (1.0 - r0) / (r1 - r0)
        times = t[change] + np.clip(frac, 0.0, 1.0) * (t[change + 1] - t[change])
    starts: list[float] = [float(t[0])] if closed[0] else []
    ends: list[float] = []
    for i, tc in zip(change, times, strict=True):  # one entry per state change, not per sample
        (ends if closed[i] else starts).append(float(tc))
    if len(ends) < len(starts):
        ends.append(float("nan"))
    intervals = np.array([starts, ends], dtype=float).T.reshape(-1, 2)
    if not starts:
        return RoadClosure(None, None, intervals)
    reopened = None if np.isnan(ends[0]) else ends[0]
    return RoadClosure(starts[0], reopened, intervals)


# --------------------------------------------------------------------------------------------
# people (Xia et al. 2014)
# --------------------------------------------------------------------------------------------

#: Calibrated coefficients of Xia et al. (2014): (alpha, beta) per mode, body-volume a1, b1.
XIA_COEFFICIENTS: Mapping[str, float] = MappingProxyType({
    "alpha_sliding": 7.975,
    "beta_sliding": 0.018,
    "alpha_toppling": 3.472,
    "beta_toppling": 0.188,
    "a1": 0.633,
    "b1": 0.367,
})

#: Body height (m) and mass (kg) by group (see module docstring for sources / assumptions).
BODY_DEFAULTS: Mapping[str, tuple[float, float]] = MappingProxyType({
    "adult": (1.71, 68.7),
    "child": (1.27, 25.5),
    "elderly": (1.60, 60.0),
})


class PersonStability(NamedTuple):
    """Critical (incipient) velocities for sliding and toppling (m/s) and the stable flag."""

    sliding_m_s: float | np.ndarray
    toppling_m_s: float | np.ndarray
    stable: bool | np.ndarray


def _body(func: str, group: str, height_m: ArrayLike | None, mass_kg: ArrayLike | None) -> tuple[np.ndarray, np.ndarray]:
    _choice(func, "group", group, BODY_DEFAULTS)
    h0, m0 = BODY_DEFAULTS[group]
    hp = _positive(func, "height_m", h0 if height_m is None else height_m)
    mp = _positive(func, "mass_kg", m0 if mass_kg is None else mass_kg)
    return hp, mp


def _critical(hf: np.ndarray, hp: np.ndarray, mp: np.ndarray, mode: str, rho_b: float) -> np.ndarray:
    c = XIA_COEFFICIENTS
    a1, b1 = c["a1"], c["b1"]
    hf, hp, mp = np.broadcast_arrays(hf, hp, mp)
    wet = (hf > 0.0) & (hf < hp)
    h = np.where(wet, hf, 0.5 * hp)  # placeholder depth where the formula is not used
    x = h / hp
    if mode == "sliding":
        arg = mp / (RHO_WATER_KG_M3 * hp * h) - (a1 * x + b1) * mp / (rho_b * hp**2)
        alpha, beta = c["alpha_sliding"], c["beta_sliding"]
    else:
        arg = mp / (RHO_WATER_KG_M3 * h**2) - (a1 / hp**2 + b1 / (hp * h)) * mp / rho_b
        alpha, beta = c["alpha_toppling"], c["beta_toppling"]
    uc = alpha * x**beta * np.sqrt(np.maximum(arg, 0.0))
    return np.where(hf <= 0.0, np.inf, np.where(wet, uc, 0.0))


def person_critical_velocity(
    d_m: ArrayLike,
    *,
    mode: str = "toppling",
    group: str = "adult",
    height_m: ArrayLike | None = None,
    mass_kg: ArrayLike | None = None,
    body_density_kg_m3: float = RHO_BODY_KG_M3,
) -> float | np.ndarray:
    """Incipient velocity (m/s) at which a person standing in depth ``d_m`` (m) slides
    (``mode="sliding"``) or topples (``"toppling"``), Xia et al. (2014) (module docstring).

    Body size from ``group`` ("adult", "child", "elderly"; :data:`BODY_DEFAULTS`) unless
    ``height_m`` / ``mass_kg`` are given (broadcastable arrays allowed). inf in dry cells (d = 0),
    0 from d >= height or where the body floats.
    """
    f = "person_critical_velocity"
    if mode not in ("sliding", "toppling"):
        raise ValueError(f"{f}: mode must be 'sliding' or 'toppling', got {mode!r}")
    d = _nonneg(f, "d_m", d_m)
    hp, mp = _body(f, group, height_m, mass_kg)
    rho_b = float(_positive(f, "body_density_kg_m3", body_density_kg_m3))
    return _out(_critical(d, hp, mp, mode, rho_b))


def person_stability(
    d_m: ArrayLike,
    v_m_s: ArrayLike,
    *,
    group: str = "adult",
    height_m: ArrayLike | None = None,
    mass_kg: ArrayLike | None = None,
    body_density_kg_m3: float = RHO_BODY_KG_M3,
) -> PersonStability:
    """Sliding and toppling critical velocities (m/s) for depth ``d_m`` and whether a person
    facing speed ``v_m_s`` stays stable (v below both), Xia et al. (2014). Options as in
    :func:`person_critical_velocity`."""
    f = "person_stability"
    d = _nonneg(f, "d_m", d_m)
    v = _nonneg(f, "v_m_s", v_m_s)
    hp, mp = _body(f, group, height_m, mass_kg)
    rho_b = float(_positive(f, "body_density_kg_m3", body_density_kg_m3))
    us = _critical(d, hp, mp, "sliding", rho_b)
    ut = _critical(d, hp, mp, "toppling", rho_b)
    stable = v < np.minimum(us, ut)
    if np.ndim(stable) == 0:
        return PersonStability(float(us), float(ut), bool(stable))
    us, ut = np.broadcast_arrays(us, ut)
    return PersonStability(np.broadcast_to(us, stable.shape).copy(), np.broadcast_to(ut, stable.shape).copy(), stable)


# --------------------------------------------------------------------------------------------
# walking speed in water (Bernardini et al. 2020; Postacchini et al. 2018)
# --------------------------------------------------------------------------------------------

#: (a, b) of v = a M^b (m/s with M in m^2) per relation (see module docstring).
WALKING_IN_WATER: Mapping[str, tuple[float, float]] = MappingProxyType({
    "bernardini2020_21_28y": (0.36, -0.13),
    "postacchini2018": (0.53, -0.19),
})
_WALK_MIN_DEPTH_M = 0.2


def specific_force_m2(h_m: ArrayLike, u_m_s: ArrayLike = 0.0) -> float | np.ndarray:
    """Specific force per unit width divided by g, ``M = u^2 h / g + h^2 / 2`` (m^2)."""
    f = "specific_force_m2"
    h = _nonneg(f, "h_m", h_m)
    u = _nonneg(f, "u_m_s", u_m_s)
    return _out(u**2 * h / G_M_S2 + 0.5 * h**2)


def walking_speed_in_water(
    h_m: ArrayLike,
    u_m_s: ArrayLike = 0.0,
    *,
    relation: str = "bernardini2020_21_28y",
    dry_speed_m_s: ArrayLike = 1.34,
) -> float | np.ndarray:
    """Walking speed (m/s) wading in depth ``h_m`` (m) against flow speed ``u_m_s`` (m/s):
    ``v = a M^b`` (:data:`WALKING_IN_WATER`, ``relation``), applied from h >= 0.2 m, the dry
    speed ``dry_speed_m_s`` below it, and never above the dry speed (default 1.34 m/s,
    Weidmann's free walking speed; pass each person's own)."""
    f = "walking_speed_in_water"
    _choice(f, "relation", relation, WALKING_IN_WATER)
    h = _nonneg(f, "h_m", h_m)
    u = _nonneg(f, "u_m_s", u_m_s)
    v0 = _positive(f, "dry_speed_m_s", dry_speed_m_s)
    a, b = WALKING_IN_WATER[relation]
    wet = h >= _WALK_MIN_DEPTH_M
    m = np.where(wet, u**2 * h / G_M_S2 + 0.5 * h**2, 1.0)
    v = np.where(wet, np.minimum(a * m**b, v0), v0)
    return _out(np.asarray(v, dtype=float))

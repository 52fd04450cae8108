"""Tenability: toxic and heat fractional effective dose, visibility, walking in smoke, ASET.

What and why: turns the smoke-layer state (gas concentrations, temperature, soot density) seen
by occupants into the quantities the planner compares against limits: the FED of asphyxiant
gases, time to incapacitation by convective heat, visibility through smoke, the slowed walking
speed, and the available safe egress time (ASET, the first time any limit is crossed).

Sources
-------
* Asphyxiant FED: ISO 13571:2012 / Purser, SFPE Handbook (Ch. "Assessment of hazards to
  occupants from smoke, toxic gases and heat"), as coded in NIST FDS (``FED`` function in
  ``func.f90``; FDS User's Guide, "Fractional effective dose"): per minute,
  ``[3.317e-5 C_CO^1.036 RMV/D + (exp(C_CN/43)/220 - 0.0045) + C_NOx/1500] x HV_CO2 + FED_O2``
  with ppm concentrations; light work RMV/D = 25/30 gives the 2.764e-5 coefficient;
  ``C_CN = C_HCN - C_NOx`` (NOx protective), the CN and NOx terms only when positive;
  ``HV_CO2 = exp(0.1903 CO2[%] + 2.0004) / 7.1`` only when CO2 > 0 (else 1);
  ``FED_O2 = 1 / exp(8.13 - 0.54 (20.9 - O2[%]))`` only when O2 < 20 %.
* Convective heat: ISO 13571:2012, time to incapacitation ``5e7 T^-3.4`` min (T in deg C).
* Visibility: Jin (1978); as in FDS User's Guide: ``S = C / K``, ``K = K_m rho_soot``,
  ``K_m = 8700`` m^2/kg, ``C = 3`` light-reflecting signs, ``8`` light-emitting signs.
* Walking speed in smoke: FDS+Evac Technical Reference (Korhonen 2021), after Frantzich &
  Nilsson (2003): ``v = v0 max(0.1, 1 - 0.057 K / 0.706)``, K in 1/m.
* Limits: visibility 10 m (K <= 0.3 /m; 5 m in small familiar rooms), gas 60 deg C, radiant
  2.5 kW/m^2, layer 1.83 m above the floor (NFPA 130 / SFPE Handbook tenability criteria), FED 1
  (0.3 for sensitive people, ISO 13571).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "CO_FED_COEFF",
    "LIMIT_DIRECTIONS",
    "TENABILITY_LIMITS",
    "AsetResult",
    "aset_s",
    "extinction_coefficient_per_m",
    "fed_accumulate",
    "fed_heat_accumulate",
    "fed_rate_per_min",
    "heat_incapacitation_min",
    "visibility_m",
    "walking_speed_in_smoke",
]

#: CO coefficient 3.317e-5 x RMV/D (RMV l/min, D % COHb at incapacitation), Purser / FDS.
CO_FED_COEFF: Mapping[str, float] = {
    "rest": 3.317e-5 * 8.5 / 40.0,
    "light": 3.317e-5 * 25.0 / 30.0,
    "heavy": 3.317e-5 * 50.0 / 20.0,
}

#: Tenability limits (units in the key). Visibility and layer height are lower bounds, the
#: others upper bounds (see :data:`LIMIT_DIRECTIONS`).
TENABILITY_LIMITS: Mapping[str, float] = {
    "visibility_m": 10.0,
    "visibility_small_room_m": 5.0,
    "gas_temperature_c": 60.0,
    "radiant_kw_m2": 2.5,
    "layer_height_m": 1.83,
    "fed": 1.0,
    "fed_sensitive": 0.3,
    "fed_heat": 1.0,
}

#: +1: untenable when the value rises above the limit; -1: when it falls below it.
LIMIT_DIRECTIONS: Mapping[str, int] = {
    "visibility_m": -1,
    "visibility_small_room_m": -1,
    "gas_temperature_c": 1,
    "radiant_kw_m2": 1,
    "layer_height_m": -1,
    "fed": 1,
    "fed_sensitive": 1,
    "fed_heat": 1,
}

#: Mass-specific extinction coefficient of smoke, m^2/kg (FDS default).
_K_M = 8700.0


def _out(x: np.ndarray) -> float | np.ndarray:
    return float(x) if np.ndim(x) == 0 else x


def _nonneg(func: str, name: str, value: ArrayLike) -> np.ndarray:
    a = np.asarray(value, dtype=float)
    if np.any(np.isnan(a)) or np.any(a < 0.0):
        raise ValueError(f"{func}: {name} must be >= 0 (no NaN), got {value!r}")
    return a


def fed_rate_per_min(
    co_ppm: ArrayLike,
    co2_pct: ArrayLike,
    o2_pct: ArrayLike,
    *,
    hcn_ppm: ArrayLike = 0.0,
    nox_ppm: ArrayLike = 0.0,
    activity: str = "light",
) -> float | np.ndarray:
    """Asphyxiant FED accumulated per minute of exposure (1/min), ISO 13571 as coded in FDS.

    ``co_ppm``, ``hcn_ppm``, ``nox_ppm`` (NO + NO2) in ppm by volume; ``co2_pct``, ``o2_pct`` in
    volume %. ``activity`` picks the CO breathing coefficient ("rest", "light" (default, FDS
    default), "heavy"). See the module docstring for the formula and its source.
    """
    if activity not in CO_FED_COEFF:
        raise ValueError(f"fed_rate_per_min: activity must be one of {list(CO_FED_COEFF)}, got {activity!r}")
    f = "fed_rate_per_min"
    co = _nonneg(f, "co_ppm", co_ppm)
    co2 = _nonneg(f, "co2_pct", co2_pct)
    o2 = _nonneg(f, "o2_pct", o2_pct)
    hcn = _nonneg(f, "hcn_ppm", hcn_ppm)
    nox = _nonneg(f, "nox_ppm", nox_ppm)
    rate = CO_FED_COEFF[activity] * co**1.036
    rate = rate + nox / 1500.0  # zero when no NOx, as FDS adds it only when > 0
    c_cn = hcn - nox
    rate = rate + np.where(c_cn > 0.0, np.exp(np.maximum(c_cn, 0.0) / 43.0) / 220.0 - 0.0045, 0.0)
    rate = rate * np.where(co2 > 0.0, np.exp(0.1903 * co2 + 2.0004) / 7.1, 1.0)
    rate = rate + np.where(o2 < 20.0, 1.0 / np.exp(8.13 - 0.54 * (20.9 - o2)), 0.0)
    return _out(rate)


def _integrate(times_s: ArrayLike, rate_per_min: np.ndarray, method: str, func: str) -> np.ndarray:
    t = np.asarray(times_s, dtype=float)
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"{func}: times_s must be a non-empty 1-D array, got shape {t.shape}")
    if np.any(~np.isfinite(t)) or np.any(np.diff(t) <= 0.0):
        raise ValueError(f"{func}: times_s must be finite and strictly increasing")
    r = np.broadcast_to(rate_per_min, t.shape) if rate_per_min.ndim == 0 else rate_per_min
    if r.shape[0] != t.size:
        raise ValueError(f"{func}: series have {r.shape[0]} samples but times_s has {t.size}")
    dt_min = (np.diff(t) / 60.0).reshape((-1,) + (1,) * (r.ndim - 1))
    if method == "trapezoid":
        inc = 0.5 * (r[1:] + r[:-1]) * dt_min
    elif method == "step":
        inc = r[:-1] * dt_min
    else:
        raise ValueError(f"{func}: method must be 'trapezoid' or 'step', got {method!r}")
    out = np.zeros(r.shape, dtype=float)
    out[1:] = np.cumsum(inc, axis=0)
    return out


def fed_accumulate(
    times_s: ArrayLike,
    *,
    co_ppm: ArrayLike,
    co2_pct: ArrayLike,
    o2_pct: ArrayLike,
    hcn_ppm: ArrayLike = 0.0,
    nox_ppm: ArrayLike = 0.0,
    activity: str = "light",
    method: str = "trapezoid",
) -> np.ndarray:
    """Cumulative asphyxiant FED at each of ``times_s`` (s), starting from 0 at ``times_s[0]``.

    The concentration series are sampled at ``times_s`` (first axis; extra trailing axes, e.g.
    one column per occupant or cell, are carried along; scalars are held constant). The rate of
    :func:`fed_rate_per_min` is integrated with the trapezoid rule (``method="trapezoid"``) or
    as a left-endpoint step (``"step"``: each sample's rate held until the next sample).
    """
    rate = np.asarray(
        fed_rate_per_min(co_ppm, co2_pct, o2_pct, hcn_ppm=hcn_ppm, nox_ppm=nox_ppm, activity=activity)
    )
    return _integrate(times_s, rate, method, "fed_accumulate")


def heat_incapacitation_min(t_c: ArrayLike) -> float | np.ndarray:
    """Time to incapacitation by convective heat, ``5e7 T^-3.4`` min (T gas temperature, deg C).

    Source: ISO 13571:2012 (Purser). Returns inf for T <= 0 deg C.
    """
    t = np.asarray(t_c, dtype=float)
    if np.any(np.isnan(t)):
        raise ValueError(f"heat_incapacitation_min: t_c must not be NaN, got {t_c!r}")
    safe = np.where(t > 0.0, t, 1.0)
    out = np.where(t > 0.0, 5e7 * safe**-3.4, math.inf)
    return _out(out)


def fed_heat_accumulate(times_s: ArrayLike, t_c: ArrayLike, *, method: str = "trapezoid") -> np.ndarray:
    """Cumulative convective-heat FED, the integral of ``dt / t_I(T)`` (t in min), ISO 13571.

    ``t_c`` gas temperature (deg C) sampled at ``times_s`` (s); integration as in
    :func:`fed_accumulate`. Incapacitation at 1.
    """
    rate = 1.0 / np.asarray(heat_incapacitation_min(t_c))
    return _integrate(times_s, rate, method, "fed_heat_accumulate")


def extinction_coefficient_per_m(soot_kg_m3: ArrayLike, *, mass_extinction_m2_kg: float = _K_M) -> float | np.ndarray:
    """Light extinction coefficient ``K = K_m rho_soot`` (1/m), ``K_m = 8700`` m^2/kg (FDS)."""
    s = _nonneg("extinction_coefficient_per_m", "soot_kg_m3", soot_kg_m3)
    if not mass_extinction_m2_kg > 0.0:
        raise ValueError(f"extinction_coefficient_per_m: mass_extinction_m2_kg must be > 0, got {mass_extinction_m2_kg!r}")
    return _out(mass_extinction_m2_kg * s)


def visibility_m(soot_kg_m3: ArrayLike, *, lit: bool = False, mass_extinction_m2_kg: float = _K_M) -> float | np.ndarray:
    """Visibility ``S = C / K`` (m) through smoke of soot density ``soot_kg_m3`` (kg/m^3).

    ``C = 8`` for light-emitting (``lit=True``) and 3 for light-reflecting signs (Jin 1978, FDS
    User's Guide); ``K`` from :func:`extinction_coefficient_per_m`. Clear air gives inf.
    """
    k = np.asarray(extinction_coefficient_per_m(soot_kg_m3, mass_extinction_m2_kg=mass_extinction_m2_kg))
    c = 8.0 if lit else 3.0
    with np.errstate(divide="ignore"):
        out = np.where(k > 0.0, c / np.where(k > 0.0, k, 1.0), math.inf)
    return _out(out)


def walking_speed_in_smoke(v0: ArrayLike, k_per_m: ArrayLike) -> float | np.ndarray:
    """Walking speed (m/s) in smoke of extinction coefficient ``k_per_m`` (1/m).

    ``v = v0 max(0.1, 1 - 0.057 K / 0.706)``: FDS+Evac Technical Reference, after Frantzich &
    Nilsson (2003), Lund University report 3126. ``v0`` unobstructed speed (m/s); broadcast.
    """
    v = _nonneg("walking_speed_in_smoke", "v0", v0)
    k = _nonneg("walking_speed_in_smoke", "k_per_m", k_per_m)
    return _out(v * np.maximum(0.1, 1.0 - 0.057 * k / 0.706))


class AsetResult(NamedTuple):
    """First limit crossing: ``time_s`` (inf if none) and the ``limit`` key (None if none)."""

    time_s: float
    limit: str | None


def aset_s(
    times_s: ArrayLike,
    series: Mapping[str, ArrayLike],
    *,
    limits: Mapping[str, float] | None = None,
) -> AsetResult:
    """Available safe egress time: the first time any tenability limit is crossed.

    ``series`` maps keys of :data:`TENABILITY_LIMITS` (e.g. ``"visibility_m"``,
    ``"gas_temperature_c"``, ``"fed"``; use ``"fed_sensitive"`` with the FED series for
    sensitive occupants) to 1-D series sampled at ``times_s`` (s, strictly increasing).
    ``limits`` overrides values of :data:`TENABILITY_LIMITS`. The crossing time is linearly
    interpolated between the last tenable and the first untenable sample (``times_s[0]`` when
    the first sample is already untenable; touching the limit counts as crossing). Ties go to
    the first key in ``series`` order.
    """
    t = np.asarray(times_s, dtype=float)
    if t.ndim != 1 or t.size == 0 or np.any(~np.isfinite(t)) or np.any(np.diff(t) <= 0.0):
        raise ValueError("aset_s: times_s must be a non-empty, finite, strictly increasing 1-D array")
    lim = dict(TENABILITY_LIMITS)
    if limits is not None:
        for key in limits:
            if key not in LIMIT_DIRECTIONS:
                raise ValueError(f"aset_s: unknown limit {key!r}; known: {', '.join(LIMIT_DIRECTIONS)}")
        lim.update({k: float(v) for k, v in limits.items()})
    best = AsetResult(math.inf, None)
    for key, values in series.items():
        if key not in LIMIT_DIRECTIONS:
            raise ValueError(f"aset_s: unknown series {key!r}; known: {', '.join(LIMIT_DIRECTIONS)}")
        y = np.asarray(values, dtype=float)
        if y.shape != t.shape:
            raise ValueError(f"aset_s: series {key!r} has shape {y.shape}, times_s has {t.shape}")
        # margin > 0 while tenable, <= 0 once the limit is reached
        margin = (lim[key] - y) if LIMIT_DIRECTIONS[key] > 0 else (y - lim[key])
        bad = np.flatnonzero(~(margin > 0.0))  # NaN counts as untenable (no information)
        if bad.size == 0:
            continue
        i = int(bad[0])
        if i == 0 or not np.isfinite(margin[i]) or not np.isfinite(margin[i - 1]):
            tc = float(t[i])
        else:
            m0, m1 = float(margin[i - 1]), float(margin[i])
            tc = float(t[i - 1] + (t[i] - t[i - 1]) * m0 / (m0 - m1))
        if tc < best.time_s:
            best = AsetResult(tc, key)
    return best

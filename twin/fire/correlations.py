"""Fire plume, flame height, ceiling jet and smoke-layer descent correlations.

What and why: closed-form relations used by the zone model (plume entrainment into the hot
layer), by detector response (ceiling-jet temperature and velocity) and as its validation
yardstick (NFPA 92 layer-descent equations). All functions are vectorised with numpy
broadcasting; scalar inputs give floats.

Sources
-------
* Plume mass flow and limiting flame height: Heskestad, as adopted in NFPA 92 (2021) Sec. 5.5.1
  (axisymmetric plume): ``Q_c = 0.7 Q``; ``z_l = 0.166 Q_c^(2/5)``;
  ``m = 0.071 Q_c^(1/3) z^(5/3) + 0.0018 Q_c`` for ``z > z_l``, else ``m = 0.032 Q_c^(3/5) z``.
* Mean flame height: Heskestad, SFPE Handbook 5th ed. (2016) Ch. 13: ``L = 0.235 Q^(2/5) - 1.02 D``.
* Ceiling jet: Alpert (1972), *Fire Technology* 8(3) 181-195; SFPE Handbook 5th ed. Ch. 14:
  ``dT = 16.9 Q^(2/3) / H^(5/3)`` for ``r/H <= 0.18`` else ``5.38 (Q/r)^(2/3) / H``;
  ``u = 0.96 (Q/H)^(1/3)`` for ``r/H <= 0.15`` else ``0.195 Q^(1/3) H^(1/2) / r^(5/6)``.
* Smoke layer descent with no exhaust: NFPA 92 (2021) Sec. 5.4 eqs. 5.4.2.1 (steady fire) and
  5.4.2.2 (t-squared fire), valid for ``0.9 <= A/H^2 <= 14`` and ``0.2 <= z/H <= 1``.

Units: Q in kW (total HRR unless stated), heights and radii in m, areas in m^2, time in s,
mass flow in kg/s, temperature rise in K, velocity in m/s.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "LAYER_VALID_AREA_RATIO",
    "LAYER_VALID_Z_OVER_H",
    "ceiling_jet",
    "flame_height_m",
    "layer_descent_valid",
    "layer_height_steady_m",
    "layer_height_t2_m",
    "limiting_flame_height_m",
    "plume_mass_flow_kg_s",
]

#: Validity range of A/H^2 for the NFPA 92 layer-descent equations.
LAYER_VALID_AREA_RATIO: tuple[float, float] = (0.9, 14.0)
#: Validity range of z/H for the NFPA 92 layer-descent equations.
LAYER_VALID_Z_OVER_H: tuple[float, float] = (0.2, 1.0)


def _out(x: np.ndarray) -> float | np.ndarray:
    return float(x) if np.ndim(x) == 0 else x


def _arr(name: str, func: str, value: ArrayLike, *, positive: bool = False) -> np.ndarray:
    a = np.asarray(value, dtype=float)
    if np.any(~np.isfinite(a)):
        raise ValueError(f"{func}: {name} must be finite, got {value!r}")
    if positive and np.any(a <= 0.0):
        raise ValueError(f"{func}: {name} must be > 0, got {value!r}")
    if not positive and np.any(a < 0.0):
        raise ValueError(f"{func}: {name} must be >= 0, got {value!r}")
    return a


def limiting_flame_height_m(q_kw: ArrayLike, *, convective_fraction: float = 0.7) -> float | np.ndarray:
    """Limiting flame height ``z_l = 0.166 Q_c^(2/5)`` (m), ``Q_c = convective_fraction Q`` (kW).

    Source: NFPA 92 (2021) Sec. 5.5.1.1 (Heskestad).
    """
    q = _arr("q_kw", "limiting_flame_height_m", q_kw)
    if not 0.0 < convective_fraction <= 1.0:
        raise ValueError(f"limiting_flame_height_m: convective_fraction must be in (0, 1], got {convective_fraction!r}")
    return _out(0.166 * (convective_fraction * q) ** 0.4)


def plume_mass_flow_kg_s(
    q_kw: ArrayLike, z_m: ArrayLike, *, convective_fraction: float = 0.7
) -> float | np.ndarray:
    """Axisymmetric plume mass flow (kg/s) at height ``z_m`` (m) above the fuel, HRR ``q_kw`` (kW).

    ``Q_c = convective_fraction Q``; above the limiting flame height ``z_l = 0.166 Q_c^(2/5)``:
    ``m = 0.071 Q_c^(1/3) z^(5/3) + 0.0018 Q_c``; at or below it: ``m = 0.032 Q_c^(3/5) z``.
    Source: NFPA 92 (2021) Sec. 5.5.1.1 (Heskestad). ``q_kw`` and ``z_m`` broadcast.
    """
    q = _arr("q_kw", "plume_mass_flow_kg_s", q_kw)
    z = _arr("z_m", "plume_mass_flow_kg_s", z_m)
    if not 0.0 < convective_fraction <= 1.0:
        raise ValueError(f"plume_mass_flow_kg_s: convective_fraction must be in (0, 1], got {convective_fraction!r}")
    qc = convective_fraction * q
    zl = 0.166 * qc**0.4
    far = 0.071 * np.cbrt(qc) * z ** (5.0 / 3.0) + 0.0018 * qc
    near = 0.032 * qc**0.6 * z
    return _out(np.where(z > zl, far, near))


def flame_height_m(q_kw: ArrayLike, d_m: ArrayLike) -> float | np.ndarray:
    """Mean flame height ``L = 0.235 Q^(2/5) - 1.02 D`` (m), Q total HRR (kW), D fire diameter (m).

    Source: Heskestad, SFPE Handbook 5th ed. (2016) Ch. 13. Clipped at 0 (a negative value
    means the flames break up into flamelets below the correlation's range).
    """
    q = _arr("q_kw", "flame_height_m", q_kw)
    d = _arr("d_m", "flame_height_m", d_m)
    return _out(np.maximum(0.235 * q**0.4 - 1.02 * d, 0.0))


def ceiling_jet(
    q_kw: ArrayLike, h_m: ArrayLike, r_m: ArrayLike
) -> tuple[float | np.ndarray, float | np.ndarray]:
    """Alpert ceiling-jet maximum temperature rise (K) and velocity (m/s).

    ``q_kw`` total HRR (kW), ``h_m`` ceiling height above the fuel (m, > 0), ``r_m`` radial
    distance from the plume axis (m). Temperature: ``16.9 Q^(2/3) / H^(5/3)`` for
    ``r/H <= 0.18``, else ``5.38 (Q/r)^(2/3) / H``. Velocity: ``0.96 (Q/H)^(1/3)`` for
    ``r/H <= 0.15``, else ``0.195 Q^(1/3) H^(1/2) / r^(5/6)``. Source: Alpert (1972), Fire
    Technology 8(3) 181-195; SFPE Handbook 5th ed. Ch. 14. Steady, unconfined ceiling.
    Returns ``(dT_K, u_m_s)``; inputs broadcast.
    """
    q = _arr("q_kw", "ceiling_jet", q_kw)
    h = _arr("h_m", "ceiling_jet", h_m, positive=True)
    r = _arr("r_m", "ceiling_jet", r_m)
    q, h, r = np.broadcast_arrays(q, h, r)
    ratio = r / h
    r_safe = np.where(r > 0.0, r, 1.0)  # the far-field branch is only taken for r > 0.15 H
    dt_near = 16.9 * q ** (2.0 / 3.0) / h ** (5.0 / 3.0)
    dt_far = 5.38 * (q / r_safe) ** (2.0 / 3.0) / h
    u_near = 0.96 * np.cbrt(q / h)
    u_far = 0.195 * np.cbrt(q) * np.sqrt(h) / r_safe ** (5.0 / 6.0)
    dt = np.where(ratio <= 0.18, dt_near, dt_far)
    u = np.where(ratio <= 0.15, u_near, u_far)
    return _out(dt), _out(u)


def layer_height_steady_m(t: ArrayLike, q_kw: ArrayLike, h_m: ArrayLike, a_m2: ArrayLike) -> float | np.ndarray:
    """Smoke-layer interface height (m above the fire) for a steady fire, no exhaust.

    ``z/H = 1.11 - 0.28 ln(t Q^(1/3) H^(-4/3) / (A/H^2))``; ``t`` (s), ``Q`` (kW), ceiling
    height ``H`` (m), floor area ``A`` (m^2). Source: NFPA 92 (2021) eq. 5.4.2.1.
    Behaviour outside the range: the result is clipped to ``[0, H]`` (``t <= 0`` gives ``H``);
    the equation is only valid where :func:`layer_descent_valid` is True.
    """
    ts = np.asarray(t, dtype=float)
    if np.any(np.isnan(ts)):
        raise ValueError(f"layer_height_steady_m: t must not be NaN, got {t!r}")
    q = _arr("q_kw", "layer_height_steady_m", q_kw, positive=True)
    h = _arr("h_m", "layer_height_steady_m", h_m, positive=True)
    a = _arr("a_m2", "layer_height_steady_m", a_m2, positive=True)
    with np.errstate(divide="ignore"):
        arg = np.maximum(ts, 0.0) * np.cbrt(q) * h ** (-4.0 / 3.0) / (a / h**2)
        z_over_h = 1.11 - 0.28 * np.log(arg)
    return _out(h * np.clip(z_over_h, 0.0, 1.0))


def layer_height_t2_m(t: ArrayLike, t_g: ArrayLike, h_m: ArrayLike, a_m2: ArrayLike) -> float | np.ndarray:
    """Smoke-layer interface height (m above the fire) for a t-squared fire, no exhaust.

    ``z/H = 0.91 (t t_g^(-2/5) H^(-4/5) (A/H^2)^(-3/5))^(-1.45)``; ``t`` (s), growth time
    ``t_g`` (s, see :data:`twin.fire.sources.GROWTH_TIMES_S`), ``H`` (m), ``A`` (m^2).
    Source: NFPA 92 (2021) eq. 5.4.2.2. Clipped to ``[0, H]`` (early times, where the formula
    exceeds H, mean the layer has not started to descend); valid where
    :func:`layer_descent_valid` is True.
    """
    ts = np.asarray(t, dtype=float)
    if np.any(np.isnan(ts)):
        raise ValueError(f"layer_height_t2_m: t must not be NaN, got {t!r}")
    tg = _arr("t_g", "layer_height_t2_m", t_g, positive=True)
    h = _arr("h_m", "layer_height_t2_m", h_m, positive=True)
    a = _arr("a_m2", "layer_height_t2_m", a_m2, positive=True)
    with np.errstate(divide="ignore"):
        x = np.maximum(ts, 0.0) * tg**-0.4 * h**-0.8 * (a / h**2) ** -0.6
        z_over_h = 0.91 * x**-1.45
    return _out(h * np.clip(z_over_h, 0.0, 1.0))


def layer_descent_valid(z_m: ArrayLike, h_m: ArrayLike, a_m2: ArrayLike) -> bool | np.ndarray:
    """Mask of where the NFPA 92 layer-descent equations apply.

    True where ``0.9 <= A/H^2 <= 14`` and ``0.2 <= z/H <= 1`` (NFPA 92 (2021) Sec. 5.4.2).
    ``z_m`` is the (clipped) layer height from :func:`layer_height_steady_m` or
    :func:`layer_height_t2_m`; a clipped value ``z = H`` counts as valid (no descent yet).
    """
    z = np.asarray(z_m, dtype=float)
    h = _arr("h_m", "layer_descent_valid", h_m, positive=True)
    a = _arr("a_m2", "layer_descent_valid", a_m2, positive=True)
    ar = a / h**2
    zh = z / h
    lo_a, hi_a = LAYER_VALID_AREA_RATIO
    lo_z, hi_z = LAYER_VALID_Z_OVER_H
    ok = (ar >= lo_a) & (ar <= hi_a) & (zh >= lo_z) & (zh <= hi_z + 1e-12)
    return bool(ok) if np.ndim(ok) == 0 else ok

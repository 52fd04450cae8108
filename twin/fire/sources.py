"""Design fire sources: t-squared growth, plateau, linear decay, ventilation limit, fuel yields.

What and why: a scenario places a :class:`FireSource` in a compartment; the zone model and the
tenability checks read its heat release rate (HRR, kW) over time and, through its fuel, the mass
loss rate (kg/s) and the soot / CO / CO2 production (kg of species per kg of fuel burnt).

Sources and units
-----------------
* t-squared growth, NFPA 92 (2021) Annex B / NFPA 204 (2018) Annex: ``Q = alpha (t - t0)^2``
  kW, ``alpha = 1055 / t_g^2`` kW/s^2, where ``t_g`` (s) is the time to reach 1055 kW
  (1000 Btu/s): slow 600 s, medium 300 s, fast 150 s, ultrafast 75 s.
* Ventilation-controlled burning, Kawagoe (1958), *Fire behaviour in rooms*, BRI Report 27;
  Drysdale, *An Introduction to Fire Dynamics*, 3rd ed. (2011), Sec. 10.3: the air inflow
  through an opening of area ``A`` (m^2) and height ``H`` (m) is about ``0.5 A sqrt(H)`` kg/s;
  with ~3000 kJ released per kg of air consumed (Huggett 1980, *Fire and Materials* 4(2), 61-65)
  the HRR cannot exceed ``1500 A sqrt(H)`` kW (Karlsson & Quintiere, *Enclosure Fire
  Dynamics*, 2000, Sec. 3.3).
* Fuel yields, see :data:`FUELS`: Tewarson, "Generation of heat and gaseous, liquid, and solid
  products in fires", SFPE Handbook of Fire Protection Engineering, 3rd ed. (2002) Table 3-4.14,
  reproduced as Table A.39 of the 5th ed. (2016). Each entry names its row; rows used as
  analogues for fuels the table does not list (cooking oil, Li-ion packs, cars) say so.

Times in s, HRR in kW, areas in m^2, yields in kg/kg, heats of combustion in kJ/kg.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "FUELS",
    "GROWTH_TIMES_S",
    "FireSource",
    "Fuel",
    "alpha_kw_s2",
    "ventilation_limit_kw",
]

#: Time (s) for a t-squared fire to reach 1055 kW, NFPA 92 / NFPA 204.
GROWTH_TIMES_S: Mapping[str, float] = {"slow": 600.0, "medium": 300.0, "fast": 150.0, "ultrafast": 75.0}

#: 1000 Btu/s in kW, the reference HRR of the NFPA growth times.
_Q_REF_KW = 1055.0

#: Ventilation limit, kW per m^(5/2): 0.5 kg/(s m^(5/2)) of air x 3000 kJ/kg of air.
_VENT_KW_PER_A_SQRT_H = 0.5 * 3000.0


def alpha_kw_s2(t_g: ArrayLike) -> float | np.ndarray:
    """Fire growth coefficient ``alpha = 1055 / t_g^2`` (kW/s^2) for growth time ``t_g`` (s).

    Source: NFPA 92 (2021) Annex B, NFPA 204 (2018); 1055 kW = 1000 Btu/s.
    """
    tg = np.asarray(t_g, dtype=float)
    if np.any(~np.isfinite(tg)) or np.any(tg <= 0.0):
        raise ValueError(f"alpha_kw_s2: growth time t_g must be finite and > 0 s, got {t_g!r}")
    out = _Q_REF_KW / tg**2
    return float(out) if out.ndim == 0 else out


def ventilation_limit_kw(vent_area_m2: ArrayLike, vent_height_m: ArrayLike) -> float | np.ndarray:
    """Largest HRR (kW) a compartment can sustain through an opening: ``1500 A sqrt(H)``.

    ``A`` opening area (m^2), ``H`` opening height (m). Source: Kawagoe (1958) air inflow
    ``0.5 A sqrt(H)`` kg/s (Drysdale 2011, Sec. 10.3) x 3000 kJ per kg of air (Huggett 1980).
    """
    a = np.asarray(vent_area_m2, dtype=float)
    h = np.asarray(vent_height_m, dtype=float)
    if np.any(~np.isfinite(a)) or np.any(a < 0.0):
        raise ValueError(f"ventilation_limit_kw: vent_area_m2 must be finite and >= 0, got {vent_area_m2!r}")
    if np.any(~np.isfinite(h)) or np.any(h < 0.0):
        raise ValueError(f"ventilation_limit_kw: vent_height_m must be finite and >= 0, got {vent_height_m!r}")
    out = _VENT_KW_PER_A_SQRT_H * a * np.sqrt(h)
    return float(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True)
class Fuel:
    """Combustion properties of a fuel (well-ventilated burning).

    ``heat_of_combustion_kj_kg`` is the effective (chemical) heat of combustion, kJ/kg of fuel;
    the yields are kg of species produced per kg of fuel burnt; ``source`` cites the values.
    """

    name: str
    heat_of_combustion_kj_kg: float
    soot_yield: float
    co_yield: float
    co2_yield: float
    source: str


_TEWARSON = (
    "Tewarson, SFPE Handbook 3rd ed. (2002) Table 3-4.14 = 5th ed. (2016) Table A.39"
)

_PU = Fuel(
    name="polyurethane_foam",
    heat_of_combustion_kj_kg=17_800.0,
    soot_yield=0.131,
    co_yield=0.010,
    co2_yield=1.55,
    source=f"{_TEWARSON}, row 'polyurethane (flexible) foam GM21' (upholstered furniture)",
)
_WOOD = Fuel(
    name="wood",
    heat_of_combustion_kj_kg=12_400.0,
    soot_yield=0.015,
    co_yield=0.004,
    co2_yield=1.27,
    source=f"{_TEWARSON}, row 'wood (red oak)'",
)
_KITCHEN = Fuel(
    name="kitchen",
    heat_of_combustion_kj_kg=37_000.0,
    soot_yield=0.042,
    co_yield=0.012,
    co2_yield=2.80,
    source=(
        "cooking (vegetable) oil: net heat of combustion ~37 MJ/kg (Babrauskas, Ignition "
        "Handbook, 2003, vegetable oils); CO2 yield 2.80 = 0.99 x stoichiometric 2.83 for "
        f"triolein C57H104O6; soot and CO yields by analogy with {_TEWARSON} row 'kerosene' "
        "(a heavy liquid hydrocarbon pool fire; the table has no cooking-oil row)"
    ),
)
_LI_ION = Fuel(
    name="li_ion",
    heat_of_combustion_kj_kg=27_000.0,
    soot_yield=0.164,
    co_yield=0.060,
    co2_yield=2.33,
    source=(
        f"high-soot surrogate: {_TEWARSON} row 'polystyrene' (the highest-soot common polymer "
        "row; Li-ion pack fires are dominated by plastic casings and carbonate electrolyte and "
        "give dense black smoke, but no consensus Li-ion soot yield is tabulated)"
    ),
)
_CAR = Fuel(
    name="car",
    heat_of_combustion_kj_kg=38_600.0,
    soot_yield=0.059,
    co_yield=0.024,
    co2_yield=2.79,
    source=(
        f"analogue: {_TEWARSON} row 'polypropylene', the dominant plastic of passenger cars; "
        "HRR curves of car fires: Mangs & Keski-Rahkonen, Fire Safety J. 23 (1994) 17-35"
    ),
)

#: Fuel table by name; aliases point to the same :class:`Fuel`.
FUELS: Mapping[str, Fuel] = {
    "polyurethane_foam": _PU,
    "furniture": _PU,
    "wood": _WOOD,
    "kitchen": _KITCHEN,
    "cooking_oil": _KITCHEN,
    "li_ion": _LI_ION,
    "e_bike": _LI_ION,
    "car": _CAR,
}


def _did_you_mean(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{hint}; known: {', '.join(options)}"


def _as_float(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"FireSource.{field}: expected a number, got {value!r}")  # noqa: TRY004
    return float(value)


@dataclass(frozen=True)
class FireSource:
    """A design fire in one compartment.

    HRR (kW) at time ``t`` (s), with ``tau = t - t_ignition_s`` and ``t_peak = sqrt(peak_kw /
    alpha)`` (NFPA 92 / NFPA 204 t-squared fire):

    * ``tau < 0``: 0;
    * ``0 <= tau < t_peak``: ``alpha tau^2``;
    * ``t_peak <= tau <= t_peak + steady_s``: ``peak_kw`` (``steady_s = inf``: burns forever);
    * then a linear decay to 0 over ``decay_s`` seconds; ``decay_s = 0`` means no decay phase
      (the fire stops at the end of the plateau).

    ``growth`` is a name from :data:`GROWTH_TIMES_S` or ``alpha`` itself (kW/s^2, > 0).
    ``area_m2`` is the burning area (m^2; its equivalent diameter feeds flame-height
    correlations); ``fuel`` a key of :data:`FUELS`.
    """

    compartment: str
    growth: str | float
    peak_kw: float
    _: KW_ONLY
    t_ignition_s: float = 0.0
    steady_s: float = math.inf
    decay_s: float = 0.0
    area_m2: float = 1.0
    fuel: str = "polyurethane_foam"

    def __post_init__(self) -> None:
        if not isinstance(self.compartment, str) or not self.compartment:
            raise ValueError(f"FireSource.compartment: expected a non-empty string, got {self.compartment!r}")
        if isinstance(self.growth, str):
            if self.growth not in GROWTH_TIMES_S:
                raise ValueError(
                    f"FireSource.growth: unknown growth rate {self.growth!r}"
                    + _did_you_mean(self.growth, list(GROWTH_TIMES_S))
                )
        else:
            alpha = _as_float("growth", self.growth)
            if not math.isfinite(alpha) or alpha <= 0.0:
                raise ValueError(
                    f"FireSource.growth: alpha must be finite and > 0 kW/s^2, got {self.growth!r}"
                )
        peak = _as_float("peak_kw", self.peak_kw)
        if not math.isfinite(peak) or peak <= 0.0:
            raise ValueError(f"FireSource.peak_kw: expected a finite HRR > 0 kW, got {self.peak_kw!r}")
        t0 = _as_float("t_ignition_s", self.t_ignition_s)
        if not math.isfinite(t0) or t0 < 0.0:
            raise ValueError(f"FireSource.t_ignition_s: expected a finite time >= 0 s, got {self.t_ignition_s!r}")
        steady = _as_float("steady_s", self.steady_s)
        if math.isnan(steady) or steady < 0.0:
            raise ValueError(f"FireSource.steady_s: expected a duration >= 0 s (inf allowed), got {self.steady_s!r}")
        decay = _as_float("decay_s", self.decay_s)
        if not math.isfinite(decay) or decay < 0.0:
            raise ValueError(f"FireSource.decay_s: expected a finite duration >= 0 s, got {self.decay_s!r}")
        area = _as_float("area_m2", self.area_m2)
        if not math.isfinite(area) or area <= 0.0:
            raise ValueError(f"FireSource.area_m2: expected a finite area > 0 m^2, got {self.area_m2!r}")
        if not isinstance(self.fuel, str) or self.fuel not in FUELS:
            raise ValueError(
                f"FireSource.fuel: unknown fuel {self.fuel!r}" + _did_you_mean(str(self.fuel), list(FUELS))
            )

    # --- derived quantities -------------------------------------------------------------
    @property
    def alpha_kw_s2(self) -> float:
        """Growth coefficient alpha (kW/s^2)."""
        if isinstance(self.growth, str):
            return float(alpha_kw_s2(GROWTH_TIMES_S[self.growth]))
        return float(self.growth)

    @property
    def t_peak_s(self) -> float:
        """Absolute time (s) at which the HRR reaches ``peak_kw``."""
        return self.t_ignition_s + math.sqrt(self.peak_kw / self.alpha_kw_s2)

    @property
    def t_end_s(self) -> float:
        """Absolute time (s) at which the HRR returns to 0 (inf when ``steady_s`` is inf)."""
        return self.t_peak_s + self.steady_s + self.decay_s

    @property
    def fuel_properties(self) -> Fuel:
        """The :class:`Fuel` entry of :data:`FUELS`."""
        return FUELS[self.fuel]

    @property
    def diameter_m(self) -> float:
        """Equivalent diameter ``sqrt(4 A / pi)`` (m) of the burning area."""
        return math.sqrt(4.0 * self.area_m2 / math.pi)

    # --- time series ----------------------------------------------------------------------
    def hrr_kw(self, t: ArrayLike) -> float | np.ndarray:
        """Heat release rate (kW) at times ``t`` (s); vectorised, scalar in -> float out."""
        ts = np.asarray(t, dtype=float)
        alpha = self.alpha_kw_s2
        tau = ts - self.t_ignition_s
        tp = self.t_peak_s - self.t_ignition_s
        q = np.where(tau < tp, alpha * np.square(np.maximum(tau, 0.0)), self.peak_kw)
        q = np.where(tau < 0.0, 0.0, q)
        t_decay = tp + self.steady_s  # tau at which the decay starts
        if math.isfinite(t_decay):
            if self.decay_s > 0.0:
                frac = 1.0 - (tau - t_decay) / self.decay_s
                q = np.where(tau > t_decay, self.peak_kw * np.clip(frac, 0.0, 1.0), q)
            else:
                q = np.where(tau > t_decay, 0.0, q)
        q = np.where(np.isnan(ts), np.nan, q)
        return float(q) if q.ndim == 0 else q

    def hrr_vent_limited_kw(
        self, t: ArrayLike, *, vent_area_m2: float, vent_height_m: float
    ) -> float | np.ndarray:
        """HRR (kW) capped at the ventilation limit ``1500 A sqrt(H)`` (see
        :func:`ventilation_limit_kw`; Kawagoe 1958, Drysdale 2011 Sec. 10.3)."""
        cap = ventilation_limit_kw(vent_area_m2, vent_height_m)
        q = np.minimum(np.asarray(self.hrr_kw(t)), cap)
        return float(q) if q.ndim == 0 else q

    def mass_loss_rate_kg_s(self, t: ArrayLike) -> float | np.ndarray:
        """Fuel burning rate (kg/s) = HRR / effective heat of combustion."""
        q = np.asarray(self.hrr_kw(t)) / self.fuel_properties.heat_of_combustion_kj_kg
        return float(q) if q.ndim == 0 else q

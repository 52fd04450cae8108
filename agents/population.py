"""Who is at home: occupants per dwelling unit and their pre-movement times.

This is the household-level population used by the network-flow evacuation model. Figures:

* Residents per household: 2.83, the sample community's ~8,500 residents in ~3,000 households
  (``shared/domain.md``).
* At home by time of day: a diurnal occupancy profile for dwellings, 0.95 at night falling to
  0.45 on a working-day afternoon. Its shape follows the residential occupancy schedules used in
  building-energy standards (ISO 17772-1:2017 / EN 16798-1 Annex C: fully occupied at night,
  about half in the working day); the exact values are this module's documented assumption.
* Pre-movement: lognormal per household (a household leaves together), shifted by a minimum.
  Defaults: median 120 s awake (07:00–23:00) and 300 s asleep, log-sigma 0.6, minimum 30 s.
  They sit inside the dwelling ranges of PD 7974-6:2019 Annex C (awake occupants start within
  minutes; sleeping occupants take several times longer) and are scenario settings
  (``population.premovement``).

Counts are drawn with a binomial per household (each resident at home with the at-home
probability) from the run's seeded generator, so the same seed gives the same population.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["HouseholdPopulation", "at_home_fraction", "default_premovement_median_s", "synthesize_households"]

#: Hourly at-home fraction for dwellings, index = hour of day (documented assumption above).
_AT_HOME_BY_HOUR = np.array(
    [0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.92, 0.80, 0.60, 0.50, 0.47, 0.50,
     0.55, 0.50, 0.46, 0.45, 0.50, 0.62, 0.75, 0.85, 0.90, 0.92, 0.94, 0.95]
)


def at_home_fraction(hour: float) -> float:
    """Fraction of residents at home at ``hour`` (0–24, linear between whole hours)."""
    h = float(hour) % 24.0
    i = int(h)
    f = h - i
    return float(_AT_HOME_BY_HOUR[i] * (1 - f) + _AT_HOME_BY_HOUR[(i + 1) % 24] * f)


def default_premovement_median_s(hour: float) -> float:
    """Median pre-movement time (s): 120 s awake (07:00–23:00), 300 s asleep."""
    h = float(hour) % 24.0
    return 120.0 if 7.0 <= h < 23.0 else 300.0


@dataclass(frozen=True)
class HouseholdPopulation:
    """Occupants per dwelling unit: ``unit_ids[k]`` holds ``occupants[k]`` people who start
    moving ``premovement_s[k]`` seconds after the alarm reaches them."""

    unit_ids: tuple[str, ...]
    buildings: tuple[str, ...]
    occupants: np.ndarray
    premovement_s: np.ndarray

    @property
    def total(self) -> int:
        return int(self.occupants.sum())

    def per_building(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for b, n in zip(self.buildings, self.occupants.tolist()):
            out[b] = out.get(b, 0) + int(n)
        return out


def synthesize_households(
    units: list[tuple[str, str]],
    *,
    rng: np.random.Generator,
    residents_per_household: float = 2.83,
    hour: float = 15.0,
    at_home: float | None = None,
    premovement_median_s: float | None = None,
    premovement_sigma: float = 0.6,
    premovement_min_s: float = 30.0,
) -> HouseholdPopulation:
    """Draw occupants and pre-movement times for ``units`` (pairs of unit id, building id).

    Household size is 1 + Poisson(residents_per_household - 1), so every dwelling has at least
    one resident and the mean matches; each resident is at home with the at-home fraction."""
    n = len(units)
    p_home = at_home_fraction(hour) if at_home is None else float(at_home)
    size = 1 + rng.poisson(max(residents_per_household - 1.0, 0.0), size=n)
    occupants = rng.binomial(size, p_home).astype(np.int64)
    median = default_premovement_median_s(hour) if premovement_median_s is None else premovement_median_s
    if median <= premovement_min_s:
        raise ValueError(
            f"pre-movement median {median:g} s must exceed the minimum {premovement_min_s:g} s "
            "(the lognormal part is shifted by the minimum)"
        )
    pre = premovement_min_s + rng.lognormal(np.log(median - premovement_min_s), premovement_sigma, size=n)
    return HouseholdPopulation(
        unit_ids=tuple(u for u, _ in units),
        buildings=tuple(b for _, b in units),
        occupants=occupants,
        premovement_s=pre.astype(np.float64),
    )

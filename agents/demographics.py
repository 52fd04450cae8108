"""Person-level residents: who each occupant is and how fast they can move.

``agents.population`` draws how many people are at home per dwelling (households, used by the
network-flow model). This module expands those households into individual people for the
microscopic crowd model: age, a mobility profile, whether they live alone or need help, a free
walking speed on the level (m/s), stair speeds along the slope (m/s) and a personal
pre-movement time (s). Everything is struct-of-arrays numpy, drawn from the run's seeded
``numpy.random.Generator`` in a fixed order, so the same seed gives the same people.

Defaults and their sources (all fractions are of the people at home):

* ``elderly_fraction = 0.187`` aged 60+: ``shared/domain.md`` (18.7 %), which equals the national
  figure of the Seventh National Population Census, 2020 (18.70 % aged 60+).
* ``child_fraction = 0.1795`` aged 0-14: Seventh National Population Census, 2020 (17.95 %).
* Ages inside a group: children uniform on [0, 15) y, adults uniform on [15, 60) y; people 60+
  get 60 y plus an exponential tail cut at 100 y whose rate reproduces the census share of
  65+ among 60+ (13.50 % / 18.70 %, Seventh National Population Census, 2020).
* People with disabilities: 6.34 % of the population (Second National Sample Survey on
  Disability, 2006, National Bureau of Statistics of China, main-data communique), 53.24 % of
  whom are aged 60+ (same communique) -> ``disabled_elderly_share``. The disabled are drawn with
  that age split. All of them get a slow profile: ``wheelchair_fraction = 0.01`` (assumption:
  WHO, *Guidelines on the provision of manual wheelchairs in less-resourced settings*, 2008,
  estimates about 1 % of people need a wheelchair) and ``impaired_fraction = 0.0534`` (the rest
  of the 6.34 %). Treating every non-wheelchair disability (hearing included) as walking-impaired
  is a conservative simplification; locomotion, visual and multiple disabilities alone are
  about 60 % of the 6.34 %.
* ``living_alone_elderly_share = 0.13`` of people 60+ live alone. Assumption: Chinese national
  surveys and the 2020 census long-form tables put one-person households of people 60+ at
  roughly 12-15 % of the 60+ population; set it per community (``domain.md`` names elderly
  living alone as a priority group but gives no prevalence).

Walking speeds (free speed on the level, m/s), one distribution per :class:`SpeedGroup`. Each is
a normal truncated to a band; RiMEA test 7 fixes the bands and leaves the in-band distribution
to the user, testing that drawn speeds follow the configured one:

* Bands (RiMEA guideline 3.0 / 4.1.1, test 7, after Weidmann 1993): < 30 y 0.58-1.61,
  30-50 y 1.41-1.54, > 50 y 0.68-1.41, mobility-impaired 0.46-0.76.
* Centres: adults under 30 1.36 m/s and over 50 1.20 m/s, after the comfortable gait speeds
  by decade of Bohannon & Andrews (2011), *Physiotherapy* 97(3):182-189 (20s ~1.36, 60s-70s
  ~1.2-1.3 m/s); 30-50 y the band's centre 1.475 m/s (the band is narrow); impaired the band's
  centre 0.61 m/s. Children (0-14 y) use the < 30 y band (Weidmann's age curve, reproduced in
  RiMEA, rises from ~0.6 m/s for small children to ~1.6 m/s at 20 y) centred at 1.10 m/s,
  sd 0.25 -- this module's assumption.
* Wheelchair users (manual): mean 0.69 m/s, sd 0.35, range 0.13-1.35 m/s on the level, Boyce,
  Shields & Silcock (1999), *Fire Technology* 35(1):51-67 (as tabulated in the SFPE Handbook;
  quoted from that table, not re-measured here).

Stairs (speed along the slope, m/s): Fruin (1971) / SFPE typical ranges, descent 0.6-0.8 and
ascent 0.4-0.6 (``shared/data/validation/evacuation.md``). A walking person's stair speed sits at
the same quantile of the stair range as their level speed sits in their own distribution (a
slow walker is a slow stair user). Mobility-impaired people get that value scaled by
``v0 / 1.34`` (ratio of their level speed to Weidmann's 1.34 m/s free speed), giving
0.2-0.45 m/s -- the order Boyce et al. report for people with locomotion disabilities on stairs
(assumption). Wheelchair users cannot use stairs unaided: their stair speeds are 0.0 and
``needs_assistance`` is True. Children under 3 y (any profile) are carried (``needs_assistance`` True,
assumption); their own speeds are still drawn but a carrier's speed governs.

Pre-movement: a household leaves together (``agents.population``); each person gets the
household's time times ``exp(N(0, premovement_spread))`` (default log-sigma 0.1, ~10 % spread
for gathering; assumption), so it stays positive and keeps the household median.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from types import MappingProxyType

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from agents.population import HouseholdPopulation

__all__ = [
    "CARRIED_CHILD_AGE_Y",
    "PROFILE_NAMES",
    "SPEED_DISTRIBUTIONS",
    "STAIR_ASCENT_M_S",
    "STAIR_DESCENT_M_S",
    "WEIDMANN_FREE_SPEED_M_S",
    "People",
    "Profile",
    "SpeedDistribution",
    "SpeedGroup",
    "draw_walking_speeds",
    "speed_group_for",
    "synthesize_people",
]

#: Weidmann (1993) mean free walking speed on the level, m/s.
WEIDMANN_FREE_SPEED_M_S = 1.34
#: Fruin (1971) / SFPE typical stair speeds along the slope, m/s (low, high).
STAIR_DESCENT_M_S = (0.6, 0.8)
STAIR_ASCENT_M_S = (0.4, 0.6)
#: Children younger than this (years) are carried (assumption).
CARRIED_CHILD_AGE_Y = 3.0

_CHILD_MAX_AGE_Y = 15.0
_ELDERLY_MIN_AGE_Y = 60.0
_MAX_AGE_Y = 100.0
#: Share of 65+ among 60+: 13.50 % / 18.70 % (Seventh National Population Census, 2020).
_SHARE_65_AMONG_60 = 13.50 / 18.70


def _share_65_plus(rate: float) -> float:
    """P(age >= 65 | 60+) for 60 + Exp(rate) cut at 100 y."""
    span = _MAX_AGE_Y - _ELDERLY_MIN_AGE_Y
    return float((np.exp(-5.0 * rate) - np.exp(-span * rate)) / (1.0 - np.exp(-span * rate)))


#: Rate (1/y) of the 60+ age tail that reproduces the census 65+ share (solved once).
_ELDERLY_AGE_RATE = float(brentq(lambda r: _share_65_plus(r) - _SHARE_65_AMONG_60, 1e-3, 1.0))


class Profile(IntEnum):
    """Mobility profile of a person (precedence when several apply: WHEELCHAIR, IMPAIRED,
    CHILD, ELDERLY, ABLE)."""

    ABLE = 0
    ELDERLY = 1
    CHILD = 2
    WHEELCHAIR = 3
    IMPAIRED = 4


PROFILE_NAMES: Mapping[int, str] = MappingProxyType({int(p): p.name.lower() for p in Profile})


class SpeedGroup(IntEnum):
    """Which walking-speed distribution a person's free speed is drawn from."""

    UNDER_30 = 0  # able, 15-29 y (RiMEA < 30 y band)
    AGE_30_50 = 1  # able, 30-50 y
    OVER_50 = 2  # able 51-59 y and elderly 60+ (RiMEA > 50 y band)
    CHILD = 3  # 0-14 y, inside the RiMEA < 30 y band
    IMPAIRED = 4  # mobility impaired (RiMEA band)
    WHEELCHAIR = 5  # manual wheelchair users (Boyce et al. 1999)


@dataclass(frozen=True)
class SpeedDistribution:
    """A normal(mean, sd) truncated to [low, high], speeds in m/s."""

    low: float
    high: float
    mean: float
    sd: float
    source: str

    def __post_init__(self) -> None:
        if not (0.0 <= self.low < self.high) or not self.sd > 0.0:
            raise ValueError(f"speed distribution needs 0 <= low < high and sd > 0, got {self}")

    def _phi_bounds(self) -> tuple[float, float]:
        return (float(ndtr((self.low - self.mean) / self.sd)), float(ndtr((self.high - self.mean) / self.sd)))

    def ppf(self, q: np.ndarray) -> np.ndarray:
        """Speed at quantile ``q`` (0..1) of the truncated distribution (inverse CDF)."""
        a, b = self._phi_bounds()
        x = self.mean + self.sd * ndtri(a + np.asarray(q, dtype=np.float64) * (b - a))
        return np.clip(x, self.low, self.high)

    def cdf(self, v: np.ndarray) -> np.ndarray:
        """Probability that a drawn speed is <= ``v``."""
        a, b = self._phi_bounds()
        z = ndtr((np.clip(np.asarray(v, dtype=np.float64), self.low, self.high) - self.mean) / self.sd)
        return (z - a) / (b - a)


_RIMEA = "RiMEA 4.1.1 test 7 band (after Weidmann 1993)"
SPEED_DISTRIBUTIONS: Mapping[SpeedGroup, SpeedDistribution] = MappingProxyType({
    SpeedGroup.UNDER_30: SpeedDistribution(0.58, 1.61, 1.36, 0.20, f"{_RIMEA}; centre Bohannon & Andrews 2011"),
    SpeedGroup.AGE_30_50: SpeedDistribution(1.41, 1.54, 1.475, 0.05, f"{_RIMEA}; centred in band"),
    SpeedGroup.OVER_50: SpeedDistribution(0.68, 1.41, 1.20, 0.20, f"{_RIMEA}; centre Bohannon & Andrews 2011"),
    SpeedGroup.CHILD: SpeedDistribution(0.58, 1.61, 1.10, 0.25, f"{_RIMEA} (< 30 y); centre assumed"),
    SpeedGroup.IMPAIRED: SpeedDistribution(0.46, 0.76, 0.61, 0.08, f"{_RIMEA} (impaired); centred in band"),
    SpeedGroup.WHEELCHAIR: SpeedDistribution(0.13, 1.35, 0.69, 0.35, "Boyce et al. 1999, manual wheelchair"),
})


def speed_group_for(profile: np.ndarray, age_years: np.ndarray) -> np.ndarray:
    """Speed group per person from profile and age (RiMEA bands: < 30, 30-50, > 50 y)."""
    profile = np.asarray(profile)
    age = np.asarray(age_years, dtype=np.float64)
    g = np.where(age < 30.0, SpeedGroup.UNDER_30, np.where(age <= 50.0, SpeedGroup.AGE_30_50, SpeedGroup.OVER_50))
    g = np.where(profile == Profile.ELDERLY, SpeedGroup.OVER_50, g)
    g = np.where(profile == Profile.CHILD, SpeedGroup.CHILD, g)
    g = np.where(profile == Profile.IMPAIRED, SpeedGroup.IMPAIRED, g)
    g = np.where(profile == Profile.WHEELCHAIR, SpeedGroup.WHEELCHAIR, g)
    return g.astype(np.int8)


def draw_walking_speeds(group: SpeedGroup | int, n: int, *, rng: np.random.Generator) -> np.ndarray:
    """``n`` free walking speeds (m/s) from ``group``'s configured distribution."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    try:
        dist = SPEED_DISTRIBUTIONS[SpeedGroup(group)]
    except ValueError:
        raise ValueError(f"group must be one of {[g.name for g in SpeedGroup]}, got {group!r}") from None
    return dist.ppf(rng.random(n))


@dataclass(frozen=True)
class People:
    """Individual residents, struct of arrays (index = person).

    ``household[i]`` indexes the source :class:`HouseholdPopulation` (so ``unit_ids[household[i]]``
    is the dwelling); ``profile`` holds :class:`Profile` codes, ``speed_group`` :class:`SpeedGroup`
    codes. Speeds in m/s (stairs along the slope; 0.0 = cannot use stairs unaided), times in s."""

    household: np.ndarray  # int64
    unit_ids: tuple[str, ...]
    age_years: np.ndarray  # float64
    profile: np.ndarray  # int8
    speed_group: np.ndarray  # int8
    lives_alone: np.ndarray  # bool
    needs_assistance: np.ndarray  # bool
    v0_m_s: np.ndarray  # float64
    stair_descent_m_s: np.ndarray  # float64
    stair_ascent_m_s: np.ndarray  # float64
    premovement_s: np.ndarray  # float64
    profile_names: Mapping[int, str] = field(default_factory=lambda: PROFILE_NAMES)

    def __len__(self) -> int:
        return int(self.household.shape[0])

    def unit_of(self, i: int) -> str:
        """Dwelling unit id of person ``i``."""
        return self.unit_ids[int(self.household[i])]

    def count(self, profile: Profile | int) -> int:
        """Number of people with ``profile``."""
        return int(np.count_nonzero(self.profile == int(profile)))


def _check_fraction(name: str, value: float) -> float:
    v = float(value)
    if not np.isfinite(v) or not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must be a fraction in [0, 1], got {value!r}")
    return v


def _take(rng: np.random.Generator, candidates: np.ndarray, k: int) -> np.ndarray:
    """``k`` distinct entries of ``candidates`` in random order (all of them if fewer)."""
    if k <= 0 or candidates.size == 0:
        return candidates[:0]
    return rng.permutation(candidates)[:k]


def synthesize_people(
    households: HouseholdPopulation,
    *,
    rng: np.random.Generator,
    elderly_fraction: float = 0.187,
    child_fraction: float = 0.1795,
    impaired_fraction: float = 0.0534,
    wheelchair_fraction: float = 0.01,
    living_alone_elderly_share: float = 0.13,
    disabled_elderly_share: float = 0.5324,
    premovement_spread: float = 0.1,
) -> People:
    """Expand ``households`` into individual people (one per occupant at home).

    Counts are exact (rounded fraction x people) and placed at random: living-alone elderly first,
    in households with a single occupant at home (capped by how many there are); children then,
    never as a household's first occupant where there is room (a child is not left alone); the
    rest of the elderly; then disabilities with ``disabled_elderly_share`` of them among the 60+
    and wheelchair users drawn among the disabled. See the module docstring for sources."""
    e = _check_fraction("elderly_fraction", elderly_fraction)
    c = _check_fraction("child_fraction", child_fraction)
    imp = _check_fraction("impaired_fraction", impaired_fraction)
    wc = _check_fraction("wheelchair_fraction", wheelchair_fraction)
    la_share = _check_fraction("living_alone_elderly_share", living_alone_elderly_share)
    d_e_share = _check_fraction("disabled_elderly_share", disabled_elderly_share)
    if e + c > 1.0 + 1e-12:
        raise ValueError(f"elderly_fraction + child_fraction must be <= 1, got {e:g} + {c:g} = {e + c:g}")
    if imp + wc > 1.0 + 1e-12:
        raise ValueError(
            f"impaired_fraction + wheelchair_fraction must be <= 1, got {imp:g} + {wc:g} = {imp + wc:g}"
        )
    if not np.isfinite(premovement_spread) or premovement_spread < 0.0:
        raise ValueError(f"premovement_spread must be a log-sigma >= 0, got {premovement_spread!r}")
    occ = np.asarray(households.occupants)
    if occ.ndim != 1 or occ.shape[0] != len(households.unit_ids):
        raise ValueError(
            f"households.occupants must have one entry per unit ({len(households.unit_ids)}), got shape {occ.shape}"
        )
    if occ.size and (occ < 0).any():
        raise ValueError(f"households.occupants must be >= 0, got minimum {int(occ.min())}")
    pre_h = np.asarray(households.premovement_s, dtype=np.float64)
    if pre_h.shape != occ.shape:
        raise ValueError(f"households.premovement_s must have shape {occ.shape}, got {pre_h.shape}")
    occ = occ.astype(np.int64)

    n = int(occ.sum())
    household = np.repeat(np.arange(occ.size, dtype=np.int64), occ)
    first = np.cumsum(occ) - occ  # index of each household's first person
    rank = np.arange(n, dtype=np.int64) - np.repeat(first, occ)

    n_eld = round(e * n)
    n_child = min(round(c * n), n - n_eld)

    # 1. Elderly living alone: in households with exactly one occupant at home.
    single_people = first[occ == 1]
    n_la = min(round(la_share * n_eld), single_people.size)
    lives_alone = np.zeros(n, dtype=bool)
    lives_alone[_take(rng, single_people, n_la)] = True
    is_elderly = lives_alone.copy()

    # 2. Children: with an older household member first (rank >= 1), else anywhere left.
    is_child = np.zeros(n, dtype=bool)
    pick = _take(rng, np.flatnonzero(rank >= 1), n_child)
    is_child[pick] = True
    if pick.size < n_child:
        is_child[_take(rng, np.flatnonzero(~is_child & ~is_elderly), n_child - pick.size)] = True

    # 3. The other elderly.
    is_elderly[_take(rng, np.flatnonzero(~is_child & ~is_elderly), n_eld - n_la)] = True

    # 4. Ages (years).
    age = np.empty(n, dtype=np.float64)
    u_age = rng.random(n)
    age[is_child] = _CHILD_MAX_AGE_Y * u_age[is_child]
    adult = ~is_child & ~is_elderly
    age[adult] = _CHILD_MAX_AGE_Y + (_ELDERLY_MIN_AGE_Y - _CHILD_MAX_AGE_Y) * u_age[adult]
    rate = _ELDERLY_AGE_RATE
    cut = 1.0 - np.exp(-rate * (_MAX_AGE_Y - _ELDERLY_MIN_AGE_Y))
    age[is_elderly] = _ELDERLY_MIN_AGE_Y - np.log1p(-u_age[is_elderly] * cut) / rate

    # 5. Disabilities: exact counts, age split per the 2006 survey, wheelchair users among them.
    n_wc = round(wc * n)
    n_imp = min(round(imp * n), n - n_wc)
    n_dis = n_wc + n_imp
    n_dis_eld = min(round(d_e_share * n_dis), n_eld)
    n_dis_rest = min(n_dis - n_dis_eld, n - n_eld)
    n_dis_eld = n_dis - n_dis_rest
    disabled = np.concatenate([
        _take(rng, np.flatnonzero(is_elderly), n_dis_eld),
        _take(rng, np.flatnonzero(~is_elderly), n_dis_rest),
    ])
    disabled = rng.permutation(disabled) if disabled.size else disabled
    profile = np.full(n, Profile.ABLE, dtype=np.int8)
    profile[is_elderly] = Profile.ELDERLY
    profile[is_child] = Profile.CHILD
    profile[disabled[n_wc:]] = Profile.IMPAIRED
    profile[disabled[:n_wc]] = Profile.WHEELCHAIR

    # 6. Speeds: one quantile per person drives the level and stair speeds.
    group = speed_group_for(profile, age)
    q = rng.random(n)
    v0 = np.empty(n, dtype=np.float64)
    for g, dist in SPEED_DISTRIBUTIONS.items():
        m = group == g
        v0[m] = dist.ppf(q[m])
    down = STAIR_DESCENT_M_S[0] + q * (STAIR_DESCENT_M_S[1] - STAIR_DESCENT_M_S[0])
    up = STAIR_ASCENT_M_S[0] + q * (STAIR_ASCENT_M_S[1] - STAIR_ASCENT_M_S[0])
    impaired = profile == Profile.IMPAIRED
    scale = v0[impaired] / WEIDMANN_FREE_SPEED_M_S
    down[impaired] *= scale
    up[impaired] *= scale
    wheel = profile == Profile.WHEELCHAIR
    down[wheel] = 0.0
    up[wheel] = 0.0
    needs_assistance = wheel | (age < CARRIED_CHILD_AGE_Y)

    # 7. Pre-movement: the household's time with a small multiplicative spread.
    pre = pre_h[household] * np.exp(rng.normal(0.0, premovement_spread, size=n)) if n else np.empty(0)

    return People(
        household=household,
        unit_ids=tuple(households.unit_ids),
        age_years=age,
        profile=profile,
        speed_group=group,
        lives_alone=lives_alone,
        needs_assistance=needs_assistance,
        v0_m_s=v0,
        stair_descent_m_s=down,
        stair_ascent_m_s=up,
        premovement_s=np.asarray(pre, dtype=np.float64),
    )

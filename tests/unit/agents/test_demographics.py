"""Person-level synthesis: determinism, census fractions, household consistency, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from agents.demographics import (
    CARRIED_CHILD_AGE_Y,
    PROFILE_NAMES,
    SPEED_DISTRIBUTIONS,
    STAIR_ASCENT_M_S,
    STAIR_DESCENT_M_S,
    Profile,
    SpeedGroup,
    draw_walking_speeds,
    synthesize_people,
)
from agents.population import HouseholdPopulation, synthesize_households

SMALL_UNITS = [(f"B01-L{lv:02d}-U{u:02d}", "B01") for lv in range(6) for u in range(1, 9)]


@pytest.fixture(scope="module")
def large() -> tuple[HouseholdPopulation, object]:
    units = [(f"U{i:05d}", f"B{i // 200:03d}") for i in range(20_000)]
    hh = synthesize_households(units, rng=np.random.default_rng(11), hour=15.0)
    return hh, synthesize_people(hh, rng=np.random.default_rng(12))


def _households(occupants: list[int]) -> HouseholdPopulation:
    n = len(occupants)
    return HouseholdPopulation(
        unit_ids=tuple(f"U{i}" for i in range(n)), buildings=("B",) * n,
        occupants=np.array(occupants, dtype=np.int64), premovement_s=np.full(n, 120.0),
    )


def test_same_seed_same_people_and_different_seed_differs() -> None:
    hh = synthesize_households(SMALL_UNITS, rng=np.random.default_rng(3), at_home=1.0)
    a = synthesize_people(hh, rng=np.random.default_rng(5))
    b = synthesize_people(hh, rng=np.random.default_rng(5))
    c = synthesize_people(hh, rng=np.random.default_rng(6))
    for name in ("household", "age_years", "profile", "speed_group", "lives_alone", "needs_assistance",
                 "v0_m_s", "stair_descent_m_s", "stair_ascent_m_s", "premovement_s"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert not np.array_equal(a.v0_m_s, c.v0_m_s)


def test_fractions_match_defaults_on_large_population(large) -> None:
    _, p = large
    n = len(p)
    assert n > 20_000
    elderly = p.age_years >= 60.0
    assert elderly.mean() == pytest.approx(0.187, abs=1e-3)
    assert (p.age_years < 15.0).mean() == pytest.approx(0.1795, abs=1e-3)
    assert p.count(Profile.WHEELCHAIR) / n == pytest.approx(0.01, abs=1e-3)
    assert p.count(Profile.IMPAIRED) / n == pytest.approx(0.0534, abs=1e-3)
    assert p.lives_alone.sum() / elderly.sum() == pytest.approx(0.13, abs=2e-3)
    disabled = np.isin(p.profile, [Profile.WHEELCHAIR, Profile.IMPAIRED])
    assert (disabled & elderly).sum() / disabled.sum() == pytest.approx(0.5324, abs=2e-3)
    # Census: 65+ is 13.50 % of 18.70 % aged 60+ (statistical, ~4,700 elderly).
    assert (p.age_years >= 65).sum() / elderly.sum() == pytest.approx(13.50 / 18.70, abs=0.02)
    assert p.age_years.min() >= 0.0 and p.age_years.max() < 100.0


def test_every_household_has_its_occupants(large) -> None:
    hh, p = large
    np.testing.assert_array_equal(np.bincount(p.household, minlength=len(hh.unit_ids)), hh.occupants)
    assert p.unit_of(0) == hh.unit_ids[p.household[0]]
    assert len(p.unit_ids) == len(hh.unit_ids)


def test_living_alone_elderly_are_alone_and_elderly(large) -> None:
    hh, p = large
    alone_hh = p.household[p.lives_alone]
    assert alone_hh.size > 0 and np.unique(alone_hh).size == alone_hh.size
    assert (hh.occupants[alone_hh] == 1).all()
    assert (p.age_years[p.lives_alone] >= 60.0).all()
    in_alone_hh = np.isin(p.household, alone_hh)
    assert in_alone_hh.sum() == alone_hh.size  # nobody else in those dwellings


def test_children_never_alone_when_there_is_room(large) -> None:
    hh, p = large
    child_hh = p.household[p.age_years < 15.0]
    assert (hh.occupants[child_hh] >= 2).all()


def test_profiles_speeds_and_stairs_are_consistent(large) -> None:
    _, p = large
    assert set(PROFILE_NAMES.values()) == {"able", "elderly", "child", "wheelchair", "impaired"}
    assert p.profile_names[int(Profile.WHEELCHAIR)] == "wheelchair"
    for g, dist in SPEED_DISTRIBUTIONS.items():
        v = p.v0_m_s[p.speed_group == g]
        assert v.size > 100, g
        assert (v >= dist.low).all() and (v <= dist.high).all(), g
    walking = np.isin(p.profile, [Profile.ABLE, Profile.ELDERLY, Profile.CHILD])
    assert (p.stair_descent_m_s[walking] >= STAIR_DESCENT_M_S[0]).all()
    assert (p.stair_descent_m_s[walking] <= STAIR_DESCENT_M_S[1]).all()
    assert (p.stair_ascent_m_s[walking] >= STAIR_ASCENT_M_S[0]).all()
    assert (p.stair_ascent_m_s[walking] <= STAIR_ASCENT_M_S[1]).all()
    # Faster walkers are faster on stairs within a group (same quantile).
    m = p.speed_group == SpeedGroup.OVER_50
    order = np.argsort(p.v0_m_s[m])
    assert (np.diff(p.stair_descent_m_s[m][order]) >= -1e-12).all()
    imp = p.profile == Profile.IMPAIRED
    assert (p.stair_descent_m_s[imp] < STAIR_DESCENT_M_S[0]).all()
    assert (p.stair_ascent_m_s[imp] < STAIR_ASCENT_M_S[0]).all()
    assert (p.stair_ascent_m_s[imp] > 0.0).all()
    wc = p.profile == Profile.WHEELCHAIR
    assert (p.stair_descent_m_s[wc] == 0.0).all() and (p.stair_ascent_m_s[wc] == 0.0).all()
    assert p.needs_assistance[wc].all()
    carried = p.age_years < CARRIED_CHILD_AGE_Y
    assert carried.any()
    np.testing.assert_array_equal(p.needs_assistance, wc | carried)
    # Speed groups follow RiMEA age bands for able adults.
    able = p.profile == Profile.ABLE
    assert (p.speed_group[able & (p.age_years < 30)] == SpeedGroup.UNDER_30).all()
    assert (p.speed_group[able & (p.age_years >= 30) & (p.age_years <= 50)] == SpeedGroup.AGE_30_50).all()
    assert (p.speed_group[able & (p.age_years > 50)] == SpeedGroup.OVER_50).all()
    assert (p.speed_group[p.profile == Profile.ELDERLY] == SpeedGroup.OVER_50).all()


def test_premovement_follows_household_with_small_spread(large) -> None:
    hh, p = large
    ratio = p.premovement_s / hh.premovement_s[p.household]
    assert (p.premovement_s > 0).all()
    assert np.log(ratio).std() == pytest.approx(0.1, rel=0.05)
    assert abs(np.median(np.log(ratio))) < 0.01
    q = synthesize_people(hh, rng=np.random.default_rng(12), premovement_spread=0.0)
    np.testing.assert_allclose(q.premovement_s, hh.premovement_s[q.household])


def test_empty_and_tiny_populations() -> None:
    p = synthesize_people(_households([0, 0]), rng=np.random.default_rng(0))
    assert len(p) == 0 and p.v0_m_s.shape == (0,)
    p = synthesize_people(_households([1]), rng=np.random.default_rng(0), elderly_fraction=1.0,
                          child_fraction=0.0, living_alone_elderly_share=1.0)
    assert len(p) == 1 and p.lives_alone[0] and p.profile[0] == Profile.ELDERLY
    # All children requested with only single-occupant homes: placed anyway, counts exact.
    p = synthesize_people(_households([1, 1, 1, 1]), rng=np.random.default_rng(0), elderly_fraction=0.0,
                          child_fraction=1.0, impaired_fraction=0.0, wheelchair_fraction=0.0)
    assert (p.profile == Profile.CHILD).all()


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"elderly_fraction": 1.2}, "elderly_fraction"),
        ({"child_fraction": -0.1}, "child_fraction"),
        ({"impaired_fraction": float("nan")}, "impaired_fraction"),
        ({"wheelchair_fraction": 2.0}, "wheelchair_fraction"),
        ({"living_alone_elderly_share": -1.0}, "living_alone_elderly_share"),
        ({"disabled_elderly_share": 1.5}, "disabled_elderly_share"),
        ({"elderly_fraction": 0.6, "child_fraction": 0.5}, "elderly_fraction + child_fraction"),
        ({"impaired_fraction": 0.7, "wheelchair_fraction": 0.4}, "impaired_fraction + wheelchair_fraction"),
        ({"premovement_spread": -0.1}, "premovement_spread"),
    ],
)
def test_bad_parameters_raise_naming_the_parameter(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name.replace("+", r"\+")):
        synthesize_people(_households([2, 3]), rng=np.random.default_rng(0), **kwargs)


def test_bad_households_raise() -> None:
    bad = HouseholdPopulation(unit_ids=("a", "b"), buildings=("B", "B"), occupants=np.array([1, -1]),
                              premovement_s=np.array([60.0, 60.0]))
    with pytest.raises(ValueError, match="households.occupants"):
        synthesize_people(bad, rng=np.random.default_rng(0))
    short = HouseholdPopulation(unit_ids=("a", "b"), buildings=("B", "B"), occupants=np.array([1]),
                                premovement_s=np.array([60.0]))
    with pytest.raises(ValueError, match="households.occupants"):
        synthesize_people(short, rng=np.random.default_rng(0))


def test_draw_walking_speeds_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="group"):
        draw_walking_speeds(17, 5, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="n must be"):
        draw_walking_speeds(SpeedGroup.CHILD, -1, rng=np.random.default_rng(0))

"""Household population: counts, at-home profile, pre-movement, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from agents.population import at_home_fraction, default_premovement_median_s, synthesize_households

UNITS = [(f"B01-L{lv:02d}-U{u:02d}", "B01") for lv in range(6) for u in range(1, 9)] + \
        [(f"B02-L{lv:02d}-U{u:02d}", "B02") for lv in range(18) for u in range(1, 17)]


def test_night_has_more_people_at_home_than_afternoon() -> None:
    assert at_home_fraction(3.0) > 0.9
    assert at_home_fraction(15.0) < 0.6
    assert 0.0 <= min(at_home_fraction(h / 2) for h in range(48)) <= max(at_home_fraction(h / 2) for h in range(48)) <= 1


def test_asleep_premovement_is_longer() -> None:
    assert default_premovement_median_s(3.0) > default_premovement_median_s(15.0)


def test_mean_household_size_and_at_home() -> None:
    pop = synthesize_households(UNITS * 10, rng=np.random.default_rng(0), residents_per_household=2.83,
                                at_home=1.0)
    assert pop.occupants.mean() == pytest.approx(2.83, rel=0.03)
    assert pop.occupants.min() >= 1


def test_premovement_median_and_minimum() -> None:
    pop = synthesize_households(UNITS * 10, rng=np.random.default_rng(1), premovement_median_s=200.0,
                                premovement_min_s=30.0)
    assert pop.premovement_s.min() >= 30.0
    assert np.median(pop.premovement_s) == pytest.approx(200.0, rel=0.05)


def test_same_seed_same_population() -> None:
    a = synthesize_households(UNITS, rng=np.random.default_rng(7), hour=3)
    b = synthesize_households(UNITS, rng=np.random.default_rng(7), hour=3)
    c = synthesize_households(UNITS, rng=np.random.default_rng(8), hour=3)
    assert np.array_equal(a.occupants, b.occupants) and np.array_equal(a.premovement_s, b.premovement_s)
    assert not np.array_equal(a.premovement_s, c.premovement_s)
    assert set(a.per_building()) == {"B01", "B02"}
    assert sum(a.per_building().values()) == a.total


def test_median_not_above_minimum_is_refused() -> None:
    # used to be clamped silently to min + 1 s
    with pytest.raises(ValueError, match="must exceed the minimum"):
        synthesize_households(UNITS, rng=np.random.default_rng(0), premovement_median_s=20.0, premovement_min_s=60.0)
    with pytest.raises(ValueError, match="must exceed the minimum"):
        synthesize_households(UNITS, rng=np.random.default_rng(0), hour=3.0, premovement_min_s=400.0)

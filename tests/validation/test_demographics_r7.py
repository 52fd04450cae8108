"""RiMEA test 7 (demographics): 50 persons per group; every drawn walking speed lies inside its
group's band and the drawn speeds follow the configured distribution (Kolmogorov-Smirnov
p > 0.05), over several seeds. Bands (m/s): < 30 y 0.58-1.61, 30-50 y 1.41-1.54,
> 50 y 0.68-1.41, impaired 0.46-0.76 (RiMEA 4.1.1 test 7; shared/data/validation/evacuation.md).

The reference CDF is scipy.stats.truncnorm built from the configured parameters, independent of
the module's own inverse-CDF sampler. Children and wheelchair users (not RiMEA groups) are
checked the same way against their configured distributions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from agents.demographics import (
    SPEED_DISTRIBUTIONS,
    SpeedGroup,
    draw_walking_speeds,
    synthesize_people,
)
from agents.population import synthesize_households

N_PER_GROUP = 50
SEEDS = (0, 1, 2, 3, 4)
R7_BANDS = {
    SpeedGroup.UNDER_30: (0.58, 1.61),
    SpeedGroup.AGE_30_50: (1.41, 1.54),
    SpeedGroup.OVER_50: (0.68, 1.41),
    SpeedGroup.IMPAIRED: (0.46, 0.76),
}


def _reference(group: SpeedGroup) -> stats.rv_continuous:
    d = SPEED_DISTRIBUTIONS[group]
    return stats.truncnorm((d.low - d.mean) / d.sd, (d.high - d.mean) / d.sd, loc=d.mean, scale=d.sd)


def test_configured_bands_are_the_rimea_bands() -> None:
    for g, (lo, hi) in R7_BANDS.items():
        assert (SPEED_DISTRIBUTIONS[g].low, SPEED_DISTRIBUTIONS[g].high) == (lo, hi)


@pytest.mark.parametrize("group", list(SpeedGroup), ids=lambda g: g.name)
def test_fifty_per_group_in_band_and_ks_matches(group: SpeedGroup) -> None:
    d = SPEED_DISTRIBUTIONS[group]
    ref = _reference(group)
    pvalues = []
    for seed in SEEDS:
        # Seed per (seed, group): with one seed every group would map the same uniforms.
        v = draw_walking_speeds(group, N_PER_GROUP, rng=np.random.default_rng([seed, int(group)]))
        assert v.shape == (N_PER_GROUP,)
        assert (v >= d.low).all() and (v <= d.high).all()
        pvalues.append(stats.kstest(v, ref.cdf).pvalue)
    # RiMEA's criterion (p > 0.05) applies per run; under a correct sampler each run fails it
    # with probability 0.05, so over 5 seeds we require at least 4 passes (false alarm ~2.3 %
    # per group; the seeds are fixed, so the test is deterministic) and no p below 0.001.
    assert sum(p > 0.05 for p in pvalues) >= len(SEEDS) - 1, pvalues
    assert min(pvalues) > 1e-3, pvalues


@pytest.mark.parametrize("group", list(SpeedGroup), ids=lambda g: g.name)
def test_sampler_is_exactly_the_configured_distribution(group: SpeedGroup) -> None:
    """The module's CDF equals scipy's truncnorm, and a large sample's mean matches it."""
    d = SPEED_DISTRIBUTIONS[group]
    ref = _reference(group)
    x = np.linspace(d.low, d.high, 41)
    np.testing.assert_allclose(d.cdf(x), ref.cdf(x), atol=1e-12)
    v = draw_walking_speeds(group, 100_000, rng=np.random.default_rng(99))
    assert v.mean() == pytest.approx(ref.mean(), abs=4 * ref.std() / np.sqrt(v.size))


@pytest.mark.parametrize("seed", SEEDS)
def test_synthesized_residents_fifty_per_r7_group(seed: int) -> None:
    """The same criterion on people drawn through the full synthesis (first 50 of each group)."""
    units = [(f"U{i:04d}", "B") for i in range(1500)]
    hh = synthesize_households(units, rng=np.random.default_rng(100 + seed), at_home=1.0)
    people = synthesize_people(hh, rng=np.random.default_rng(seed))
    for g, (lo, hi) in R7_BANDS.items():
        v = people.v0_m_s[people.speed_group == g]
        assert v.size >= N_PER_GROUP, (g, v.size)
        assert (v >= lo).all() and (v <= hi).all(), g
        assert stats.kstest(v[:N_PER_GROUP], _reference(g).cdf).pvalue > 0.05, g


@pytest.mark.parametrize("group", list(R7_BANDS), ids=lambda g: g.name)
def test_ks_detects_a_wrong_distribution(group: SpeedGroup) -> None:
    """Negative control: the check has power -- a large sample is not taken for uniform-in-band."""
    lo, hi = R7_BANDS[group]
    v = draw_walking_speeds(group, 3000, rng=np.random.default_rng(7))
    assert stats.kstest(v, stats.uniform(lo, hi - lo).cdf).pvalue < 1e-3

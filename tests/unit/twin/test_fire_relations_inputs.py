"""Unit tests of twin.fire.correlations and twin.fire.tenability: bad inputs, integration
options, array shapes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twin.fire.correlations import (
    ceiling_jet,
    flame_height_m,
    layer_height_t2_m,
    plume_mass_flow_kg_s,
)
from twin.fire.tenability import (
    aset_s,
    fed_accumulate,
    fed_heat_accumulate,
    fed_rate_per_min,
    heat_incapacitation_min,
    visibility_m,
    walking_speed_in_smoke,
)


def test_correlation_bad_inputs() -> None:
    with pytest.raises(ValueError, match="plume_mass_flow_kg_s: z_m"):
        plume_mass_flow_kg_s(1000.0, -1.0)
    with pytest.raises(ValueError, match="convective_fraction"):
        plume_mass_flow_kg_s(1000.0, 1.0, convective_fraction=1.5)
    with pytest.raises(ValueError, match="ceiling_jet: h_m"):
        ceiling_jet(1000.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="layer_height_t2_m: a_m2"):
        layer_height_t2_m(60.0, 150.0, 10.0, -5.0)
    with pytest.raises(ValueError, match="flame_height_m: q_kw"):
        flame_height_m(math.nan, 1.0)


def test_correlation_shapes_and_clips() -> None:
    m = plume_mass_flow_kg_s(np.array([[500.0], [1000.0]]), np.array([1.0, 5.0, 10.0]))
    assert m.shape == (2, 3) and np.all(np.diff(m, axis=1) > 0) and np.all(m[1] > m[0])
    assert flame_height_m(10.0, 2.0) == 0.0  # negative correlation value clipped
    dt, u = ceiling_jet(np.array([500.0, 1000.0]), 3.0, np.array([0.0, 6.0]))
    assert dt.shape == (2,) and u.shape == (2,)


def test_fed_bad_inputs() -> None:
    with pytest.raises(ValueError, match="co_ppm"):
        fed_rate_per_min(-1.0, 0.0, 20.9)
    with pytest.raises(ValueError, match="activity"):
        fed_rate_per_min(100.0, 0.0, 20.9, activity="jogging")
    with pytest.raises(ValueError, match="strictly increasing"):
        fed_accumulate(np.array([0.0, 10.0, 5.0]), co_ppm=100.0, co2_pct=0.0, o2_pct=20.9)
    with pytest.raises(ValueError, match="3 samples but times_s has 2"):
        fed_accumulate(np.array([0.0, 10.0]), co_ppm=np.ones(3), co2_pct=0.0, o2_pct=20.9)
    with pytest.raises(ValueError, match="method"):
        fed_accumulate(np.array([0.0, 10.0]), co_ppm=100.0, co2_pct=0.0, o2_pct=20.9, method="simpson")
    with pytest.raises(ValueError, match="aset_s: unknown series 'smoke'"):
        aset_s(np.array([0.0, 1.0]), {"smoke": np.zeros(2)})
    with pytest.raises(ValueError, match="aset_s: unknown limit"):
        aset_s(np.array([0.0, 1.0]), {"fed": np.zeros(2)}, limits={"fedd": 0.5})


def test_fed_integration_methods_and_columns() -> None:
    t = np.array([0.0, 60.0, 120.0])
    co = np.array([[0.0, 1000.0], [1000.0, 1000.0], [1000.0, 1000.0]])  # two occupants
    trap = fed_accumulate(t, co_ppm=co, co2_pct=0.0, o2_pct=20.9)
    step = fed_accumulate(t, co_ppm=co, co2_pct=0.0, o2_pct=20.9, method="step")
    r = fed_rate_per_min(1000.0, 0.0, 20.9)
    assert trap.shape == (3, 2)
    np.testing.assert_allclose(trap[:, 0], [0.0, 0.5 * r, 1.5 * r], rtol=1e-12)
    np.testing.assert_allclose(step[:, 0], [0.0, 0.0, r], rtol=1e-12)
    np.testing.assert_allclose(trap[:, 1], [0.0, r, 2 * r], rtol=1e-12)


def test_heat_visibility_walking_edges() -> None:
    assert heat_incapacitation_min(0.0) == math.inf
    fh = fed_heat_accumulate(np.array([0.0, 60.0 * 45.0045]), np.array([60.0, 60.0]))
    assert fh[-1] == pytest.approx(1.0, rel=1e-3)
    np.testing.assert_allclose(visibility_m(np.array([0.0, 3.0 / 8700.0])), [math.inf, 1.0])
    with pytest.raises(ValueError, match="soot_kg_m3"):
        visibility_m(-1e-5)
    with pytest.raises(ValueError, match="k_per_m"):
        walking_speed_in_smoke(1.2, -0.1)


def test_aset_interpolates_and_handles_initial_breach() -> None:
    t = np.array([0.0, 10.0, 20.0])
    assert aset_s(t, {"gas_temperature_c": np.array([20.0, 50.0, 70.0])}) == pytest.approx((15.0, "gas_temperature_c"))
    assert aset_s(t, {"visibility_m": np.array([5.0, 20.0, 30.0])}).time_s == 0.0
    res = aset_s(t, {"visibility_m": np.array([math.inf, 12.0, 8.0])})
    assert res == pytest.approx((15.0, "visibility_m"))
    assert aset_s(t, {"fed": np.array([0.0, 0.4, 0.6])}, limits={"fed": 0.5}).time_s == pytest.approx(15.0)

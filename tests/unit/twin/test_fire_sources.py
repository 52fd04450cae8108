"""Unit tests of twin.fire.sources: HRR curve shape, ventilation limit, fuels, bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twin.fire.sources import (
    FUELS,
    GROWTH_TIMES_S,
    FireSource,
    alpha_kw_s2,
    ventilation_limit_kw,
)


def test_curve_shape_growth_plateau_decay() -> None:
    src = FireSource("kitchen", "fast", 1000.0, t_ignition_s=30.0, steady_s=100.0, decay_s=200.0)
    alpha = 1055.0 / 150.0**2
    tp = math.sqrt(1000.0 / alpha)
    assert src.t_peak_s == pytest.approx(30.0 + tp)
    assert src.t_end_s == pytest.approx(30.0 + tp + 300.0)
    t = np.array([0.0, 29.9, 30.0, 80.0, 30.0 + tp, 30.0 + tp + 50.0, 30.0 + tp + 200.0, 30.0 + tp + 300.0, 1e4])
    q = src.hrr_kw(t)
    assert q.shape == t.shape
    np.testing.assert_allclose(
        q, [0.0, 0.0, 0.0, alpha * 50.0**2, 1000.0, 1000.0, 500.0, 0.0, 0.0], rtol=1e-12, atol=1e-9
    )
    # continuous and non-negative on a fine grid
    tt = np.linspace(0.0, 800.0, 8001)
    qq = src.hrr_kw(tt)
    assert np.all(qq >= 0.0) and qq.max() == pytest.approx(1000.0)
    assert np.max(np.abs(np.diff(qq))) < 2.0  # no jumps: growth slope <= 13.7 kW/s, dt 0.1 s
    assert isinstance(src.hrr_kw(100.0), float)
    # 2-D input keeps its shape
    assert src.hrr_kw(np.zeros((3, 4))).shape == (3, 4)


def test_defaults_burn_forever_and_no_decay_stops() -> None:
    src = FireSource("lounge", "medium", 500.0)
    assert src.t_end_s == math.inf
    assert src.hrr_kw(1e6) == 500.0
    stop = FireSource("lounge", "medium", 500.0, steady_s=60.0)  # decay_s = 0: ends at plateau end
    t_stop = stop.t_peak_s + 60.0
    assert stop.hrr_kw(t_stop) == 500.0
    assert stop.hrr_kw(t_stop + 1e-6) == 0.0


def test_numeric_alpha_and_alpha_function() -> None:
    src = FireSource("r", 0.1, 100.0)
    assert src.alpha_kw_s2 == 0.1
    assert src.hrr_kw(10.0) == pytest.approx(10.0)
    np.testing.assert_allclose(alpha_kw_s2(np.array([600.0, 75.0])), [1055 / 360000, 1055 / 5625])
    assert set(GROWTH_TIMES_S) == {"slow", "medium", "fast", "ultrafast"}


def test_ventilation_limit() -> None:
    # 1500 A sqrt(H): a 0.8 m x 2 m door -> 1500 * 1.6 * sqrt(2) = 3394 kW
    assert ventilation_limit_kw(1.6, 2.0) == pytest.approx(1500.0 * 1.6 * math.sqrt(2.0))
    src = FireSource("r", "ultrafast", 5000.0)
    t = np.array([0.0, 100.0, 200.0, 1000.0])
    q = src.hrr_vent_limited_kw(t, vent_area_m2=1.6, vent_height_m=2.0)
    np.testing.assert_allclose(q, np.minimum(src.hrr_kw(t), 3394.1125496954282), rtol=1e-12)
    assert q[-1] < src.hrr_kw(1000.0)
    with pytest.raises(ValueError, match="vent_area_m2"):
        ventilation_limit_kw(-1.0, 2.0)


def test_fuels_table() -> None:
    for key in ("polyurethane_foam", "wood", "kitchen", "li_ion", "car", "e_bike", "furniture", "cooking_oil"):
        f = FUELS[key]
        assert f.heat_of_combustion_kj_kg > 1000.0
        assert 0.0 < f.soot_yield < 0.5 and 0.0 < f.co_yield < 0.5 and 0.5 < f.co2_yield < 3.2
        assert f.source
    assert FUELS["e_bike"].soot_yield >= max(FUELS[k].soot_yield for k in ("wood", "kitchen", "car", "polyurethane_foam"))
    src = FireSource("r", "fast", 1000.0, fuel="wood")
    assert src.mass_loss_rate_kg_s(1e4) == pytest.approx(1000.0 / 12_400.0)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"growth": 0.0}, "growth"),
        ({"growth": -0.01}, "growth"),
        ({"growth": math.nan}, "growth"),
        ({"growth": None}, "growth"),
        ({"peak_kw": 0.0}, "peak_kw"),
        ({"peak_kw": -5.0}, "peak_kw"),
        ({"t_ignition_s": -1.0}, "t_ignition_s"),
        ({"steady_s": -1.0}, "steady_s"),
        ({"decay_s": -1.0}, "decay_s"),
        ({"decay_s": math.inf}, "decay_s"),
        ({"area_m2": 0.0}, "area_m2"),
        ({"compartment": ""}, "compartment"),
    ],
)
def test_bad_inputs_name_the_field(kwargs: dict, field: str) -> None:
    args = {"compartment": "r", "growth": "fast", "peak_kw": 1000.0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=rf"FireSource\.{field}"):
        FireSource(**args)


def test_unknown_growth_and_fuel_did_you_mean() -> None:
    with pytest.raises(ValueError, match=r"FireSource\.growth.*'fsat'.*did you mean 'fast'"):
        FireSource("r", "fsat", 1000.0)
    with pytest.raises(ValueError, match=r"FireSource\.fuel.*did you mean 'wood'"):
        FireSource("r", "fast", 1000.0, fuel="wod")
    with pytest.raises(ValueError, match=r"FireSource\.fuel.*known:"):
        FireSource("r", "fast", 1000.0, fuel="plutonium")


def test_frozen_and_keyword_only() -> None:
    src = FireSource("r", "slow", 100.0)
    with pytest.raises(AttributeError):
        src.peak_kw = 5.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        FireSource("r", "slow", 100.0, 5.0)  # type: ignore[misc]
    with pytest.raises(ValueError, match="alpha_kw_s2"):
        alpha_kw_s2(0.0)

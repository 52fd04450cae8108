"""Reference values of the spread relations (twin.fire.spread), arithmetic on the published
forms: EN 1991-1-2:2002 Annex B external flame height, and Hamada's urban spread rates in the
form of firebench's ``Hamada_2`` (values worked by hand below)."""

from __future__ import annotations

import math

import pytest

from twin.fire.spread import HamadaShares, external_flame_height_m, hamada_ros_m_s

OLD = HamadaShares(fire_resistant=0.6, bare_wood=0.2, mortar_wood=0.2)


def test_external_flame_height_en1991_annex_b() -> None:
    # Q = 3 MW through a 1.5 x 1.5 m window: x = 3 / (2.25 x 0.45 x sqrt(9.81 x 1.5)) = 0.7724,
    # L = 1.5 (2.37 x 0.7724^(2/3) - 1) = 1.493 m
    assert external_flame_height_m(3000.0, 1.5, 1.5) == pytest.approx(1.493, abs=1e-3)
    # a small fire does not project flames: 2.37 x^(2/3) < 1
    assert external_flame_height_m(500.0, 1.5, 1.5) == 0.0
    # flame height grows as Q^(2/3)
    assert external_flame_height_m(6000.0, 1.5, 1.5) > 2.0


def test_hamada_calm_rate() -> None:
    # a = 10 m, d = 5 m, V = 0, f = 0.6, b = m = 0.2:
    # R = 0.4 x 0.4 x 15 / ((0.2 + 0.3333) (3 + 3.75 + 40 / 5.75)) = 2.4 / 7.3101 = 0.3283 m/min
    r = hamada_ros_m_s(10.0, 5.0, 0.0, 1.0, OLD)
    assert r * 60.0 == pytest.approx(0.3283, abs=1e-4)
    # no wind: the same in every direction
    assert hamada_ros_m_s(10.0, 5.0, 0.0, -1.0, OLD) == pytest.approx(r)


def test_hamada_wind_ellipse() -> None:
    # V = 5 m/s: R_d = 0.16 x 15 x 1.675 / (0.5333 (6.75 + 40 / 8.625)) = 0.6619 m/min,
    # R_s = 0.16 x 15 x 1.05 / (0.5333 (6.75 + 40 / 8.625)) = 0.4149 m/min,
    # upwind = R_d R_s / (2 R_d - R_s) = 0.3022 m/min
    rd, rs, ru = (hamada_ros_m_s(10.0, 5.0, 5.0, c, OLD) * 60.0 for c in (1.0, 0.0, -1.0))
    assert rd == pytest.approx(0.6619, abs=1e-4)
    assert rs == pytest.approx(0.4149, abs=1e-4)
    assert ru == pytest.approx(0.3022, abs=1e-4)
    # the focal ellipse: R(theta) (1 - e cos theta) is constant
    e = (rd - rs) / rd
    for th in (0.3, 1.1, 2.0, 2.9):
        r = hamada_ros_m_s(10.0, 5.0, 5.0, math.cos(th), OLD) * 60.0
        assert r * (1 - e * math.cos(th)) == pytest.approx(rd * (1 - e), rel=1e-12)


def test_hamada_fire_resistant_stock_does_not_spread() -> None:
    assert hamada_ros_m_s(10.0, 5.0, 8.0, 1.0, HamadaShares(fire_resistant=1.0, bare_wood=0.5, mortar_wood=0.5)) == 0.0
    # wider gaps slow the spread
    assert hamada_ros_m_s(10.0, 20.0, 0.0, 1.0, OLD) < hamada_ros_m_s(10.0, 5.0, 0.0, 1.0, OLD)

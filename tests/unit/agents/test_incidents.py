"""Tests of agents.incidents: NHPP rates and hour profiles, hot spots, tracks, determinism,
bad settings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from agents.incidents import (
    DEFAULT_HOUR_PROFILES,
    INCIDENT_KINDS,
    IncidentSettings,
    IncidentSettingsError,
    generate_incidents,
    incident_places,
    nhpp_times,
    with_rates,
)
from geometry.sample import sample_community


@pytest.fixture(scope="module")
def site():
    return sample_community()


@pytest.fixture(scope="module")
def places(site):
    return incident_places(site)


def test_nhpp_mean_and_hour_profile():
    rng = np.random.default_rng(1)
    prof = np.array(DEFAULT_HOUR_PROFILES["intrusion"])
    days, rate = 2000.0, 3.0
    t = nhpp_times(rng, rate_per_day=rate, profile=prof, days=days)
    n = t.size
    assert abs(n - rate * days) < 4 * math.sqrt(rate * days)
    counts = np.bincount(((t % 86400) // 3600).astype(int), minlength=24)
    expect = rate * days * prof / prof.sum()
    assert np.all(np.abs(counts - expect) < 5 * np.sqrt(expect) + 1)
    assert np.all(np.diff(t) >= 0) and t.min() >= 0 and t.max() < days * 86400


def test_rates_reproduce_configured_means(site, places):
    st = IncidentSettings(scale_to_site=False, rates_per_day={"theft": 0.5, "intrusion": 0.3, "fall": 0.6,
                                                                "thrown_object": 0.2, "hazard": 1.0})
    days = 400
    s = generate_incidents(site, days=days, seed=3, settings=st, places=places)
    counts = s.table["kind"].value_counts()
    for k, r in st.rates_per_day.items():
        mu = r * days
        assert abs(counts.get(k, 0) - mu) < 4 * math.sqrt(mu), (k, counts.get(k, 0), mu)


def test_scaling_to_site_and_old_estate(site, places):
    base = IncidentSettings(rates_per_day={"hazard": 2.0})
    days = 300
    n_new = len(generate_incidents(site, days=days, seed=5, settings=base, places=places))
    n_old = len(generate_incidents(site, days=days, seed=5, settings=IncidentSettings(
        rates_per_day={"hazard": 2.0}, old_estate=True), places=places))
    scale = site.households * 2.83 / 8500.0
    assert abs(n_new - 2.0 * days * scale) < 4 * math.sqrt(2.0 * days * scale)
    assert abs(n_old / n_new - 1.18) < 0.12


def test_hot_spots_by_hour(site, places):
    st = IncidentSettings(scale_to_site=False, rates_per_day={"theft": 2.0, "intrusion": 2.0})
    s = generate_incidents(site, days=150, seed=11, settings=st, places=places)
    t = s.table
    intr = t[t.kind == "intrusion"]
    assert intr["night"].mean() > 0.8
    assert (intr["entry"] == "breach").all()
    theft = t[t.kind == "theft"]
    night_ch = (theft[theft.night]["place_class"] == "charging").mean()
    day_ch = (theft[~theft.night]["place_class"] == "charging").mean()
    assert night_ch > day_ch + 0.1
    assert set(theft["entry"]) <= {g.id for g in site.gates}
    # breach points avoid the gates: none within 10 m of a gate is drawn more than its share
    gxy = np.array([[g.position.x, g.position.y] for g in site.gates])
    d = np.min(np.hypot(intr["entry_x"].to_numpy()[:, None] - gxy[:, 0], intr["entry_y"].to_numpy()[:, None] - gxy[:, 1]), axis=1)
    assert np.mean(d < 10) < 0.02


def test_tracks_walk_the_graph(site, places):
    st = IncidentSettings(scale_to_site=False, rates_per_day={"intrusion": 1.0})
    s = generate_incidents(site, days=10, seed=2, settings=st, places=places)
    assert len(s.tracks) == len(s.table) > 0
    for _, row in s.table.iterrows():
        tr = s.tracks[int(row["id"])]
        assert tr.t[0] == pytest.approx(row["t_s"])
        np.testing.assert_allclose(tr.position(row["t_s"])[0], [row["entry_x"], row["entry_y"]])
        np.testing.assert_allclose(tr.position(tr.t_target)[0], [row["x"], row["y"]], atol=1e-6)
        np.testing.assert_allclose(tr.position(tr.t_leave)[0], [row["x"], row["y"]], atol=1e-6)
        np.testing.assert_allclose(tr.position(tr.t_end)[0], [row["entry_x"], row["entry_y"]], atol=1e-6)
        assert tr.t_leave - tr.t_target == pytest.approx(600.0)
        step = np.hypot(*np.diff(tr.xy, axis=0).T)
        dt = np.diff(tr.t)
        moving = (dt > 0) & ~np.isclose(tr.t[:-1], tr.t_target)  # all but the dwell
        np.testing.assert_allclose(step[moving] / dt[moving], 1.34, rtol=1e-6)
        for a, b in zip(tr.nodes, tr.nodes[1:]):
            assert places.graph.has_edge(a, b)


def test_thrown_objects_and_falls(site, places):
    st = IncidentSettings(scale_to_site=False, rates_per_day={"thrown_object": 2.0, "fall": 2.0})
    t = generate_incidents(site, days=60, seed=4, settings=st, places=places).table
    th = t[t.kind == "thrown_object"]
    for _, r in th.iterrows():
        b = site.building(r["place"])
        assert 3 <= r["storey"] < b.storeys
    f = t[t.kind == "fall"]
    assert 0.65 < f["indoor"].mean() < 0.95
    assert all(places.graph.nodes[n]["kind"] == "unit" for n in f[f.indoor]["node"])


def test_determinism(site, places):
    a = generate_incidents(site, days=20, seed=7, places=places).table
    b = generate_incidents(site, days=20, seed=7, places=places).table
    c = generate_incidents(site, days=20, seed=8, places=places).table
    assert a.equals(b)
    assert not (len(a) == len(c) and np.allclose(a["t_s"], c["t_s"]))
    # a kind's stream does not depend on the other kinds' rates
    only = generate_incidents(site, days=20, seed=7, places=places,
                              settings=with_rates(IncidentSettings(), hazard=0.0)).table
    np.testing.assert_array_equal(only[only.kind == "theft"]["t_s"].to_numpy(), a[a.kind == "theft"]["t_s"].to_numpy())


@pytest.mark.parametrize("kw, field", [
    (dict(rates_per_day={"theft": -1.0}), "rates_per_day['theft']"),
    (dict(rates_per_day={"burglary": 1.0}), "unknown incident kind 'burglary'"),
    (dict(hour_profiles={**DEFAULT_HOUR_PROFILES, "theft": (1.0,) * 23}), "hour_profiles['theft']"),
    (dict(hour_profiles={**DEFAULT_HOUR_PROFILES, "fall": (0.0,) * 24}), "hour_profiles['fall']"),
    (dict(fall_indoor_share=1.5), "fall_indoor_share"),
    (dict(walk_speed_m_s=0.0), "walk_speed_m_s"),
    (dict(night_hours=(19, 25)), "night_hours"),
    (dict(theft_places={"garden": (1.0, 1.0)}), "unknown place class 'garden'"),
])
def test_bad_settings(site, places, kw, field):
    with pytest.raises(IncidentSettingsError) as e:
        generate_incidents(site, days=1, seed=0, settings=IncidentSettings(**kw), places=places)
    assert field in str(e.value)


def test_bad_days(site, places):
    for d in (0, -1, float("nan")):
        with pytest.raises(ValueError, match="days"):
            generate_incidents(site, days=d, places=places)


def test_kinds_constant():
    assert set(DEFAULT_HOUR_PROFILES) == set(INCIDENT_KINDS)

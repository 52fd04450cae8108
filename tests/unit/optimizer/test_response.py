"""Unit tests for optimizer.response: p-median, maximal covering and set covering under a
response standard against brute force on small instances; the OR-Library pmed reader."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from optimizer.response import (
    OrlibFormatError,
    location_set_covering,
    max_covering_response,
    p_median,
    read_orlib_pmed,
)


def _points(seed: int, nf: int = 12, nd: int = 15) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    f = rng.random((nf, 2)) * 100.0
    d = rng.random((nd, 2)) * 100.0
    dist = np.linalg.norm(f[:, None, :] - d[None, :, :], axis=2)
    return dist, rng.integers(1, 10, nd).astype(float)


def _brute_pmedian(dist: np.ndarray, w: np.ndarray, p: int) -> float:
    return min(
        float((dist[list(s)].min(axis=0) * w).sum())
        for s in itertools.combinations(range(dist.shape[0]), p)
    )


def test_p_median_on_a_line() -> None:
    x = np.array([0.0, 1.0, 2.0, 10.0, 11.0, 12.0])
    dist = np.abs(x[:, None] - x[None, :])
    r = p_median(dist, p=2)
    assert r.open.tolist() == [1, 4] and r.objective == 4.0 and r.optimal
    assert r.assignment.tolist() == [1, 1, 1, 4, 4, 4]
    # a heavy demand at 12 pulls the second median there
    r = p_median(dist, p=2, weight=[1, 1, 1, 1, 1, 100])
    assert r.open.tolist() == [1, 5] and r.objective == pytest.approx(2 + 2 + 1)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("p", [2, 3, 5])
def test_p_median_matches_brute_force(seed: int, p: int) -> None:
    dist, w = _points(seed)
    best = _brute_pmedian(dist, w, p)
    for reduce in (True, False):
        r = p_median(dist, p=p, weight=w, reduce=reduce)
        assert r.optimal and r.objective == pytest.approx(best) and r.open.size == p
        assert r.bound <= best + 1e-6
    h = p_median(dist, p=p, weight=w, method="heuristic")
    assert h.open.size == p and h.objective >= best - 1e-6 and h.bound <= best + 1e-6
    g = p_median(dist, p=p, weight=w, method="greedy")
    assert g.objective == pytest.approx(h.objective)


@pytest.mark.parametrize("seed", range(4))
def test_max_covering_matches_brute_force(seed: int) -> None:
    dist, w = _points(seed + 20)
    std, p = 30.0, 3
    cov = dist <= std
    best = max(
        float(w[cov[list(s)].any(axis=0)].sum())
        for s in itertools.combinations(range(dist.shape[0]), p)
    )
    r = max_covering_response(dist, standard=std, p=p, weight=w)
    assert r.optimal and r.objective == pytest.approx(best) and r.open.size <= p
    assert r.covered is not None and w[r.covered].sum() == pytest.approx(best)
    assert np.all((r.assignment >= 0) == r.covered)
    h = max_covering_response(dist, standard=std, p=p, weight=w, method="heuristic")
    assert h.objective <= best + 1e-9 and h.open.size <= p and h.bound >= best - 1e-9


def test_location_set_covering() -> None:
    dist, _w = _points(4)
    std = 45.0
    cov = dist <= std
    best = next(
        q for q in range(1, dist.shape[0] + 1)
        if any(cov[list(s)].any(axis=0).all()
               for s in itertools.combinations(range(dist.shape[0]), q))
    )
    r = location_set_covering(dist, standard=std)
    assert r.optimal and r.objective == best and r.covered is not None and r.covered.all()
    with pytest.raises(ValueError, match="demand node .* farther than the standard 1.0"):
        location_set_covering(dist, standard=1.0)


def test_inf_allowed_for_covering_not_for_p_median() -> None:
    dist = np.array([[0.0, np.inf], [np.inf, 0.0]])
    r = max_covering_response(dist, standard=5.0, p=1)
    assert r.objective == 1.0
    with pytest.raises(ValueError, match=r"dist\[0, 1\] is infinite"):
        p_median(dist, p=1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: p_median(np.ones((3, 4)), p=0), "p must be between 1 and"),
        (lambda: p_median(np.ones((3, 4)), p=4), "p must be between 1 and"),
        (lambda: p_median(np.ones(4), p=1), "2-D array"),
        (lambda: p_median(-np.ones((3, 4)), p=1), r"dist\[0, 0\] = -1.0 is negative"),
        (lambda: p_median(np.full((3, 4), np.nan), p=1), "NaN"),
        (lambda: p_median(np.ones((3, 4)), p=1, weight=[1, 2]), "one entry per demand node"),
        (lambda: p_median(np.ones((3, 4)), p=1, weight=[1, 2, -1, 1]), r"weight\[2\]"),
        (lambda: p_median(np.ones((3, 4)), p=1, method="fast"), "method"),
        (lambda: max_covering_response(np.ones((3, 4)), standard=-1, p=1), "standard"),
        (lambda: location_set_covering(np.ones((3, 4)), standard=2, cost=[1, 2]), "cost"),
    ],
)
def test_bad_inputs(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        call()


def test_p_must_be_an_integer() -> None:
    with pytest.raises(TypeError, match="p must be an integer"):
        p_median(np.ones((3, 4)), p=1.5)  # type: ignore[arg-type]


def test_read_orlib_pmed_last_edge_counts(tmp_path: Path) -> None:
    f = tmp_path / "g.txt"
    # path 1-2-3 plus a 1-3 edge listed twice: the last cost (2) counts, not the first (50)
    f.write_text(" 3 4 1\n 1 2 5\n 1 3 50\n 2 3 5\n 3 1 2\n")
    inst = read_orlib_pmed(f)
    assert inst.p == 1 and inst.n_edges == 4 and inst.name == "g"
    assert inst.dist.tolist() == [[0, 5, 2], [5, 0, 5], [2, 5, 0]]
    r = p_median(inst.dist, p=inst.p)
    assert r.open.tolist() == [0] and r.objective == 7.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (" 3 1 1\n 1 2 5\n", "disconnected"),
        (" 3 2 4\n", r"line 1: the number of medians p \(header\) must be in 1..3"),
        (" 3 2 1\n 1 2 5\n 2 9 1\n", r"line 3: edge 2: second vertex must be in 1..3, got 9"),
        (" 3 2 1\n 1 2 5\n 2 3\n", "file ends early; expected edge 2: cost"),
        (" 3 2 1\n 1 2 5\n 2 3 a\n", r"line 3: edge 2: cost must be a number, got 'a'"),
    ],
)
def test_read_orlib_pmed_bad(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "bad.txt"
    f.write_text(text)
    with pytest.raises(OrlibFormatError, match=message):
        read_orlib_pmed(f)

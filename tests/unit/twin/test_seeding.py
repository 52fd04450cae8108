"""Seeding: named streams independent of call order; replications as SeedSequence.spawn."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.random import SeedSequence

from twin.seeding import replication_seeds, root_sequence, stream


def test_stream_deterministic_per_seed_and_name() -> None:
    a = stream(root_sequence(7), "crowd").random(5)
    b = stream(root_sequence(7), "crowd").random(5)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, stream(root_sequence(8), "crowd").random(5))
    assert not np.array_equal(a, stream(root_sequence(7), "fire").random(5))


def test_stream_independent_of_call_order_and_spawns() -> None:
    seq1 = root_sequence(3)
    first = stream(seq1, "fire").random(4)
    seq2 = root_sequence(3)
    seq2.spawn(5)  # spawning children must not shift named streams
    stream(seq2, "crowd").random(100)
    assert np.array_equal(first, stream(seq2, "fire").random(4))


def test_streams_differ_from_spawned_children() -> None:
    seq = root_sequence(11)
    child_draws = [np.random.default_rng(c).random(3) for c in seq.spawn(3)]
    named = stream(seq, "x").random(3)
    assert all(not np.array_equal(named, c) for c in child_draws)


def test_replication_seeds_match_spawn_and_repeat() -> None:
    reps = replication_seeds(5, 4)
    fresh = SeedSequence(5).spawn(4)
    assert [r.spawn_key for r in reps] == [f.spawn_key for f in fresh] == [(0,), (1,), (2,), (3,)]
    assert [r.entropy for r in reps] == [5] * 4
    assert np.array_equal(np.random.default_rng(reps[2]).random(3), np.random.default_rng(fresh[2]).random(3))
    root = SeedSequence(5)
    assert [r.spawn_key for r in replication_seeds(root, 2)] == [r.spawn_key for r in replication_seeds(root, 2)]
    # streams of different replications differ
    assert not np.array_equal(stream(reps[0], "crowd").random(3), stream(reps[1], "crowd").random(3))


def test_root_sequence_accepts_sequence_and_rejects_bad() -> None:
    ss = SeedSequence(9, spawn_key=(2,))
    assert root_sequence(ss) is ss
    assert root_sequence(np.int64(4)).entropy == 4
    with pytest.raises(ValueError, match="non-negative"):
        root_sequence(-1)
    with pytest.raises(TypeError, match="seed"):
        root_sequence("42")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="stream name"):
        stream(ss, "")
    with pytest.raises(ValueError, match="non-negative int"):
        replication_seeds(1, -2)

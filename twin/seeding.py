"""Reproducible randomness: one :class:`numpy.random.SeedSequence` per run, spawned per
replication and split into named streams per component (DESIGN.md, "Conventions").

* :func:`root_sequence` turns a seed (a non-negative int, or a ``SeedSequence`` from a
  replication) into the run's root sequence.
* :func:`stream` gives the random generator for a *named* purpose (``"crowd"``,
  ``"fire:B03"``). It depends only on the root sequence and the name -- not on how many other
  streams were made or in which order -- because the child sequence is built directly with
  ``spawn_key = root.spawn_key + (STREAM_TAG, crc32(name))``. ``zlib.crc32`` is stable across
  processes and Python versions (unlike ``hash``). ``STREAM_TAG`` keeps named streams disjoint
  from the children that ``SeedSequence.spawn`` makes (keys ``root.spawn_key + (i,)``).
* :func:`replication_seeds` gives the ``n`` replication sequences, equal to what
  ``root.spawn(n)`` gives on a fresh root, but independent of earlier ``spawn`` calls.

Generators are ``numpy.random.Generator(PCG64)``, numpy's default (O'Neill 2014, PCG).
"""

from __future__ import annotations

import zlib

import numpy as np
from numpy.random import PCG64, Generator, SeedSequence

__all__ = ["STREAM_TAG", "name_key", "replication_seeds", "root_sequence", "stream", "stream_sequence"]

#: First extra spawn-key word of every named stream ("strm" in ASCII).
STREAM_TAG = 0x7374726D


def root_sequence(seed: int | SeedSequence) -> SeedSequence:
    """The run's root sequence: ``SeedSequence(seed)`` for a non-negative int, or ``seed``
    itself when it already is a SeedSequence (a replication child)."""
    if isinstance(seed, SeedSequence):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed: expected a non-negative int or numpy.random.SeedSequence, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed: expected a non-negative int, got {seed}")
    return SeedSequence(int(seed))


def name_key(name: str) -> int:
    """The stable 32-bit key of a stream name (``zlib.crc32`` of its UTF-8 bytes)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"stream name: expected a non-empty string, got {name!r}")
    return zlib.crc32(name.encode("utf-8"))


def stream_sequence(seq: SeedSequence | int, name: str) -> SeedSequence:
    """The child SeedSequence of ``seq`` for stream ``name`` (see the module docstring)."""
    root = root_sequence(seq)
    return SeedSequence(
        entropy=root.entropy,
        spawn_key=(*root.spawn_key, STREAM_TAG, name_key(name)),
        pool_size=root.pool_size,
    )


def stream(seq: SeedSequence | int, name: str) -> Generator:
    """A fresh generator for stream ``name`` of ``seq``: same (seed, name) -> same numbers."""
    return Generator(PCG64(stream_sequence(seq, name)))


def replication_seeds(seed: int | SeedSequence, n: int) -> list[SeedSequence]:
    """The ``n`` replication sequences of ``seed``: children ``spawn_key + (i,)``, i = 0..n-1,
    exactly as a fresh ``SeedSequence.spawn(n)`` gives them (the root's spawn counter is
    neither read nor advanced, so repeated calls agree)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"replication_seeds: n must be a non-negative int, got {n!r}")
    root = root_sequence(seed)
    return [
        SeedSequence(entropy=root.entropy, spawn_key=(*root.spawn_key, i), pool_size=root.pool_size)
        for i in range(int(n))
    ]

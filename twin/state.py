"""Struct-of-arrays state storage: a registry of named numpy arrays (DESIGN.md, principle 2).

Components register their arrays here (``people_x``, ``smoke_density``, ``device_state``...)
and keep references to them; kernels operate on the arrays directly. The twin copies them all
for snapshots (:meth:`StateArrays.copy`) and restores them in place (:meth:`StateArrays.load`),
so a component's references stay valid across a restore whenever shapes and dtypes match. The
recorder writes the arrays marked ``record=True`` as hazard/field snapshots.
"""

from __future__ import annotations

from typing import Iterator, Mapping

import numpy as np

__all__ = ["StateArrays"]


class StateArrays:
    """Named numpy arrays. Names are unique; arrays are stored as given (not copied), so the
    registering component and the kernels share them."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}
        self._record: dict[str, bool] = {}

    def add(self, name: str, array: np.ndarray, *, record: bool = True) -> np.ndarray:
        """Register ``array`` under ``name`` and return it. ``record=False`` leaves it out of the
        recorder's periodic field snapshots (it is still saved by ``Twin.snapshot``)."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"StateArrays.add: name must be a non-empty string, got {name!r}")
        if name in self._arrays:
            raise ValueError(f"StateArrays.add: an array named {name!r} is already registered")
        if not isinstance(array, np.ndarray):
            raise TypeError(
                f"StateArrays.add({name!r}): expected a numpy.ndarray, got {type(array).__name__}"
            )
        if array.dtype == object:
            raise TypeError(f"StateArrays.add({name!r}): object arrays are not state; use a numeric dtype")
        self._arrays[name] = array
        self._record[name] = bool(record)
        return array

    def remove(self, name: str) -> None:
        """Unregister ``name``."""
        self._check(name)
        del self._arrays[name]
        del self._record[name]

    def _check(self, name: str) -> None:
        if name not in self._arrays:
            known = ", ".join(self._arrays) or "none"
            raise KeyError(f"no state array named {name!r}; registered: {known}")

    def __getitem__(self, name: str) -> np.ndarray:
        self._check(name)
        return self._arrays[name]

    def get(self, name: str, default: np.ndarray | None = None) -> np.ndarray | None:
        return self._arrays.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._arrays

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    @property
    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._arrays)

    @property
    def recorded_names(self) -> list[str]:
        """Names the recorder writes in field snapshots."""
        return [n for n in self._arrays if self._record[n]]

    def copy(self, names: list[str] | None = None) -> dict[str, np.ndarray]:
        """Deep copies of the arrays (all, or ``names``), keyed by name."""
        selected = self.names if names is None else names
        return {n: self[n].copy() for n in selected}

    def load(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Restore from ``arrays`` (e.g. a :meth:`copy`): copies into the existing array in place
        when shape and dtype match, otherwise replaces it with a copy; unknown names are added.
        Arrays not in ``arrays`` are left as they are."""
        for name, value in arrays.items():
            value = np.asarray(value)
            current = self._arrays.get(name)
            if current is not None and current.shape == value.shape and current.dtype == value.dtype:
                np.copyto(current, value)
            elif current is not None:
                self._arrays[name] = value.copy()
            else:
                self.add(name, value.copy())

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}: {a.dtype}{list(a.shape)}" for n, a in self._arrays.items())
        return f"StateArrays({inner})"

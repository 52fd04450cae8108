"""StateArrays: registration, copies, in-place restore."""

from __future__ import annotations

import numpy as np
import pytest

from twin.state import StateArrays


def test_add_get_names_and_shared_storage() -> None:
    s = StateArrays()
    x = np.zeros(3)
    assert s.add("x", x) is x
    s.add("mask", np.ones(2, dtype=bool), record=False)
    assert s.names == ["x", "mask"] and s.recorded_names == ["x"]
    assert "x" in s and len(s) == 2 and list(s) == ["x", "mask"]
    s["x"][1] = 5.0
    assert x[1] == 5.0


def test_copy_is_deep_and_load_restores_in_place() -> None:
    s = StateArrays()
    x = s.add("x", np.arange(4.0))
    saved = s.copy()
    x[:] = -1
    assert saved["x"].tolist() == [0.0, 1.0, 2.0, 3.0]
    s.load(saved)
    assert s["x"] is x and x.tolist() == [0.0, 1.0, 2.0, 3.0]
    x[:] = 7
    assert saved["x"][0] == 0.0  # load copied, did not alias


def test_load_replaces_on_shape_change_and_adds_new() -> None:
    s = StateArrays()
    x = s.add("x", np.zeros(2))
    src = {"x": np.ones(5), "y": np.arange(3)}
    s.load(src)
    assert s["x"] is not x and s["x"].shape == (5,)
    assert s["x"] is not src["x"] and s["y"] is not src["y"]
    assert s.names == ["x", "y"]


def test_errors() -> None:
    s = StateArrays()
    s.add("x", np.zeros(2))
    with pytest.raises(ValueError, match="'x' is already registered"):
        s.add("x", np.zeros(2))
    with pytest.raises(TypeError, match="expected a numpy.ndarray, got list"):
        s.add("y", [1, 2])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="object arrays"):
        s.add("z", np.array([None, 1], dtype=object))
    with pytest.raises(KeyError, match="no state array named 'q'; registered: x"):
        s["q"]
    with pytest.raises(ValueError, match="non-empty string"):
        s.add("", np.zeros(1))
    s.remove("x")
    assert s.names == []

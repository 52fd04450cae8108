"""Bad inputs to twin.flood.solvers give ValueErrors that name the field and what was expected;
plus small unit checks of the interface (recording, points, unit conversion)."""

from __future__ import annotations

import numpy as np
import pytest

from twin.flood import FloodForcing, FloodGrid, FloodModel, Inflow
from twin.flood._forcing_kernel import inv_cbrt, rain_depth


def _grid(**kw: object) -> FloodGrid:
    return FloodGrid(np.zeros((4, 5)), 1.0, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("kw, match", [
    ({"bed_m": np.zeros(5)}, r"FloodGrid.bed_m: expected a 2-D array"),
    ({"bed_m": np.full((2, 2), np.nan)}, r"FloodGrid.bed_m: expected finite"),
    ({"bed_m": [["a"]]}, r"FloodGrid.bed_m: expected numbers"),
    ({"cell_size_m": 0.0}, r"FloodGrid.cell_size_m: expected a positive"),
    ({"cell_size_m": "x"}, r"FloodGrid.cell_size_m"),
    ({"manning_n": -0.1}, r"FloodGrid.manning_n: expected values >= 0"),
    ({"manning_n": np.zeros((3, 3))}, r"FloodGrid.manning_n: expected a scalar or shape"),
    ({"closed": np.zeros((2, 2), bool)}, r"FloodGrid.closed: expected shape"),
    ({"closed": np.full((4, 5), 2)}, r"FloodGrid.closed: expected booleans"),
    ({"origin": (1.0,)}, r"FloodGrid.origin: expected \(x, y\)"),
])
def test_bad_grid(kw: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"bed_m": np.zeros((4, 5)), "cell_size_m": 1.0}
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        FloodGrid(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize("kw, match", [
    ({"rain_times_s": [0, 10]}, r"rain: expected both"),
    ({"rain_times_s": [0, 10], "rain_mm_h": [1.0, 2.0]}, r"rain_times_s: expected the 3"),
    ({"rain_times_s": [10, 0], "rain_mm_h": [1.0]}, r"rain_times_s: expected strictly"),
    ({"rain_times_s": [0, 10], "rain_mm_h": [-1.0]}, r"rain_mm_h: expected intensities >= 0"),
    ({"drain_capacity_mm_h": -5.0}, r"drain_capacity_mm_h: expected >= 0"),
    ({"inlet_cells": np.array([[0, 0]])}, r"inlets: expected both"),
    ({"inlet_cells": np.array([[0, 0]]), "inlet_capacity_m3_s": [1.0, 2.0]},
     r"inlet_capacity_m3_s: expected one capacity per inlet cell"),
    ({"inlet_cells": np.array([0.5, 1.0]), "inlet_capacity_m3_s": [1.0]},
     r"inlet_cells: expected integer \(row, column\) pairs"),
    ({"inflows": ["x"]}, r"inflows\[0\]: expected an Inflow"),
    ({"boundaries": {"up": "open"}}, r"unknown side 'up'"),
    ({"boundaries": {"west": "wall"}}, r"boundaries\['west'\]: expected 'closed', 'open'"),
    ({"boundaries": {"west": float("nan")}}, r"boundaries\['west'\]: expected a finite level"),
    ({"boundaries": {"east": ([0, 1], [1.0])}}, r"boundaries\['east'\]: expected as many"),
    ({"boundaries": {"east": ([1, 0], [1.0, 2.0])}}, r"boundaries\['east'\] times_s: expected"),
])
def test_bad_forcing(kw: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        FloodForcing(**kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("kw, match", [
    ({"cells": np.array([1, 2])}, r"Inflow 'q' cells: expected \(row, column\) pairs"),
    ({"cells": np.array([[0.0, 1.0]])}, r"Inflow 'q' cells: expected integer"),
    ({"discharge_m3_s": [-1.0, 0.0]}, r"Inflow 'q' values: expected values >= 0"),
    ({"times_s": [0.0]}, r"Inflow 'q': expected as many values as times"),
])
def test_bad_inflow(kw: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"cells": np.array([[0, 0]]), "times_s": [0.0, 1.0],
                               "discharge_m3_s": [0.0, 1.0], "name": "q"}
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        Inflow(**args)  # type: ignore[arg-type]


def test_bad_model_options() -> None:
    g = _grid()
    with pytest.raises(ValueError, match=r"solver: expected one of"):
        FloodModel(g, solver="sph")
    with pytest.raises(ValueError, match=r"grid: expected a FloodGrid"):
        FloodModel(np.zeros((3, 3)))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"alpha: expected 0 < alpha <= 1"):
        FloodModel(g, alpha=1.5)
    with pytest.raises(ValueError, match=r"theta: expected 0.5 <= theta <= 1"):
        FloodModel(g, theta=0.2)
    with pytest.raises(ValueError, match=r"cfl: expected 0 < cfl <= 0.5 \(positivity\)"):
        FloodModel(g, solver="fv", order=1, cfl=0.9)
    with pytest.raises(ValueError, match=r"cfl: expected 0 < cfl <= 0.25 \(positivity, order 2"):
        FloodModel(g, solver="fv", cfl=0.3)
    for bad in (3, 0, True, "2"):
        with pytest.raises(ValueError, match=r"order: expected 1 or 2"):
            FloodModel(g, solver="fv", order=bad)  # type: ignore[arg-type]
    assert FloodModel(g, solver="fv").cfl == 0.25
    assert FloodModel(g, solver="fv", order=1).cfl == 0.45
    with pytest.raises(ValueError, match=r"at most one of them"):
        FloodModel(g, initial_depth_m=0.1, initial_level_m=0.2)
    with pytest.raises(ValueError, match=r"initial_depth_m: expected depths >= 0"):
        FloodModel(g, initial_depth_m=-0.1)
    with pytest.raises(ValueError, match=r"initial_level_m: expected a scalar or shape"):
        FloodModel(g, initial_level_m=np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"forcing: expected a FloodForcing"):
        FloodModel(g, forcing={"rain": 1})  # type: ignore[arg-type]


def test_forcing_cells_checked_against_grid() -> None:
    closed = np.zeros((4, 5), bool)
    closed[1, 1] = True
    g = _grid(closed=closed)
    f = FloodForcing(inlet_cells=np.array([[9, 0]]), inlet_capacity_m3_s=[0.1])
    with pytest.raises(ValueError, match=r"inlet_cells: cell \(row 9, column 0\) lies outside"):
        FloodModel(g, forcing=f)
    f = FloodForcing(inflows=[Inflow(np.array([[1, 1]]), [0.0], [1.0], name="creek")])
    with pytest.raises(ValueError, match=r"Inflow 'creek' cells: cell \(row 1, column 1\) is a "
                                         r"closed"):
        FloodModel(g, forcing=f)


def test_run_arguments_and_points() -> None:
    m = FloodModel(_grid(), initial_depth_m=0.1)
    with pytest.raises(ValueError, match=r"until_s: expected a time after the current time"):
        m.run(0.0)
    with pytest.raises(ValueError, match=r"record_every_s: expected a positive"):
        m.run(10.0, record_every_s=-1.0)
    with pytest.raises(ValueError, match=r"points\[1\]: \(50.0, 0.5\) lies outside the grid"):
        m.run(10.0, points=[(0.5, 0.5), (50.0, 0.5)])
    with pytest.raises(ValueError, match=r"points: expected \(x, y\) pairs"):
        m.run(10.0, points=[1.0, 2.0])
    res = m.run(10.0, record_every_s=4.0, points=[(0.5, 0.5)])
    assert np.allclose(res.times_s, [0.0, 4.0, 8.0, 10.0])
    assert res.depth_m is not None and res.depth_m.shape == (4, 4, 5)
    assert np.allclose(res.point_depth_m, 0.1)
    res2 = m.run(20.0, record_fields=False)   # continues from t = 10
    assert res2.depth_m is None and res2.times_s[0] == 10.0 and m.time_s == 20.0


def test_rain_conversion_and_exact_hyetograph_integral() -> None:
    edges = np.array([0.0, 60.0, 120.0])
    rate = np.array([36.0, 72.0]) / 3.6e6  # mm/h -> m/s
    assert rain_depth(edges, rate, 30.0, 90.0) == pytest.approx((36 * 30 + 72 * 30) / 3.6e6)
    assert rain_depth(edges, rate, 200.0, 300.0) == 0.0
    g = _grid()
    m = FloodModel(g, forcing=FloodForcing(rain_times_s=[0.0, 3600.0], rain_mm_h=[36.0]))
    m.run(3600.0)
    assert m.mass_balance().rain_m3 == pytest.approx(0.036 * 20.0, rel=1e-12)
    assert np.allclose(m.depth_m, 0.036)  # flat closed box: uniform


def test_inv_cbrt_accuracy() -> None:
    for x in (1e-9, 1e-6, 0.001, 0.37, 1.0, 8.0, 1234.5):
        assert inv_cbrt(x) == pytest.approx(x ** (-1.0 / 3.0), rel=1e-12)


@pytest.mark.parametrize("solver", ["inertial", "fv"])
def test_open_boundary_drains_and_level_boundary_fills(solver: str) -> None:
    # a plane tilted down to the east with an open east side: water leaves, the books balance
    x = np.arange(30) + 0.5
    g = FloodGrid(np.tile(0.05 * (30 - x), (3, 1)), 1.0, manning_n=0.03)
    m = FloodModel(g, solver=solver, initial_depth_m=0.2,
                   forcing=FloodForcing(boundaries={"east": "open"}))
    m.run(600.0)
    mb = m.mass_balance()
    assert mb.outflow_m3 > 0.5 * mb.initial_m3 and mb.boundary_in_m3 == 0.0
    assert mb.relative_error < 1e-8
    # a dry flat basin with a fixed level of 0.3 m on its west side fills to that level
    g2 = FloodGrid(np.zeros((3, 20)), 1.0, manning_n=0.03)
    m2 = FloodModel(g2, solver=solver, forcing=FloodForcing(boundaries={"west": 0.3}))
    m2.run(1800.0)
    assert np.abs(m2.level_m - 0.3).max() < 5e-3  # a decaying seiche remains
    mb2 = m2.mass_balance()
    assert mb2.boundary_in_m3 == pytest.approx(mb2.stored_m3 + mb2.outflow_m3, rel=1e-10)
    assert mb2.relative_error < 1e-8

"""Crowd pictures (viz.crowd_pictures): valid images from hand-made traces, clear errors, and one
integration run of the real crowd model (60 persons, 8 x 5 m room, 1 m door) through metrics and
pictures."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib import animation
from PIL import Image
from shapely.geometry import box

from agents import _crowd_kernel as CK
from agents.crowd import CrowdModel
from agents.crowd_metrics import (
    CrowdTrace,
    bottlenecks,
    density_maps,
    evacuation_curve,
    queue_time,
    rset,
)
from geometry.raster import rasterize_polygons
from viz.crowd_pictures import animate_trace, plot_density_map, plot_evacuation_curves


def small_trace(nt: int = 6, n: int = 30) -> CrowdTrace:
    rng = np.random.default_rng(1)
    walk = np.ones((40, 60), dtype=bool)  # 6 x 4 m, 0.1 m cells
    walk[:, 29:31] = False
    walk[18:22, 29:31] = True  # a 0.4 m gap in a wall at x = 2.9-3.1
    x = rng.uniform(0.3, 2.7, (nt, n)).astype(np.float32)
    y = rng.uniform(0.3, 3.7, (nt, n)).astype(np.float32)
    x[-1, : n // 2] = np.nan
    y[-1, : n // 2] = np.nan
    speed = rng.uniform(0.0, 1.3, (nt, n)).astype(np.float32)
    door = np.zeros_like(walk)
    door[18:22, 29:31] = True
    return CrowdTrace(t=np.arange(nt, dtype=float), x=x, y=y, speed=speed, walking=np.isfinite(x),
                      v0=np.full(n, 1.3), origin=(0.0, 0.0), cell_size_m=0.1, walkable=walk,
                      regions={"gap": door}, stair_mask=None)


def assert_png(path, min_px: int = 300) -> None:
    with Image.open(path) as im:
        assert im.format == "PNG"
        im.verify()
    with Image.open(path) as im:
        assert min(im.size) >= min_px
        # not blank: several distinct colours
        assert len(im.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 10


def test_density_map_from_trace_and_from_array(tmp_path) -> None:
    tr = small_trace()
    p = plot_density_map(tr, path=tmp_path / "d.png", title="test 测试")
    assert_png(p)
    dmax, _ = density_maps(tr)
    p2 = plot_density_map(dmax, path=tmp_path / "sub" / "d2.png", title="array", walkable=tr.walkable,
                          cell_size_m=0.1, bottleneck_table=bottlenecks(tr))
    assert_png(p2)
    with pytest.raises(ValueError, match=r"ending in \.png"):
        plot_density_map(tr, path=tmp_path / "d.jpg")
    with pytest.raises(ValueError, match="2-D density array"):
        plot_density_map(np.zeros(5), path=tmp_path / "e.png")


def test_evacuation_curves_png(tmp_path) -> None:
    times = np.array([5.0, 7.0, 9.0, np.nan, 12.0, 15.0])
    df = evacuation_curve(times, groups=np.array(["adult", "child", "adult", "child", "adult", "child"]))
    assert_png(plot_evacuation_curves(df, path=tmp_path / "c.png", title="curve"))
    with pytest.raises(ValueError, match="lacks column 'out'"):
        plot_evacuation_curves(df.drop(columns=["out"]), path=tmp_path / "c2.png")


def test_animate_trace_gif_frames(tmp_path) -> None:
    tr = small_trace(nt=7)
    p = animate_trace(tr, path=tmp_path / "a.gif", fps=5, every=2)
    with Image.open(p) as im:
        assert im.format == "GIF"
        assert im.n_frames == 4  # samples 0, 2, 4, 6
    p = animate_trace(tr, path=tmp_path / "b.gif", max_frames=3)
    with Image.open(p) as im:
        assert im.n_frames == 3  # thinned to every 3rd sample
    with pytest.raises(ValueError, match="every must be an integer >= 1"):
        animate_trace(tr, path=tmp_path / "c.gif", every=0)
    if not animation.writers.is_available("ffmpeg"):
        with pytest.raises(ValueError, match="needs ffmpeg"):
            animate_trace(tr, path=tmp_path / "a.mp4")


def _room_with_door(w: float, h: float, door: float = 1.0):  # type: ignore[no-untyped-def]
    """The RiMEA/IMO validation room of tests/validation/test_crowd_rimea.py: a door ``door``
    wide centred in the north wall (0.2 m thick), exit area 0.5 m deep behind it; regions for
    the door passage, the exit and the room."""
    x0, x1 = w / 2 - door / 2, w / 2 + door / 2
    passage, ex = box(x0, h, x1, h + 0.2), box(x0, h + 0.2, x1, h + 0.7)
    room = box(0, 0, w, h)
    return rasterize_polygons([room, passage, ex], exits=ex, zones={"door": passage, "exit": ex, "room": room},
                              cell_size_m=0.1)


def test_integration_real_crowd_run(tmp_path) -> None:
    r = _room_with_door(8, 5)
    rng = np.random.default_rng(4)
    pts = np.empty((0, 2))
    while len(pts) < 60:
        p = rng.uniform([0.3, 0.3], [7.7, 4.7])
        if len(pts) == 0 or (np.hypot(*(pts - p).T) > 0.42).all():
            pts = np.vstack([pts, p])
    m = CrowdModel(r, rng=4)
    m.add_agents(pts[:, 0], pts[:, 1], v0=1.34)
    steps = round(1.0 / m.dt)
    t, xs, ys, sp, wk = [], [], [], [], []
    while True:
        inside = m.exit_times != m.exit_times  # NaN exit time: still inside
        t.append(m.t)
        xs.append(np.where(inside, m.x, np.nan).astype(np.float32))
        ys.append(np.where(inside, m.y, np.nan).astype(np.float32))
        sp.append(m.speed.astype(np.float32))
        wk.append(inside & (m.state == CK.WALKING))
        if m.remaining == 0 or m.t > 200:
            break
        for _ in range(steps):
            m.step()
    assert m.remaining == 0
    tr = CrowdTrace(t=np.array(t), x=np.stack(xs), y=np.stack(ys), speed=np.stack(sp), walking=np.stack(wk),
                    v0=m.v0.copy(), origin=r.origin, cell_size_m=r.cell_size_m, walkable=r.walkable,
                    regions=dict(r.zones))
    dmax, _ = density_maps(tr)
    door_bins = dmax[3:5, 3:5]  # the 2 x 2 m in front of the door (x 3-5, y 3-5)
    assert np.nanmax(door_bins) > 2.0
    bt = bottlenecks(tr)
    assert bt["region"].iloc[0] == "door"
    assert bt["person_s_queueing"].iloc[0] > 0.5 * bt["person_s_queueing"].sum()
    q = queue_time(tr)
    assert (q > 0).mean() > 0.7
    r_ = rset(m.exit_times)
    assert 30.0 < r_["rset_100"] < 120.0 and r_["n_left"] == 0
    assert_png(plot_density_map(tr, path=tmp_path / "density.png", title="60 persons, 8 x 5 m room, 1 m door"))
    curves = evacuation_curve(m.exit_times, groups=np.where(m.v0 > 1.0, "adults", "slow"))
    assert curves["out"].iloc[-1] == 60
    assert_png(plot_evacuation_curves(curves, path=tmp_path / "curves.png", title="evacuation"))
    g = animate_trace(tr, path=tmp_path / "run.gif", every=4)
    with Image.open(g) as im:
        assert im.format == "GIF" and im.n_frames == math.ceil(tr.nt / 4)

"""Pictures of a fire run: the FED plot and the 3D smoke scene (real renders, checked by pixels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from geometry.site import Site
from twin.fire.component import FireComponent
from twin.fire.sources import FireSource
from viz.fire_pictures import plot_fed, render_smoke_scene


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).astype(np.int16)


@pytest.fixture()
def burnt(small_site: Site) -> FireComponent:
    unit = small_site.building("B02").unit_ids(4)[1]
    fc = FireComponent(small_site, [FireSource(unit, "ultrafast", 4000.0, fuel="kitchen")], door_left_open_s=0.0)
    t = 0.0
    while t < 400.0:
        fc.advance(t, 2.0)
        t += 2.0
    return fc


def test_smoke_scene_shows_the_fire_and_the_smoke(small_site: Site, burnt: FireComponent, tmp_path: Path) -> None:
    out = render_smoke_scene(small_site, burnt, tmp_path / "smoke.png", window_size=(640, 420))
    px = _pixels(out)
    assert px.shape[:2] == (420, 640)
    fire_red = (px[..., 0] > 190) & (px[..., 1] < 120) & (px[..., 1] > 60) & (px[..., 2] < 80)
    assert fire_red.sum() > 20  # the burning flat (the legend patch alone is smaller)
    dark = (np.abs(px[..., 0] - px[..., 1]) < 8) & (px[..., 0] < 90)
    assert dark.sum() > 200  # dense smoke in the corridor
    with pytest.raises(ValueError, match="outside the recorded"):
        render_smoke_scene(small_site, burnt, tmp_path / "x.png", t_s=1e6)


def test_scene_focus_and_opacity_are_checked(small_site: Site, tmp_path: Path) -> None:
    from viz.scene3d import render_scene

    with pytest.raises(ValueError, match="focus names unknown"):
        render_scene(small_site, tmp_path / "a.png", window_size=(300, 200), focus=["B99"])


def test_fed_plot(tmp_path: Path) -> None:
    t = np.arange(0.0, 300.0, 5.0)
    fed = np.outer(t / 300.0, [0.1, 0.5, 1.2])
    out = plot_fed(t, fed, path=tmp_path / "fed.png", labels=["able", "elderly", "child"])
    with Image.open(out) as im:
        assert im.size[0] > 600
    with pytest.raises(ValueError, match=r"\.png"):
        plot_fed(t, fed, path=tmp_path / "fed.jpg", labels=["a", "b", "c"])
    with pytest.raises(ValueError, match="must be"):
        plot_fed(t, fed, path=tmp_path / "fed.png", labels=["a", "b"])

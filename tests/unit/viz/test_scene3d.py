"""The 3D site scene: a real off-screen render of the requested size with content, building
colours honoured, meshes at the right heights, large projected coordinates handled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from geometry.site import Site
from viz.scene3d import render_scene, scene_origin, site_meshes

SIZE = (400, 300)


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).astype(np.int16)


def _assert_not_blank(px: np.ndarray) -> None:
    assert px.std() > 20.0
    assert len(np.unique(px.reshape(-1, 3), axis=0)) > 300


def test_render_writes_png_of_requested_size_with_content(small_site: Site, tmp_path: Path) -> None:
    out = render_scene(small_site, tmp_path / "scene.png", window_size=SIZE)
    assert out == tmp_path / "scene.png" and out.is_file()
    with Image.open(out) as im:
        assert im.size == SIZE
    _assert_not_blank(_pixels(out))


def test_building_colors_change_the_picture(small_site: Site, tmp_path: Path) -> None:
    base = _pixels(render_scene(small_site, tmp_path / "a.png", window_size=SIZE, show_devices=False))
    red = _pixels(render_scene(small_site, tmp_path / "b.png", window_size=SIZE, show_devices=False,
                               building_colors={"B02": "#ff0000"}))
    changed = np.abs(base - red).sum(axis=2) > 30
    assert changed.sum() > 500  # the 18-storey tower is a large part of the view

    def reddish(px: np.ndarray) -> int:
        return int(((px[..., 0] > 150) & (px[..., 1] < 80) & (px[..., 2] < 80)).sum())

    assert reddish(red) > reddish(base) + 500


def test_site_meshes_building_heights(small_site: Site) -> None:
    meshes = site_meshes(small_site)
    for b in small_site.buildings:
        m = meshes[f"building:{b.id}"]
        x0, x1, y0, y1, z0, z1 = m.bounds
        fx0, fy0, fx1, fy1 = b.footprint.bounds
        assert (x0, y0, x1, y1) == pytest.approx((fx0, fy0, fx1, fy1), abs=1e-6)
        if b.storeys > 0:
            assert z0 == pytest.approx(b.base_z)
            assert z1 == pytest.approx(b.base_z + b.storeys * b.storey_height_m)
        else:  # the underground garage lies below its base
            assert z1 == pytest.approx(b.base_z)
            assert z0 == pytest.approx(b.base_z - b.basement_levels * b.storey_height_m)
    for name in ("terrain", "storey_lines", "way:road", "way:walkway", "way:ramp", "gates", "cameras",
                 "view_cones", "assembly_points", "devices:smoke_detector"):
        assert name in meshes and meshes[name].n_points > 0, name
    # per-household smoke detectors are aggregated: one dot per building and storey
    sphere_pts = meshes["devices:heat_detector"].n_points // 2
    n_storeys = sum(b.storeys for b in small_site.buildings if b.id in ("B01", "B02"))
    assert meshes["devices:smoke_detector"].n_points == n_storeys * sphere_pts


def test_ramp_descends_to_garage_level(small_site: Site) -> None:
    ramp = site_meshes(small_site)["way:ramp"]
    garage = small_site.building("B04")
    assert ramp.bounds[4] == pytest.approx(garage.level_z(-1) + 0.10, abs=0.05)


def test_large_projected_coordinates_render(site_factory: Any, tmp_path: Path) -> None:
    site = site_factory(offset=(85_000.0, 447_000.0))
    origin = scene_origin(site)
    assert origin == (85_000.0, 447_000.0)
    local = site_meshes(site, origin=origin)["building:B02"]
    assert 90 < local.bounds[0] < 110 and 50 < local.bounds[2] < 70
    import pyvista as pv

    marker = pv.Sphere(radius=6.0, center=(85_060.0, 447_100.0, 10.0))  # site coordinates
    plain = _pixels(render_scene(site, tmp_path / "far.png", window_size=SIZE))
    _assert_not_blank(plain)
    marked = _pixels(render_scene(site, tmp_path / "far_marked.png", window_size=SIZE,
                                  extra=[(marker, {"color": "#00ff00"})], extra_legend=[("marker", "#00ff00")]))
    green = (marked[..., 1] > 200) & (marked[..., 0] < 60) & (marked[..., 2] < 60)
    assert green.sum() > 50


def test_bad_options_are_rejected(small_site: Site, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="camera_position must be one of"):
        render_scene(small_site, tmp_path / "x.png", camera_position="diagonal")
    with pytest.raises(ValueError, match="unknown building"):
        render_scene(small_site, tmp_path / "x.png", building_colors={"B99": "red"})
    with pytest.raises(ValueError, match="window_size"):
        render_scene(small_site, tmp_path / "x.png", window_size=(10, 10))
    assert not (tmp_path / "x.png").exists()

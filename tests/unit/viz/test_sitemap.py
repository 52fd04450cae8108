"""The 2D site map: a real PNG with content, Chinese names rendered, options honoured."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from matplotlib.image import imread

from geometry.site import Site
from viz.sitemap import plot_site_map


def _pixels(path: Path) -> np.ndarray:
    img = imread(path)
    return img[..., :3]


def test_map_png_has_content(small_site: Site, tmp_path: Path) -> None:
    out = tmp_path / "map.png"
    fig = plot_site_map(small_site, out, dpi=60)
    assert out.is_file() and fig is not None
    px = _pixels(out)
    assert px.std() > 0.05
    assert len(np.unique((px * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 50


def test_devices_and_cones_change_the_picture(small_site: Site, tmp_path: Path) -> None:
    full, bare = tmp_path / "full.png", tmp_path / "bare.png"
    plot_site_map(small_site, full, dpi=60)
    plot_site_map(small_site, bare, dpi=60, show_devices=False, show_grids=False)
    assert not np.array_equal(_pixels(full), _pixels(bare))


def test_chinese_name_renders_without_missing_glyphs(small_site: Site, tmp_path: Path) -> None:
    small_site.name = "和平花园"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        plot_site_map(small_site, tmp_path / "zh.png", dpi=60)


def test_draws_into_a_given_axes(small_site: Site) -> None:
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot(1, 1, 1)
    assert plot_site_map(small_site, ax=ax) is fig
    assert ax.get_title() == small_site.name

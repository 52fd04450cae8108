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


# --- content of the map: legend, labels, title, layout -------------------------------------------

def _texts(fig) -> list[str]:  # type: ignore[no-untyped-def]
    ax = fig.axes[0]
    return [t.get_text() for t in ax.texts]


def _legend_labels(fig) -> list[str]:  # type: ignore[no-untyped-def]
    leg = fig.axes[0].get_legend()
    return [t.get_text() for t in leg.get_texts()]


def test_legend_has_way_widths_uses_and_household_key(small_site: Site) -> None:
    fig = plot_site_map(small_site, dpi=60)
    labels = _legend_labels(fig)
    assert "road (5-6 m wide)" in labels
    assert "fire lane (4 m wide)" in labels
    assert "footpath (2-2.5 m wide)" in labels
    assert "garage ramp (5 m wide)" in labels
    assert {"walk-up residential", "high-rise residential", "kindergarten", "underground garage"} <= set(labels)
    assert "assembly point (capacity, persons)" in labels
    assert "ground contour (m)" in labels
    assert "camera (5)" in labels
    assert "emergency button (1)" in labels  # the one at the square has no unit: drawn, not counted
    key = next(t for t in labels if t.startswith("per-household devices"))
    assert "SD = smoke detector (168)" in key and "WB = wristband (1)" in key


def test_building_labels_carry_household_counts_and_title_counts(small_site: Site) -> None:
    fig = plot_site_map(small_site, dpi=60)
    texts = _texts(fig)
    assert "B01 · 6F\n24 SD\n1 WB" in texts or "B01 · 6F\n24 SD · 1 WB" in texts
    assert any(t.startswith("B02 · 18F\n144 SD") for t in texts)
    assert "B04 · B1" in texts  # the underground garage
    assert "O-AP1\n600 p" in texts  # assembly point with its capacity
    assert "G-south (plate)" in texts and "G-west (face)" in texts
    assert "GR-W (Wang Li)" in texts
    assert "0" in texts and any(t.endswith(" m") and t[:-2].replace(".", "").isdigit() for t in texts)  # scale bar
    assert "N" in texts
    assert "4 buildings, 168 households, 5 cameras, 182 devices" in texts
    bare = plot_site_map(small_site, dpi=60, show_devices=False, show_grids=False)
    assert not any("SD" in t for t in _texts(bare)) and "GR-W (Wang Li)" not in _texts(bare)
    assert not any(t.startswith("camera") for t in _legend_labels(bare))


def _bare_site(n: int, *, size_m: float, gap_m: float) -> Site:
    """An imported-like site: a grid of small buildings and one road, no terrain, grids,
    gates, open spaces or devices."""
    from shapely.geometry import LineString, box

    from geometry.site import Building, BuildingUse, Way

    step = size_m + gap_m
    side = int(np.ceil(np.sqrt(n)))
    buildings = [Building(f"B{k:03d}", box((k % side) * step, (k // side) * step, (k % side) * step + size_m,
                                           (k // side) * step + size_m), BuildingUse.OTHER, storeys=2)
                 for k in range(n)]
    extent = side * step
    ways = [Way("W1", LineString([(0, -4), (extent, -4)]), 3.5, "road")]
    return Site(name="imported", boundary=box(-8, -8, extent + 8, extent + 8), crs="EPSG:28992",
                buildings=buildings, ways=ways).validate()


def test_imported_site_without_terrain_grids_or_devices(tmp_path: Path) -> None:
    site = _bare_site(4, size_m=20.0, gap_m=15.0)
    out = tmp_path / "bare.png"
    fig = plot_site_map(site, out, dpi=60)
    assert out.is_file() and _pixels(out).std() > 0.05
    labels = _legend_labels(fig)
    assert labels == ["road (3.5 m wide)", "other building", "estate boundary"]
    assert "4 buildings" in _texts(fig)
    assert "EPSG:28992" in fig.axes[0].get_xlabel()


def test_dense_labels_are_thinned_and_do_not_overlap() -> None:
    site = _bare_site(400, size_m=6.0, gap_m=2.0)  # 400 small houses: far too many labels
    fig = plot_site_map(site, dpi=60)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts if t.get_text().startswith("B")]
    assert 0 < len(boxes) < 400
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b), "building labels overlap"

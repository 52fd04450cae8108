"""DEM input and output: ESRI ASCII grids and GeoTIFF round trips, NODATA filling, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geometry.dem import read_dem, write_esri_ascii, write_geotiff


def _z() -> np.ndarray:
    z = np.add.outer(np.arange(5.0), np.arange(7.0) * 0.5)  # row 0 south, rising north and east
    z[2, 3] = np.nan
    return z


@pytest.mark.parametrize("suffix", [".asc", ".tif"])
def test_round_trip_keeps_georeference_and_values(tmp_path: Path, suffix: str) -> None:
    z = _z()
    path = tmp_path / f"dem{suffix}"
    (write_esri_ascii if suffix == ".asc" else write_geotiff)(path, z, origin=(431000.0, 3852000.0), cell_size_m=2.0)
    t, filled = read_dem(path)
    assert t.origin == pytest.approx((431000.0, 3852000.0)) and t.cell_size_m == 2.0 and t.z.shape == (5, 7)
    assert filled == 1 and np.isfinite(t.z).all()
    ok = np.isfinite(z)
    assert np.allclose(t.z[ok], z[ok], atol=1e-3)
    # the filled cell takes a neighbour's value; elevations read back north-up correctly
    assert t.z[2, 3] in {z[1, 3], z[3, 3], z[2, 2], z[2, 4]}
    assert t.elevation_at(431001.0, 3852001.0) == pytest.approx(z[0, 0], abs=1e-3)


def test_asc_with_cell_centre_header(tmp_path: Path) -> None:
    p = tmp_path / "c.asc"
    p.write_text("ncols 2\nnrows 2\nxllcenter 1\nyllcenter 1\ncellsize 2\n1 2\n3 4\n")
    t, _ = read_dem(p)
    assert t.origin == (0.0, 0.0)
    assert t.z.tolist() == [[3.0, 4.0], [1.0, 2.0]]  # row 0 is the south (last) row of the file


@pytest.mark.parametrize(("text", "msg"), [
    ("ncols 2\nnrows 2\nxllcorner 0\nyllcorner 0\n1 2\n3 4\n", "no 'cellsize'"),
    ("ncols 2\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2\n3\n", "line 7: expected 2 values"),
    ("ncols 2\nnrows 3\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2\n3 4\n", "expected 3 data rows"),
    ("ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\nNODATA_value -9\n-9 -9\n", "every cell is NODATA"),
    ("ncols two\n", "line 1: header 'ncols' needs a number"),
])
def test_bad_ascii_grids_name_the_line(tmp_path: Path, text: str, msg: str) -> None:
    p = tmp_path / "bad.asc"
    p.write_text(text)
    with pytest.raises(ValueError, match=msg):
        read_dem(p)


def test_tiff_without_georeference_and_unknown_format(tmp_path: Path) -> None:
    from PIL import Image

    Image.fromarray(np.zeros((3, 3), dtype=np.float32), mode="F").save(tmp_path / "plain.tif")
    with pytest.raises(ValueError, match="ModelPixelScale"):
        read_dem(tmp_path / "plain.tif")
    (tmp_path / "x.xyz").write_text("1 2 3\n")
    with pytest.raises(ValueError, match="unknown DEM format"):
        read_dem(tmp_path / "x.xyz")
    with pytest.raises(FileNotFoundError):
        read_dem(tmp_path / "missing.asc")

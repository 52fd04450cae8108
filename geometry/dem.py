"""Digital elevation models in and out: ESRI ASCII grids and GeoTIFF.

A real site's terrain comes from a surveyed DEM; flood results go back to GIS users as rasters.
Both formats store rows north first; :class:`~geometry.site.Terrain` keeps row 0 in the south,
so rows are flipped on the way in and out.

* **ESRI ASCII grid** (``.asc``): a header of ``ncols``, ``nrows``, ``xllcorner`` /
  ``xllcenter``, ``yllcorner`` / ``yllcenter``, ``cellsize`` and optional ``NODATA_value``,
  then ``nrows`` lines of ``ncols`` numbers.
* **GeoTIFF** (``.tif``, ``.tiff``): one float band (32 or 64 bit) with the GeoTIFF tags
  ModelPixelScale (33550) and ModelTiepoint (33922), square pixels, north up (GeoTIFF 1.1,
  OGC 19-008r4); written with a GeoKeyDirectory (34735) naming a projected model, pixel-is-area
  and, when given, the EPSG code. Read and written with Pillow (no GDAL needed).

NODATA cells are filled from their nearest valid neighbour (a flood model needs a bed
everywhere) and counted; a DEM with no valid cell is refused. Errors name the file, the line or
tag, and what was expected.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from scipy import ndimage

from geometry.site import Terrain

__all__ = ["read_dem", "write_esri_ascii", "write_geotiff"]

_HEADER = ("ncols", "nrows", "xllcorner", "yllcorner", "xllcenter", "yllcenter", "cellsize", "nodata_value")


def read_dem(path: str | Path) -> tuple[Terrain, int]:
    """Read an ESRI ASCII grid or a GeoTIFF into a :class:`Terrain` (row 0 south); returns
    ``(terrain, filled)`` with the number of NODATA cells filled from their neighbours."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such DEM file")
    suf = p.suffix.lower()
    if suf == ".asc":
        z, origin, cell, nodata = _read_asc(p)
    elif suf in (".tif", ".tiff"):
        z, origin, cell, nodata = _read_tif(p)
    else:
        raise ValueError(f"{p}: unknown DEM format {suf!r}; expected .asc (ESRI ASCII grid) or .tif/.tiff (GeoTIFF)")
    bad = ~np.isfinite(z)
    if nodata is not None:
        bad |= z == nodata
    if bad.all():
        raise ValueError(f"{p}: every cell is NODATA; expected elevations")
    filled = int(bad.sum())
    if filled:
        idx = ndimage.distance_transform_edt(bad, return_distances=False, return_indices=True)
        z = z[tuple(idx)]
    return Terrain(origin=origin, cell_size_m=cell, z=np.ascontiguousarray(z[::-1], dtype=float)), filled


def _read_asc(p: Path) -> tuple[np.ndarray, tuple[float, float], float, float | None]:
    lines = p.read_text(encoding="ascii", errors="replace").splitlines()
    head: dict[str, float] = {}
    k = 0
    while k < len(lines):
        parts = lines[k].split()
        if len(parts) == 2 and parts[0].lower() in _HEADER:
            try:
                head[parts[0].lower()] = float(parts[1])
            except ValueError:
                raise ValueError(f"{p}, line {k + 1}: header {parts[0]!r} needs a number, got {parts[1]!r}") from None
            k += 1
        else:
            break
    for need in ("ncols", "nrows", "cellsize"):
        if need not in head:
            raise ValueError(f"{p}: header has no {need!r}; expected ncols, nrows, xllcorner|xllcenter, "
                             "yllcorner|yllcenter, cellsize")
    nc, nr, cell = int(head["ncols"]), int(head["nrows"]), head["cellsize"]
    if nc < 1 or nr < 1 or not cell > 0:
        raise ValueError(f"{p}: ncols, nrows must be >= 1 and cellsize > 0, got {nc}, {nr}, {cell}")
    if "xllcorner" in head:
        x0 = head["xllcorner"]
    elif "xllcenter" in head:
        x0 = head["xllcenter"] - cell / 2
    else:
        raise ValueError(f"{p}: header has neither 'xllcorner' nor 'xllcenter'")
    if "yllcorner" in head:
        y0 = head["yllcorner"]
    elif "yllcenter" in head:
        y0 = head["yllcenter"] - cell / 2
    else:
        raise ValueError(f"{p}: header has neither 'yllcorner' nor 'yllcenter'")
    rows = []
    for i, line in enumerate(lines[k:], start=k + 1):
        if not line.strip():
            continue
        try:
            vals = [float(v) for v in line.split()]
        except ValueError:
            raise ValueError(f"{p}, line {i}: expected {nc} numbers") from None
        if len(vals) != nc:
            raise ValueError(f"{p}, line {i}: expected {nc} values (ncols), got {len(vals)}")
        rows.append(vals)
    if len(rows) != nr:
        raise ValueError(f"{p}: expected {nr} data rows (nrows), got {len(rows)}")
    return np.asarray(rows, dtype=float), (x0, y0), float(cell), head.get("nodata_value")


def _read_tif(p: Path) -> tuple[np.ndarray, tuple[float, float], float, float | None]:
    from PIL import Image

    try:
        im = Image.open(p)
        im.load()
    except Exception as exc:  # Pillow raises several types for broken files
        raise ValueError(f"{p}: not a readable TIFF ({exc})") from None
    if im.mode not in ("F", "I", "I;16", "I;16S"):
        raise ValueError(f"{p}: expected one elevation band (float or integer), got mode {im.mode!r}")
    tags = im.tag_v2
    scale, tie = tags.get(33550), tags.get(33922)
    if scale is None or tie is None:
        raise ValueError(f"{p}: no GeoTIFF georeference; expected the ModelPixelScale (33550) and ModelTiepoint "
                         "(33922) tags")
    sx, sy = float(scale[0]), float(scale[1])
    if not (sx > 0 and math.isclose(sx, sy, rel_tol=1e-6)):
        raise ValueError(f"{p}: tag ModelPixelScale: expected square pixels, got {sx} x {sy}")
    i0, j0, x_tl, y_tl = float(tie[0]), float(tie[1]), float(tie[3]), float(tie[4])
    z = np.asarray(im, dtype=float)
    ny = z.shape[0]
    x0 = x_tl - i0 * sx
    y0 = y_tl + j0 * sy - ny * sy
    nodata = tags.get(42113)
    nd = float(str(nodata).strip("\x00 ")) if nodata not in (None, "") else None
    return z, (x0, y0), sx, nd


def write_esri_ascii(path: str | Path, z: np.ndarray, *, origin: tuple[float, float], cell_size_m: float,
                     nodata: float = -9999.0, decimals: int = 3) -> Path:
    """Write ``z[ny, nx]`` (row 0 south; NaN -> ``nodata``) as an ESRI ASCII grid."""
    p = Path(path)
    a = np.asarray(z, dtype=float)
    if a.ndim != 2:
        raise ValueError(f"write_esri_ascii: expected a 2-D array, got shape {a.shape}")
    a = np.where(np.isfinite(a), a, nodata)[::-1]
    head = (f"ncols {a.shape[1]}\nnrows {a.shape[0]}\nxllcorner {origin[0]:.6f}\nyllcorner {origin[1]:.6f}\n"
            f"cellsize {cell_size_m:.6f}\nNODATA_value {nodata:g}\n")
    body = "\n".join(" ".join(f"{v:.{decimals}f}" for v in row) for row in a)
    p.write_text(head + body + "\n", encoding="ascii")
    return p


def write_geotiff(path: str | Path, z: np.ndarray, *, origin: tuple[float, float], cell_size_m: float,
                  epsg: int | None = None, nodata: float = -9999.0) -> Path:
    """Write ``z[ny, nx]`` (row 0 south; NaN -> ``nodata``) as a float32 GeoTIFF."""
    from PIL import Image
    from PIL.TiffImagePlugin import ImageFileDirectory_v2

    p = Path(path)
    a = np.asarray(z, dtype=float)
    if a.ndim != 2:
        raise ValueError(f"write_geotiff: expected a 2-D array, got shape {a.shape}")
    a = np.where(np.isfinite(a), a, nodata)[::-1].astype(np.float32)
    ny = a.shape[0]
    ifd = ImageFileDirectory_v2()
    ifd[33550] = (float(cell_size_m), float(cell_size_m), 0.0)
    ifd.tagtype[33550] = 12
    ifd[33922] = (0.0, 0.0, 0.0, float(origin[0]), float(origin[1] + ny * cell_size_m), 0.0)
    ifd.tagtype[33922] = 12
    keys = [1, 1, 0, 2, 1024, 0, 1, 1, 1025, 0, 1, 1]  # header; GTModelType projected; PixelIsArea
    if epsg is not None:
        keys[3] = 3
        keys += [3072, 0, 1, int(epsg)]
    ifd[34735] = tuple(keys)
    ifd.tagtype[34735] = 3
    ifd[42113] = f"{nodata:g}"
    ifd.tagtype[42113] = 2
    Image.fromarray(a, mode="F").save(p, tiffinfo=ifd)
    return p

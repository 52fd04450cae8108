"""Image pixels to site metres on the ground plane: a per-camera homography.

Points on a plane seen by a pinhole camera map to the image by a 3 x 3 homography ``H``
(Hartley & Zisserman, *Multiple View Geometry*, 2nd ed. 2004, sec. 2.3 and 8.1.1). A tracked
object's foot point (its box's bottom centre, px) therefore maps to site ground coordinates
``(x, y)`` in metres (local CRS: x east, y north) by ``H^-1`` -- valid for objects standing on
flat ground; terrain relief and lens distortion are not modelled (undistort first for
fisheye lenses).

Two ways to get ``H``:

* :meth:`GroundHomography.from_points` -- four or more surveyed correspondences (image px ->
  site m), e.g. the corners of a parking bay measured on the site plan. Solved by the
  normalised direct linear transform (H&Z algorithm 4.2: Hartley normalisation, SVD) in numpy;
  with more than 4 points it is the algebraic least-squares fit, and ``rms_error_m`` reports
  the reprojection error on the ground.
* :meth:`GroundHomography.from_camera` -- the site's :class:`geometry.site.CameraSpec`
  (mount height, yaw clockwise from north, tilt below horizontal, horizontal field of view)
  and the image size, through an ideal pinhole with square pixels and the principal point at
  the image centre: ``H = K [r1 r2 t]``. Good for planning; survey points are better for alarms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from live_bridge.vision.sources import VisionError

__all__ = ["GroundHomography"]


def _normaliser(pts: np.ndarray) -> np.ndarray:
    c = pts.mean(axis=0)
    d = np.sqrt(((pts - c) ** 2).sum(axis=1)).mean()
    s = math.sqrt(2.0) / d if d > 0 else 1.0
    return np.array([[s, 0, -s * c[0]], [0, s, -s * c[1]], [0, 0, 1.0]])


def _apply(H: np.ndarray, pts: np.ndarray) -> np.ndarray:
    p = np.asarray(pts, dtype=float).reshape(-1, 2)
    q = np.c_[p, np.ones(len(p))] @ H.T
    w = q[:, 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        return q[:, :2] / w


def _collinear_triple(p: np.ndarray, tol: float) -> bool:
    """True when no three points span a triangle of area above ``tol`` (degenerate set)."""
    n = len(p)
    best = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            for k in range(j + 1, n):
                a = abs((p[j, 0] - p[i, 0]) * (p[k, 1] - p[i, 1]) - (p[k, 0] - p[i, 0]) * (p[j, 1] - p[i, 1])) / 2
                best = max(best, a)
    return best <= tol


@dataclass(frozen=True)
class GroundHomography:
    """``H`` maps site ground (x, y, 1) in metres to image (u, v, 1) in pixels, up to scale;
    ``rms_error_m`` the ground reprojection error of the fit (0 for :meth:`from_camera`)."""

    H: np.ndarray
    rms_error_m: float = 0.0
    ground_sign: float = 1.0

    @property
    def H_inv(self) -> np.ndarray:
        return np.linalg.inv(self.H)

    def image_to_site(self, points: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """(n, 2) image points (px) -> (n, 2) site points (m). Points on or above the horizon
        give NaN (they are not on the ground in front of the camera)."""
        p = np.asarray(points, dtype=float).reshape(-1, 2)
        q = np.c_[p, np.ones(len(p))] @ self.H_inv.T
        out = np.full((len(p), 2), np.nan)
        ok = q[:, 2] * self.ground_sign > 1e-12
        out[ok] = q[ok, :2] / q[ok, 2:3]
        return out

    def site_to_image(self, points: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """(n, 2) site points (m) -> (n, 2) image points (px)."""
        return _apply(self.H, np.asarray(points, dtype=float))

    @staticmethod
    def _sign_of(H: np.ndarray, img: np.ndarray) -> float:
        """Sign of the homogeneous w of ground points seen in the image (in front of the camera)."""
        q = np.c_[img, np.ones(len(img))] @ np.linalg.inv(H).T
        return 1.0 if np.median(q[:, 2]) >= 0 else -1.0

    @classmethod
    def from_points(cls, image_px: Sequence[Sequence[float]], site_m: Sequence[Sequence[float]], *,
                    source: str | None = None) -> GroundHomography:
        """Fit from >= 4 correspondences ``image_px[k] <-> site_m[k]`` (normalised DLT)."""
        try:
            img = np.asarray(image_px, dtype=float)
            site = np.asarray(site_m, dtype=float)
        except (TypeError, ValueError):
            raise VisionError("homography points: expected lists of [x, y] number pairs", source=source) from None
        problems = []
        if img.ndim != 2 or img.shape[1:] != (2,):
            problems.append(f"field 'image_px': expected a list of [u, v] pixel pairs, got shape {img.shape}")
        if site.ndim != 2 or site.shape[1:] != (2,):
            problems.append(f"field 'site_m': expected a list of [x, y] metre pairs, got shape {site.shape}")
        if not problems and len(img) != len(site):
            problems.append(f"fields 'image_px' and 'site_m': expected the same number of points, got {len(img)} and {len(site)}")
        if not problems and len(img) < 4:
            problems.append(f"homography needs at least 4 point correspondences, got {len(img)}")
        if not problems and not (np.isfinite(img).all() and np.isfinite(site).all()):
            problems.append("homography points must be finite numbers")
        if problems:
            raise VisionError(problems, source=source)
        span_i = float(np.ptp(img, axis=0).max()) or 1.0
        span_s = float(np.ptp(site, axis=0).max()) or 1.0
        if _collinear_triple(img, 1e-3 * span_i ** 2) or _collinear_triple(site, 1e-3 * span_s ** 2):
            raise VisionError("homography points are (nearly) collinear; choose 4+ points spread over the ground, "
                              "no three on a line", source=source)
        Ti, Ts = _normaliser(site), _normaliser(img)
        a = _apply(Ti, site)
        b = _apply(Ts, img)
        rows = []
        for (x, y), (u, v) in zip(a, b):
            rows.append([-x, -y, -1, 0, 0, 0, u * x, u * y, u])
            rows.append([0, 0, 0, -x, -y, -1, v * x, v * y, v])
        _, sv, vt = np.linalg.svd(np.asarray(rows))
        Hn = vt[-1].reshape(3, 3)
        H = np.linalg.inv(Ts) @ Hn @ Ti
        if abs(np.linalg.det(H)) < 1e-12 * np.abs(H).max() ** 3:
            raise VisionError("homography is singular for these points", source=source)
        H = H / H[2, 2] if abs(H[2, 2]) > 1e-12 else H / np.abs(H).max()
        sign = cls._sign_of(H, img)
        back = cls(H, 0.0, sign).image_to_site(img)
        rms = float(np.sqrt(np.nanmean(((back - site) ** 2).sum(axis=1))))
        return cls(H, rms, sign)

    @classmethod
    def from_camera(cls, *, position: tuple[float, float], mount_height_m: float, yaw_deg: float,
                    tilt_deg: float, fov_deg: float, image_size: tuple[int, int]) -> GroundHomography:
        """Ideal-pinhole homography of a camera at ``position`` (site m), ``mount_height_m`` above
        the ground, looking ``yaw_deg`` clockwise from north and ``tilt_deg`` below horizontal,
        with horizontal field of view ``fov_deg`` on an image of ``image_size = (W, H)`` px."""
        problems = []
        if not mount_height_m > 0:
            problems.append(f"field 'mount_height_m': expected a positive height, got {mount_height_m!r}")
        if not 0 < tilt_deg < 90:
            problems.append(f"field 'tilt_deg': expected (0, 90) degrees below horizontal, got {tilt_deg!r}")
        if not 0 < fov_deg < 180:
            problems.append(f"field 'fov_deg': a pinhole needs a horizontal field of view in (0, 180), got {fov_deg!r}")
        if len(image_size) != 2 or min(image_size) <= 0:
            problems.append(f"field 'image_size': expected (width, height) in px, got {image_size!r}")
        if problems:
            raise VisionError(problems)
        w, h = image_size
        f = (w / 2.0) / math.tan(math.radians(fov_deg) / 2.0)
        K = np.array([[f, 0, w / 2.0], [0, f, h / 2.0], [0, 0, 1.0]])
        yaw, tilt = math.radians(yaw_deg), math.radians(tilt_deg)
        fwd = np.array([math.sin(yaw) * math.cos(tilt), math.cos(yaw) * math.cos(tilt), -math.sin(tilt)])
        right = np.array([math.cos(yaw), -math.sin(yaw), 0.0])
        down = np.cross(fwd, right)
        R = np.vstack([right, down, fwd])
        C = np.array([position[0], position[1], mount_height_m])
        t = -R @ C
        H = K @ np.c_[R[:, 0], R[:, 1], t]
        H = H / H[2, 2] if abs(H[2, 2]) > 1e-12 else H
        # a ground point straight ahead of the camera fixes which sign of w is "in front"
        probe = C[:2] + 2.0 * mount_height_m * np.array([math.sin(yaw), math.cos(yaw)])
        return cls(H, 0.0, cls._sign_of(H, _apply(H, probe[None])))

    @classmethod
    def from_device(cls, device: object, *, image_size: tuple[int, int]) -> GroundHomography:
        """:meth:`from_camera` for a site camera (:class:`geometry.site.Device` with ``camera``)."""
        cam = getattr(device, "camera", None)
        if cam is None:
            raise VisionError(f"device {getattr(device, 'id', '?')}: has no camera optics (field 'camera')")
        pos = device.position  # type: ignore[attr-defined]
        return cls.from_camera(position=(pos.x, pos.y), mount_height_m=cam.mount_height_m, yaw_deg=cam.yaw_deg,
                               tilt_deg=cam.tilt_deg, fov_deg=cam.fov_deg, image_size=image_size)

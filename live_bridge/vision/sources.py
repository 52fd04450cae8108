"""Frame sources for camera analytics: image folders, video files and RTSP streams.

Every source yields :class:`Frame` objects: a BGR ``uint8`` image (OpenCV's channel order,
shape ``(height, width, 3)``), its index from 0 and its observation time as a UTC-aware
datetime. Times matter: loitering dwell (s) and crossing times are measured between frame
times, never by counting frames.

* :class:`ImageFolderSource` -- ``*.jpg/*.jpeg/*.png/*.bmp`` files of one folder in name order
  (natural sort: ``f2.png`` before ``f10.png``), read with OpenCV; frame ``k`` is taken at
  ``start + k / fps``.
* :class:`VideoSource` -- a video file (anything OpenCV's FFmpeg backend reads: mp4, avi, mkv ...)
  or a live stream URL (``rtsp://``, ``rtsps://``, ``http(s)://`` MJPEG). For files the time is
  ``start`` plus the container's position (``CAP_PROP_POS_MSEC``); for streams it is the wall
  clock at reception (UTC), because an RTSP server's clock is not trusted.

RTSP is opened through OpenCV's FFmpeg backend (``cv2.VideoCapture(url, cv2.CAP_FFMPEG)``);
credentials go in the URL (``rtsp://user:pass@host:554/stream1``) and are never echoed in
errors (:func:`redact_url`). Set ``OPENCV_FFMPEG_CAPTURE_OPTIONS="rtsp_transport;tcp"`` in the
environment to force TCP when UDP is blocked. A stream that stops delivering ends the
iteration after ``max_failures`` consecutive failed reads; reconnecting is the caller's choice.
RTSP is not exercised by the tests (no camera in the test environment); the code path is the
same ``cv2.VideoCapture`` read loop as video files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

__all__ = ["Frame", "FrameSource", "ImageFolderSource", "VideoSource", "VisionError", "open_source", "redact_url"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
_STREAM = re.compile(r"^(rtsp|rtsps|rtmp|http|https|udp|tcp)://", re.IGNORECASE)


class VisionError(ValueError):
    """Bad camera-analytics input. ``problems`` lists each one, naming the file or setting, the
    field and what was expected; ``source`` (a file name, a camera id) prefixes the message."""

    def __init__(self, problems: list[str] | str, *, source: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        if len(self.problems) == 1:
            msg = head + self.problems[0]
        else:
            msg = head + f"{len(self.problems)} problems:\n  - " + "\n  - ".join(self.problems)
        super().__init__(msg)


@dataclass(frozen=True)
class Frame:
    """One image from a camera: ``image`` BGR uint8 (H, W, 3), ``index`` from 0, ``time`` UTC."""

    image: np.ndarray
    index: int
    time: datetime

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.image.shape[1]), int(self.image.shape[0])


def redact_url(url: str) -> str:
    """``url`` with any ``user:password@`` part replaced by ``***@`` (for messages and logs)."""
    return re.sub(r"(://)[^/@\s]*@", r"\1***@", url)


def _utc(start: datetime | None) -> datetime:
    if start is None:
        return datetime.now(UTC)
    if start.tzinfo is None:
        raise VisionError("field 'start': expected a timezone-aware datetime (e.g. ...tzinfo=timezone.utc)")
    return start.astimezone(UTC)


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    if image.shape[2] == 4:
        return np.ascontiguousarray(image[:, :, :3])
    return image


class FrameSource:
    """Base of the frame sources: iterate to get :class:`Frame` objects."""

    name: str = ""

    def __iter__(self) -> Iterator[Frame]:  # pragma: no cover - abstract
        raise NotImplementedError


def _natural_key(p: Path) -> list[object]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", p.name)]


class ImageFolderSource(FrameSource):
    """The images of ``folder`` (suffixes :data:`IMAGE_SUFFIXES`) in natural name order, as a
    sequence taken at ``fps`` frames per second from ``start`` (UTC; default now)."""

    def __init__(self, folder: str | Path, *, fps: float = 1.0, start: datetime | None = None) -> None:
        folder = Path(folder)
        if not folder.is_dir():
            raise VisionError(f"image folder {str(folder)!r} does not exist or is not a folder")
        if not (isinstance(fps, (int, float)) and fps > 0):
            raise VisionError(f"field 'fps': expected a positive number of frames per second, got {fps!r}",
                              source=str(folder))
        self.files = sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key)
        if not self.files:
            raise VisionError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in folder {str(folder)!r}")
        self.fps = float(fps)
        self.start = _utc(start)
        self.name = str(folder)

    def __len__(self) -> int:
        return len(self.files)

    def __iter__(self) -> Iterator[Frame]:
        import cv2

        for k, path in enumerate(self.files):
            image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            if image is None:
                raise VisionError(f"image {path.name!r} could not be decoded (not an image, or corrupt)",
                                  source=self.name)
            if image.dtype != np.uint8:
                raise VisionError(f"image {path.name!r}: expected 8-bit pixels, got {image.dtype}", source=self.name)
            yield Frame(_as_bgr(image), k, self.start + timedelta(seconds=k / self.fps))


class VideoSource(FrameSource):
    """A video file or a stream URL read with OpenCV; ``every`` keeps one frame in ``every``
    (decimation for slow detectors); ``max_failures`` consecutive failed reads end a stream."""

    def __init__(self, path_or_url: str | Path, *, start: datetime | None = None, every: int = 1,
                 max_failures: int = 25) -> None:
        text = str(path_or_url)
        self.is_stream = bool(_STREAM.match(text))
        if not self.is_stream and not Path(text).is_file():
            raise VisionError(f"video file {text!r} does not exist")
        if not (isinstance(every, int) and every >= 1):
            raise VisionError(f"field 'every': expected an integer >= 1, got {every!r}", source=redact_url(text))
        self.target = text
        self.name = redact_url(text)
        self.start = None if self.is_stream else _utc(start)
        self.every = every
        self.max_failures = max_failures

    def __iter__(self) -> Iterator[Frame]:
        import cv2

        cap = cv2.VideoCapture(self.target, cv2.CAP_FFMPEG) if self.is_stream else cv2.VideoCapture(self.target)
        if not cap.isOpened():
            kind = "stream" if self.is_stream else "video file"
            raise VisionError(f"{kind} could not be opened by OpenCV (unreachable, or no decoder for its codec)",
                              source=self.name)
        try:
            k = 0
            kept = 0
            failures = 0
            while True:
                ok, image = cap.read()
                if not ok or image is None:
                    if not self.is_stream:
                        return
                    failures += 1
                    if failures >= self.max_failures:
                        return
                    continue
                failures = 0
                if k % self.every == 0:
                    if self.is_stream:
                        t = datetime.now(UTC)
                    else:
                        assert self.start is not None
                        t = self.start + timedelta(milliseconds=float(cap.get(cv2.CAP_PROP_POS_MSEC)))
                    yield Frame(_as_bgr(image), kept, t)
                    kept += 1
                k += 1
        finally:
            cap.release()


def open_source(spec: str | Path, *, fps: float = 1.0, start: datetime | None = None) -> FrameSource:
    """A source for ``spec``: a folder of images (taken at ``fps``), a video file, or a stream
    URL (``rtsp://...``)."""
    text = str(spec)
    if _STREAM.match(text):
        return VideoSource(text)
    p = Path(text)
    if p.is_dir():
        return ImageFolderSource(p, fps=fps, start=start)
    if p.is_file():
        return VideoSource(p, start=start)
    raise VisionError(f"frame source {redact_url(text)!r}: expected an image folder, a video file or an "
                      "rtsp:// URL; nothing exists at that path")

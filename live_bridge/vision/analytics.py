"""The camera analytics pipeline: frames -> detections -> tracks -> site-coordinate zone rules ->
the bridge's camera events (CloudEvents, :mod:`live_bridge.vocabulary`).

One :class:`CameraAnalytics` per camera. Per frame: detect (:class:`~live_bridge.vision.detector.YoloDetector`,
or any callable image -> :class:`~live_bridge.vision.detector.Detections`), keep the watched classes,
track (:class:`~live_bridge.vision.tracker.SortTracker`), map each confirmed track's foot point
to site metres (:class:`~live_bridge.vision.homography.GroundHomography`), run the zone rules
(:mod:`live_bridge.vision.zones`) and build one event per rule hit with
:func:`live_bridge.vocabulary.make_event`: ``subject`` is the camera's device id, ``time`` the
frame time, ``data.track`` the track id, ``data.zone`` the zone or line id, ``data.confidence``
the detection score.

Event ids are deterministic -- ``<device>/<type suffix>/<zone>/<track>/<frame time in µs>`` --
so replaying the same footage gives the same ids and the event store deduplicates them.

With a :class:`~live_bridge.vision.privacy.SnapshotWriter`, the frame of every event is stored
(faces blurred first) under the event id. With a :class:`~live_bridge.vision.privacy.PlateReader`
and ``plate_classes`` (e.g. ``("car",)``), each new confirmed vehicle track's crop is read once
and a ``cn.shoumen.camera.licence_plate`` event carries only the plate's keyed hash.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC

import numpy as np

from live_bridge.vision.detector import Detections
from live_bridge.vision.homography import GroundHomography
from live_bridge.vision.privacy import PlateReader, SnapshotWriter
from live_bridge.vision.sources import Frame, VisionError
from live_bridge.vision.tracker import SortTracker, Track
from live_bridge.vision.zones import (
    Crossing,
    CrossingLine,
    Observation,
    RuleHit,
    ZoneRule,
)
from live_bridge.vocabulary import LiveEvent, make_event

__all__ = ["CameraAnalytics", "FrameResult"]

Detector = Callable[[np.ndarray], Detections]


@dataclass
class FrameResult:
    """What one frame gave: the confirmed ``tracks``, their ``observations`` (site m), the
    ``events`` built, the line ``crossings`` and the ``snapshots`` written."""

    frame_index: int
    tracks: list[Track]
    observations: list[Observation]
    events: list[LiveEvent] = field(default_factory=list)
    crossings: list[Crossing] = field(default_factory=list)
    snapshots: list[str] = field(default_factory=list)


class CameraAnalytics:
    """Analytics of one camera ``device_id`` (its registry id, the events' subject)."""

    def __init__(self, device_id: str, *, detector: Detector, homography: GroundHomography,
                 rules: Sequence[ZoneRule] = (), tracker: SortTracker | None = None,
                 classes: Sequence[str] = ("person",), source: str = "/shoumen/vision",
                 snapshots: SnapshotWriter | None = None, plate_reader: PlateReader | None = None,
                 plate_classes: Sequence[str] = ("car", "truck", "bus", "motorcycle")) -> None:
        if not isinstance(device_id, str) or not device_id:
            raise VisionError(f"camera analytics: field 'device_id' must be the camera's registry id, got {device_id!r}")
        if not callable(detector):
            raise VisionError(f"camera {device_id}: field 'detector' must be callable (image -> Detections)")
        if not isinstance(homography, GroundHomography):
            raise VisionError(f"camera {device_id}: field 'homography' must be a GroundHomography")
        ids = [r.id for r in rules]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise VisionError(f"camera {device_id}: rule ids must be unique; repeated: {', '.join(dup)}")
        self.device_id = device_id
        self.detector = detector
        self.homography = homography
        self.rules = list(rules)
        self.tracker = tracker if tracker is not None else SortTracker()
        self.classes = tuple(classes) + tuple(c for c in (plate_classes if plate_reader else ()) if c not in classes)
        self.source = source
        self.snapshots = snapshots
        self.plate_reader = plate_reader
        self.plate_classes = tuple(plate_classes)
        self._plated: set[int] = set()

    def process(self, frame: Frame) -> FrameResult:
        """Run the pipeline on one frame."""
        det = self.detector(frame.image)
        if self.classes:
            det = det.only(self.classes)
        tracks = self.tracker.update(det)
        feet = np.array([t.foot for t in tracks], dtype=float).reshape(-1, 2)
        xy = self.homography.image_to_site(feet) if len(tracks) else np.zeros((0, 2))
        obs = [Observation(t.id, t.name, t.score, float(p[0]), float(p[1])) for t, p in zip(tracks, xy)]
        result = FrameResult(frame.index, tracks, obs)
        n_cross = {r.id: len(r.crossings) for r in self.rules if isinstance(r, CrossingLine)}
        hits: list[RuleHit] = []
        for rule in self.rules:
            hits.extend(rule.update(frame.time, obs))
            if isinstance(rule, CrossingLine):
                result.crossings.extend(rule.crossings[n_cross[rule.id]:])
        t_us = _time_us(frame)
        for h in hits:
            data: dict[str, object] = {"zone": h.zone, **h.data}
            if h.track is not None:
                data["track"] = str(h.track)
            if h.confidence is not None:
                data["confidence"] = float(min(max(h.confidence, 0.0), 1.0))
            suffix = h.type.rsplit(".", 1)[-1]
            ev_id = f"{self.device_id}/{suffix}/{h.zone}/{h.track if h.track is not None else '-'}/{t_us}"
            result.events.append(make_event(h.type, id=ev_id, source=self.source, subject=self.device_id,
                                            time=frame.time, data=data))
        if self.plate_reader is not None:
            for t in tracks:
                if t.name in self.plate_classes and t.id not in self._plated:
                    self._plated.add(t.id)
                    x1, y1, x2, y2 = (int(round(v)) for v in t.box)
                    crop = frame.image[max(0, y1):max(0, y2), max(0, x1):max(0, x2)]
                    if crop.size == 0:
                        continue
                    for k, read in enumerate(self.plate_reader.read(crop)):
                        ev_id = f"{self.device_id}/licence_plate/{t.id}/{k}/{t_us}"
                        result.events.append(make_event(
                            "cn.shoumen.camera.licence_plate", id=ev_id, source=self.source, subject=self.device_id,
                            time=frame.time, data={"plate_hmac": read.plate_hmac, "key_id": read.key_id,
                                                   "confidence": read.confidence, "track": str(t.id)}))
        if self.snapshots is not None and result.events:
            # one snapshot per frame, named after its first event (the others point to it by time)
            path = self.snapshots.write(frame.image, re.sub(r"[^A-Za-z0-9._-]", "_", result.events[0].id))
            result.snapshots.append(str(path))
        return result

    def run(self, frames: Iterable[Frame]) -> Iterator[LiveEvent]:
        """Process ``frames`` (a :class:`~live_bridge.vision.sources.FrameSource`) and yield
        every event as it is built."""
        for frame in frames:
            yield from self.process(frame).events


def _time_us(frame: Frame) -> int:
    from datetime import datetime

    d = frame.time.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds

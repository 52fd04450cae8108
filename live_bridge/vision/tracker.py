"""Multi-object tracking across frames: SORT with a centroid fallback.

SORT (Bewley, Ge, Ott, Ramos & Upcroft, "Simple Online and Realtime Tracking", ICIP 2016,
arXiv:1602.00763): each track is a constant-velocity Kalman filter on the box state
``[cx, cy, s, r, vcx, vcy, vs]`` (centre in px, area ``s`` in px², aspect ``r = w / h`` held
constant); each frame the filters predict, detections are assigned to predictions by the
Hungarian algorithm on ``1 - IoU`` (scipy's ``linear_sum_assignment``), pairs under
``iou_threshold`` are rejected, matched filters update, unmatched detections start tracks.
Noise settings are SORT's (its ``KalmanBoxTracker``).

Addition: detections left unmatched after the IoU step are matched to left-over tracks whose
predicted centre lies within ``centroid_gate`` box diagonals (Hungarian on distance). A small
fast object (a person far away at a low frame rate) may move more than its own width between
frames, so its boxes do not overlap; the gate keeps its id.

A track is *confirmed* once it has ``min_hits`` matches (or from the first frame it is seen
when fewer than ``min_hits`` frames have run); it is removed after ``max_age`` frames without a
match. Ids are integers from 1, never reused within a tracker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from live_bridge.vision.detector import Detections

__all__ = ["SortTracker", "Track", "iou_matrix"]


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (n, 4) with every box in ``b`` (m, 4), x1 y1 x2 y2."""
    if a.shape[0] == 0 or b.shape[0] == 0:
        return np.zeros((a.shape[0], b.shape[0]))
    xx1 = np.maximum(a[:, None, 0], b[None, :, 0])
    yy1 = np.maximum(a[:, None, 1], b[None, :, 1])
    xx2 = np.minimum(a[:, None, 2], b[None, :, 2])
    yy2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(xx2 - xx1, 0, None) * np.clip(yy2 - yy1, 0, None)
    aa = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    bb = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(aa[:, None] + bb[None, :] - inter, 1e-12)


def _to_z(box: np.ndarray) -> np.ndarray:
    w, h = box[2] - box[0], box[3] - box[1]
    return np.array([box[0] + w / 2, box[1] + h / 2, w * h, w / max(h, 1e-6)])


def _to_box(x: np.ndarray) -> np.ndarray:
    s, r = max(float(x[2]), 1e-6), max(float(x[3]), 1e-6)
    w = np.sqrt(s * r)
    h = s / w
    return np.array([x[0] - w / 2, x[1] - h / 2, x[0] + w / 2, x[1] + h / 2])


_F = np.eye(7)
_F[0, 4] = _F[1, 5] = _F[2, 6] = 1.0
_H = np.eye(4, 7)
_R = np.diag([1.0, 1.0, 10.0, 10.0])
_Q = np.eye(7)
_Q[-1, -1] *= 0.01
_Q[4:, 4:] *= 0.01


class _Kalman:
    def __init__(self, box: np.ndarray) -> None:
        self.x = np.zeros(7)
        self.x[:4] = _to_z(box)
        self.P = np.eye(7) * 10.0
        self.P[4:, 4:] *= 100.0  # SORT: high uncertainty on the unobserved velocities

    def predict(self) -> np.ndarray:
        if self.x[6] + self.x[2] <= 0:
            self.x[6] = 0.0
        self.x = _F @ self.x
        self.P = _F @ self.P @ _F.T + _Q
        return _to_box(self.x)

    def update(self, box: np.ndarray) -> None:
        y = _to_z(box) - _H @ self.x
        S = _H @ self.P @ _H.T + _R
        K = self.P @ _H.T @ np.linalg.inv(S)
        self.x = self.x + K @ y
        self.P = (np.eye(7) - K @ _H) @ self.P


@dataclass
class Track:
    """A tracked object: ``id`` stable over its life, ``box`` the last matched detection (image
    px, x1 y1 x2 y2), ``cls`` and ``name`` its class, ``score`` the last detection's score,
    ``hits`` matches so far, ``misses`` frames since the last match, ``age`` frames since birth."""

    id: int
    box: np.ndarray
    cls: int
    name: str
    score: float
    hits: int = 1
    misses: int = 0
    age: int = 0
    confirmed: bool = False

    @property
    def foot(self) -> tuple[float, float]:
        """The box's bottom centre (px): where the object stands on the ground."""
        return (float(self.box[0] + self.box[2]) / 2.0, float(self.box[3]))


class SortTracker:
    """SORT tracker (see the module docstring). ``update(detections)`` once per frame returns
    the confirmed tracks matched in that frame."""

    def __init__(self, *, iou_threshold: float = 0.3, centroid_gate: float = 1.5, max_age: int = 5,
                 min_hits: int = 3) -> None:
        if not 0.0 <= iou_threshold < 1.0:
            raise ValueError(f"tracker: field 'iou_threshold' must be in [0, 1), got {iou_threshold!r}")
        if centroid_gate < 0:
            raise ValueError(f"tracker: field 'centroid_gate' must be >= 0, got {centroid_gate!r}")
        if max_age < 0 or min_hits < 1:
            raise ValueError(f"tracker: 'max_age' must be >= 0 and 'min_hits' >= 1, got {max_age!r}, {min_hits!r}")
        self.iou_threshold = iou_threshold
        self.centroid_gate = centroid_gate
        self.max_age = max_age
        self.min_hits = min_hits
        self.frames = 0
        self._next = 1
        self._tracks: list[tuple[Track, _Kalman]] = []

    @property
    def tracks(self) -> list[Track]:
        """Every live track (confirmed or not)."""
        return [t for t, _ in self._tracks]

    def update(self, det: Detections) -> list[Track]:
        self.frames += 1
        preds = np.array([k.predict() for _, k in self._tracks]).reshape(-1, 4)
        boxes = det.boxes.reshape(-1, 4)
        n_t, n_d = preds.shape[0], boxes.shape[0]
        matches: list[tuple[int, int]] = []
        free_t, free_d = set(range(n_t)), set(range(n_d))
        if n_t and n_d:
            iou = iou_matrix(boxes, preds)
            rows, cols = linear_sum_assignment(-iou)
            for d, t in zip(rows, cols):
                if iou[d, t] >= max(self.iou_threshold, 1e-9):
                    matches.append((int(d), int(t)))
                    free_t.discard(int(t))
                    free_d.discard(int(d))
        if free_t and free_d and self.centroid_gate > 0:
            td, dd = sorted(free_t), sorted(free_d)
            pc = (preds[td, :2] + preds[td, 2:]) / 2
            dc = (boxes[dd, :2] + boxes[dd, 2:]) / 2
            diag = np.hypot(preds[td, 2] - preds[td, 0], preds[td, 3] - preds[td, 1])
            dist = np.linalg.norm(dc[:, None, :] - pc[None, :, :], axis=2)
            gate = self.centroid_gate * np.maximum(diag, 1.0)[None, :]
            cost = np.where(dist <= gate, dist, 1e9)
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols):
                if cost[r, c] < 1e9:
                    matches.append((dd[r], td[c]))
                    free_t.discard(td[c])
                    free_d.discard(dd[r])
        for d, t in matches:
            track, kal = self._tracks[t]
            kal.update(boxes[d])
            track.box = boxes[d].astype(float).copy()
            track.cls = int(det.classes[d])
            track.name = det.name(d)
            track.score = float(det.scores[d])
            track.hits += 1
            track.misses = 0
        for t in free_t:
            self._tracks[t][0].misses += 1
        for d in sorted(free_d):
            tr = Track(self._next, boxes[d].astype(float).copy(), int(det.classes[d]), det.name(d), float(det.scores[d]))
            self._next += 1
            self._tracks.append((tr, _Kalman(boxes[d])))
        out: list[Track] = []
        kept: list[tuple[Track, _Kalman]] = []
        for tr, kal in self._tracks:
            tr.age += 1
            if tr.misses > self.max_age:
                continue
            kept.append((tr, kal))
            if tr.hits >= self.min_hits or self.frames <= self.min_hits:
                tr.confirmed = True
            if tr.misses == 0 and tr.confirmed:
                out.append(tr)
        self._tracks = kept
        return out

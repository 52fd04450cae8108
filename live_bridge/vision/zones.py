"""Zone rules on tracked objects in SITE coordinates (metres, local CRS: x east, y north).

Each tracked object is reduced to an :class:`Observation`: its track id, class, score and its
foot point -- the bottom centre of its box -- mapped to the ground by the camera's
:class:`~live_bridge.vision.homography.GroundHomography`. Rules therefore speak the site's
language: the same polygon (a fire lane, a roof-access door's apron, a playground) can be used
by every camera that sees it and by the twin itself.

Rules (each returns :class:`RuleHit` objects; :mod:`live_bridge.vision.analytics` turns them
into the bridge's camera events):

* :class:`IntrusionZone` -- a track of a watched class is inside the polygon and was not in the
  previous observation (entering, or first seen inside): one ``cn.shoumen.camera.intrusion``
  per entry; it re-arms when the track leaves.
* :class:`LoiteringZone` -- a track has stayed inside for ``dwell_s`` seconds (frame times;
  absences up to ``gap_s`` are bridged): one ``cn.shoumen.camera.loitering`` per visit, carrying
  the dwell so far.
* :class:`CrowdZone` -- at least ``min_count`` tracks inside at once: one
  ``cn.shoumen.camera.crowding`` per episode with the count; it re-arms when the count drops
  below ``min_count``.
* :class:`CrossingLine` -- a track's ground path crosses the segment ``a -> b``. Standing at
  ``a`` and looking towards ``b``, crossing from the right side to the left side is ``"in"``,
  the other way ``"out"``. Every crossing is returned as a :class:`Crossing`; crossings in
  ``alarm_directions`` also raise ``cn.shoumen.camera.intrusion`` with ``zone`` = the line id
  (the vocabulary has no line-crossing type; a wrong-way crossing of a one-way gate or a
  fence line is an intrusion).

State is per track id; a track not observed for ``forget_s`` seconds is forgotten.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Union

import numpy as np
import shapely
from shapely.geometry import Polygon

from live_bridge.vision.sources import VisionError

__all__ = ["Crossing", "CrossingLine", "CrowdZone", "IntrusionZone", "LoiteringZone", "Observation", "RuleHit",
           "ZoneRule", "polygon_of"]


@dataclass(frozen=True)
class Observation:
    """One confirmed track in one frame: ``x``, ``y`` site metres of its foot point (NaN when
    it maps above the horizon), ``name`` its class name, ``score`` the detection score."""

    track: int
    name: str
    score: float
    x: float
    y: float


@dataclass(frozen=True)
class RuleHit:
    """A rule fired: the event ``type`` (``cn.shoumen.camera.*``), the zone or line id, the
    track (None for crowding) and the type's extra data fields (``dwell_s``, ``count``)."""

    type: str
    zone: str
    track: int | None
    confidence: float | None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Crossing:
    """A track crossed ``line`` at ``time``, in ``direction`` ("in" or "out"), at site point
    (``x``, ``y``) m."""

    line: str
    track: int
    direction: Literal["in", "out"]
    time: datetime
    x: float
    y: float


def polygon_of(coords: Polygon | Sequence[Sequence[float]], *, where: str) -> Polygon:
    """A valid site polygon from a shapely Polygon or a list of (x, y) m; ``where`` names the
    rule in errors."""
    if isinstance(coords, Polygon):
        poly = coords
    else:
        try:
            pts = np.asarray(coords, dtype=float)
        except (TypeError, ValueError):
            raise VisionError(f"{where}: field 'polygon' must be a list of [x, y] metre pairs") from None
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3:
            raise VisionError(f"{where}: field 'polygon' needs at least 3 [x, y] metre pairs, got shape {pts.shape}")
        if not np.isfinite(pts).all():
            raise VisionError(f"{where}: field 'polygon' has non-finite coordinates")
        poly = Polygon(pts)
    if poly.is_empty or not poly.is_valid or poly.area <= 0:
        from shapely.validation import explain_validity

        why = "empty" if poly.is_empty else (explain_validity(poly) if not poly.is_valid else "zero area")
        raise VisionError(f"{where}: field 'polygon' is not a valid polygon ({why})")
    shapely.prepare(poly)
    return poly


def _check_id(kind: str, ident: str) -> None:
    if not isinstance(ident, str) or not ident or len(ident) > 200:
        raise VisionError(f"{kind}: field 'id' must be a non-empty string of at most 200 characters, got {ident!r}")


def _inside(poly: Polygon, obs: Sequence[Observation]) -> np.ndarray:
    if not obs:
        return np.zeros(0, dtype=bool)
    x = np.array([o.x for o in obs])
    y = np.array([o.y for o in obs])
    ok = np.isfinite(x) & np.isfinite(y)
    res = np.zeros(len(obs), dtype=bool)
    if ok.any():
        res[ok] = shapely.contains_xy(poly, x[ok], y[ok])
    return res


class ZoneRule:
    """Base of the rules: ``update(time, observations)`` once per frame returns the hits."""

    id: str
    classes: tuple[str, ...]
    forget_s: float = 10.0

    def _watched(self, obs: Iterable[Observation]) -> list[Observation]:
        return [o for o in obs if not self.classes or o.name in self.classes]

    def update(self, time: datetime, observations: Sequence[Observation]) -> list[RuleHit]:  # pragma: no cover
        raise NotImplementedError


class IntrusionZone(ZoneRule):
    """Entry of a watched class (default ``person``) into ``polygon`` (site m)."""

    def __init__(self, id: str, polygon: Polygon | Sequence[Sequence[float]], *,
                 classes: Sequence[str] = ("person",), forget_s: float = 10.0) -> None:
        _check_id("intrusion zone", id)
        self.id, self.polygon, self.classes, self.forget_s = id, polygon_of(polygon, where=f"intrusion zone {id}"), tuple(classes), forget_s
        self._state: dict[int, tuple[bool, datetime]] = {}

    def update(self, time: datetime, observations: Sequence[Observation]) -> list[RuleHit]:
        obs = self._watched(observations)
        hits = []
        for o, inside in zip(obs, _inside(self.polygon, obs)):
            was = self._state.get(o.track, (False, time))[0]
            if inside and not was:
                hits.append(RuleHit("cn.shoumen.camera.intrusion", self.id, o.track, o.score))
            self._state[o.track] = (bool(inside), time)
        self._state = {k: v for k, v in self._state.items() if (time - v[1]).total_seconds() <= self.forget_s}
        return hits


class LoiteringZone(ZoneRule):
    """A watched track inside ``polygon`` for ``dwell_s`` seconds (absences up to ``gap_s`` s
    do not end a visit)."""

    def __init__(self, id: str, polygon: Polygon | Sequence[Sequence[float]], *, dwell_s: float,
                 gap_s: float = 2.0, classes: Sequence[str] = ("person",), forget_s: float = 10.0) -> None:
        _check_id("loitering zone", id)
        if not (isinstance(dwell_s, (int, float)) and dwell_s > 0):
            raise VisionError(f"loitering zone {id}: field 'dwell_s' must be a positive number of seconds, got {dwell_s!r}")
        if not (isinstance(gap_s, (int, float)) and gap_s >= 0):
            raise VisionError(f"loitering zone {id}: field 'gap_s' must be >= 0 seconds, got {gap_s!r}")
        self.id, self.polygon = id, polygon_of(polygon, where=f"loitering zone {id}")
        self.dwell_s, self.gap_s, self.classes, self.forget_s = float(dwell_s), float(gap_s), tuple(classes), forget_s
        # track -> (entered, last seen inside, already reported)
        self._visit: dict[int, tuple[datetime, datetime, bool]] = {}

    def update(self, time: datetime, observations: Sequence[Observation]) -> list[RuleHit]:
        obs = self._watched(observations)
        hits = []
        for o, inside in zip(obs, _inside(self.polygon, obs)):
            v = self._visit.get(o.track)
            if v is not None and (time - v[1]).total_seconds() > self.gap_s:
                v = None
            if not inside:
                if v is not None and (time - v[1]).total_seconds() > self.gap_s:
                    self._visit.pop(o.track, None)
                continue
            entered, reported = (time, False) if v is None else (v[0], v[2])
            dwell = (time - entered).total_seconds()
            if dwell >= self.dwell_s and not reported:
                hits.append(RuleHit("cn.shoumen.camera.loitering", self.id, o.track, o.score, {"dwell_s": round(dwell, 3)}))
                reported = True
            self._visit[o.track] = (entered, time, reported)
        self._visit = {k: v for k, v in self._visit.items() if (time - v[1]).total_seconds() <= max(self.forget_s, self.gap_s)}
        return hits


class CrowdZone(ZoneRule):
    """``min_count`` or more watched tracks inside ``polygon`` at once."""

    def __init__(self, id: str, polygon: Polygon | Sequence[Sequence[float]], *, min_count: int,
                 classes: Sequence[str] = ("person",)) -> None:
        _check_id("crowd zone", id)
        if not (isinstance(min_count, int) and not isinstance(min_count, bool) and min_count >= 1):
            raise VisionError(f"crowd zone {id}: field 'min_count' must be an integer >= 1, got {min_count!r}")
        self.id, self.polygon, self.min_count, self.classes = id, polygon_of(polygon, where=f"crowd zone {id}"), min_count, tuple(classes)
        self._active = False
        self.count = 0

    def update(self, time: datetime, observations: Sequence[Observation]) -> list[RuleHit]:
        obs = self._watched(observations)
        self.count = int(_inside(self.polygon, obs).sum())
        if self.count >= self.min_count and not self._active:
            self._active = True
            return [RuleHit("cn.shoumen.camera.crowding", self.id, None, None, {"count": self.count})]
        if self.count < self.min_count:
            self._active = False
        return []


def _side(a: np.ndarray, b: np.ndarray, p: np.ndarray) -> float:
    return float((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]))


class CrossingLine(ZoneRule):
    """Crossings of the segment ``a -> b`` (site m); right-to-left (seen from ``a`` towards
    ``b``) is ``"in"``. Crossings in ``alarm_directions`` raise an intrusion on the line id."""

    def __init__(self, id: str, a: Sequence[float], b: Sequence[float], *,
                 alarm_directions: Sequence[Literal["in", "out"]] = ("in",),
                 classes: Sequence[str] = ("person",), forget_s: float = 10.0) -> None:
        _check_id("crossing line", id)
        pa, pb = np.asarray(a, dtype=float).reshape(-1), np.asarray(b, dtype=float).reshape(-1)
        if pa.shape != (2,) or pb.shape != (2,) or not (np.isfinite(pa).all() and np.isfinite(pb).all()):
            raise VisionError(f"crossing line {id}: fields 'a' and 'b' must be [x, y] metre pairs")
        if np.hypot(*(pb - pa)) <= 0:
            raise VisionError(f"crossing line {id}: 'a' and 'b' are the same point; a line needs length > 0")
        bad = [d for d in alarm_directions if d not in ("in", "out")]
        if bad:
            raise VisionError(f"crossing line {id}: field 'alarm_directions' entries must be 'in' or 'out', got {bad!r}")
        self.id, self.a, self.b = id, pa, pb
        self.alarm_directions, self.classes, self.forget_s = tuple(alarm_directions), tuple(classes), forget_s
        self._last: dict[int, tuple[np.ndarray, datetime]] = {}
        self.crossings: list[Crossing] = []

    def update(self, time: datetime, observations: Sequence[Observation]) -> list[RuleHit]:
        hits = []
        for o in self._watched(observations):
            p = np.array([o.x, o.y])
            if not np.isfinite(p).all():
                continue
            prev = self._last.get(o.track)
            self._last[o.track] = (p, time)
            if prev is None:
                continue
            q = prev[0]
            s_q, s_p = _side(self.a, self.b, q), _side(self.a, self.b, p)
            if s_q == 0 or s_p == 0 or (s_q > 0) == (s_p > 0):
                continue
            # the path crosses the infinite line; it must also cross the segment a-b
            t_a, t_b = _side(q, p, self.a), _side(q, p, self.b)
            if (t_a > 0) == (t_b > 0) and t_a != 0 and t_b != 0:
                continue
            direction: Literal["in", "out"] = "in" if s_q < 0 < s_p else "out"
            u = s_q / (s_q - s_p)
            at = q + u * (p - q)
            self.crossings.append(Crossing(self.id, o.track, direction, time, float(at[0]), float(at[1])))
            if direction in self.alarm_directions:
                hits.append(RuleHit("cn.shoumen.camera.intrusion", self.id, o.track, o.score))
        self._last = {k: v for k, v in self._last.items() if (time - v[1]).total_seconds() <= self.forget_s}
        return hits


Rule = Union[IntrusionZone, LoiteringZone, CrowdZone, CrossingLine]
